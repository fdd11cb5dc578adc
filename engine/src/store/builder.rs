//! [`StoreBuilder`]: options for opening a store.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{Inner, Store};
use crate::commit_queue::CommitQueue;
use crate::durability::{Durability, GroupCommit};
use crate::error::{Error, Result};
use crate::format;
use crate::index::IndexKind;
use crate::lock::DirLock;
use crate::segment::SegmentSet;

/// Default room preallocated (sparsely) for each segment file.
pub const DEFAULT_SEGMENT_CAPACITY: u64 = 256 << 20;

/// Options for [`Store::open`]; finish with [`StoreBuilder::open`].
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `open` is called"]
pub struct StoreBuilder {
    dir: PathBuf,
    index: IndexKind,
    durability: Durability,
    verify_checksums: bool,
    segment_capacity: u64,
}

impl StoreBuilder {
    pub(crate) fn new(dir: &Path) -> Self {
        Self {
            dir: dir.to_path_buf(),
            index: IndexKind::default(),
            durability: Durability::default(),
            verify_checksums: true,
            segment_capacity: DEFAULT_SEGMENT_CAPACITY,
        }
    }

    /// The index backend (default: sled). A store keeps the backend it was
    /// created with; opening it with another fails with
    /// [`Error::BackendMismatch`].
    pub fn index(mut self, index: IndexKind) -> Self {
        self.index = index;
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

    /// Opens the store, creating the directory and an empty store if needed.
    ///
    /// # Errors
    /// [`Error::Locked`] if another `Store` holds the directory;
    /// [`Error::UnsupportedFormat`] or [`Error::BackendMismatch`] for a store this
    /// build or backend cannot read; [`Error::ForeignFile`] for an unknown or
    /// damaged file among the segments; [`Error::Index`] if the index cannot be
    /// opened; [`Error::Io`] for failing system calls.
    pub fn open(self) -> Result<Store> {
        let dir = self.dir;
        std::fs::create_dir_all(&dir).map_err(|e| Error::io("create directory", &dir, e))?;
        let lock = DirLock::acquire(&dir)?;
        format::check_or_create(&dir, self.index)?;
        let segments = SegmentSet::open(&dir.join("segments"), self.segment_capacity)?;
        let index = self.index.open(&dir)?;
        let inner = Inner {
            dir,
            index,
            segments,
            durability: self.durability,
            verify_checksums: self.verify_checksums,
            segment_sync: GroupCommit::default(),
            index_sync: GroupCommit::default(),
            commit_queue: CommitQueue::default(),
            _lock: lock,
        };
        Ok(Store {
            inner: Arc::new(inner),
        })
    }
}
