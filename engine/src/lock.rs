//! The directory lock: one `Store` per store directory.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::Path;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// How long [`DirLock::acquire`] waits for a held lock to be released.
pub(crate) const CONTENDED_WAIT: Duration = Duration::from_millis(250);

/// An exclusive advisory lock on `<store>/LOCK`, held for the store's lifetime.
///
/// The lock belongs to the open file description, so a second open of the same
/// directory fails with [`Error::Locked`] whether it comes from another process
/// or from this one. A process that forks (to spawn a program) shares the
/// description with its child until the child's `exec` closes it, so a lock
/// just released may stay held for that moment: acquiring waits up to
/// [`CONTENDED_WAIT`] before it reports [`Error::Locked`].
pub(crate) struct DirLock {
    _file: File,
}

impl DirLock {
    pub(crate) fn acquire(dir: &Path) -> Result<Self> {
        let path = dir.join("LOCK");
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| Error::io("open lock file", &path, e))?;
        let deadline = Instant::now() + CONTENDED_WAIT;
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(Self { _file: file }),
                Err(TryLockError::WouldBlock) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(TryLockError::WouldBlock) => {
                    return Err(Error::Locked {
                        path: dir.to_path_buf(),
                    });
                }
                Err(TryLockError::Error(e)) => return Err(Error::io("lock", &path, e)),
            }
        }
    }
}
