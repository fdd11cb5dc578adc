//! Checkpoints: the overlay's committed changes written into the index, with
//! the log position they cover; and rebuilding the index from the log.
//!
//! Order of a checkpoint: find the last frame every batch up to which is
//! published; sync the segments (so those frames are durable); apply the
//! overlay's entries up to it and the checkpoint record as one index batch;
//! sync the index; retire the entries from the overlay. A crash anywhere in
//! between leaves the previous checkpoint or this one, and the log after
//! either is replayed at open.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::{Arc, MutexGuard, PoisonError};

use super::overlay::{OverlayEntry, VersionChange};
use super::view::index_versions_after;
use super::{BrokenOrdering, Inner, Store};
use crate::error::{Error, Result};
use crate::index::checkpoint::{CHECKPOINT_KEY, Checkpoint, entry_hash};
use crate::index::{IndexBackend, IndexKind, IndexOp};
use crate::key::encoding;
use crate::log::{FrameRef, LogScan, replay};
use crate::poison::Poison;
use crate::segment::Segment;

/// Index changes applied per index batch.
const CHUNK: usize = 16 << 10;

impl Store {
    /// Writes every committed change into the index now (see
    /// [`Store::flush`], which also does this). Checkpoints also run on their
    /// own whenever [`StoreBuilder::checkpoint_every`](super::StoreBuilder::checkpoint_every)
    /// changes are waiting.
    ///
    /// On a store on object storage, catches up with the log and writes the
    /// checkpoint object after its last log object (writers also do so every
    /// `StoreBuilder::remote_checkpoint_every` commits; feature `object-store`).
    ///
    /// # Errors
    /// As [`Store::flush`].
    pub fn checkpoint(&self) -> Result<()> {
        self.inner.check_writable()?;
        #[cfg(feature = "object-store")]
        if let Some(remote) = &self.inner.remote {
            return remote.checkpoint(&self.inner);
        }
        self.inner.checkpoint()
    }

    /// Rebuilds the index from the segments: every committed batch of the
    /// log, replayed with every payload's checksum checked, into a new index
    /// that replaces the old one. Readers wait while it runs.
    ///
    /// # Errors
    /// [`Error::ReadOnly`], [`Error::Poisoned`], and I/O or index errors;
    /// [`Error::Unsupported`] on a store on object storage: it has no index
    /// to rebuild (its view is rebuilt from the latest checkpoint object and
    /// the log objects after it at every open, every object checked whole),
    /// and [`Store::verify`] checks it against the log objects.
    pub fn rebuild_index(&self) -> Result<u64> {
        let inner = &*self.inner;
        inner.check_writable()?;
        inner.check_local("rebuild_index")?;
        let mut checkpoint = inner.lock_checkpoint();
        let mark = inner.segments.checkpoint_mark();
        inner.sync_segments()?;
        let mut index = inner.index.write().unwrap_or_else(PoisonError::into_inner);
        let placeholder: Box<dyn IndexBackend> = Box::new(crate::index::EmptyIndex);
        drop(std::mem::replace(&mut *index, placeholder));
        let segments = inner.segments.all();
        let (rebuilt, next, rebuilt_partitions) = rebuild(
            &Rebuild {
                dir: &inner.dir,
                kind: inner.index_kind,
                segments: &segments,
                poison: &inner.poison,
                next_segment: inner.segments.next_segment_id(),
            },
            Some(mark),
        )?;
        *index = rebuilt;
        *checkpoint = next;
        inner.overlay.retire_up_to(mark.map_or(0, |f| f.seq));
        inner.io.index_checkpointed(&inner.dir.join("index"));
        Ok(rebuilt_partitions.partitions)
    }
}

impl Inner {
    pub(super) fn lock_checkpoint(&self) -> MutexGuard<'_, Checkpoint> {
        self.checkpoint
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs a checkpoint if enough changes wait and none is running. After
    /// a failed checkpoint the next try waits until the overlay has doubled,
    /// so a broken index does not cost every write a failing checkpoint.
    pub(super) fn maybe_checkpoint(&self) -> Result<()> {
        let waiting = self.overlay.len();
        if waiting
            < self
                .checkpoint_every
                .max(self.retry_checkpoint_at.load(Ordering::Relaxed))
        {
            return Ok(());
        }
        let Ok(current) = self.checkpoint.try_lock() else {
            return Ok(());
        };
        let outcome = self.checkpoint_locked(current);
        let retry_at = if outcome.is_ok() {
            0
        } else {
            waiting.saturating_mul(2)
        };
        self.retry_checkpoint_at.store(retry_at, Ordering::Relaxed);
        outcome
    }

    /// Writes the published changes into the index (see the module docs).
    pub(super) fn checkpoint(&self) -> Result<()> {
        self.checkpoint_locked(self.lock_checkpoint())
    }

    fn checkpoint_locked(&self, mut current: MutexGuard<'_, Checkpoint>) -> Result<()> {
        self.poison.check()?;
        let mark = self.segments.checkpoint_mark();
        if self.broken != Some(BrokenOrdering::CheckpointBeforeSegmentSync) {
            self.sync_segments()?;
        }
        let entries = self.overlay.up_to(mark.map_or(0, |f| f.seq));
        if entries.is_empty() && mark == current.covered {
            return Ok(());
        }
        let index = self.index.read().unwrap_or_else(PoisonError::into_inner);
        let next = Checkpointer {
            index: &**index,
            poison: &self.poison,
            index_dir: &self.dir.join("index"),
        }
        .write(
            &current,
            mark,
            self.segments.next_segment_id(),
            &entries,
            false,
        )?;
        drop(index);
        *current = next;
        self.overlay.retire(&entries);
        self.io.index_checkpointed(&self.dir.join("index"));
        Ok(())
    }
}

/// Writes checkpoints into one index.
struct Checkpointer<'a> {
    index: &'a dyn IndexBackend,
    poison: &'a Poison,
    index_dir: &'a Path,
}

impl Checkpointer<'_> {
    /// Applies `entries` and the new checkpoint record, then syncs the index.
    /// With `fresh`, the index is known to be empty (no lookups of old values).
    fn write(
        &self,
        base: &Checkpoint,
        covered: Option<FrameRef>,
        next_segment: u64,
        entries: &[(Vec<u8>, OverlayEntry)],
        fresh: bool,
    ) -> Result<Checkpoint> {
        let mut next = Checkpoint {
            covered,
            next_segment,
            ..*base
        };
        for chunk in entries.chunks(CHUNK) {
            let mut ops = Vec::with_capacity(chunk.len() + 1);
            let latest = if fresh {
                vec![None; chunk.len()]
            } else {
                let keys: Vec<&[u8]> = chunk.iter().map(|(key, _)| key.as_slice()).collect();
                self.index.get_many(&keys)?
            };
            for ((key, entry), latest) in chunk.iter().zip(latest) {
                self.key_ops(&mut next, key, entry, latest, &mut ops)?;
            }
            self.index.apply(&ops)?;
        }
        self.index.apply(&[IndexOp::Put {
            key: CHECKPOINT_KEY.to_vec(),
            value: next.encode(),
        }])?;
        self.index.sync().map_err(|e| self.poison_index(&e))?;
        Ok(next)
    }

    /// The ops that bring one key's rows from what the index holds (`latest`
    /// under the key itself, older versions in version rows) to what its
    /// overlay entry makes of them: the newest version under the key, older
    /// ones in version rows. Updates the entry count and digest.
    fn key_ops(
        &self,
        next: &mut Checkpoint,
        key: &[u8],
        entry: &OverlayEntry,
        latest: Option<Vec<u8>>,
        ops: &mut Vec<IndexOp>,
    ) -> Result<()> {
        let mut versions = index_versions_after(self.index, key, latest)?;
        let before = rows(key, versions.clone());
        entry.merge_into(&mut versions);
        let after = rows(key, versions);
        for (row, value) in &before {
            next.entries = next.entries.saturating_sub(1);
            next.digest ^= entry_hash(row, value);
            if !after.contains_key(row) {
                ops.push(IndexOp::Delete { key: row.clone() });
            }
        }
        for (row, value) in after {
            next.entries += 1;
            next.digest ^= entry_hash(&row, &value);
            if before.get(&row) != Some(&value) {
                ops.push(IndexOp::Put { key: row, value });
            }
        }
        Ok(())
    }

    /// A failed index sync poisons the store like any failed sync.
    fn poison_index(&self, error: &Error) -> Error {
        let kind = match error {
            Error::Io { source, .. } => source.kind(),
            _ => std::io::ErrorKind::Other,
        };
        self.poison.sync_failed(
            "index sync",
            self.index_dir,
            std::io::Error::new(kind, error.to_string()),
        )
    }
}

/// A key's index rows for `versions`: the newest under the key itself, the
/// older ones under version keys.
fn rows(key: &[u8], mut versions: BTreeMap<u64, Vec<u8>>) -> BTreeMap<Vec<u8>, Vec<u8>> {
    let mut rows = BTreeMap::new();
    if let Some((_, newest)) = versions.pop_last() {
        rows.insert(key.to_vec(), newest);
    }
    for (version, record) in versions {
        rows.insert(encoding::version_key(key, version), record);
    }
    rows
}

/// What a rebuild needs to know.
pub(super) struct Rebuild<'a> {
    pub dir: &'a Path,
    pub kind: IndexKind,
    pub segments: &'a [Arc<Segment>],
    pub poison: &'a Poison,
    pub next_segment: u64,
}

/// What a rebuild found.
pub(super) struct Rebuilt {
    /// Partitions (keys with a version) in the new index.
    pub partitions: u64,
    /// What the replay of the log found.
    pub scan: LogScan,
}

/// Replaces the index in `dir` with one rebuilt from every committed batch of
/// the log up to `upto` (`Some(None)`: nothing; `None`: the whole log).
/// Returns the index, its checkpoint, and what the rebuild found.
pub(super) fn rebuild(
    rebuild: &Rebuild<'_>,
    upto: Option<Option<FrameRef>>,
) -> Result<(Box<dyn IndexBackend>, Checkpoint, Rebuilt)> {
    let limit = match upto {
        None => u64::MAX,
        Some(mark) => mark.map_or(0, |f| f.seq),
    };
    let mut state: BTreeMap<Vec<u8>, OverlayEntry> = BTreeMap::new();
    let scan = replay(rebuild.segments, None, true, |changes| {
        for change in changes {
            let (key, seq, change) = VersionChange::from_log(change);
            if seq <= limit {
                state.entry(key).or_default().apply(seq, change);
            }
        }
    })
    .map_err(|e| Error::CorruptIndex { reason: e.0 })?;
    let covered = upto.unwrap_or(scan.last_committed);
    let index_dir = rebuild.dir.join("index");
    remove_index(&index_dir)?;
    let index = rebuild.kind.open_guarded(rebuild.dir)?;
    let entries: Vec<_> = state.into_iter().collect();
    let partitions = entries
        .iter()
        .filter(|(_, entry)| entry.newest().is_some())
        .count() as u64;
    let checkpoint = Checkpointer {
        index: &index,
        poison: rebuild.poison,
        index_dir: &index_dir,
    }
    .write(
        &Checkpoint::default(),
        covered,
        rebuild.next_segment,
        &entries,
        true,
    )?;
    Ok((Box::new(index), checkpoint, Rebuilt { partitions, scan }))
}

/// Removes a damaged index's files (a cache: the log holds everything).
fn remove_index(index_dir: &Path) -> Result<()> {
    match std::fs::remove_dir_all(index_dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io("remove damaged index", index_dir, e)),
    }
}
