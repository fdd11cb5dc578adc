//! The directory lock: one `Store` per store directory.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::Path;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// How long an open waits for a held lock to be released unless
/// [`StoreBuilder::wait_for_lock`](crate::StoreBuilder::wait_for_lock) says longer.
pub(crate) const CONTENDED_WAIT: Duration = Duration::from_millis(250);

/// How long a waiting open sleeps between two tries of the lock.
const RETRY_EVERY: Duration = Duration::from_millis(2);

/// An exclusive advisory lock on `<store>/LOCK`, held for the store's lifetime.
///
/// The lock belongs to the open file description, so a second open of the same
/// directory fails with [`Error::Locked`] whether it comes from another process
/// or from this one. A process that forks (to spawn a program) shares the
/// description with its child until the child's `exec` closes it, so a lock
/// just released may stay held for that moment: acquiring waits at least
/// [`CONTENDED_WAIT`] before it reports [`Error::Locked`]. Processes that
/// share a store one operation at a time wait longer (see
/// [`StoreBuilder::wait_for_lock`](crate::StoreBuilder::wait_for_lock)).
pub(crate) struct DirLock {
    _file: File,
}

impl DirLock {
    /// Takes the lock, retrying for up to `wait` while another handle holds it.
    pub(crate) fn acquire(dir: &Path, wait: Duration) -> Result<Self> {
        let path = dir.join("LOCK");
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| Error::io("open lock file", &path, e))?;
        let deadline = Instant::now() + wait;
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(Self { _file: file }),
                Err(TryLockError::WouldBlock) if Instant::now() < deadline => {
                    std::thread::sleep(RETRY_EVERY);
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
