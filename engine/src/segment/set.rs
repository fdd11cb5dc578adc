//! The set of a store's segments: which are mapped, which are quarantined,
//! and the one that takes appends.

use std::collections::BTreeMap;
use std::fs::File;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};

use super::file::{OpenFailure, SEGMENT_HEADER_LEN, Segment, TEMP_SUFFIX};
use super::stream::{SegmentSink, StreamedPayload};
use crate::error::{Error, Result};
use crate::index::panic_message;
use crate::io::FileIo;
use crate::log::{FRAME_HEADER_LEN, FrameHeader, FrameKind, FrameRef, LogScan, align64};
use crate::poison::Poison;
use crate::record::{Checksum, Location};

/// Payloads up to this size are copied behind their frame header and written
/// with the rest of their batch in one system call; larger ones are written
/// in place, in a call of their own.
const COALESCE_PAYLOAD: usize = 8 << 10;

/// The largest coalescing buffer kept for the next batch (a batch of many
/// small frames may grow it further; it is then let go).
const KEPT_BUFFER: usize = 1 << 20;

/// A segment that could not be used: its frames are not read, and entries
/// pointing into it read as corrupted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuarantinedSegment {
    /// The segment's id.
    pub id: u64,
    /// The file.
    pub path: PathBuf,
    /// What is wrong with it.
    pub reason: String,
}

/// One change to append: a put or a delete frame.
pub(crate) struct ChangeFrame<'a> {
    pub kind: FrameKind,
    pub key: &'a [u8],
    pub described: &'a [u8],
    pub payload: &'a [u8],
}

/// Where an appended batch went.
pub(crate) struct AppendedBatch {
    pub first_seq: u64,
    /// Sequence number and location of each change frame, in order.
    pub frames: Vec<(u64, Location)>,
    /// The crc32 of each streamed payload, in the order of their frames.
    pub streamed: Vec<Checksum>,
}

struct Active {
    segment: Arc<Segment>,
    file: Arc<File>,
    head: u64,
    capacity: u64,
}

/// Where appends resume in the last segment, once the first one comes.
#[derive(Clone, Copy)]
struct Resume {
    segment: u64,
    head: u64,
}

#[derive(Default)]
struct Writer {
    active: Option<Active>,
    /// The last segment, to take appends again at the first append (so an
    /// open that writes nothing syncs and resizes nothing).
    resume: Option<Resume>,
    next_id: u64,
    next_seq: u64,
    /// The last frame of the last batch appended.
    last_frame: Option<FrameRef>,
    /// The coalescing buffer, kept empty between batches so that a small
    /// write allocates none.
    buffer: Vec<u8>,
}

/// A store's segments.
pub(crate) struct SegmentSet {
    dir: PathBuf,
    io: Arc<dyn FileIo>,
    poison: Arc<Poison>,
    capacity: u64,
    segments: RwLock<BTreeMap<u64, Arc<Segment>>>,
    quarantined: Vec<QuarantinedSegment>,
    stray: Vec<PathBuf>,
    writer: Mutex<Writer>,
    /// Batches appended but not yet published: (first sequence number, the
    /// last frame before the batch), in append order (so by sequence
    /// number). A checkpoint never covers them. A `Vec`, which keeps its
    /// room when it empties, so a write allocates nothing here.
    in_flight: Mutex<Vec<(u64, Option<FrameRef>)>>,
    /// Bytes appended since the set was opened (what compaction watches).
    appended: AtomicU64,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn parse_segment_name(name: &str) -> Option<u64> {
    let id = name.strip_suffix(".seg")?;
    (id.len() == 20 && id.bytes().all(|b| b.is_ascii_digit()))
        .then(|| id.parse().ok())
        .flatten()
}

/// The segment files in `dir`, by id: neither segments being created nor
/// other files.
pub(crate) fn segment_files(dir: &Path) -> Result<BTreeMap<u64, PathBuf>> {
    let mut files = BTreeMap::new();
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io("list segments", dir, e))?;
    for entry in entries {
        let path = entry
            .map_err(|e| Error::io("list segments", dir, e))?
            .path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if let Some(id) = parse_segment_name(name) {
            files.insert(id, path);
        }
    }
    Ok(files)
}

/// What a directory listing found.
#[derive(Default)]
struct Listing {
    segments: BTreeMap<u64, Arc<Segment>>,
    quarantined: Vec<QuarantinedSegment>,
    stray: Vec<PathBuf>,
    unfinished: Vec<PathBuf>,
    max_id: u64,
}

impl Listing {
    fn add(&mut self, path: PathBuf) -> Result<()> {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if let Some(id) = name.strip_suffix(TEMP_SUFFIX).and_then(parse_segment_name) {
            self.max_id = self.max_id.max(id);
            self.unfinished.push(path);
            return Ok(());
        }
        let Some(id) = parse_segment_name(name) else {
            self.stray.push(path);
            return Ok(());
        };
        self.max_id = self.max_id.max(id);
        match Segment::open(&path, id) {
            Ok(segment) => {
                self.segments.insert(id, Arc::new(segment));
            }
            Err(OpenFailure::Quarantined(reason)) => {
                self.quarantined
                    .push(QuarantinedSegment { id, path, reason });
            }
            Err(OpenFailure::Failed(error)) => return Err(error),
        }
        Ok(())
    }
}

impl SegmentSet {
    /// Maps every segment in `dir`. Damaged segments are quarantined, files
    /// that are not segments are left alone and reported, and (when
    /// `writable`) segments whose creation a crash interrupted are removed.
    /// Appends wait for [`SegmentSet::resume`].
    pub(crate) fn open(
        dir: &Path,
        io: Arc<dyn FileIo>,
        poison: Arc<Poison>,
        capacity: u64,
        writable: bool,
    ) -> Result<Self> {
        let mut listing = Listing::default();
        let entries = std::fs::read_dir(dir).map_err(|e| Error::io("list segments", dir, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| Error::io("list segments", dir, e))?;
            listing.add(entry.path())?;
        }
        if writable {
            for path in &listing.unfinished {
                io.remove_file(path)
                    .map_err(|e| Error::io("remove unfinished segment", path, e))?;
            }
        }
        listing.quarantined.sort_by_key(|q| q.id);
        listing.stray.sort();
        let writer = Writer {
            next_id: listing.max_id + 1,
            next_seq: 1,
            ..Writer::default()
        };
        Ok(Self {
            dir: dir.to_path_buf(),
            io,
            poison,
            capacity,
            segments: RwLock::new(listing.segments),
            quarantined: listing.quarantined,
            stray: listing.stray,
            writer: Mutex::new(writer),
            in_flight: Mutex::new(Vec::new()),
            appended: AtomicU64::new(0),
        })
    }

    /// The segment with `id`, if it is mapped.
    pub(crate) fn get(&self, id: u64) -> Option<Arc<Segment>> {
        let segments = self.segments.read().unwrap_or_else(PoisonError::into_inner);
        segments.get(&id).cloned()
    }

    /// Why segment `id` is quarantined, if it is.
    pub(crate) fn quarantine_reason(&self, id: u64) -> Option<&str> {
        self.quarantined
            .iter()
            .find(|q| q.id == id)
            .map(|q| q.reason.as_str())
    }

    /// The quarantined segments, by id.
    pub(crate) fn quarantined(&self) -> &[QuarantinedSegment] {
        &self.quarantined
    }

    /// Files in the segments directory that are not segments.
    pub(crate) fn stray(&self) -> &[PathBuf] {
        &self.stray
    }

    /// Every mapped segment, in id order.
    pub(crate) fn all(&self) -> Vec<Arc<Segment>> {
        let segments = self.segments.read().unwrap_or_else(PoisonError::into_inner);
        segments.values().cloned().collect()
    }

    /// Puts `segment` in the set in place of the handle with its id (a
    /// read-only store's newer view of a segment); blobs keep the old one.
    pub(crate) fn install(&self, segment: Arc<Segment>) {
        self.segments
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(segment.id(), segment);
    }

    /// Drops every segment whose id `keep` refuses from the set, without
    /// retiring it: a read-only store's segments belong to the writer.
    pub(crate) fn keep_only(&self, keep: &dyn Fn(u64) -> bool) {
        self.segments
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|&id, _| keep(id));
    }

    /// The segment appends go to: the active one, or the last one waiting to
    /// take appends again. Compaction never reclaims it.
    pub(crate) fn active_id(&self) -> Option<u64> {
        let writer = lock(&self.writer);
        writer
            .active
            .as_ref()
            .map(|a| a.segment.id())
            .or(writer.resume.map(|r| r.segment))
    }

    /// Bytes appended since the store was opened.
    pub(crate) fn appended_bytes(&self) -> u64 {
        self.appended.load(Ordering::Relaxed)
    }

    /// Removes a reclaimed segment from the set; its file goes when the last
    /// reader holding it lets go. Never the segment taking appends.
    pub(crate) fn retire(&self, id: u64) -> bool {
        if self.active_id() == Some(id) {
            return false;
        }
        let removed = self
            .segments
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&id);
        match removed {
            Some(segment) => {
                segment.retire(Arc::clone(&self.io));
                true
            }
            None => false,
        }
    }

    /// The id the next new segment gets.
    pub(crate) fn next_segment_id(&self) -> u64 {
        lock(&self.writer).next_id
    }

    /// Prepares appends after recovery: sequence numbers continue after the
    /// largest the log holds, segment ids after `min_next_id` and every file
    /// seen, and the last segment takes appends again from the end of its last
    /// committed batch (its torn or uncommitted tail is cut).
    pub(crate) fn resume(&self, scan: &LogScan, min_next_id: u64, writable: bool) -> Result<()> {
        let mut writer = lock(&self.writer);
        writer.next_seq = scan.max_seq + 1;
        writer.last_frame = scan.last_committed;
        writer.next_id = writer.next_id.max(min_next_id);
        if !writable {
            return Ok(());
        }
        let Some(last) = self.all().pop() else {
            return Ok(());
        };
        let Some(end) = scan.ends.iter().find(|e| e.segment == last.id()) else {
            return Ok(());
        };
        if end.damaged || last.id() + 1 != writer.next_id || end.committed_end >= self.capacity {
            return Ok(());
        }
        writer.resume = Some(Resume {
            segment: last.id(),
            head: end.committed_end,
        });
        Ok(())
    }

    /// Reopens the segment appends resume in, if one waits: its torn or
    /// uncommitted tail is cut, it is extended to its capacity and synced.
    /// A segment compaction reclaimed meanwhile is not reopened.
    fn reopen_resumed(&self, writer: &mut Writer) -> Result<()> {
        let Some(resume) = writer.resume.take() else {
            return Ok(());
        };
        let Some(last) = self.get(resume.segment) else {
            return Ok(());
        };
        let (segment, file) = last
            .reopen_for_appends(&*self.io, resume.head, self.capacity)
            .map_err(|e| self.poison_if_sync(e))?;
        let segment = Arc::new(segment);
        self.segments
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(segment.id(), Arc::clone(&segment));
        writer.active = Some(Active {
            segment,
            file: Arc::new(file),
            head: resume.head,
            capacity: self.capacity,
        });
        Ok(())
    }

    /// Poisons the store if `error` is a failed sync.
    fn poison_if_sync(&self, error: Error) -> Error {
        match error {
            Error::Io { op, path, source } if op == "fdatasync" || op == "fsync directory" => {
                self.poison.sync_failed(op, &path, source)
            }
            other => other,
        }
    }

    /// Appends a batch: its change frames, then its commit frame. Frames of
    /// a batch are contiguous in the log (appends are serialized). On error
    /// (or a panic, which becomes an error) nothing of the batch counts: the
    /// head is rewound and the bytes written are garbage that later appends
    /// overwrite.
    pub(crate) fn append_batch(&self, changes: &[ChangeFrame<'_>]) -> Result<AppendedBatch> {
        self.append_streaming(changes, &[])
    }

    /// As [`SegmentSet::append_batch`], with payloads encoded straight into
    /// the segment: `streamed[i]`, when there, is the payload of
    /// `changes[i]` (a put whose `payload_len` is the payload's encoded
    /// length; its checksum and `payload` are ignored). Each streamed frame's
    /// header is written only once its payload's crc32 is known, and the
    /// commit frame after it, so a failure or a crash mid-stream leaves no
    /// frame that a scan of the log would take.
    pub(crate) fn append_streaming(
        &self,
        changes: &[ChangeFrame<'_>],
        streamed: &[Option<&dyn StreamedPayload>],
    ) -> Result<AppendedBatch> {
        let mut writer = lock(&self.writer);
        self.reopen_resumed(&mut writer)?;
        let previous = writer.last_frame;
        let start = writer.active.as_ref().map(|a| (a.segment.id(), a.head));
        let buffer = std::mem::take(&mut writer.buffer);
        let mut appender = Appender {
            set: self,
            writer: &mut writer,
            buffer,
            buffer_at: 0,
        };
        let outcome = catch_unwind(AssertUnwindSafe(|| appender.batch(changes, streamed)))
            .unwrap_or_else(|panic| {
                Err(Error::io(
                    "append",
                    &self.dir,
                    std::io::Error::other(format!("append panicked: {}", panic_message(&*panic))),
                ))
            });
        let mut buffer = std::mem::take(&mut appender.buffer);
        if buffer.capacity() <= KEPT_BUFFER {
            buffer.clear();
            writer.buffer = buffer;
        }
        match outcome {
            Ok((batch, commit)) => {
                let start_offset = match start {
                    Some((id, head)) if id == commit.segment => head,
                    _ => SEGMENT_HEADER_LEN,
                };
                self.appended
                    .fetch_add(commit.end.saturating_sub(start_offset), Ordering::Relaxed);
                writer.last_frame = Some(commit);
                lock(&self.in_flight).push((batch.first_seq, previous));
                Ok(batch)
            }
            Err(error) => {
                if let Some(active) = writer.active.as_mut() {
                    active.head = match start {
                        Some((id, head)) if id == active.segment.id() => head,
                        _ => SEGMENT_HEADER_LEN,
                    };
                }
                Err(error)
            }
        }
    }

    /// Marks the batch starting at `first_seq` as published.
    pub(crate) fn finish(&self, first_seq: u64) {
        let mut in_flight = lock(&self.in_flight);
        if let Some(at) = in_flight.iter().position(|&(seq, _)| seq == first_seq) {
            in_flight.remove(at);
        }
    }

    /// The frame a checkpoint taken now may cover up to: every batch up to
    /// and including it is published. `None`: nothing can be covered.
    pub(crate) fn checkpoint_mark(&self) -> Option<FrameRef> {
        let writer = lock(&self.writer);
        let in_flight = lock(&self.in_flight);
        match in_flight.first() {
            Some(&(_, before_oldest)) => before_oldest,
            None => writer.last_frame,
        }
    }

    /// `fdatasync`s the segment taking appends (a segment is synced when it
    /// is sealed, so this makes every appended frame durable). A failure
    /// poisons the store.
    pub(crate) fn sync_active(&self) -> Result<()> {
        let active = {
            let writer = lock(&self.writer);
            writer
                .active
                .as_ref()
                .map(|a| (Arc::clone(&a.file), a.segment.path().to_path_buf()))
        };
        let Some((file, path)) = active else {
            return Ok(());
        };
        self.io
            .sync_data(&file, &path)
            .map_err(|e| self.poison.sync_failed("fdatasync", &path, e))
    }

    /// Seals the segment taking appends: cuts its unused preallocated tail and
    /// syncs it. The next append starts a new segment.
    pub(crate) fn seal(&self) -> Result<()> {
        let mut writer = lock(&self.writer);
        match writer.active.take() {
            Some(active) => self.seal_active(&active),
            None => Ok(()),
        }
    }

    /// Cuts the active segment to its used length, syncs it, and maps it
    /// again at that length (the old mapping, which readers may still hold,
    /// covered the preallocated room, now beyond the end of the file).
    fn seal_active(&self, active: &Active) -> Result<()> {
        let path = active.segment.path();
        self.io
            .set_len(&active.file, path, active.head)
            .map_err(|e| Error::io("truncate segment", path, e))?;
        self.io
            .sync_data(&active.file, path)
            .map_err(|e| self.poison.sync_failed("fdatasync", path, e))?;
        let sealed = active.segment.remapped()?;
        self.segments
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(sealed.id(), Arc::new(sealed));
        Ok(())
    }

    /// Bytes the segments occupy on disk (the active one up to its head).
    pub(crate) fn disk_bytes(&self) -> Result<u64> {
        let active = lock(&self.writer)
            .active
            .as_ref()
            .map(|a| (a.segment.id(), a.head));
        let mut total = 0;
        for segment in self.all() {
            total += match active {
                Some((id, head)) if id == segment.id() => head,
                _ => disk_bytes(segment.path())?,
            };
        }
        Ok(total)
    }
}

/// Bytes a file occupies: its length, or its allocated blocks if fewer.
fn disk_bytes(path: &Path) -> Result<u64> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path).map_err(|e| Error::io("stat segment", path, e))?;
    Ok(meta.len().min(meta.blocks() * 512))
}

/// The bytes a batch takes in a segment: its change frames and its commit
/// frame. A batch never spans two segments: it starts a new one unless it
/// fits whole in the current one (so compaction can reclaim any sealed
/// segment on its own).
fn batch_len(changes: &[ChangeFrame<'_>]) -> u64 {
    let frames: u64 = changes
        .iter()
        .map(|change| {
            FrameHeader {
                seq: 0,
                kind: change.kind,
                key_len: u32::try_from(change.key.len()).unwrap_or(u32::MAX),
                described_len: u32::try_from(change.described.len()).unwrap_or(u32::MAX),
            }
            .frame_len()
        })
        .sum();
    frames.saturating_add(crate::log::FRAME_HEADER_LEN)
}

/// Writes one batch's frames, coalescing small ones into one `pwrite`.
struct Appender<'s, 'w> {
    set: &'s SegmentSet,
    writer: &'w mut Writer,
    buffer: Vec<u8>,
    /// Offset in the active segment where `buffer` goes.
    buffer_at: u64,
}

impl Appender<'_, '_> {
    fn batch(
        &mut self,
        changes: &[ChangeFrame<'_>],
        streamed: &[Option<&dyn StreamedPayload>],
    ) -> Result<(AppendedBatch, FrameRef)> {
        self.make_room(batch_len(changes))?;
        let first_seq = self.writer.next_seq;
        let mut frames = Vec::with_capacity(changes.len());
        let mut checksums = Vec::new();
        for (at, change) in changes.iter().enumerate() {
            match streamed.get(at).copied().flatten() {
                Some(payload) => {
                    let (frame, checksum) = self.streamed_frame(change, payload)?;
                    frames.push(frame);
                    checksums.push(checksum);
                }
                None => frames.push(self.frame(change)?),
            }
        }
        let commit = ChangeFrame {
            kind: FrameKind::Commit {
                first_seq,
                changes: u32::try_from(changes.len()).unwrap_or(u32::MAX),
            },
            key: &[],
            described: &[],
            payload: &[],
        };
        let (seq, location) = self.frame(&commit)?;
        self.flush()?;
        let end = self.writer.active.as_ref().map_or(0, |a| a.head);
        let commit = FrameRef {
            segment: location.segment,
            offset: location.frame_offset,
            seq,
            end,
        };
        let batch = AppendedBatch {
            first_seq,
            frames,
            streamed: checksums,
        };
        Ok((batch, commit))
    }

    /// Appends one put frame whose payload `payload` encodes while it is
    /// written; returns its sequence number, location and the payload's crc32.
    fn streamed_frame(
        &mut self,
        change: &ChangeFrame<'_>,
        payload: &dyn StreamedPayload,
    ) -> Result<((u64, Location), Checksum)> {
        let FrameKind::Put {
            codec,
            payload_len,
            moved,
            ..
        } = change.kind
        else {
            return Err(Error::io(
                "append",
                &self.set.dir,
                std::io::Error::other("only a put frame has a payload to stream"),
            ));
        };
        let (mut header, offset, segment) = self.reserve(change)?;
        let seq = header.seq;
        let head_at = self.buffer.len();
        header.encode_into(change.key, change.described, &mut self.buffer);
        // No frame header until the payload's crc32 is known: bytes that
        // reach the file before then end the log where this frame starts.
        self.buffer[head_at..head_at + FRAME_HEADER_LEN as usize].fill(0);
        let payload_at = offset + header.payload_offset();
        let active = self.writer.active.as_ref().ok_or_else(no_active)?;
        let mut sink = SegmentSink {
            buffer: &mut self.buffer,
            buffer_at: &mut self.buffer_at,
            io: &*self.set.io,
            file: &active.file,
            path: active.segment.path(),
            at: payload_at,
            end: payload_at + payload_len,
            crc: crc32fast::Hasher::new(),
            flushed: false,
            failure: None,
        };
        let encoded = payload.write_to(&mut sink);
        let (checksum, flushed) = sink.finish(encoded)?;
        if self.buffer.is_empty() {
            self.buffer_at = payload_at + payload_len;
        }
        let padding = align64(payload_len) - payload_len;
        self.buffer.resize(self.buffer.len() + padding as usize, 0);
        header.kind = FrameKind::Put {
            codec,
            payload_len,
            checksum,
            moved,
            external: false,
        };
        let head = header.head(change.key, change.described);
        if flushed {
            self.write(&head, offset)?;
        } else {
            self.buffer[head_at..head_at + head.len()].copy_from_slice(&head);
        }
        let location = Location {
            segment,
            frame_offset: offset,
        };
        Ok(((seq, location), checksum))
    }

    /// Appends one frame; returns its sequence number and location.
    fn frame(&mut self, change: &ChangeFrame<'_>) -> Result<(u64, Location)> {
        let (header, offset, segment) = self.reserve(change)?;
        let seq = header.seq;
        header.encode_into(change.key, change.described, &mut self.buffer);
        if change.payload.len() <= COALESCE_PAYLOAD {
            self.buffer.extend_from_slice(change.payload);
            let padded = align64(change.payload.len() as u64) as usize;
            self.buffer
                .resize(self.buffer.len() + padded - change.payload.len(), 0);
        } else {
            self.flush()?;
            self.write(change.payload, offset + header.payload_offset())?;
        }
        let location = Location {
            segment,
            frame_offset: offset,
        };
        Ok((seq, location))
    }

    /// Takes the next sequence number and room for `change`'s frame in the
    /// active segment (rolling to a new one if needed); returns the frame's
    /// header, its offset and the segment's id.
    fn reserve(&mut self, change: &ChangeFrame<'_>) -> Result<(FrameHeader, u64, u64)> {
        let seq = self.writer.next_seq;
        self.writer.next_seq += 1;
        let header = FrameHeader {
            seq,
            kind: change.kind,
            key_len: u32::try_from(change.key.len()).unwrap_or(u32::MAX),
            described_len: u32::try_from(change.described.len()).unwrap_or(u32::MAX),
        };
        let len = header.frame_len();
        self.make_room(len)?;
        let active = self.writer.active.as_mut().ok_or_else(no_active)?;
        let offset = active.head;
        let segment = active.segment.id();
        active.head += len;
        if self.buffer.is_empty() {
            self.buffer_at = offset;
        }
        Ok((header, offset, segment))
    }

    /// Rolls to a new segment unless `len` more bytes fit in the active one.
    fn make_room(&mut self, len: u64) -> Result<()> {
        let fits = self
            .writer
            .active
            .as_ref()
            .is_some_and(|a| a.head.checked_add(len).is_some_and(|end| end <= a.capacity));
        if fits {
            return Ok(());
        }
        self.flush()?;
        if let Some(full) = self.writer.active.take() {
            self.set.seal_active(&full)?;
        }
        let id = self.writer.next_id;
        self.writer.next_id += 1;
        let capacity = self.set.capacity.max(SEGMENT_HEADER_LEN + len);
        let (segment, file) = Segment::create(&*self.set.io, &self.set.dir, id, capacity)
            .map_err(|e| self.set.poison_if_sync(e))?;
        let segment = Arc::new(segment);
        self.set
            .segments
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id, Arc::clone(&segment));
        self.writer.active = Some(Active {
            segment,
            file: Arc::new(file),
            head: SEGMENT_HEADER_LEN,
            capacity,
        });
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let buffer = std::mem::take(&mut self.buffer);
        let result = self.write(&buffer, self.buffer_at);
        self.buffer = buffer;
        self.buffer.clear();
        result
    }

    fn write(&self, bytes: &[u8], offset: u64) -> Result<()> {
        let active = self.writer.active.as_ref().ok_or_else(no_active)?;
        let path = active.segment.path();
        self.set
            .io
            .write_at(&active.file, path, bytes, offset)
            .map_err(|e| Error::io("write segment", path, e))
    }
}

fn no_active() -> Error {
    Error::io(
        "append",
        PathBuf::new(),
        std::io::Error::other("no segment takes appends"),
    )
}
