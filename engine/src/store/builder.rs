//! [`StoreBuilder`]: options for opening a store.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::compact::CompactionOptions;
use super::{Store, open};
use crate::durability::Durability;
use crate::error::{Error, Result};
use crate::index::IndexKind;
use crate::io::{FileIo, OsFileIo};
use crate::key::AssetKey;
use crate::lock::CONTENDED_WAIT;
use crate::retention::{Clock, Retention, RetentionPolicy, system_clock};

/// Default room preallocated (sparsely) for each segment file.
pub const DEFAULT_SEGMENT_CAPACITY: u64 = 256 << 20;

/// Default number of changed keys waiting in memory before a checkpoint
/// writes them into the index.
pub const DEFAULT_CHECKPOINT_EVERY: usize = 32 << 10;

/// A deliberately wrong ordering of the commit protocol, for the crash tests
/// only: they show that the power-loss simulator catches it.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BrokenOrdering {
    /// Checkpoint the index before the segments holding its changes are synced.
    CheckpointBeforeSegmentSync,
    /// Retire (and so remove) reclaimed segments before the checkpoint that
    /// moves the index off them.
    RetireBeforeCheckpoint,
}

/// Options for [`Store::open`]; finish with [`StoreBuilder::open`].
#[derive(Clone)]
#[must_use = "a builder does nothing until `open` is called"]
pub struct StoreBuilder {
    pub(super) dir: PathBuf,
    /// `None`: the store's own backend, or the default for a new store.
    pub(super) index: Option<IndexKind>,
    pub(super) durability: Durability,
    pub(super) verify_checksums: bool,
    pub(super) segment_capacity: u64,
    pub(super) checkpoint_every: usize,
    pub(super) io: Arc<dyn FileIo>,
    pub(super) read_only: bool,
    pub(super) lock_wait: Duration,
    pub(super) broken: Option<BrokenOrdering>,
    pub(super) retention: RetentionPolicy,
    pub(super) clock: Clock,
    pub(super) compaction: CompactionOptions,
    #[cfg(feature = "object-store")]
    pub(super) remote: super::remote::RemoteOptions,
}

impl std::fmt::Debug for StoreBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreBuilder")
            .field("dir", &self.dir)
            .field("index", &self.index)
            .field("durability", &self.durability)
            .field("read_only", &self.read_only)
            .field("retention", &self.retention)
            .field("compaction", &self.compaction)
            .finish_non_exhaustive()
    }
}

impl StoreBuilder {
    pub(crate) fn new(dir: &Path) -> Self {
        Self {
            dir: dir.to_path_buf(),
            index: None,
            durability: Durability::default(),
            verify_checksums: true,
            segment_capacity: DEFAULT_SEGMENT_CAPACITY,
            checkpoint_every: DEFAULT_CHECKPOINT_EVERY,
            io: Arc::new(OsFileIo),
            read_only: false,
            lock_wait: CONTENDED_WAIT,
            broken: None,
            retention: RetentionPolicy::default(),
            clock: system_clock(),
            compaction: CompactionOptions::default(),
            #[cfg(feature = "object-store")]
            remote: super::remote::RemoteOptions::default(),
        }
    }

    /// Which versions of every partition the store keeps (default: only the
    /// newest). See [`Retention`].
    pub fn retention(mut self, retention: Retention) -> Self {
        self.retention.default = retention;
        self
    }

    /// Overrides the retention of one asset's partitions.
    pub fn asset_retention(mut self, asset: AssetKey, retention: Retention) -> Self {
        self.retention.per_asset.insert(asset, retention);
        self
    }

    /// The clock versions are stamped with and retention judges ages by
    /// (default: the system clock). For tests and replays of a past.
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// How compaction runs (default: [`CompactionOptions::default`]).
    pub fn compaction(mut self, options: CompactionOptions) -> Self {
        self.compaction = options;
        self
    }

    /// The index backend. Unset, an existing store opens with the backend
    /// it was created with and a new one gets [`IndexKind::default`]. A store
    /// keeps its backend: asking for another fails with
    /// [`Error::BackendMismatch`](crate::Error::BackendMismatch).
    pub fn index(mut self, index: IndexKind) -> Self {
        self.index = Some(index);
        self
    }

    /// The default durability of writes (default: [`Durability::Immediate`]).
    pub fn durability(mut self, durability: Durability) -> Self {
        self.durability = durability;
        self
    }

    /// Whether every read recomputes the payload's crc32 (default: `true`).
    /// Off, a read of any size costs the same few microseconds, and damage to a
    /// payload's bytes goes unnoticed until [`Store::verify`] runs.
    pub fn verify_checksums(mut self, verify: bool) -> Self {
        self.verify_checksums = verify;
        self
    }

    /// Room preallocated for each segment file (default 256 MiB, sparse). A
    /// payload larger than this gets a segment of its own.
    pub fn segment_capacity(mut self, bytes: u64) -> Self {
        self.segment_capacity = bytes.max(4096);
        self
    }

    /// How many changed keys may wait in memory before a write checkpoints
    /// them into the index (default [`DEFAULT_CHECKPOINT_EVERY`], at least 1).
    /// Fewer make opens replay less log; more make checkpoints rarer.
    pub fn checkpoint_every(mut self, changed_keys: usize) -> Self {
        self.checkpoint_every = changed_keys.max(1);
        self
    }

    /// The file-system seam under the store's own files (default:
    /// [`OsFileIo`], the real one). Tests put a recording or failing one here.
    pub fn file_io(mut self, io: Arc<dyn FileIo>) -> Self {
        self.io = io;
        self
    }

    /// Opens the store read-only: no lock is taken and nothing is written,
    /// so it works on a read-only mount and beside a writer. The whole log is
    /// replayed into memory (sled cannot open its files without writing);
    /// writes fail with [`Error::ReadOnly`](crate::Error::ReadOnly).
    pub fn read_only(mut self) -> Self {
        self.read_only = true;
        self
    }

    /// Waits up to `timeout` for the directory lock when another `Store`, in
    /// this process or another, holds it, instead of failing with
    /// [`Error::Locked`](crate::Error::Locked) after the default 250 ms.
    /// Processes that share one store open it for each operation and close it
    /// after (Dagster's subprocess steps do): the lock serializes their
    /// commits, and each open replays what the others committed before it.
    /// Timeouts under 250 ms count as 250 ms.
    pub fn wait_for_lock(mut self, timeout: Duration) -> Self {
        self.lock_wait = timeout.max(CONTENDED_WAIT);
        self
    }

    /// Breaks the commit protocol on purpose (crash tests only).
    #[doc(hidden)]
    pub fn deliberately_broken(mut self, broken: BrokenOrdering) -> Self {
        self.broken = Some(broken);
        self
    }

    /// Opens the store, creating the directory and an empty store if needed,
    /// and recovers it: the log after the index's checkpoint is replayed, a
    /// torn tail cut, and a damaged index rebuilt (see [`Store::recovery`]).
    ///
    /// # Errors
    /// [`Error::Locked`](crate::Error::Locked) if another `Store` holds the
    /// directory (for longer than [`StoreBuilder::wait_for_lock`] allows); [`Error::UnsupportedFormat`](crate::Error::UnsupportedFormat)
    /// or [`Error::BackendMismatch`](crate::Error::BackendMismatch) for a store
    /// this build or backend cannot read; [`Error::MissingFormat`](crate::Error::MissingFormat)
    /// for data without a `FORMAT` file; [`Error::NotAStore`](crate::Error::NotAStore)
    /// for a read-only open of a directory that is not a store;
    /// [`Error::Io`](crate::Error::Io) for failing system calls.
    pub fn open(self) -> Result<Store> {
        #[cfg(feature = "object-store")]
        if self.is_remote() {
            return super::remote::open(self);
        }
        if is_object_store_address(&self.dir) {
            return Err(Error::Unsupported {
                operation: "opening a store on object storage",
                reason: "this build lacks the engine's `object-store` feature",
            });
        }
        open::open(self)
    }
}

/// Whether `dir` is the address of a store on object storage (`s3://`,
/// `gs://`, `az://`, `file://`...) rather than a directory.
#[must_use]
pub fn is_object_store_address(dir: impl AsRef<Path>) -> bool {
    dir.as_ref().to_str().is_some_and(|d| {
        OBJECT_STORE_SCHEMES
            .iter()
            .any(|scheme| d.starts_with(scheme))
    })
}

/// The schemes an address of a store on object storage starts with.
const OBJECT_STORE_SCHEMES: [&str; 9] = [
    "s3://", "s3a://", "gs://", "az://", "azure://", "abfs://", "abfss://", "adl://", "file://",
];
