//! Following the log from a read-only store: [`Store::refresh`].
//!
//! A read-only store replays the log once, at open, while the process that
//! holds the directory's writer lock goes on appending to it, and that
//! process's compaction retires whole segments. A refresh catches up:
//!
//! - **Nothing changed** (the same segment files, and no frame after the last
//!   committed batch read): a directory listing and one 4-byte `pread`.
//! - **Appends**: the batches after the last one read are replayed into the
//!   overlay, from the rest of the last segment and from new segments.
//! - **A segment read before is gone** (compaction retired it), or the log
//!   does not go on where the last read stopped: the view is rebuilt by
//!   replaying every current segment into a fresh overlay, which then takes
//!   the old one's place. Catching up instead could keep records of versions
//!   compaction dropped, pointing into retired files.
//!
//! The last segment is read through its mapping only up to the end of its
//! last committed batch, found with `pread` ([`scan_tail`]): its writer
//! cuts it back when it seals it, and pages of a mapping past the end of the
//! file fault when touched. Blobs handed out before a refresh keep the
//! mappings they borrow from.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError};

use super::open::replay_into;
use super::overlay::Overlay;
use super::{Inner, Store};
use crate::error::{Error, Result};
use crate::log::{FrameRef, LogScan, scan_tail};
use crate::segment::{OpenFailure, SEGMENT_HEADER_LEN, Segment, segment_files};

/// What [`Store::refresh`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Refresh {
    /// Nothing was committed since the store last read the log (or the store
    /// is writable: it wrote everything there is).
    Unchanged,
    /// The batches committed since were applied.
    CaughtUp {
        /// How many batches.
        batches: u64,
    },
    /// The view was rebuilt from every current segment.
    Reloaded {
        /// Why: a segment read before was retired, or the log did not go on
        /// where the last read stopped.
        reason: String,
    },
}

/// How far a read-only store has read the log.
#[derive(Default)]
pub(super) struct LogPosition {
    /// The last frame of the last committed batch read: replay resumes after it.
    after: Option<FrameRef>,
    /// Every segment file seen (mapped, or skipped as unreadable), by id.
    seen: BTreeSet<u64>,
    /// The last segment mapped.
    tail: Option<Tail>,
}

/// The last segment a read-only store mapped, and where its reading stopped.
struct Tail {
    id: u64,
    file: File,
    path: PathBuf,
    /// The end of its last committed batch read (the readable length of its
    /// handle in the set).
    end: u64,
}

impl Tail {
    fn open(segment: &Segment) -> Result<Self> {
        let path = segment.path().to_path_buf();
        let file = File::open(&path).map_err(|e| Error::io("open segment", &path, e))?;
        Ok(Self {
            id: segment.id(),
            file,
            path,
            end: segment.mapped_len(),
        })
    }

    /// Whether a frame starts where reading stopped: a `pread` of its magic.
    fn has_next_frame(&self) -> Result<bool> {
        use std::os::unix::fs::FileExt;
        let mut magic = [0u8; 4];
        match self.file.read_exact_at(&mut magic, self.end) {
            Ok(()) => Ok(&magic == b"TFRM"),
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(false),
            Err(e) => Err(Error::io("read segment", &self.path, e)),
        }
    }
}

/// A log read from its start: the segments (the last one readable up to its
/// last committed batch), the overlay replayed from them, and the position.
pub(super) struct FullRead {
    pub segments: Vec<Arc<Segment>>,
    pub overlay: Overlay,
    pub scan: LogScan,
    pub position: LogPosition,
}

/// Replays `segments` (in id order, all mapped) from the log's start into a
/// fresh overlay, reading the last one only up to its last committed batch.
///
/// Replay recomputes no payload crc32 here: the last segment's payloads were
/// checked by the `pread` scan (a torn one ends the view there, as the
/// writer's recovery cuts it), and every other segment was synced when its
/// writer sealed it, so it holds no torn write; a payload damaged there
/// later reads as [`Error::Corrupted`](crate::Error::Corrupted), as it does
/// through the writer, instead of hiding the rest of its segment.
/// `seen` holds every segment file id found, skipped ones included.
pub(super) fn read_all(mut segments: Vec<Arc<Segment>>, seen: BTreeSet<u64>) -> Result<FullRead> {
    let mut tail = None;
    let mut tail_end = None;
    if let Some(last) = segments.last_mut() {
        let mut found = Tail::open(last)?;
        let end = scan_tail(&found.file, &found.path, found.id, SEGMENT_HEADER_LEN, 0)?;
        found.end = end.committed_end;
        *last = Arc::new(last.readable_to(found.end)?);
        tail = Some(found);
        tail_end = Some(end);
    }
    let overlay = Overlay::default();
    let mut scan = replay_into(&segments, &overlay, None, None, false)?;
    // The last segment was read only up to its last committed batch: what
    // lies after it (zeros, a batch being written, damage) is what the
    // `pread` scan found.
    if let Some(tail_end) = tail_end
        && let Some(end) = scan.ends.iter_mut().find(|e| e.segment == tail_end.segment)
    {
        *end = tail_end;
    }
    let position = LogPosition {
        after: scan.last_committed,
        seen,
        tail,
    };
    Ok(FullRead {
        segments,
        overlay,
        scan,
        position,
    })
}

impl Store {
    /// Catches a read-only store up with the log written since it was opened
    /// or last refreshed (by the process holding the writer lock, or another
    /// handle): new puts and deletes become visible, in commit order, whole
    /// batches at a time. Cheap when nothing changed: a listing of the
    /// segments directory and one 4-byte read.
    ///
    /// If compaction retired a segment this store had read, or the log does
    /// not go on where the last read stopped, the view is rebuilt by
    /// replaying every current segment (as an open does), so nothing deleted
    /// comes back. [`Blob`](crate::Blob)s handed out before stay valid and
    /// unchanged: they hold the mappings they borrow from. Other threads may
    /// read through clones of the store meanwhile; they see the old view or
    /// the new one batch by batch.
    ///
    /// On a writable store this does nothing and returns
    /// [`Refresh::Unchanged`]: it holds the writer lock, so every change is
    /// its own. A store on object storage, writable or not, reads the log
    /// objects committed since (one `GET` when there is none).
    ///
    /// # Errors
    /// [`Error::Io`] if the segments cannot be listed, read or mapped;
    /// [`Error::CorruptIndex`] if a rebuild finds the log inconsistent.
    pub fn refresh(&self) -> Result<Refresh> {
        let inner = &self.inner;
        #[cfg(feature = "object-store")]
        if let Some(remote) = &inner.remote {
            return remote.refresh(inner);
        }
        if !inner.read_only {
            return Ok(Refresh::Unchanged);
        }
        let mut position = inner
            .position
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let listed = segment_files(&inner.dir.join("segments"))?;
        if let Some(gone) = position.seen.iter().find(|id| !listed.contains_key(id)) {
            let reason = format!("segment {gone} was retired by compaction");
            return inner.reload(&mut position, &listed, reason);
        }
        let new: Vec<u64> = listed
            .keys()
            .copied()
            .filter(|id| !position.seen.contains(id))
            .collect();
        let grown = match &position.tail {
            Some(tail) => tail.has_next_frame()?,
            None => false,
        };
        if new.is_empty() && !grown {
            return Ok(Refresh::Unchanged);
        }
        match inner.catch_up(&mut position, &listed, &new)? {
            Ok(batches) => Ok(Refresh::CaughtUp { batches }),
            Err(reason) => inner.reload(&mut position, &listed, reason),
        }
    }
}

impl Inner {
    /// Replays the batches committed after the position from the tail and
    /// the `new` segments; `Ok(Err(reason))` if the log does not go on where
    /// the position stopped (the view must be rebuilt). The position moves
    /// only when everything succeeded.
    fn catch_up(
        &self,
        position: &mut LogPosition,
        listed: &BTreeMap<u64, PathBuf>,
        new: &[u64],
    ) -> Result<std::result::Result<u64, String>> {
        let Some(tail) = &position.tail else {
            return Ok(Err("no segment was read before".into()));
        };
        if let Some(below) = new.iter().find(|&&id| id < tail.id) {
            return Ok(Err(format!(
                "segment {below} appeared below the last one read"
            )));
        }
        // Replay resumes after the last committed frame read: every segment
        // from the one holding it on may hold frames of the batches to come.
        let after = position.after;
        let mut segments: Vec<Arc<Segment>> = self
            .segments
            .all()
            .into_iter()
            .filter(|s| after.is_none_or(|at| s.id() >= at.segment))
            .collect();
        let tail_index = match segments.last() {
            Some(last) if last.id() == tail.id => segments.len() - 1,
            _ => return Ok(Err(format!("segment {} is no longer mapped", tail.id))),
        };
        for &id in new {
            segments.extend(open_segment(&listed[&id], id)?.map(Arc::new));
        }
        let open_ended = listed.keys().next_back().copied();
        let last_id = segments.last().map_or(tail.id, |s| s.id());
        if last_id != tail.id || open_ended != Some(tail.id) {
            // A segment with a successor is sealed: its whole file is final.
            segments[tail_index] = Arc::new(segments[tail_index].remapped()?);
        }
        let moved_on = match segments.last() {
            Some(segment) if segment.id() != tail.id => Some(Tail::open(segment)?),
            _ => None,
        };
        let (file, path) = moved_on
            .as_ref()
            .map_or((&tail.file, &tail.path), |t| (&t.file, &t.path));
        let open_ended = open_ended == Some(last_id);
        let end = if open_ended {
            let start = match after {
                Some(at) if at.segment == last_id => at.end,
                _ => SEGMENT_HEADER_LEN,
            };
            let end =
                scan_tail(file, path, last_id, start, after.map_or(0, |a| a.seq))?.committed_end;
            if let Some(segment) = segments.last_mut() {
                *segment = Arc::new(segment.readable_to(end)?);
            }
            end
        } else {
            segments.last().map_or(tail.end, |s| s.mapped_len())
        };
        for segment in &segments {
            self.segments.install(Arc::clone(segment));
        }
        let scan = match replay_into(&segments, &self.overlay, None, after, false) {
            Ok(scan) => scan,
            Err(error) => return Ok(Err(error.to_string())),
        };
        if let Some(damaged) = scan.ends.iter().find(|end| end.damaged) {
            return Ok(Err(format!(
                "the last batch read is no longer in segment {}",
                damaged.segment
            )));
        }
        position.seen.extend(new.iter().copied());
        position.after = scan.last_committed;
        if let Some(moved_on) = moved_on {
            position.tail = Some(moved_on);
        }
        if let Some(tail) = &mut position.tail {
            tail.end = end;
        }
        Ok(Ok(scan.batches))
    }

    /// Rebuilds the view from every listed segment into a fresh overlay and
    /// puts it in place of the old one.
    fn reload(
        &self,
        position: &mut LogPosition,
        listed: &BTreeMap<u64, PathBuf>,
        reason: String,
    ) -> Result<Refresh> {
        let old_tail = position.tail.as_ref().map(|t| t.id);
        let mut segments = Vec::with_capacity(listed.len());
        for (&id, path) in listed {
            let reusable = self.segments.get(id).filter(|_| Some(id) != old_tail);
            let segment = match reusable {
                Some(segment) => Some(segment),
                None => open_segment(path, id)?.map(Arc::new),
            };
            segments.extend(segment);
        }
        let read = read_all(segments, listed.keys().copied().collect())?;
        for segment in &read.segments {
            self.segments.install(Arc::clone(segment));
        }
        self.overlay.replace_with(read.overlay);
        let mapped: BTreeSet<u64> = read.segments.iter().map(|s| s.id()).collect();
        self.segments.keep_only(&|id| mapped.contains(&id));
        *position = read.position;
        log::info!("{}: read-only view rebuilt: {reason}", self.dir.display());
        Ok(Refresh::Reloaded { reason })
    }
}

/// Maps segment `id`; `None` (with a warning) if its header is damaged.
fn open_segment(path: &Path, id: u64) -> Result<Option<Segment>> {
    match Segment::open(path, id) {
        Ok(segment) => Ok(Some(segment)),
        Err(OpenFailure::Quarantined(reason)) => {
            log::warn!("segment {} skipped: {reason}", path.display());
            Ok(None)
        }
        Err(OpenFailure::Failed(error)) => Err(error),
    }
}
