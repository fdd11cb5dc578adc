//! One segment file and its read-only mapping.
//!
//! ```text
//! segment header (64 bytes):
//!      0    16  magic "TESSERA SEGMENT\0"
//!     16     4  format version (u32 LE)
//!     20     8  segment id (u64 LE)
//!     28     4  crc32 of bytes 0..28
//!     32    32  zero
//! ```

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use memmap2::{Mmap, MmapOptions};

use crate::error::{Error, Result};
use crate::format::{EXTERNAL_PAYLOAD_FORMAT, FORMAT_VERSION, OLDEST_READABLE_FORMAT};
use crate::io::FileIo;

const SEGMENT_MAGIC: [u8; 16] = *b"TESSERA SEGMENT\0";
/// Suffix of a segment being created; such files are removed at open.
pub(crate) const TEMP_SUFFIX: &str = ".tmp";
/// Size of the segment header; the first frame starts here.
pub(crate) const SEGMENT_HEADER_LEN: u64 = 64;

/// A segment mapped read-only. It holds no file descriptor: only the
/// segment that takes appends keeps one, beside it (see `set`).
///
/// Bytes inside the mapping are written once (through `pwrite`, never through
/// the mapping) and never changed afterwards, so a slice handed to a reader stays
/// valid and constant for as long as the `Segment` lives.
///
/// A segment compaction has reclaimed is retired: its file is removed when
/// the last handle to it (the set's, or a reader's `Blob`, through any
/// mapping of the file) is dropped, so a reader keeps its bytes, and the
/// file, however long it holds them.
pub(crate) struct Segment {
    id: u64,
    path: PathBuf,
    map: Arc<Mmap>,
    /// How many bytes from the start are read through this handle: the whole
    /// mapping, or less (see [`Segment::readable_to`]).
    readable: u64,
    file: Arc<SegmentFile>,
}

/// The file behind every mapping of one segment.
struct SegmentFile {
    path: PathBuf,
    /// Set when retired: the seam that removes the file on drop.
    remove_with: Mutex<Option<Arc<dyn FileIo>>>,
}

impl Drop for SegmentFile {
    fn drop(&mut self) {
        let io = self
            .remove_with
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(io) = io
            && let Err(error) = io.remove_file(&self.path)
        {
            log::warn!(
                "could not remove the reclaimed segment {}: {error} (the next compaction \
                 reclaims it again)",
                self.path.display()
            );
        }
    }
}

/// The file name of segment `id`.
pub(crate) fn segment_file_name(id: u64) -> String {
    format!("{id:020}.seg")
}

pub(crate) fn encode_header(id: u64) -> [u8; SEGMENT_HEADER_LEN as usize] {
    encode_header_version(id, FORMAT_VERSION)
}

/// The header of segment `id` in format `version`.
pub(crate) fn encode_header_version(id: u64, version: u32) -> [u8; SEGMENT_HEADER_LEN as usize] {
    let mut header = [0u8; SEGMENT_HEADER_LEN as usize];
    header[..16].copy_from_slice(&SEGMENT_MAGIC);
    header[16..20].copy_from_slice(&version.to_le_bytes());
    header[20..28].copy_from_slice(&id.to_le_bytes());
    let crc = crc32fast::hash(&header[..28]);
    header[28..32].copy_from_slice(&crc.to_le_bytes());
    header
}

/// Checks a segment header; `Err` says what is wrong with it.
fn check_header(id: u64, bytes: &[u8]) -> std::result::Result<(), String> {
    let header = bytes
        .get(..SEGMENT_HEADER_LEN as usize)
        .ok_or("segment is shorter than its 64-byte header")?;
    if header[..16] != SEGMENT_MAGIC {
        return Err("not a Tessera segment (magic missing)".into());
    }
    let word = |at: usize| [header[at], header[at + 1], header[at + 2], header[at + 3]];
    if crc32fast::hash(&header[..28]) != u32::from_le_bytes(word(28)) {
        return Err("segment header fails its checksum".into());
    }
    let version = u32::from_le_bytes(word(16));
    if !(OLDEST_READABLE_FORMAT..=EXTERNAL_PAYLOAD_FORMAT).contains(&version) {
        return Err(format!(
            "segment has format version {version}; this build reads \
             {OLDEST_READABLE_FORMAT} to {EXTERNAL_PAYLOAD_FORMAT}"
        ));
    }
    let mut id_bytes = [0u8; 8];
    id_bytes.copy_from_slice(&header[20..28]);
    if u64::from_le_bytes(id_bytes) != id {
        return Err("segment header names another segment id".into());
    }
    Ok(())
}

#[allow(
    unsafe_code,
    reason = "mapping a segment is what makes reads zero-copy"
)]
fn map(file: &File, path: &Path, len: u64) -> Result<Mmap> {
    let len = usize::try_from(len).map_err(|_| Error::ForeignFile {
        path: path.to_path_buf(),
        reason: "segment is larger than the address space".into(),
    })?;
    // SAFETY: the mapping is read-only and Tessera never writes a byte of a
    // segment after a reader can see it (frames are appended with pwrite into
    // space no index entry points at yet). The store directory is locked against
    // other Tessera writers; a foreign process that truncates or rewrites a
    // segment under a live store breaks the contract, as for every mmap engine.
    unsafe { MmapOptions::new().len(len).map(file) }.map_err(|e| Error::io("mmap", path, e))
}

fn file_len(file: &File, path: &Path) -> Result<u64> {
    Ok(file
        .metadata()
        .map_err(|e| Error::io("stat segment", path, e))?
        .len())
}

/// Why a segment file could not be used: a damaged header quarantines it.
pub(crate) enum OpenFailure {
    /// The header is damaged or foreign; the reason says how.
    Quarantined(String),
    /// The file could not be read at all.
    Failed(Error),
}

impl Segment {
    /// Creates segment `id` in `dir` with room for `capacity` bytes (sparse),
    /// durably and atomically: the file is prepared under a temporary name,
    /// synced, renamed into place and the directory synced, so a crash never
    /// leaves a segment without its header. Returns the segment and its file,
    /// open for appends.
    pub(crate) fn create(
        io: &dyn FileIo,
        dir: &Path,
        id: u64,
        capacity: u64,
    ) -> Result<(Self, File)> {
        let path = dir.join(segment_file_name(id));
        let temp = dir.join(format!("{}{TEMP_SUFFIX}", segment_file_name(id)));
        let file = io
            .create(&temp)
            .map_err(|e| Error::io("create segment", &temp, e))?;
        io.write_at(&file, &temp, &encode_header(id), 0)
            .map_err(|e| Error::io("write segment header", &temp, e))?;
        io.set_len(&file, &temp, capacity)
            .map_err(|e| Error::io("size segment", &temp, e))?;
        io.sync_data(&file, &temp)
            .map_err(|e| Error::io("fdatasync", &temp, e))?;
        io.rename(&temp, &path)
            .map_err(|e| Error::io("rename segment", &path, e))?;
        io.sync_dir(dir)
            .map_err(|e| Error::io("fsync directory", dir, e))?;
        let map = map(&file, &path, capacity)?;
        Ok((Self::mapped(id, path, map), file))
    }

    /// Opens an existing segment read-only and checks its header; the file
    /// descriptor is closed once the file is mapped.
    pub(crate) fn open(path: &Path, id: u64) -> std::result::Result<Self, OpenFailure> {
        let file = File::open(path)
            .map_err(|e| OpenFailure::Failed(Error::io("open segment", path, e)))?;
        let len = file_len(&file, path).map_err(OpenFailure::Failed)?;
        if len < SEGMENT_HEADER_LEN {
            return Err(OpenFailure::Quarantined(
                "segment is shorter than its 64-byte header".into(),
            ));
        }
        let map = map(&file, path, len).map_err(OpenFailure::Failed)?;
        check_header(id, &map).map_err(OpenFailure::Quarantined)?;
        Ok(Self::mapped(id, path.to_path_buf(), map))
    }

    /// Reopens this segment for appends at `head`: bytes from `head` on are cut
    /// (they are a torn or uncommitted tail), the file is extended to
    /// `capacity` with zeros, synced, and mapped again.
    pub(crate) fn reopen_for_appends(
        &self,
        io: &dyn FileIo,
        head: u64,
        capacity: u64,
    ) -> Result<(Self, File)> {
        let path = &self.path;
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .map_err(|e| Error::io("open segment", path, e))?;
        let capacity = capacity.max(head);
        if file_len(&file, path)? > head {
            io.set_len(&file, path, head)
                .map_err(|e| Error::io("cut segment tail", path, e))?;
        }
        io.set_len(&file, path, capacity)
            .map_err(|e| Error::io("size segment", path, e))?;
        io.sync_data(&file, path)
            .map_err(|e| Error::io("fdatasync", path, e))?;
        let map = map(&file, path, capacity)?;
        let segment = Self {
            id: self.id,
            path: path.clone(),
            readable: map.len() as u64,
            map: Arc::new(map),
            file: Arc::clone(&self.file),
        };
        Ok((segment, file))
    }

    fn mapped(id: u64, path: PathBuf, map: Mmap) -> Self {
        let file = Arc::new(SegmentFile {
            path: path.clone(),
            remove_with: Mutex::new(None),
        });
        Self {
            id,
            path,
            readable: map.len() as u64,
            map: Arc::new(map),
            file,
        }
    }

    /// Maps this segment's file again at its current length (after sealing
    /// cut it); the new mapping shares the file's lifetime with this one.
    pub(crate) fn remapped(&self) -> Result<Self> {
        let file = File::open(&self.path).map_err(|e| Error::io("open segment", &self.path, e))?;
        let len = file_len(&file, &self.path)?;
        let map = map(&file, &self.path, len)?;
        Ok(Self {
            id: self.id,
            path: self.path.clone(),
            readable: map.len() as u64,
            map: Arc::new(map),
            file: Arc::clone(&self.file),
        })
    }

    /// A handle on this segment that reads only its first `end` bytes: a
    /// read-only store's view of a segment another process may still append
    /// to, or cut back to its last committed batch when it seals it (pages
    /// of a mapping past the end of its file fault with `SIGBUS`). `end` must
    /// be where a committed batch ends, which no writer ever cuts. The mapping
    /// is shared when it covers `end`; otherwise the file is mapped again at
    /// its current length.
    pub(crate) fn readable_to(&self, end: u64) -> Result<Self> {
        let map = if end <= self.map.len() as u64 {
            Arc::clone(&self.map)
        } else {
            let file =
                File::open(&self.path).map_err(|e| Error::io("open segment", &self.path, e))?;
            let len = file_len(&file, &self.path)?;
            if len < end {
                return Err(Error::io(
                    "map segment",
                    &self.path,
                    std::io::Error::other(format!(
                        "the file is {len} bytes long, shorter than its committed frames ({end})"
                    )),
                ));
            }
            Arc::new(map(&file, &self.path, len)?)
        };
        Ok(Self {
            id: self.id,
            path: self.path.clone(),
            readable: end,
            map,
            file: Arc::clone(&self.file),
        })
    }

    /// Retires the segment: its file is removed through `io` once the last
    /// handle to any mapping of it is dropped.
    pub(crate) fn retire(&self, io: Arc<dyn FileIo>) {
        *self
            .file
            .remove_with
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(io);
    }

    /// The segment's id.
    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    /// The segment's path.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// How many bytes of the segment this handle reads: the length of the
    /// mapping (the file's length when it was mapped), or less for a handle
    /// from [`Segment::readable_to`].
    pub(crate) fn mapped_len(&self) -> u64 {
        self.readable
    }

    /// The readable mapped bytes (never past [`Segment::mapped_len`]).
    fn readable_bytes(&self) -> &[u8] {
        let readable = usize::try_from(self.readable).unwrap_or(usize::MAX);
        self.map.get(..readable).unwrap_or(&self.map[..])
    }

    /// The mapped bytes at `offset..offset + len`, if they lie inside the
    /// readable part of the mapping.
    pub(crate) fn bytes(&self, offset: u64, len: u64) -> Option<&[u8]> {
        let start = usize::try_from(offset).ok()?;
        let end = start.checked_add(usize::try_from(len).ok()?)?;
        self.readable_bytes().get(start..end)
    }

    /// The mapped bytes from `offset` to the end of the readable part.
    pub(crate) fn tail(&self, offset: u64) -> &[u8] {
        usize::try_from(offset)
            .ok()
            .and_then(|start| self.readable_bytes().get(start..))
            .unwrap_or_default()
    }

    /// The address range of the mapping (for zero-copy checks).
    pub(crate) fn mapped_range(&self) -> std::ops::Range<usize> {
        let start = self.map.as_ptr() as usize;
        start..start + self.map.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::OsFileIo;

    #[test]
    fn create_write_reopen() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (segment, file) = Segment::create(&OsFileIo, dir.path(), 7, 4096).expect("create");
        OsFileIo
            .write_at(&file, segment.path(), b"hello", 64)
            .expect("write");
        assert_eq!(segment.bytes(64, 5), Some(&b"hello"[..]));
        assert_eq!(segment.bytes(4090, 10), None);
        let (reopened, _file) = segment
            .reopen_for_appends(&OsFileIo, 66, 8192)
            .expect("reopen");
        assert_eq!(reopened.bytes(64, 5), Some(&b"he\0\0\0"[..]), "tail cut");
        assert_eq!(reopened.mapped_len(), 8192);
        let path = dir.path().join(segment_file_name(7));
        assert!(Segment::open(&path, 7).is_ok());
        assert!(matches!(
            Segment::open(&path, 8),
            Err(OpenFailure::Quarantined(_))
        ));
    }

    #[test]
    fn quarantines_foreign_and_truncated_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(segment_file_name(1));
        std::fs::write(&path, b"short").expect("write");
        assert!(matches!(
            Segment::open(&path, 1),
            Err(OpenFailure::Quarantined(_))
        ));
        std::fs::write(&path, vec![b'x'; 100]).expect("write");
        assert!(matches!(
            Segment::open(&path, 1),
            Err(OpenFailure::Quarantined(_))
        ));
    }
}
