//! The local cache of log objects: segment files, mapped like local ones,
//! within a size limit, least recently used evicted first.
//!
//! A file is written under a temporary name and renamed into place, so a
//! cached file is always a whole object (a crash leaves at most a temporary
//! file, never read). Evicting a file removes it from the directory only:
//! a mapping of it (a [`Blob`](crate::Blob)'s) stays valid until dropped,
//! and the next read of the object fetches it again.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use crate::error::{Error, Result};
use crate::segment::{OpenFailure, Segment, segment_file_name};

/// A cached file's size and when it was last used.
#[derive(Debug, Clone, Copy)]
struct Entry {
    len: u64,
    used: u64,
}

#[derive(Debug, Default)]
struct State {
    files: BTreeMap<u64, Entry>,
    total: u64,
    clock: u64,
}

/// A cache directory of log objects.
#[derive(Debug)]
pub(crate) struct Cache {
    dir: PathBuf,
    limit: u64,
    state: Mutex<State>,
    /// Numbers the temporary files of this process.
    temporaries: AtomicU64,
}

fn parse_name(name: &str) -> Option<u64> {
    let id = name.strip_suffix(".seg")?;
    (id.len() == 20 && id.bytes().all(|b| b.is_ascii_digit()))
        .then(|| id.parse().ok())
        .flatten()
}

impl Cache {
    /// The cache in `dir` (created if missing), holding at most `limit`
    /// bytes of files besides the one just fetched; the files already there
    /// count, oldest first.
    pub(crate) fn open(dir: &Path, limit: u64) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io("create cache directory", dir, e))?;
        let mut state = State::default();
        let entries = std::fs::read_dir(dir).map_err(|e| Error::io("list cache", dir, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| Error::io("list cache", dir, e))?;
            let name = entry.file_name();
            let Some(id) = name.to_str().and_then(parse_name) else {
                continue;
            };
            let len = entry
                .metadata()
                .map_err(|e| Error::io("stat cached object", entry.path(), e))?
                .len();
            state.files.insert(id, Entry { len, used: 0 });
            state.total += len;
        }
        Ok(Self {
            dir: dir.to_path_buf(),
            limit,
            state: Mutex::new(state),
            temporaries: AtomicU64::new(0),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The cache directory.
    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, id: u64) -> PathBuf {
        self.dir.join(segment_file_name(id))
    }

    /// Bytes of cached files.
    #[cfg(test)]
    pub(crate) fn total(&self) -> u64 {
        self.lock().total
    }

    /// Whether object `id` is cached.
    #[cfg(test)]
    pub(crate) fn contains(&self, id: u64) -> bool {
        self.lock().files.contains_key(&id)
    }

    /// Marks object `id` as just used.
    pub(crate) fn touch(&self, id: u64) {
        let mut state = self.lock();
        state.clock += 1;
        let now = state.clock;
        if let Some(entry) = state.files.get_mut(&id) {
            entry.used = now;
        }
    }

    /// Maps the cached file of object `id`, if there is a sound one; a file
    /// whose header is damaged is removed (the object is fetched again).
    pub(crate) fn load(&self, id: u64) -> Result<Option<Segment>> {
        if !self.lock().files.contains_key(&id) {
            return Ok(None);
        }
        let path = self.path(id);
        match Segment::open(&path, id) {
            Ok(segment) => {
                self.touch(id);
                Ok(Some(segment))
            }
            Err(OpenFailure::Quarantined(reason)) => {
                log::warn!("cached object {} dropped: {reason}", path.display());
                self.forget(id);
                Ok(None)
            }
            Err(OpenFailure::Failed(Error::Io { source, .. }))
                if source.kind() == std::io::ErrorKind::NotFound =>
            {
                self.forget(id);
                Ok(None)
            }
            Err(OpenFailure::Failed(error)) => Err(error),
        }
    }

    /// Stores the bytes of object `id` (whole: written aside, then renamed
    /// into place) and maps the file.
    pub(crate) fn insert(&self, id: u64, bytes: &[u8]) -> Result<Segment> {
        let path = self.path(id);
        let temporary = self.dir.join(format!(
            "{}.{}-{}.tmp",
            segment_file_name(id),
            std::process::id(),
            self.temporaries.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::write(&temporary, bytes)
            .map_err(|e| Error::io("write cached object", &temporary, e))?;
        std::fs::rename(&temporary, &path)
            .map_err(|e| Error::io("rename cached object", &path, e))?;
        let segment = match Segment::open(&path, id) {
            Ok(segment) => segment,
            Err(OpenFailure::Failed(error)) => return Err(error),
            Err(OpenFailure::Quarantined(reason)) => {
                return Err(Error::CorruptObject {
                    object: segment_file_name(id),
                    reason,
                });
            }
        };
        let mut state = self.lock();
        state.clock += 1;
        let used = state.clock;
        let len = bytes.len() as u64;
        if let Some(old) = state.files.insert(id, Entry { len, used }) {
            state.total -= old.len;
        }
        state.total += len;
        Ok(segment)
    }

    /// Removes least recently used files, never `keep`, until the cache
    /// fits its limit; returns the evicted objects' ids.
    pub(crate) fn evict(&self, keep: u64) -> Vec<u64> {
        let mut evicted = Vec::new();
        let mut state = self.lock();
        while state.total > self.limit {
            let oldest = state
                .files
                .iter()
                .filter(|&(&id, _)| id != keep)
                .min_by_key(|&(_, entry)| entry.used)
                .map(|(&id, _)| id);
            let Some(id) = oldest else { break };
            if let Some(entry) = state.files.remove(&id) {
                state.total -= entry.len;
            }
            let path = self.path(id);
            if let Err(error) = std::fs::remove_file(&path) {
                log::warn!("could not evict {}: {error}", path.display());
            }
            evicted.push(id);
        }
        evicted
    }

    fn forget(&self, id: u64) {
        let mut state = self.lock();
        if let Some(entry) = state.files.remove(&id) {
            state.total -= entry.len;
        }
        let _ = std::fs::remove_file(self.path(id));
    }
}
