//! The recorded event log: every file operation, index checkpoint and test mark.

use std::fmt;
use std::io;
use std::path::PathBuf;
use std::sync::Arc;

use super::tree::TreeSnapshot;

/// The kinds of [`FileIo`](tessera_engine::io::FileIo) call, for counting calls
/// and aiming [`Fault`](super::Fault)s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OpKind {
    /// `create`: creates or truncates a file.
    Create,
    /// `write_at`.
    WriteAt,
    /// `set_len`.
    SetLen,
    /// `sync_data` (`fdatasync`).
    SyncData,
    /// `rename`.
    Rename,
    /// `remove_file`.
    RemoveFile,
    /// `create_dir`.
    CreateDir,
    /// `sync_dir` (`fsync` of a directory).
    SyncDir,
}

impl OpKind {
    /// Every kind, in declaration order.
    pub const ALL: [Self; 8] = [
        Self::Create,
        Self::WriteAt,
        Self::SetLen,
        Self::SyncData,
        Self::Rename,
        Self::RemoveFile,
        Self::CreateDir,
        Self::SyncDir,
    ];

    /// This kind's position in [`OpKind::ALL`].
    pub(crate) fn slot(self) -> usize {
        self as usize
    }
}

/// How a recorded operation ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// It succeeded.
    Ok,
    /// It returned an error (injected or from the operating system).
    Failed {
        /// The error's kind.
        kind: io::ErrorKind,
        /// The raw OS error number, when it has one (5 for `EIO`, 28 for `ENOSPC`).
        raw_os_error: Option<i32>,
    },
    /// A sync that returned `Ok` without syncing anything
    /// ([`Mode::AckWithoutSync`](super::Mode::AckWithoutSync)).
    AckedWithoutSync,
}

impl Outcome {
    /// The outcome of an operation that returned `error`.
    pub(crate) fn failed(error: &io::Error) -> Self {
        Self::Failed {
            kind: error.kind(),
            raw_os_error: error.raw_os_error(),
        }
    }

    /// Whether the operation returned `Ok` to the store.
    #[must_use]
    pub fn acknowledged(&self) -> bool {
        !matches!(self, Self::Failed { .. })
    }
}

/// What one event was. Paths are relative to the recorder's root.
#[derive(Debug, Clone)]
pub enum EventOp {
    /// `create(path)`.
    Create {
        /// The file.
        path: PathBuf,
    },
    /// `write_at`: the bytes that may have reached the file (for a failed
    /// write, the part that was written before the error).
    Write {
        /// The file.
        path: PathBuf,
        /// Absolute file offset of the first byte.
        offset: u64,
        /// The bytes.
        bytes: Arc<[u8]>,
    },
    /// `set_len`.
    SetLen {
        /// The file.
        path: PathBuf,
        /// The new length.
        len: u64,
    },
    /// `sync_data`: makes the file's operations numbered below `covers`
    /// durable (those recorded before the sync started).
    SyncData {
        /// The file.
        path: PathBuf,
        /// The number of events recorded when the sync started.
        covers: u64,
    },
    /// `rename`.
    Rename {
        /// The old name.
        from: PathBuf,
        /// The new name (replaced if it exists).
        to: PathBuf,
    },
    /// `remove_file`.
    RemoveFile {
        /// The file.
        path: PathBuf,
    },
    /// `create_dir`.
    CreateDir {
        /// The new directory.
        path: PathBuf,
    },
    /// `sync_dir`: makes the entry changes in `path` numbered below `covers`
    /// durable.
    SyncDir {
        /// The directory (the empty path is the root itself).
        path: PathBuf,
        /// The number of events recorded when the sync started.
        covers: u64,
    },
    /// `index_checkpointed`: the index in `dir` was durable, and this copy was
    /// taken (or copying failed, with the reason).
    IndexCheckpoint {
        /// The index directory.
        dir: PathBuf,
        /// The copy of its files.
        snapshot: Result<Arc<TreeSnapshot>, String>,
    },
    /// A test's own event ([`RecordingFileIo::mark`](super::RecordingFileIo::mark)).
    Mark {
        /// The test's label.
        label: String,
    },
}

/// One recorded event; its number is its position in the log.
#[derive(Debug, Clone)]
pub struct Event {
    /// What happened.
    pub op: EventOp,
    /// How it ended.
    pub outcome: Outcome,
}

impl Event {
    /// Whether this is a sync point: a `sync_data` or `sync_dir` call, whatever
    /// its outcome.
    #[must_use]
    pub fn is_sync_point(&self) -> bool {
        matches!(self.op, EventOp::SyncData { .. } | EventOp::SyncDir { .. })
    }

    /// The mark's label, if this is a mark.
    #[must_use]
    pub fn mark_label(&self) -> Option<&str> {
        match &self.op {
            EventOp::Mark { label } => Some(label),
            _ => None,
        }
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.op {
            EventOp::Create { path } => write!(f, "create {}", path.display()),
            EventOp::Write {
                path,
                offset,
                bytes,
            } => write!(f, "write {} @{offset} +{}", path.display(), bytes.len()),
            EventOp::SetLen { path, len } => write!(f, "set_len {} {len}", path.display()),
            EventOp::SyncData { path, covers } => {
                write!(f, "sync_data {} (covers <{covers})", path.display())
            }
            EventOp::Rename { from, to } => {
                write!(f, "rename {} -> {}", from.display(), to.display())
            }
            EventOp::RemoveFile { path } => write!(f, "remove {}", path.display()),
            EventOp::CreateDir { path } => write!(f, "create_dir {}", path.display()),
            EventOp::SyncDir { path, covers } => {
                write!(f, "sync_dir {} (covers <{covers})", path.display())
            }
            EventOp::IndexCheckpoint { dir, snapshot } => match snapshot {
                Ok(s) => write!(
                    f,
                    "index checkpoint {} ({} files)",
                    dir.display(),
                    s.files.len()
                ),
                Err(e) => write!(f, "index checkpoint {} (copy failed: {e})", dir.display()),
            },
            EventOp::Mark { label } => write!(f, "mark {label:?}"),
        }?;
        match &self.outcome {
            Outcome::Ok => Ok(()),
            Outcome::Failed { kind, raw_os_error } => {
                write!(f, " -> failed {kind:?} (os error {raw_os_error:?})")
            }
            Outcome::AckedWithoutSync => write!(f, " -> acked without sync"),
        }
    }
}
