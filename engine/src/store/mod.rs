//! [`Store`]: the partition store.

mod builder;
mod list;
mod read;
mod stats;
mod verify;
mod write;

pub use write::MAX_PAYLOAD_LEN;

use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use builder::{DEFAULT_SEGMENT_CAPACITY, StoreBuilder};
pub use stats::StoreStats;
pub use verify::{DamagedPartition, VerifyReport};

use crate::commit_queue::CommitQueue;
use crate::durability::{Durability, GroupCommit};
use crate::error::Result;
use crate::index::IndexBackend;
use crate::lock::DirLock;
use crate::segment::SegmentSet;

/// An embedded store of zero-copy blobs addressed by `(asset, partition)`.
///
/// `Send + Sync`, cheap to clone (clones share one store); many readers and
/// writers may use it at once. One `Store` per directory: a second open, from
/// this process or another, fails with [`Error::Locked`](crate::Error::Locked).
/// Dropping the last clone releases the directory.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    dir: PathBuf,
    index: Box<dyn IndexBackend>,
    segments: SegmentSet,
    durability: Durability,
    verify_checksums: bool,
    segment_sync: GroupCommit,
    index_sync: GroupCommit,
    commit_queue: CommitQueue,
    _lock: DirLock,
}

impl Store {
    /// Opens (or creates) the store in `dir` with default options: sled index,
    /// [`Durability::Immediate`], checksums verified on every read.
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

    /// Makes every write that returned before this call durable.
    ///
    /// # Errors
    /// An I/O or index error if a sync fails; the writes stay buffered.
    pub fn flush(&self) -> Result<()> {
        self.sync_segments()?;
        self.sync_index()
    }

    fn sync_segments(&self) -> Result<()> {
        let segments = &self.inner.segments;
        self.inner.segment_sync.commit(|| segments.sync_dirty())
    }

    fn sync_index(&self) -> Result<()> {
        let index = &*self.inner.index;
        self.inner.index_sync.commit(|| index.sync())
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Best effort on close: nothing acknowledged depends on it (durable writes
        // were synced before they returned), so errors have nowhere to go.
        let _ = self.segments.seal();
        let _ = self.index.sync();
    }
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("dir", &self.inner.dir)
            .field("durability", &self.inner.durability)
            .field("verify_checksums", &self.inner.verify_checksums)
            .finish_non_exhaustive()
    }
}
