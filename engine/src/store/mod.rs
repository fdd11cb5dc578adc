//! [`Store`]: the partition store.

mod background;
mod builder;
mod checkpoint;
mod compact;
mod list;
mod open;
mod overlay;
mod read;
mod recovery;
mod refresh;
#[cfg(feature = "object-store")]
mod remote;
#[cfg(feature = "object-store")]
mod remote_address;
#[cfg(feature = "object-store")]
mod remote_checkpoint;
#[cfg(feature = "object-store")]
mod remote_compact;
#[cfg(feature = "object-store")]
mod remote_fresh;
#[cfg(feature = "object-store")]
mod remote_gc;
#[cfg(feature = "object-store")]
mod remote_gc_data;
#[cfg(feature = "object-store")]
mod remote_inspect;
#[cfg(feature = "object-store")]
mod remote_large;
#[cfg(feature = "object-store")]
mod remote_live;
mod space;
mod stats;
#[cfg(test)]
mod tests;
mod verify;
mod versions;
mod view;
mod wipe;
mod write;

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex, RwLock};

pub use builder::{
    BrokenOrdering, DEFAULT_CHECKPOINT_EVERY, DEFAULT_SEGMENT_CAPACITY, StoreBuilder,
    is_object_store_address,
};
pub use compact::{CompactionOptions, CompactionProgress, CompactionReport};
pub use recovery::{CutTail, IndexRebuild, RecoveryReport};
pub use refresh::Refresh;
#[cfg(feature = "object-store")]
pub use remote::{
    DEFAULT_CACHE_LIMIT, DEFAULT_CHECKPOINT_GRACE, DEFAULT_GC_GRACE,
    DEFAULT_REMOTE_CHECKPOINT_EVERY,
};
#[cfg(feature = "object-store")]
pub use remote_large::DEFAULT_LARGE_VALUE_THRESHOLD;
pub use stats::StoreStats;
pub use verify::{DamagedPartition, IndexMismatch, VerifyReport};
pub use versions::VersionInfo;
pub use write::{MAX_KEY_LEN, MAX_METADATA_LEN, MAX_PAYLOAD_LEN};

use crate::durability::{Announced, Durability, GroupCommit};
use crate::error::{Error, Result};
use crate::index::IndexBackend;
use crate::index::IndexKind;
use crate::index::checkpoint::Checkpoint;
use crate::io::FileIo;
use crate::lock::DirLock;
use crate::poison::Poison;
use crate::retention::{Clock, RetentionPolicy};
use crate::segment::SegmentSet;
use background::Background;
use overlay::Overlay;

/// An embedded store of zero-copy blobs addressed by `(asset, partition)`.
///
/// `Send + Sync`, cheap to clone (clones share one store); many readers and
/// writers may use it at once. One writable `Store` per directory: a second
/// open, from this process or another, fails with
/// [`Error::Locked`](crate::Error::Locked); read-only opens take no lock.
/// Dropping the last clone closes the store (see [`Store::close`]).
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    dir: PathBuf,
    io: Arc<dyn FileIo>,
    index_kind: IndexKind,
    index: RwLock<Box<dyn IndexBackend>>,
    overlay: Overlay,
    segments: SegmentSet,
    poison: Arc<Poison>,
    durability: Durability,
    verify_checksums: bool,
    read_only: bool,
    checkpoint_every: usize,
    /// After a failed automatic checkpoint: the overlay size to retry at.
    retry_checkpoint_at: AtomicUsize,
    broken: Option<BrokenOrdering>,
    segment_sync: GroupCommit,
    /// The index's checkpoint record; held while a checkpoint runs.
    checkpoint: Mutex<Checkpoint>,
    recovery: RecoveryReport,
    retention: RetentionPolicy,
    clock: Clock,
    segment_capacity: u64,
    compaction: CompactionOptions,
    /// Held while a compaction runs: one at a time.
    compaction_running: Mutex<()>,
    background: Background,
    /// How far a read-only store has read the log (see [`Store::refresh`]).
    position: Mutex<refresh::LogPosition>,
    /// The process that opened the store (see `Drop`).
    opened_by: u32,
    _lock: Option<DirLock>,
    /// The object store and cache of a store on object storage.
    #[cfg(feature = "object-store")]
    remote: Option<remote::RemoteBackend>,
}

impl Store {
    /// Opens (or creates) the store in `dir` with default options: the
    /// default index backend, [`Durability::Immediate`], checksums verified
    /// on every read.
    ///
    /// # Errors
    /// [`Error::Locked`](crate::Error::Locked) if the directory is in use, and
    /// the format, I/O and corruption errors of [`StoreBuilder::open`].
    pub fn open(dir: impl AsRef<Path>) -> Result<Self> {
        Self::builder(dir).open()
    }

    /// A builder for a store in `dir` with non-default options.
    pub fn builder(dir: impl AsRef<Path>) -> StoreBuilder {
        StoreBuilder::new(dir.as_ref())
    }

    /// The store's directory.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.inner.dir
    }

    /// The durability writes get unless their batch overrides it.
    #[must_use]
    pub fn durability(&self) -> Durability {
        self.inner.durability
    }

    /// The index backend the store uses.
    #[must_use]
    pub fn index_kind(&self) -> IndexKind {
        self.inner.index_kind
    }

    /// Whether the store was opened read-only.
    #[must_use]
    pub fn is_read_only(&self) -> bool {
        self.inner.read_only
    }

    /// What the open that made this store found and repaired.
    #[must_use]
    pub fn recovery(&self) -> &RecoveryReport {
        &self.inner.recovery
    }

    /// Makes every write that returned before this call durable: syncs the
    /// segments, then checkpoints the index.
    ///
    /// # Errors
    /// [`Error::Poisoned`](crate::Error::Poisoned) after a failed sync (this
    /// one included: it is never retried); [`Error::ReadOnly`](crate::Error::ReadOnly);
    /// an index error if the checkpoint fails (the writes are durable in the
    /// log then, and the next open replays them).
    pub fn flush(&self) -> Result<()> {
        self.inner.check_writable()?;
        if self.inner.is_remote() {
            return Ok(());
        }
        self.inner.flush()
    }

    /// Closes the store: [`flush`](Store::flush), and when this is the last
    /// handle, seals the segment taking appends and releases the directory.
    /// Dropping a store does the same, best effort and in the same order,
    /// without reporting errors.
    ///
    /// # Errors
    /// The errors of [`Store::flush`]; a read-only store closes without error.
    pub fn close(self) -> Result<()> {
        if self.inner.read_only || self.inner.is_remote() {
            return Ok(());
        }
        self.flush()?;
        if Arc::strong_count(&self.inner) <= 2 {
            self.inner.background.stop();
        }
        match Arc::try_unwrap(self.inner) {
            Ok(inner) => {
                inner.poison.check()?;
                inner.segments.seal()
            }
            Err(_shared) => Ok(()),
        }
    }
}

impl Inner {
    /// Whether the store is on object storage.
    fn is_remote(&self) -> bool {
        #[cfg(feature = "object-store")]
        if self.remote.is_some() {
            return true;
        }
        false
    }

    /// Fails with [`Error::Unsupported`] on a store on object storage, which
    /// has no use for `operation`.
    fn check_local(&self, operation: &'static str) -> Result<()> {
        if self.is_remote() {
            return Err(Error::Unsupported {
                operation,
                reason: "a store on object storage has no index: its view is rebuilt from \
                         checkpoint and log objects at every open",
            });
        }
        Ok(())
    }

    /// Segment `id` for a read: mapped, or (on object storage) fetched again
    /// into the cache after an eviction.
    fn segment(&self, id: u64) -> Result<Option<Arc<crate::segment::Segment>>> {
        #[cfg(feature = "object-store")]
        if let Some(remote) = &self.remote {
            return remote.segment(self, id);
        }
        Ok(self.segments.get(id))
    }

    fn check_writable(&self) -> Result<()> {
        if self.read_only {
            return Err(Error::ReadOnly {
                path: self.dir.clone(),
            });
        }
        self.poison.check()
    }

    fn flush(&self) -> Result<()> {
        if self.broken == Some(BrokenOrdering::CheckpointBeforeSegmentSync) {
            self.checkpoint()?;
            return self.sync_segments();
        }
        self.sync_segments()?;
        self.checkpoint()
    }

    fn sync_segments(&self) -> Result<()> {
        self.segment_sync
            .commit(&self.poison, &self.dir, || self.segments.sync_active())
    }

    /// [`Inner::sync_segments`] for a writer announced before its append.
    fn sync_segments_for(&self, writer: Announced<'_>) -> Result<()> {
        writer.commit(&self.poison, &self.dir, || self.segments.sync_active())
    }
}

impl Drop for Inner {
    /// Best effort: segments synced, then a checkpoint, then the active
    /// segment sealed. Nothing acknowledged depends on it.
    ///
    /// A process forked from the one that opened the store (a Python
    /// `os.fork()` child, say) only lets go of its copy: the store, its lock,
    /// its active segment and its index stay the parent's, and the child has
    /// no background thread to stop.
    fn drop(&mut self) {
        if std::process::id() != self.opened_by {
            return;
        }
        self.background.stop();
        if self.read_only || self.poison.is_set() || self.is_remote() {
            return;
        }
        if self.flush().is_ok() {
            let _ = self.segments.seal();
        }
    }
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("dir", &self.inner.dir)
            .field("index", &self.inner.index_kind)
            .field("durability", &self.inner.durability)
            .field("read_only", &self.inner.read_only)
            .finish_non_exhaustive()
    }
}
