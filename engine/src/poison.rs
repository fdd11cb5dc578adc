//! Fail-stop: after a failed sync the store refuses every later write.
//!
//! A failed `fsync` may have dropped dirty pages the kernel will never write
//! again, and a later sync that succeeds says nothing about them. So no sync
//! is retried: the first failure poisons the store, every later write and
//! flush returns [`Error::Poisoned`], and reopening recovers from what is on
//! disk.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::error::Error;

/// What failed, kept to describe later refusals.
#[derive(Debug, Clone)]
pub(crate) struct SyncFailure {
    pub op: &'static str,
    pub path: PathBuf,
    pub kind: io::ErrorKind,
    pub message: String,
}

impl SyncFailure {
    /// The failure as the I/O error it was (for writers that shared the sync).
    pub(crate) fn to_io_error(&self) -> Error {
        Error::io(
            self.op,
            &self.path,
            io::Error::new(self.kind, self.message.clone()),
        )
    }

    /// The failure as the refusal of a later write.
    pub(crate) fn to_poisoned(&self) -> Error {
        Error::Poisoned {
            op: self.op,
            path: self.path.clone(),
            kind: self.kind,
            message: self.message.clone(),
        }
    }
}

/// The store's poison flag: set once, by the first failed sync.
#[derive(Debug, Default)]
pub(crate) struct Poison {
    failure: OnceLock<SyncFailure>,
}

impl Poison {
    /// `Err(Poisoned)` once a sync has failed.
    pub(crate) fn check(&self) -> Result<(), Error> {
        match self.failure.get() {
            Some(failure) => Err(failure.to_poisoned()),
            None => Ok(()),
        }
    }

    /// Whether a sync has failed.
    pub(crate) fn is_set(&self) -> bool {
        self.failure.get().is_some()
    }

    /// The failure that poisoned the store, if any.
    pub(crate) fn failure(&self) -> Option<&SyncFailure> {
        self.failure.get()
    }

    /// Records a failed sync (the first one wins) and returns it as an error.
    pub(crate) fn sync_failed(&self, op: &'static str, path: &Path, error: io::Error) -> Error {
        let failure = SyncFailure {
            op,
            path: path.to_path_buf(),
            kind: error.kind(),
            message: error.to_string(),
        };
        let _ = self.failure.set(failure);
        Error::io(op, path, error)
    }

    /// Records a failure that is not an I/O error (a panic, an index error)
    /// in the commit path.
    pub(crate) fn other_failed(&self, op: &'static str, path: &Path, message: String) -> Error {
        self.sync_failed(op, path, io::Error::other(message))
    }
}
