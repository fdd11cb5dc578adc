//! The file-system seam under a store's own files.
//!
//! Every call that changes what a store's segments, `FORMAT` file or directories
//! hold on disk, or that makes it durable, goes through a [`FileIo`]: creating
//! and writing files, resizing them, `fdatasync`, renames, removals and
//! directory syncs. [`OsFileIo`] performs them on the real file system. Tests put
//! their own implementation in its place (with
//! [`StoreBuilder::file_io`](crate::StoreBuilder::file_io)) to record every
//! write and sync and rebuild the states a power loss may leave behind, or to
//! fail the N-th call with an injected error.
//!
//! Reads do not go through the seam: segments are read through `mmap`, and
//! the index backend (sled or redb) does its own I/O. The index is a cache the
//! store can rebuild from the segments, so its files need no simulation.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;

/// The file operations a store performs on its own files.
///
/// Each method receives the path of the file it acts on, so an implementation
/// can keep its own model of every file's contents. An implementation must
/// perform the operation (or fail it); the store trusts a returned `Ok`.
pub trait FileIo: Send + Sync + fmt::Debug {
    /// Creates (or truncates) the file at `path` and opens it for reading and
    /// writing.
    ///
    /// # Errors
    /// The operating system's error.
    fn create(&self, path: &Path) -> io::Result<File>;

    /// Writes all of `bytes` at `offset` of `file`.
    ///
    /// # Errors
    /// The operating system's error; part of `bytes` may have been written.
    fn write_at(&self, file: &File, path: &Path, bytes: &[u8], offset: u64) -> io::Result<()>;

    /// Sets the length of `file`: truncates it, or extends it with zeros.
    ///
    /// # Errors
    /// The operating system's error.
    fn set_len(&self, file: &File, path: &Path, len: u64) -> io::Result<()>;

    /// `fdatasync`: makes `file`'s written bytes and length durable.
    ///
    /// # Errors
    /// The operating system's error. The store never retries a failed sync.
    fn sync_data(&self, file: &File, path: &Path) -> io::Result<()>;

    /// Renames `from` to `to`, replacing `to` atomically.
    ///
    /// # Errors
    /// The operating system's error.
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()>;

    /// Removes the file at `path`.
    ///
    /// # Errors
    /// The operating system's error.
    fn remove_file(&self, path: &Path) -> io::Result<()>;

    /// Creates the directory `path` (its parent exists).
    ///
    /// # Errors
    /// The operating system's error, `AlreadyExists` included.
    fn create_dir(&self, path: &Path) -> io::Result<()>;

    /// `fsync`s the directory `path`, making the entries created, renamed or
    /// removed in it durable.
    ///
    /// # Errors
    /// The operating system's error.
    fn sync_dir(&self, path: &Path) -> io::Result<()>;

    /// Called once a checkpoint has made the index in `index_dir` durable.
    /// Only a simulator that keeps copies of the index needs it.
    fn index_checkpointed(&self, index_dir: &Path) {
        let _ = index_dir;
    }
}

/// The real file system.
#[derive(Debug, Clone, Copy, Default)]
pub struct OsFileIo;

impl FileIo for OsFileIo {
    fn create(&self, path: &Path) -> io::Result<File> {
        OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)
    }

    fn write_at(&self, file: &File, _path: &Path, bytes: &[u8], offset: u64) -> io::Result<()> {
        file.write_all_at(bytes, offset)
    }

    fn set_len(&self, file: &File, _path: &Path, len: u64) -> io::Result<()> {
        file.set_len(len)
    }

    fn sync_data(&self, file: &File, _path: &Path) -> io::Result<()> {
        file.sync_data()
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        std::fs::rename(from, to)
    }

    fn remove_file(&self, path: &Path) -> io::Result<()> {
        std::fs::remove_file(path)
    }

    fn create_dir(&self, path: &Path) -> io::Result<()> {
        std::fs::create_dir(path)
    }

    fn sync_dir(&self, path: &Path) -> io::Result<()> {
        File::open(path)?.sync_all()
    }
}
