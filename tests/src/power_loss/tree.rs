//! In-memory copies of directory trees, and writing files into crash images.

use std::fs::{self, File};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A copy of a directory tree in memory: an index directory at a checkpoint,
/// or the recorder's root when recording started.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TreeSnapshot {
    /// Sub-directories, relative to the copied directory, parents first.
    pub dirs: Vec<PathBuf>,
    /// Regular files (path relative to the copied directory, contents).
    pub files: Vec<(PathBuf, Arc<[u8]>)>,
}

impl TreeSnapshot {
    /// Copies every directory and regular file under `dir` (symbolic links and
    /// other special files are skipped). A missing `dir` copies as empty.
    pub(crate) fn read(dir: &Path) -> io::Result<Self> {
        let mut snapshot = Self::default();
        if dir.exists() {
            snapshot.read_dir(dir, Path::new(""))?;
        }
        Ok(snapshot)
    }

    fn read_dir(&mut self, base: &Path, rel: &Path) -> io::Result<()> {
        let mut entries = fs::read_dir(base.join(rel))?.collect::<io::Result<Vec<_>>>()?;
        entries.sort_by_key(fs::DirEntry::file_name);
        for entry in entries {
            let kind = entry.file_type()?;
            let path = rel.join(entry.file_name());
            if kind.is_dir() {
                self.dirs.push(path.clone());
                self.read_dir(base, &path)?;
            } else if kind.is_file() {
                let bytes = fs::read(base.join(&path))?;
                self.files.push((path, bytes.into()));
            }
        }
        Ok(())
    }

    /// Writes the copy under `dir` (created if missing).
    pub(crate) fn write_into(&self, dir: &Path) -> io::Result<()> {
        fs::create_dir_all(dir)?;
        for sub in &self.dirs {
            fs::create_dir_all(dir.join(sub))?;
        }
        for (path, bytes) in &self.files {
            write_sparse(&dir.join(path), bytes)?;
        }
        Ok(())
    }
}

/// The size of the blocks [`write_sparse`] skips when they are all zeros.
const SPARSE_BLOCK: usize = 4096;

/// Writes `bytes` as a new file at `path` (its parent exists), leaving
/// all-zero 4 KiB blocks as holes so that large preallocated files are cheap.
pub(crate) fn write_sparse(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let file = File::create(path)?;
    file.set_len(bytes.len() as u64)?;
    let mut run_start = None;
    for (i, block) in bytes.chunks(SPARSE_BLOCK).enumerate() {
        let start = i * SPARSE_BLOCK;
        match (block.iter().any(|&b| b != 0), run_start) {
            (true, None) => run_start = Some(start),
            (false, Some(from)) => {
                file.write_all_at(&bytes[from..start], from as u64)?;
                run_start = None;
            }
            _ => {}
        }
    }
    if let Some(from) = run_start {
        file.write_all_at(&bytes[from..], from as u64)?;
    }
    Ok(())
}
