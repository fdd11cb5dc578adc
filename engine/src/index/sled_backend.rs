//! The sled index backend.
//!
//! sled 0.34's `flush` hands its buffers to the kernel with `sync_file_range`,
//! which persists neither file metadata nor the disk's write cache, and only its
//! background thread calls `fsync`. So [`SledIndex::sync`] flushes and then
//! `fdatasync`s sled's data file, its blob files and its directories itself
//! before it reports durability.
//!
//! sled releases the lock on its data file only when the last of its internal
//! references drops, which can be shortly after the `Db` itself drops (its
//! epoch-deferred and thread-pool work holds them). The store's directory lock
//! is held before the index opens, so a lock still held on sled's file can only
//! be such a remnant of this process: [`SledIndex::open`] waits for it, bounded
//! by [`RELEASE_WAIT`].

use std::fs::{File, TryLockError};
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

use super::{IndexBackend, IndexOp, Visit};
use crate::error::{Error, Result};

const BACKEND: &str = "sled";

/// How long [`SledIndex::open`] waits for a previous handle's lock to be released.
const RELEASE_WAIT: Duration = Duration::from_secs(10);

/// An index stored in a sled database under `<store>/index`.
pub(crate) struct SledIndex {
    db: sled::Db,
    data_file: File,
    data_path: PathBuf,
    dir: PathBuf,
}

fn index_error(error: &sled::Error) -> Error {
    Error::Index {
        backend: BACKEND,
        message: error.to_string(),
    }
}

impl SledIndex {
    pub(crate) fn open(store_dir: &Path) -> Result<Self> {
        let dir = store_dir.join("index");
        let data_path = dir.join("db");
        wait_until_unlocked(&data_path)?;
        let db = sled::Config::new()
            .path(&dir)
            .mode(sled::Mode::HighThroughput)
            .flush_every_ms(None)
            .open()
            .map_err(|e| index_error(&e))?;
        let data_file = File::open(&data_path).map_err(|e| Error::io("open", &data_path, e))?;
        crate::fsutil::sync_dir(&dir)?;
        crate::fsutil::sync_dir(store_dir)?;
        Ok(Self {
            db,
            data_file,
            data_path,
            dir,
        })
    }

    /// sled writes items too large for its log buffer to `blobs/<lsn>` files
    /// that it never syncs; a checkpoint depends on them.
    fn sync_blobs(&self) -> Result<()> {
        let blobs = self.dir.join("blobs");
        let entries = match std::fs::read_dir(&blobs) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(Error::io("list", &blobs, e)),
        };
        for entry in entries {
            let path = entry.map_err(|e| Error::io("list", &blobs, e))?.path();
            File::open(&path)
                .and_then(|f| f.sync_data())
                .map_err(|e| Error::io("fdatasync", &path, e))?;
        }
        crate::fsutil::sync_dir(&blobs)
    }

    /// One change needs no batch: sled seals and writes out its log buffer for
    /// every batch (to recover it atomically), which a single insert or remove
    /// does not need.
    fn apply_one(&self, op: &IndexOp) -> Result<()> {
        match op {
            IndexOp::Put { key, value } => self.db.insert(key.as_slice(), value.as_slice()),
            IndexOp::Delete { key } => self.db.remove(key.as_slice()),
        }
        .map(drop)
        .map_err(|e| index_error(&e))
    }
}

/// Waits until no handle holds the lock on sled's data file, if the file exists.
fn wait_until_unlocked(data_path: &Path) -> Result<()> {
    let file = match File::open(data_path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io("open", data_path, e)),
    };
    let deadline = Instant::now() + RELEASE_WAIT;
    loop {
        match file.try_lock() {
            Ok(()) => return file.unlock().map_err(|e| Error::io("unlock", data_path, e)),
            Err(TryLockError::WouldBlock) if Instant::now() < deadline => {
                thread::sleep(Duration::from_millis(5));
            }
            Err(TryLockError::WouldBlock) => {
                return Err(Error::Index {
                    backend: BACKEND,
                    message: format!(
                        "{} is still locked after {RELEASE_WAIT:?}",
                        data_path.display()
                    ),
                });
            }
            Err(TryLockError::Error(e)) => return Err(Error::io("lock", data_path, e)),
        }
    }
}

impl IndexBackend for SledIndex {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let value = self.db.get(key).map_err(|e| index_error(&e))?;
        Ok(value.map(|v| v.to_vec()))
    }

    fn apply(&self, ops: &[IndexOp]) -> Result<()> {
        if let [op] = ops {
            return self.apply_one(op);
        }
        let mut batch = sled::Batch::default();
        for op in ops {
            match op {
                IndexOp::Put { key, value } => batch.insert(key.as_slice(), value.as_slice()),
                IndexOp::Delete { key } => batch.remove(key.as_slice()),
            }
        }
        self.db.apply_batch(batch).map_err(|e| index_error(&e))
    }

    fn scan(&self, start: Bound<&[u8]>, end: Bound<&[u8]>, visit: Visit<'_>) -> Result<()> {
        for entry in self.db.range::<&[u8], _>((start, end)) {
            let (key, value) = entry.map_err(|e| index_error(&e))?;
            if !visit(&key, &value)? {
                break;
            }
        }
        Ok(())
    }

    fn sync(&self) -> Result<()> {
        self.db.flush().map_err(|e| index_error(&e))?;
        self.data_file
            .sync_data()
            .map_err(|e| Error::io("fdatasync", &self.data_path, e))?;
        self.sync_blobs()?;
        crate::fsutil::sync_dir(&self.dir)
    }
}
