//! Opening a store: create it if new, recover it if not.
//!
//! Recovery: map the segments (quarantining damaged ones), open the index
//! and check it against its checkpoint record (entry count and digest), replay
//! the log after the checkpoint into the overlay, and resume appends at the
//! end of the last committed batch. An index that fails to open, panics,
//! disagrees with its record, or whose record disagrees with the log, is
//! rebuilt from the segments.

use std::collections::BTreeSet;
use std::ops::Bound;
use std::path::Path;
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex, RwLock};

use super::background::Background;
use super::builder::StoreBuilder;
use super::checkpoint::{Rebuild, rebuild};
use super::overlay::{Overlay, VersionChange};
use super::recovery::{CutTail, IndexRebuild, RecoveryReport};
use super::refresh::read_all;
use super::view::index_versions;
use super::{Inner, Store};
use crate::durability::GroupCommit;
use crate::error::{Error, Result};
use crate::format;
use crate::index::checkpoint::{CHECKPOINT_KEY, Checkpoint, entry_hash};
use crate::index::{EmptyIndex, IndexBackend, IndexKind};
use crate::io::FileIo;
use crate::key::encoding;
use crate::lock::DirLock;
use crate::log::{LogScan, replay};
use crate::poison::Poison;
use crate::segment::{Segment, SegmentSet};

pub(super) fn open(builder: StoreBuilder) -> Result<Store> {
    if builder.read_only {
        return open_read_only(builder);
    }
    let dir = builder.dir.clone();
    let io = Arc::clone(&builder.io);
    create_dir(&*io, &dir)?;
    let lock = DirLock::acquire(&dir, builder.lock_wait)?;
    let index_kind = format::check_or_create(&*io, &dir, builder.index)?;
    let segments_dir = dir.join("segments");
    if !segments_dir.is_dir() {
        create_dir(&*io, &segments_dir)?;
    }
    let poison = Arc::new(Poison::default());
    let segments = SegmentSet::open(
        &segments_dir,
        Arc::clone(&io),
        Arc::clone(&poison),
        builder.segment_capacity,
        true,
    )?;
    let overlay = Overlay::default();
    let recovered = recover_index(&dir, index_kind, &segments, &overlay, &poison)?;
    let recovery = report(&recovered, &segments);
    segments.resume(&recovered.scan, recovered.checkpoint.next_segment, true)?;
    log_repairs(&dir, &recovery);
    let inner = Inner {
        dir,
        io,
        index_kind,
        index: RwLock::new(recovered.index),
        overlay,
        segments,
        poison,
        durability: builder.durability,
        verify_checksums: builder.verify_checksums,
        read_only: false,
        checkpoint_every: builder.checkpoint_every,
        retry_checkpoint_at: AtomicUsize::new(0),
        broken: builder.broken,
        segment_sync: GroupCommit::default(),
        checkpoint: Mutex::new(recovered.checkpoint),
        recovery,
        retention: builder.retention,
        clock: builder.clock,
        segment_capacity: builder.segment_capacity,
        compaction: builder.compaction,
        compaction_running: Mutex::new(()),
        background: Background::default(),
        position: Mutex::default(),
        opened_by: std::process::id(),
        _lock: Some(lock),
        #[cfg(feature = "object-store")]
        remote: None,
    };
    if let Err(error) = inner.maybe_checkpoint() {
        log::warn!(
            "{}: checkpointing the replayed log failed (it stays in memory and in the log): {error}",
            inner.dir.display()
        );
    }
    let inner = Arc::new(inner);
    if inner.compaction.is_background() {
        inner
            .background
            .start(Arc::downgrade(&inner), inner.compaction.check_interval());
    }
    Ok(Store { inner })
}

fn open_read_only(builder: StoreBuilder) -> Result<Store> {
    let dir = builder.dir;
    let index_kind = format::check_existing(&dir)?;
    let poison = Arc::new(Poison::default());
    let segments = SegmentSet::open(
        &dir.join("segments"),
        Arc::clone(&builder.io),
        Arc::clone(&poison),
        builder.segment_capacity,
        false,
    )?;
    let mut seen: BTreeSet<u64> = segments.all().iter().map(|s| s.id()).collect();
    seen.extend(segments.quarantined().iter().map(|q| q.id));
    let read = read_all(segments.all(), seen)?;
    if let Some(last) = read.segments.last() {
        segments.install(Arc::clone(last));
    }
    segments.resume(&read.scan, 0, false)?;
    let recovered = Recovered {
        index: Box::new(EmptyIndex),
        checkpoint: Checkpoint::default(),
        scan: read.scan,
        rebuilt: None,
    };
    let recovery = report(&recovered, &segments);
    let inner = Inner {
        dir,
        io: builder.io,
        index_kind,
        index: RwLock::new(recovered.index),
        overlay: read.overlay,
        segments,
        poison,
        durability: builder.durability,
        verify_checksums: builder.verify_checksums,
        read_only: true,
        checkpoint_every: usize::MAX,
        retry_checkpoint_at: AtomicUsize::new(0),
        broken: None,
        segment_sync: GroupCommit::default(),
        checkpoint: Mutex::new(Checkpoint::default()),
        recovery,
        retention: builder.retention,
        clock: builder.clock,
        segment_capacity: builder.segment_capacity,
        compaction: builder.compaction,
        compaction_running: Mutex::new(()),
        background: Background::default(),
        position: Mutex::new(read.position),
        opened_by: std::process::id(),
        _lock: None,
        #[cfg(feature = "object-store")]
        remote: None,
    };
    Ok(Store {
        inner: Arc::new(inner),
    })
}

/// Creates `dir` if it does not exist, durably: the new entry is synced in
/// its parent.
fn create_dir(io: &dyn FileIo, dir: &Path) -> Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let parent = dir.parent().filter(|p| !p.as_os_str().is_empty());
    if let Some(parent) = parent {
        std::fs::create_dir_all(parent).map_err(|e| Error::io("create directory", parent, e))?;
    }
    match io.create_dir(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Ok(()),
        Err(e) => return Err(Error::io("create directory", dir, e)),
    }
    let parent = parent.unwrap_or(Path::new("."));
    io.sync_dir(parent)
        .map_err(|e| Error::io("fsync directory", parent, e))
}

/// The index an open ends with, and what recovery found.
struct Recovered {
    index: Box<dyn IndexBackend>,
    checkpoint: Checkpoint,
    scan: LogScan,
    rebuilt: Option<IndexRebuild>,
}

fn recover_index(
    dir: &Path,
    kind: IndexKind,
    segments: &SegmentSet,
    overlay: &Overlay,
    poison: &Poison,
) -> Result<Recovered> {
    let all = segments.all();
    let reason = match load_index(dir, kind, &all, overlay) {
        Ok((index, checkpoint, scan)) => {
            return Ok(Recovered {
                index,
                checkpoint,
                scan,
                rebuilt: None,
            });
        }
        Err(reason) => reason,
    };
    overlay.retire_up_to(u64::MAX);
    let (index, checkpoint, rebuilt) = rebuild(
        &Rebuild {
            dir,
            kind,
            segments: &all,
            poison,
            next_segment: segments.next_segment_id(),
        },
        None,
    )?;
    Ok(Recovered {
        index,
        checkpoint,
        scan: rebuilt.scan,
        rebuilt: Some(IndexRebuild {
            reason,
            entries: rebuilt.partitions,
        }),
    })
}

/// Opens the index, checks it against its checkpoint record and replays the
/// log after it into `overlay`; `Err` says why the index cannot be trusted.
fn load_index(
    dir: &Path,
    kind: IndexKind,
    segments: &[Arc<Segment>],
    overlay: &Overlay,
) -> std::result::Result<(Box<dyn IndexBackend>, Checkpoint, LogScan), String> {
    let has_log = segments
        .iter()
        .any(|s| s.mapped_len() > crate::segment::SEGMENT_HEADER_LEN);
    if has_log && !dir.join("index").is_dir() {
        return Err("the index directory is missing".into());
    }
    let index = kind.open_guarded(dir).map_err(|e| e.to_string())?;
    let checkpoint = read_checkpoint(&index)?;
    check_digest(&index, &checkpoint)?;
    let scan = replay_into(segments, overlay, Some(&index), checkpoint.covered, true)
        .map_err(|e| e.to_string())?;
    Ok((Box::new(index), checkpoint, scan))
}

fn read_checkpoint(index: &dyn IndexBackend) -> std::result::Result<Checkpoint, String> {
    match index.get(CHECKPOINT_KEY).map_err(|e| e.to_string())? {
        Some(bytes) => Checkpoint::decode(&bytes).map_err(str::to_owned),
        None => Ok(Checkpoint::default()),
    }
}

/// Recomputes the entry count and digest of the index's data entries and
/// older-version rows.
fn check_digest(
    index: &dyn IndexBackend,
    checkpoint: &Checkpoint,
) -> std::result::Result<(), String> {
    let (mut entries, mut digest) = (0u64, 0u64);
    for (start, end) in [encoding::data_range(), encoding::version_rows_range()] {
        index
            .scan(
                Bound::Included(&start),
                Bound::Excluded(&end),
                &mut |key, value| {
                    entries += 1;
                    digest ^= entry_hash(key, value);
                    Ok(true)
                },
            )
            .map_err(|e| e.to_string())?;
    }
    if entries != checkpoint.entries || digest != checkpoint.digest {
        return Err(format!(
            "the index holds {entries} entries with digest {digest:016x}; its checkpoint \
             records {} with digest {:016x}",
            checkpoint.entries, checkpoint.digest
        ));
    }
    Ok(())
}

/// Replays the log after `after` into the overlay (recomputing payload
/// crc32s with `verify_payloads`). Over a checkpointed `index`, a moved version counts only
/// where it still exists (see [`Overlay::publish_moves`]); replaying the whole
/// log (`None`), every change counts, as in a rebuild.
pub(super) fn replay_into(
    segments: &[Arc<Segment>],
    overlay: &Overlay,
    index: Option<&dyn IndexBackend>,
    after: Option<crate::log::FrameRef>,
    verify_payloads: bool,
) -> Result<LogScan> {
    replay(segments, after, verify_payloads, |changes| {
        let changes = changes.into_iter().map(VersionChange::from_log).collect();
        match index {
            Some(index) => overlay.publish_moves(changes, &|key, version| {
                index_versions(index, key).is_ok_and(|versions| versions.contains_key(&version))
            }),
            None => overlay.publish(changes),
        }
    })
    .map_err(|e| Error::CorruptIndex { reason: e.0 })
}

fn report(recovered: &Recovered, segments: &SegmentSet) -> RecoveryReport {
    let scan = &recovered.scan;
    let path_of = |id: u64| {
        segments
            .get(id)
            .map(|s| s.path().to_path_buf())
            .unwrap_or_default()
    };
    let mut report = RecoveryReport {
        index_rebuilt: recovered.rebuilt.clone(),
        replayed_batches: scan.batches,
        uncommitted_batches: scan.uncommitted,
        quarantined: segments.quarantined().to_vec(),
        stray_files: segments.stray().to_vec(),
        ..RecoveryReport::default()
    };
    let last = scan.ends.last().map(|e| e.segment);
    for end in &scan.ends {
        let Some(reason) = end.stopped else { continue };
        let at_zeros = end.zeros_after;
        let tail = CutTail {
            path: path_of(end.segment),
            offset: end.committed_end,
            reason,
        };
        if Some(end.segment) == last {
            let cut = end.valid_end > end.committed_end || !at_zeros;
            report.cut_tail = cut.then_some(tail);
        } else {
            report.damaged_segments.push(tail);
        }
    }
    report
}

fn log_repairs(dir: &Path, report: &RecoveryReport) {
    if let Some(rebuilt) = &report.index_rebuilt {
        log::warn!(
            "{}: index rebuilt from the segments ({} entries): {}",
            dir.display(),
            rebuilt.entries,
            rebuilt.reason
        );
    }
    if let Some(tail) = &report.cut_tail {
        log::warn!(
            "{}: cut the tail of {} at {}: {}",
            dir.display(),
            tail.path.display(),
            tail.offset,
            tail.reason
        );
    }
    for damaged in &report.damaged_segments {
        log::warn!(
            "{}: segment {} is damaged from {}: {}",
            dir.display(),
            damaged.path.display(),
            damaged.offset,
            damaged.reason
        );
    }
    for quarantined in &report.quarantined {
        log::warn!(
            "{}: segment {} quarantined: {}",
            dir.display(),
            quarantined.path.display(),
            quarantined.reason
        );
    }
    for stray in &report.stray_files {
        log::warn!("{}: ignoring stray file {}", dir.display(), stray.display());
    }
}
