//! Compaction: reclaiming the segments that hold mostly garbage.
//!
//! Garbage is every frame no retained version uses: overwritten versions
//! outside the retention policy, deleted partitions, commit frames. A sealed
//! segment whose garbage passes the threshold (or that is small) is
//! reclaimed in four steps:
//!
//! 1. Its retained versions are copied, payload crc checked, to the head of
//!    the log as *moved puts* (a moved put keeps its version number), in
//!    batches like any other write (not synced one by one: step 3 syncs). Its deletes are copied as
//!    *carried deletes* while an older segment still exists, so that a
//!    rebuild from the segments never brings deleted versions back.
//! 2. The moves are published: a moved version counts only if it still
//!    exists (a version deleted while it was copied stays deleted). Versions
//!    outside the policy are dropped from the index.
//! 3. A checkpoint writes it all into the index and syncs it.
//! 4. The segment is retired: gone from the set, its file removed when the
//!    last reader's `Blob` into it is dropped.
//!
//! A crash before step 3 leaves the segment in place and the moves in the
//! log, where replay finds them; after it, the segment is no longer needed.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use super::overlay::VersionChange;
use super::space::{LiveVersion, SegmentUse};
use super::view::index_versions;
use super::{BrokenOrdering, Store};
use crate::error::Result;
use crate::key::encoding;
use crate::log::{FrameKind, decode_frame};
use crate::record::{Described, Record};
use crate::segment::{ChangeFrame, SEGMENT_HEADER_LEN, Segment};

/// Payload bytes copied per compaction batch.
const BATCH_BYTES: u64 = 4 << 20;
/// Versions copied per compaction batch.
pub(super) const BATCH_VERSIONS: usize = 1024;

/// How compaction runs: when a segment is reclaimed, how fast, and whether
/// a background thread does it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CompactionOptions {
    garbage_ratio: f64,
    bytes_per_second: Option<u64>,
    background: bool,
    interval: Duration,
}

impl Default for CompactionOptions {
    /// Background compaction on, reclaiming segments at least half garbage,
    /// checked every second, at full speed.
    fn default() -> Self {
        Self {
            garbage_ratio: 0.5,
            bytes_per_second: None,
            background: true,
            interval: Duration::from_secs(1),
        }
    }
}

impl CompactionOptions {
    /// Reclaims a sealed segment once this share of it (0.0 to 1.0) is
    /// garbage (default 0.5).
    #[must_use]
    pub fn garbage_ratio(self, ratio: f64) -> Self {
        Self {
            garbage_ratio: ratio.clamp(0.0, 1.0),
            ..self
        }
    }

    /// Caps the bytes compaction copies per second (default: no cap).
    #[must_use]
    pub fn bytes_per_second(self, limit: u64) -> Self {
        Self {
            bytes_per_second: Some(limit.max(1)),
            ..self
        }
    }

    /// Turns the background thread on or off (default on). Off,
    /// [`Store::compact`] is the only way space is reclaimed.
    #[must_use]
    pub fn background(self, on: bool) -> Self {
        Self {
            background: on,
            ..self
        }
    }

    /// How often the background thread looks for work (default 1 s).
    #[must_use]
    pub fn interval(self, every: Duration) -> Self {
        Self {
            interval: every,
            ..self
        }
    }

    /// The garbage share from which a segment (on object storage: a log
    /// object) is reclaimed.
    #[cfg(feature = "object-store")]
    pub(super) fn garbage_threshold(&self) -> f64 {
        self.garbage_ratio
    }

    /// Whether the background thread runs.
    #[must_use]
    pub fn is_background(&self) -> bool {
        self.background
    }

    /// How often the background thread looks for work.
    #[must_use]
    pub fn check_interval(&self) -> Duration {
        self.interval
    }
}

/// What one compaction did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CompactionReport {
    /// Segments reclaimed.
    pub segments_reclaimed: u64,
    /// Bytes the segment files took before.
    pub bytes_before: u64,
    /// Bytes the segment files take after (files a reader still holds are
    /// not counted: they go when it lets go).
    pub bytes_after: u64,
    /// Versions copied to the head of the log.
    pub moved_versions: u64,
    /// Payload bytes copied.
    pub moved_bytes: u64,
    /// Versions outside the retention policy dropped.
    pub dropped_versions: u64,
    /// Deletes carried forward.
    pub carried_deletes: u64,
    /// Time taken.
    pub duration: Duration,
}

impl CompactionReport {
    /// Bytes reclaimed: before minus after.
    #[must_use]
    pub fn reclaimed_bytes(&self) -> u64 {
        self.bytes_before.saturating_sub(self.bytes_after)
    }
}

/// How far a running compaction is, for a progress display.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct CompactionProgress {
    /// Segments done.
    pub segments_done: u64,
    /// Segments to reclaim in this run.
    pub segments_total: u64,
    /// Payload bytes copied so far.
    pub moved_bytes: u64,
}

/// What a segment's frames hold beyond its live versions.
struct Walk {
    /// Deletes: `(key, bound)`.
    deletes: Vec<(Vec<u8>, u64)>,
}

impl Store {
    /// Reclaims every sealed segment whose garbage passes the threshold (or
    /// that is small) now: its retained versions are copied to the head of
    /// the log, the index is checkpointed off it, then it is retired (its
    /// file goes when the last `Blob` into it is dropped).
    ///
    /// # Errors
    /// [`Error::ReadOnly`](crate::Error::ReadOnly),
    /// [`Error::Poisoned`](crate::Error::Poisoned), I/O and index errors. A
    /// segment whose live data fails its checks is left in place (and
    /// reported by [`Store::verify`]). On object storage,
    /// [`Error::ObjectStore`](crate::Error::ObjectStore) for a failed call
    /// (what was committed before it stays, and is sound).
    ///
    /// On a store on object storage, compaction rewrites the retained
    /// versions of the log objects worth reclaiming into new log objects,
    /// publishes a checkpoint, then deletes the log objects that no
    /// checkpoint older than the grace period needs (the builder's
    /// `remote_gc_grace`): what one call rewrites is deleted by a call at least the grace period
    /// later. `segments_reclaimed` counts the objects deleted, `bytes_before`
    /// and `bytes_after` the log objects' bytes in the store.
    pub fn compact(&self) -> Result<CompactionReport> {
        self.compact_with_progress(&mut |_| {})
    }

    /// [`Store::compact`], calling `progress` after each batch.
    ///
    /// # Errors
    /// As [`Store::compact`].
    pub fn compact_with_progress(
        &self,
        progress: &mut dyn FnMut(CompactionProgress),
    ) -> Result<CompactionReport> {
        self.compact_while(progress, &|| true)
    }

    /// [`Store::compact_with_progress`] that starts no further segment once
    /// `keep_going` says no; what it reclaimed so far is checkpointed and
    /// retired as usual. The background compactor stops this way when the
    /// store is closed or its last user handle dropped.
    pub(super) fn compact_while(
        &self,
        progress: &mut dyn FnMut(CompactionProgress),
        keep_going: &dyn Fn() -> bool,
    ) -> Result<CompactionReport> {
        let inner = &*self.inner;
        inner.check_writable()?;
        let _running = inner
            .compaction_running
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        #[cfg(feature = "object-store")]
        if let Some(remote) = &inner.remote {
            return remote.compact(self, progress, keep_going);
        }
        let started = Instant::now();
        let mut report = CompactionReport {
            bytes_before: inner.segments.disk_bytes()?,
            ..CompactionReport::default()
        };
        let candidates = self.candidates()?;
        let detail: BTreeSet<u64> = candidates.iter().map(|(id, _)| *id).collect();
        let mut map = {
            let _checkpoints = inner.lock_checkpoint();
            inner.space_map(&detail)?
        };
        let total = candidates.len() as u64;
        let mut reclaimed = Vec::new();
        for (done, (id, walk)) in candidates.into_iter().enumerate() {
            if !keep_going() {
                break;
            }
            let used = map.segments.remove(&id).unwrap_or_default();
            let Some(segment) = inner.segments.get(id) else {
                continue;
            };
            if self.reclaim(&segment, used, &walk, &mut report, started)? {
                reclaimed.push(id);
            }
            progress(CompactionProgress {
                segments_done: done as u64 + 1,
                segments_total: total,
                moved_bytes: report.moved_bytes,
            });
        }
        if !reclaimed.is_empty() {
            let broken = inner.broken == Some(BrokenOrdering::RetireBeforeCheckpoint);
            if !broken {
                inner.checkpoint()?;
            }
            for id in reclaimed {
                if inner.segments.retire(id) {
                    report.segments_reclaimed += 1;
                }
            }
            if broken {
                inner.checkpoint()?;
            }
        }
        report.bytes_after = inner.segments.disk_bytes()?;
        report.duration = started.elapsed();
        Ok(report)
    }

    /// The sealed segments worth reclaiming, with what their frames hold.
    fn candidates(&self) -> Result<Vec<(u64, Walk)>> {
        let inner = &*self.inner;
        let active = inner.segments.active_id();
        let sealed: Vec<_> = inner
            .segments
            .all()
            .into_iter()
            .filter(|s| Some(s.id()) != active)
            .collect();
        if sealed.is_empty() {
            return Ok(Vec::new());
        }
        let map = {
            let _checkpoints = inner.lock_checkpoint();
            inner.space_map(&BTreeSet::new())?
        };
        let small = inner.segment_capacity / 8;
        let mut out = Vec::new();
        for segment in sealed {
            let size = segment.mapped_len();
            let live = map.segments.get(&segment.id()).map_or(0, |u| u.live_bytes);
            let garbage = size.saturating_sub(SEGMENT_HEADER_LEN + live);
            let ratio = garbage as f64 / size.max(1) as f64;
            let worth = ratio >= inner.compaction.garbage_ratio || size < small;
            if worth
                && garbage > 0
                && let Some(walk) = walk(&segment)
            {
                out.push((segment.id(), walk));
            }
        }
        Ok(out)
    }

    /// Copies a segment's live versions and deletes forward and drops its
    /// expired versions; returns whether it can be retired.
    fn reclaim(
        &self,
        segment: &Segment,
        used: SegmentUse,
        walk: &Walk,
        report: &mut CompactionReport,
        started: Instant,
    ) -> Result<bool> {
        let inner = &*self.inner;
        let older_exists = inner
            .segments
            .all()
            .first()
            .is_some_and(|first| first.id() < segment.id());
        let mut carried: &[(Vec<u8>, u64)] = if older_exists { &walk.deletes } else { &[] };
        let mut live = used.live.as_slice();
        while !live.is_empty() || !carried.is_empty() {
            let take = batch_size(live);
            let (batch, rest) = live.split_at(take);
            let deletes = if rest.is_empty() {
                std::mem::take(&mut carried)
            } else {
                &[]
            };
            if !self.move_batch(segment, batch, deletes, report)? {
                return Ok(false);
            }
            live = rest;
            self.throttle(report.moved_bytes, started);
        }
        let dropped: Vec<_> = used
            .dropped
            .into_iter()
            .map(|(key, version)| (key, 0, VersionChange::Drop { version }))
            .collect();
        report.dropped_versions += dropped.len() as u64;
        let _checkpoints = inner.lock_checkpoint();
        inner.overlay.publish(dropped);
        Ok(true)
    }

    /// Appends and publishes one batch of moved versions and carried
    /// deletes. `Ok(false)` if a version failed its checks (the segment then
    /// stays).
    fn move_batch(
        &self,
        segment: &Segment,
        versions: &[LiveVersion],
        deletes: &[(Vec<u8>, u64)],
        report: &mut CompactionReport,
    ) -> Result<bool> {
        let inner = &*self.inner;
        let mut payloads = Vec::with_capacity(versions.len());
        for version in versions {
            let Some((asset, partition)) = encoding::decode(&version.key) else {
                return Ok(false);
            };
            match self.blob_for(&version.key, &version.encoded, &asset, &partition, true) {
                Ok(blob) => payloads.push(blob),
                Err(error) => {
                    log::warn!(
                        "{}: not reclaiming {}: {error}",
                        inner.dir.display(),
                        segment.path().display()
                    );
                    return Ok(false);
                }
            }
        }
        let described: Vec<Vec<u8>> = versions.iter().map(moved_described).collect();
        let bounds: Vec<[u8; 8]> = deletes.iter().map(|(_, b)| b.to_le_bytes()).collect();
        let mut frames = Vec::with_capacity(versions.len() + deletes.len());
        for ((version, payload), described) in versions.iter().zip(&payloads).zip(&described) {
            frames.push(moved_put(version, payload, described));
        }
        for ((key, _), bound) in deletes.iter().zip(&bounds) {
            frames.push(ChangeFrame {
                kind: FrameKind::Delete { carried: true },
                key,
                described: bound,
                payload: &[],
            });
        }
        let appended = inner.segments.append_batch(&frames)?;
        // No sync here: until the checkpoint before retirement (which syncs
        // the segments first) the index still points into the old segment,
        // so a crash that loses these copies loses nothing.
        let changes = versions
            .iter()
            .zip(&appended.frames)
            .map(|(version, &(seq, location))| {
                let record = Record {
                    location,
                    ..version.record.clone()
                };
                let change = VersionChange::Put {
                    version: record.seq,
                    record: record.encode(),
                    moved: true,
                };
                (version.key.clone(), seq, change)
            })
            .collect();
        {
            let _checkpoints = inner.lock_checkpoint();
            let index = inner
                .index
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            inner.overlay.publish_moves(changes, &|key, version| {
                index_versions(&**index, key).is_ok_and(|v| v.contains_key(&version))
            });
        }
        inner.segments.finish(appended.first_seq);
        report.moved_versions += versions.len() as u64;
        report.moved_bytes += versions.iter().map(|v| v.record.meta.len).sum::<u64>();
        report.carried_deletes += deletes.len() as u64;
        Ok(true)
    }

    /// Sleeps as long as the rate limit asks.
    fn throttle(&self, moved_bytes: u64, started: Instant) {
        let Some(limit) = self.inner.compaction.bytes_per_second else {
            return;
        };
        let due = Duration::from_secs_f64(moved_bytes as f64 / limit as f64);
        if let Some(wait) = due.checked_sub(started.elapsed()) {
            std::thread::sleep(wait);
        }
    }
}

/// How many of `live` go in the next batch (at least one).
fn batch_size(live: &[LiveVersion]) -> usize {
    let mut bytes = 0;
    let mut take = 0;
    for version in live.iter().take(BATCH_VERSIONS) {
        if take > 0 && bytes + version.record.meta.len > BATCH_BYTES {
            break;
        }
        bytes += version.record.meta.len;
        take += 1;
    }
    take
}

/// The moved put of `version`, its payload and [`moved_described`] bytes.
pub(super) fn moved_put<'a>(
    version: &'a LiveVersion,
    payload: &'a [u8],
    described: &'a [u8],
) -> ChangeFrame<'a> {
    let meta = &version.record.meta;
    ChangeFrame {
        kind: FrameKind::Put {
            codec: meta.codec,
            payload_len: meta.len,
            checksum: meta.checksum,
            moved: true,
            external: false,
        },
        key: &version.key,
        described,
        payload,
    }
}

/// A moved put's described bytes: the version, then the original fields.
pub(super) fn moved_described(version: &LiveVersion) -> Vec<u8> {
    let meta = &version.record.meta;
    let mut out = version.record.seq.to_le_bytes().to_vec();
    Described {
        created_at: meta.created_at,
        data_version: meta.data_version.clone(),
        metadata: meta.metadata.clone(),
    }
    .encode_into(&mut out);
    out
}

/// Reads a sealed segment's frames: its deletes, or `None` if it cannot be
/// reclaimed on its own (damaged, or a batch crossing its ends).
fn walk(segment: &Segment) -> Option<Walk> {
    let mut deletes = Vec::new();
    let mut batch_first = None;
    let mut offset = SEGMENT_HEADER_LEN;
    let len = segment.mapped_len();
    while offset < len {
        let Ok(frame) = decode_frame(segment.tail(offset)) else {
            let rest = segment.bytes(offset, len - offset)?;
            return rest.iter().all(|&b| b == 0).then_some(Walk { deletes });
        };
        let header = frame.header;
        match header.kind {
            FrameKind::Commit { first_seq, .. } => {
                if batch_first.is_none_or(|first| first_seq < first) {
                    return None;
                }
                batch_first = None;
            }
            FrameKind::Delete { .. } => {
                batch_first.get_or_insert(header.seq);
                deletes.push((frame.key.to_vec(), frame.delete_bound().ok()?));
            }
            FrameKind::Put { .. } => {
                batch_first.get_or_insert(header.seq);
            }
        }
        offset = offset.checked_add(header.frame_len())?;
    }
    batch_first.is_none().then_some(Walk { deletes })
}
