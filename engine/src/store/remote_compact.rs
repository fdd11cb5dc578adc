//! Compaction of a store on object storage: the retained versions of old
//! log objects are rewritten into new log objects, so that overwritten,
//! deleted and expired payloads stop costing storage once garbage
//! collection ([`super::remote_gc`]) deletes the old objects.
//!
//! # Design: compaction goes through the log
//!
//! A compaction output is not a new kind of object: it is the next log
//! object, created with the same conditional create as every commit, holding
//! batches of *moved puts* (the engine's moved-put frames: the version keeps
//! its number, only its location changes). So:
//!
//! 1. The compactor catches up with the log (to object `k`) and picks the
//!    objects up to `k` worth rewriting: their garbage share passes the
//!    compaction threshold, or they are small (more than one, or one that is
//!    also garbage enough: one object is never rewritten into one for
//!    nothing). Per-commit log objects are small, so they get merged.
//! 2. It reads their retained versions (crc checked, through the cache) and
//!    commits them as moved puts in log objects of at most the segment
//!    capacity. A moved put never changes what a key reads: replaying it
//!    re-points version `v` at the new object unless a delete since has
//!    removed every version below its bound (then it is ignored), and since
//!    `v` keeps its number it never becomes newer than a put made after the
//!    compactor read the log. A writer that commits meanwhile on another
//!    machine therefore loses nothing: its object and the compactor's are
//!    ordered by the log like any two commits (the loser of a race for a
//!    number re-reads and renumbers), and whichever comes first, replaying
//!    both gives the writer's value. A compactor killed halfway leaves
//!    committed moves (sound, replayed by everyone) and at most one orphan
//!    data object (a large payload uploaded for a move not yet committed,
//!    see [`super::remote_large`]), which garbage collection deletes.
//! 3. Only after its moves are committed does it write a checkpoint (the
//!    view after its last object, retained versions only), which no longer
//!    references the rewritten objects.
//! 4. Garbage collection may delete an object only once a checkpoint that
//!    does not reference it is older than the grace period; see
//!    [`super::remote_gc`] for why no reader within the grace period, and no
//!    writer ever, loses an object it needs.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use super::compact::{BATCH_VERSIONS, moved_described, moved_put};
use super::overlay::VersionChange;
use super::remote::RemoteBackend;
use super::space::{LiveVersion, SegmentUse};
use super::{CompactionProgress, CompactionReport, Inner, Store};
use crate::blob::Blob;
use crate::error::Result;
use crate::key::encoding;
use crate::remote::Listed;
use crate::segment::{ChangeFrame, SEGMENT_HEADER_LEN};

/// A retained version read for rewriting, and its payload.
type Read = (LiveVersion, Blob);

impl RemoteBackend {
    /// [`Store::compact_while`] on object storage: rewrites, publishes a
    /// checkpoint, collects (see the module documentation).
    pub(super) fn compact(
        &self,
        store: &Store,
        progress: &mut dyn FnMut(CompactionProgress),
        keep_going: &dyn Fn() -> bool,
    ) -> Result<CompactionReport> {
        let inner = &*store.inner;
        let started = Instant::now();
        let before = self.log_objects()?;
        let mut report = CompactionReport {
            bytes_before: before.values().map(|listed| listed.size).sum(),
            ..CompactionReport::default()
        };
        let head = {
            let mut state = self.lock();
            self.catch_up(inner, &mut state)?;
            state.next_id.saturating_sub(1)
        };
        let chosen = worth_rewriting(inner, &before, head)?;
        if !chosen.is_empty() {
            self.rewrite(store, chosen, &mut report, progress, keep_going)?;
            let mut state = self.lock();
            self.catch_up(inner, &mut state)?;
            self.write_checkpoint(inner, &state)?;
        }
        report.segments_reclaimed = self.collect_log(inner)?;
        report.bytes_after = self.log_objects()?.values().map(|l| l.size).sum();
        report.duration = started.elapsed();
        Ok(report)
    }

    /// Commits the retained versions of `chosen` as moved puts, in log
    /// objects of at most the segment capacity, calling `progress` after
    /// each object read. Its expired versions leave this handle's view (the
    /// checkpoint would leave them out anyway), so that no later compaction
    /// picks the object for them again. A version that fails its checks is left where it
    /// is (its object then stays referenced, and `verify` reports it).
    fn rewrite(
        &self,
        store: &Store,
        chosen: BTreeMap<u64, SegmentUse>,
        report: &mut CompactionReport,
        progress: &mut dyn FnMut(CompactionProgress),
        keep_going: &dyn Fn() -> bool,
    ) -> Result<()> {
        let inner = &*store.inner;
        let total = chosen.len() as u64;
        let mut pending: Vec<Read> = Vec::new();
        let mut pending_bytes = 0;
        for (done, (id, used)) in chosen.into_iter().enumerate() {
            if !keep_going() {
                break;
            }
            report.dropped_versions += used.dropped.len() as u64;
            let dropped = used.dropped.into_iter();
            inner
                .overlay
                .publish(dropped.map(|(key, version)| (key, 0, VersionChange::Drop { version })));
            for version in used.live {
                let Some(blob) = read_version(store, id, &version) else {
                    continue;
                };
                pending_bytes += blob.len() as u64;
                pending.push((version, blob));
                if pending_bytes >= inner.segment_capacity {
                    self.commit_moves(inner, &mut pending, report)?;
                    pending_bytes = 0;
                }
            }
            progress(CompactionProgress {
                segments_done: done as u64 + 1,
                segments_total: total,
                moved_bytes: report.moved_bytes,
            });
        }
        self.commit_moves(inner, &mut pending, report)
    }

    /// Commits `pending` as one log object of moved-put batches, and empties it.
    fn commit_moves(
        &self,
        inner: &Inner,
        pending: &mut Vec<Read>,
        report: &mut CompactionReport,
    ) -> Result<()> {
        if pending.is_empty() {
            return Ok(());
        }
        let described: Vec<Vec<u8>> = pending.iter().map(|(v, _)| moved_described(v)).collect();
        let moved: Vec<ChangeFrame<'_>> = pending
            .iter()
            .zip(&described)
            .map(|((version, blob), described)| moved_put(version, blob, described))
            .collect();
        // A large payload moved out of a log object goes to a data object.
        let uploaded = self.upload_large(&moved)?;
        let frames = uploaded.frames(&moved);
        let batches: Vec<&[ChangeFrame<'_>]> = frames.chunks(BATCH_VERSIONS).collect();
        let committed = self.commit_batches(inner, &mut self.lock(), &batches);
        self.forget_uploads(&uploaded);
        committed?;
        report.moved_versions += pending.len() as u64;
        report.moved_bytes += pending.iter().map(|(v, _)| v.record.meta.len).sum::<u64>();
        pending.clear();
        Ok(())
    }
}

/// The payload of `version` (in log object `id`), crc checked; `None`, with
/// a warning, if it cannot be read.
fn read_version(store: &Store, id: u64, version: &LiveVersion) -> Option<Blob> {
    let (asset, partition) = encoding::decode(&version.key)?;
    match store.blob_for(&version.key, &version.encoded, &asset, &partition, true) {
        Ok(blob) => Some(blob),
        Err(error) => {
            log::warn!("not rewriting a version in log object {id}: {error}");
            None
        }
    }
}

/// The log objects up to `head` worth rewriting, with their retained and
/// expired versions. An object the view holds no version in is left to
/// garbage collection; one object whose only garbage is its framing is not
/// rewritten into one. A first pass over the view measures every object, a
/// second lists the versions of the candidates only.
fn worth_rewriting(
    inner: &Inner,
    objects: &BTreeMap<u64, Listed>,
    head: u64,
) -> Result<BTreeMap<u64, SegmentUse>> {
    let measured = inner.space_map(&BTreeSet::new())?;
    let small = inner.segment_capacity / 8;
    let mut candidates = BTreeMap::new();
    for (&id, listed) in objects.range(..=head) {
        let live = measured.segments.get(&id).map_or(0, |used| used.live_bytes);
        let garbage = listed.size.saturating_sub(SEGMENT_HEADER_LEN + live);
        let ratio = garbage as f64 / listed.size.max(1) as f64;
        let mostly_garbage = ratio >= inner.compaction.garbage_threshold();
        if garbage > 0 && (mostly_garbage || listed.size < small) {
            candidates.insert(id, mostly_garbage);
        }
    }
    let mut map = inner.space_map(&candidates.keys().copied().collect())?;
    let chosen: BTreeMap<u64, SegmentUse> = candidates
        .keys()
        .filter_map(|&id| map.segments.remove(&id).map(|used| (id, used)))
        .filter(|(_, used)| !used.live.is_empty() || !used.dropped.is_empty())
        .collect();
    let one_for_nothing = chosen.len() == 1 && chosen.keys().all(|id| !candidates[id]);
    Ok(if one_for_nothing {
        BTreeMap::new()
    } else {
        chosen
    })
}
