//! The set of a store's segments: which are open, which one takes appends,
//! and which have unsynced writes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};

use super::file::{SEGMENT_HEADER_LEN, Segment, TEMP_SUFFIX};
use crate::error::{Error, Result};

/// Where a reserved frame goes.
pub(crate) struct Reservation {
    pub segment: Arc<Segment>,
    pub offset: u64,
}

struct Active {
    segment: Arc<Segment>,
    head: u64,
    capacity: u64,
}

/// A store's segments.
pub(crate) struct SegmentSet {
    dir: PathBuf,
    default_capacity: u64,
    segments: RwLock<BTreeMap<u64, Arc<Segment>>>,
    active: Mutex<Option<Active>>,
    next_id: Mutex<u64>,
    dirty: Mutex<BTreeMap<u64, Arc<Segment>>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn parse_segment_name(path: &Path) -> Option<u64> {
    let name = path.file_name()?.to_str()?;
    let id = name.strip_suffix(".seg")?;
    (id.len() == 20 && id.bytes().all(|b| b.is_ascii_digit()))
        .then(|| id.parse().ok())
        .flatten()
}

/// A segment whose creation a crash interrupted (never referenced by the index).
fn is_unfinished_segment(path: &Path) -> bool {
    path.to_str()
        .and_then(|p| p.strip_suffix(TEMP_SUFFIX))
        .is_some_and(|p| parse_segment_name(Path::new(p)).is_some())
}

impl SegmentSet {
    /// Opens every segment in `dir` (creating `dir` if needed). Appends go to a
    /// new segment, created on the first write.
    pub(crate) fn open(dir: &Path, default_capacity: u64) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io("create directory", dir, e))?;
        let mut segments = BTreeMap::new();
        let entries = std::fs::read_dir(dir).map_err(|e| Error::io("list segments", dir, e))?;
        for entry in entries {
            let path = entry
                .map_err(|e| Error::io("list segments", dir, e))?
                .path();
            if is_unfinished_segment(&path) {
                std::fs::remove_file(&path)
                    .map_err(|e| Error::io("remove unfinished segment", &path, e))?;
                continue;
            }
            let id = parse_segment_name(&path).ok_or_else(|| Error::ForeignFile {
                path: path.clone(),
                reason: "not a segment file name (expected <20 digits>.seg)".into(),
            })?;
            segments.insert(id, Arc::new(Segment::open(&path, id)?));
        }
        let next_id = segments.keys().next_back().map_or(1, |id| id + 1);
        Ok(Self {
            dir: dir.to_path_buf(),
            default_capacity,
            segments: RwLock::new(segments),
            active: Mutex::new(None),
            next_id: Mutex::new(next_id),
            dirty: Mutex::new(BTreeMap::new()),
        })
    }

    /// The segment with `id`, if the store has it.
    pub(crate) fn get(&self, id: u64) -> Option<Arc<Segment>> {
        let segments = self.segments.read().unwrap_or_else(PoisonError::into_inner);
        segments.get(&id).cloned()
    }

    /// Reserves `len` bytes for a frame, rolling to a new segment when the
    /// active one is full. The caller writes the frame, then marks it dirty.
    pub(crate) fn reserve(&self, len: u64) -> Result<Reservation> {
        let mut active = lock(&self.active);
        let fits = active
            .as_ref()
            .is_some_and(|a| a.head.checked_add(len).is_some_and(|end| end <= a.capacity));
        if !fits {
            if let Some(full) = active.take() {
                full.segment.truncate(full.head)?;
            }
            *active = Some(self.create_active(len)?);
        }
        let active = active.as_mut().ok_or_else(|| {
            Error::io(
                "reserve segment space",
                &self.dir,
                std::io::Error::other("no active segment"),
            )
        })?;
        let offset = active.head;
        active.head += len;
        Ok(Reservation {
            segment: Arc::clone(&active.segment),
            offset,
        })
    }

    fn create_active(&self, needed: u64) -> Result<Active> {
        let capacity = self.default_capacity.max(SEGMENT_HEADER_LEN + needed);
        let id = {
            let mut next = lock(&self.next_id);
            let id = *next;
            *next += 1;
            id
        };
        let segment = Arc::new(Segment::create(&self.dir, id, capacity)?);
        self.segments
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id, Arc::clone(&segment));
        Ok(Active {
            segment,
            head: SEGMENT_HEADER_LEN,
            capacity,
        })
    }

    /// Records that `segment` has writes not yet synced.
    pub(crate) fn mark_dirty(&self, segment: &Arc<Segment>) {
        lock(&self.dirty)
            .entry(segment.id())
            .or_insert_with(|| Arc::clone(segment));
    }

    /// `fdatasync`s every segment with unsynced writes.
    pub(crate) fn sync_dirty(&self) -> Result<()> {
        let dirty = std::mem::take(&mut *lock(&self.dirty));
        for (index, segment) in dirty.values().enumerate() {
            if let Err(error) = segment.sync() {
                let mut still_dirty = lock(&self.dirty);
                for segment in dirty.values().skip(index) {
                    still_dirty.insert(segment.id(), Arc::clone(segment));
                }
                return Err(error);
            }
        }
        Ok(())
    }

    /// Every segment, in id order.
    pub(crate) fn all(&self) -> Vec<Arc<Segment>> {
        let segments = self.segments.read().unwrap_or_else(PoisonError::into_inner);
        segments.values().cloned().collect()
    }

    /// Bytes the segments occupy on disk (the active one up to its head).
    pub(crate) fn disk_bytes(&self) -> Result<u64> {
        let active = lock(&self.active);
        let active_id = active.as_ref().map(|a| (a.segment.id(), a.head));
        let mut total = 0;
        for segment in self.all() {
            total += match active_id {
                Some((id, head)) if id == segment.id() => head,
                _ => segment.disk_bytes()?,
            };
        }
        Ok(total)
    }

    /// Drops the active segment's unused preallocated tail.
    pub(crate) fn seal(&self) -> Result<()> {
        match lock(&self.active).take() {
            Some(active) => active.segment.truncate(active.head),
            None => Ok(()),
        }
    }
}
