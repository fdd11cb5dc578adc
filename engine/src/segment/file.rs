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

use std::fs::{File, OpenOptions};
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};

use memmap2::{Mmap, MmapOptions};

use crate::error::{Error, Result};
use crate::format::FORMAT_VERSION;

const SEGMENT_MAGIC: [u8; 16] = *b"TESSERA SEGMENT\0";
/// Suffix of a segment being created; such files are removed at open.
pub(crate) const TEMP_SUFFIX: &str = ".tmp";
/// Size of the segment header; the first frame starts here.
pub(crate) const SEGMENT_HEADER_LEN: u64 = 64;

/// A segment file mapped read-only over its whole length.
///
/// Bytes inside the mapping are written once (through `pwrite`, never through
/// the mapping) and never changed afterwards, so a slice handed to a reader stays
/// valid and constant for as long as the `Segment` lives.
pub(crate) struct Segment {
    id: u64,
    path: PathBuf,
    file: File,
    map: Mmap,
}

/// The file name of segment `id`.
pub(crate) fn segment_file_name(id: u64) -> String {
    format!("{id:020}.seg")
}

fn encode_header(id: u64) -> [u8; SEGMENT_HEADER_LEN as usize] {
    let mut header = [0u8; SEGMENT_HEADER_LEN as usize];
    header[..16].copy_from_slice(&SEGMENT_MAGIC);
    header[16..20].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
    header[20..28].copy_from_slice(&id.to_le_bytes());
    let crc = crc32fast::hash(&header[..28]);
    header[28..32].copy_from_slice(&crc.to_le_bytes());
    header
}

fn check_header(path: &Path, id: u64, bytes: &[u8]) -> Result<()> {
    let foreign = |reason: &str| Error::ForeignFile {
        path: path.to_path_buf(),
        reason: reason.to_owned(),
    };
    let header = bytes
        .get(..SEGMENT_HEADER_LEN as usize)
        .ok_or_else(|| foreign("segment is shorter than its 64-byte header"))?;
    if header[..16] != SEGMENT_MAGIC {
        return Err(foreign("not a Tessera segment (magic missing)"));
    }
    let word = |at: usize| [header[at], header[at + 1], header[at + 2], header[at + 3]];
    if crc32fast::hash(&header[..28]) != u32::from_le_bytes(word(28)) {
        return Err(foreign("segment header fails its checksum"));
    }
    let version = u32::from_le_bytes(word(16));
    if version != FORMAT_VERSION {
        return Err(Error::UnsupportedFormat {
            path: path.to_path_buf(),
            found: version,
            supported: FORMAT_VERSION,
        });
    }
    let mut id_bytes = [0u8; 8];
    id_bytes.copy_from_slice(&header[20..28]);
    if u64::from_le_bytes(id_bytes) != id {
        return Err(foreign("segment header names another segment id"));
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
    // reserved, not yet published space). The store directory is locked against
    // other Tessera processes; a foreign process that truncates or rewrites a
    // segment under a live store breaks the contract, as for every mmap engine.
    unsafe { MmapOptions::new().len(len).map(file) }.map_err(|e| Error::io("mmap", path, e))
}

impl Segment {
    /// Creates segment `id` in `dir` with room for `capacity` bytes (sparse),
    /// durably and atomically: the file is prepared under a temporary name,
    /// synced, then renamed into place, so a crash never leaves a segment
    /// without its header.
    pub(crate) fn create(dir: &Path, id: u64, capacity: u64) -> Result<Self> {
        let path = dir.join(segment_file_name(id));
        let temp = dir.join(format!("{}{TEMP_SUFFIX}", segment_file_name(id)));
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&temp)
            .map_err(|e| Error::io("create segment", &temp, e))?;
        file.write_all_at(&encode_header(id), 0)
            .map_err(|e| Error::io("write segment header", &temp, e))?;
        file.set_len(capacity)
            .map_err(|e| Error::io("size segment", &temp, e))?;
        file.sync_all().map_err(|e| Error::io("fsync", &temp, e))?;
        std::fs::rename(&temp, &path).map_err(|e| Error::io("rename segment", &path, e))?;
        crate::fsutil::sync_dir(dir)?;
        let map = map(&file, &path, capacity)?;
        Ok(Self {
            id,
            path,
            file,
            map,
        })
    }

    /// Opens an existing segment, checking its header.
    pub(crate) fn open(path: &Path, id: u64) -> Result<Self> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .map_err(|e| Error::io("open segment", path, e))?;
        let len = file
            .metadata()
            .map_err(|e| Error::io("stat segment", path, e))?
            .len();
        if len < SEGMENT_HEADER_LEN {
            return Err(Error::ForeignFile {
                path: path.to_path_buf(),
                reason: "segment is shorter than its 64-byte header".into(),
            });
        }
        let map = map(&file, path, len)?;
        check_header(path, id, &map)?;
        Ok(Self {
            id,
            path: path.to_path_buf(),
            file,
            map,
        })
    }

    /// The segment's id.
    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    /// The segment's path.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The mapped bytes at `offset..offset + len`, if they lie inside the file.
    pub(crate) fn bytes(&self, offset: u64, len: u64) -> Option<&[u8]> {
        let start = usize::try_from(offset).ok()?;
        let end = start.checked_add(usize::try_from(len).ok()?)?;
        self.map.get(start..end)
    }

    /// The address range of the mapping (for zero-copy checks).
    pub(crate) fn mapped_range(&self) -> std::ops::Range<usize> {
        let start = self.map.as_ptr() as usize;
        start..start + self.map.len()
    }

    /// Writes `bytes` at `offset` (into space reserved by the caller).
    pub(crate) fn write_at(&self, bytes: &[u8], offset: u64) -> Result<()> {
        self.file
            .write_all_at(bytes, offset)
            .map_err(|e| Error::io("write segment", &self.path, e))
    }

    /// `fdatasync`s the file.
    pub(crate) fn sync(&self) -> Result<()> {
        self.file
            .sync_data()
            .map_err(|e| Error::io("fdatasync", &self.path, e))
    }

    /// Shrinks the file to `len` bytes, dropping unused preallocated space.
    pub(crate) fn truncate(&self, len: u64) -> Result<()> {
        self.file
            .set_len(len)
            .map_err(|e| Error::io("truncate segment", &self.path, e))
    }

    /// Bytes the file occupies: its length, or the allocated blocks of a
    /// sparse file if fewer.
    pub(crate) fn disk_bytes(&self) -> Result<u64> {
        let meta = self
            .file
            .metadata()
            .map_err(|e| Error::io("stat segment", &self.path, e))?;
        Ok(meta.len().min(meta.blocks() * 512))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_write_reopen() {
        let dir = tempfile::tempdir().expect("tempdir");
        let segment = Segment::create(dir.path(), 7, 4096).expect("create");
        segment.write_at(b"hello", 64).expect("write");
        assert_eq!(segment.bytes(64, 5), Some(&b"hello"[..]));
        assert_eq!(segment.bytes(4090, 10), None);
        segment.truncate(128).expect("truncate");
        drop(segment);
        let path = dir.path().join(segment_file_name(7));
        let reopened = Segment::open(&path, 7).expect("open");
        assert_eq!(reopened.bytes(64, 5), Some(&b"hello"[..]));
        assert!(matches!(
            Segment::open(&path, 8),
            Err(Error::ForeignFile { .. })
        ));
    }

    #[test]
    fn rejects_foreign_and_truncated_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(segment_file_name(1));
        std::fs::write(&path, b"short").expect("write");
        assert!(matches!(
            Segment::open(&path, 1),
            Err(Error::ForeignFile { .. })
        ));
        std::fs::write(&path, vec![b'x'; 100]).expect("write");
        assert!(matches!(
            Segment::open(&path, 1),
            Err(Error::ForeignFile { .. })
        ));
    }
}
