//! The store's format file, `<store>/FORMAT`.
//!
//! ```text
//! magic "TESSERA\0" | format version u32 LE | backend name length u8 | name | crc32 u32 LE
//! ```
//! Written once when a store is created; every open checks it, so a store of a
//! future format (or another backend) is refused instead of misread.

use std::path::Path;

use crate::error::{Error, Result};
use crate::index::IndexKind;
use crate::io::FileIo;

/// The on-disk format version this build writes (3: versions, and the
/// moved-put and carried-delete frames of compaction). It also reads
/// version 2 stores (the log without those frames), and marks them 3 when it
/// opens them for writing, so that an older build refuses them from then on.
pub const FORMAT_VERSION: u32 = 3;

/// The oldest format version this build reads.
pub(crate) const OLDEST_READABLE_FORMAT: u32 = 2;

/// The segment format version in the header of a log object that holds
/// external puts (payloads in data objects) and of a data object, on object
/// storage: 4. Every other segment and log object keeps [`FORMAT_VERSION`],
/// so they read as before, while a build older than data objects refuses
/// these with "segment has format version 4" instead of misreading them.
pub(crate) const EXTERNAL_PAYLOAD_FORMAT: u32 = 4;
const MAGIC: [u8; 8] = *b"TESSERA\0";
pub(crate) const FORMAT_FILE: &str = "FORMAT";

fn encode(kind: IndexKind) -> Vec<u8> {
    let name = kind.name().as_bytes();
    let mut out = MAGIC.to_vec();
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.push(u8::try_from(name.len()).unwrap_or(u8::MAX));
    out.extend_from_slice(name);
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// Checks `dir`'s format file against this build and the `requested`
/// backend, or writes it (durably) when the directory holds no store data
/// yet. Returns the store's backend.
pub(crate) fn check_or_create(
    io: &dyn FileIo,
    dir: &Path,
    requested: Option<IndexKind>,
) -> Result<IndexKind> {
    match read(dir)? {
        Some(bytes) => {
            let (kind, version) = check(&dir.join(FORMAT_FILE), &bytes, requested)?;
            if version < FORMAT_VERSION {
                create(io, dir, kind)?;
            }
            Ok(kind)
        }
        None if holds_store_data(dir) => Err(Error::MissingFormat {
            path: dir.to_path_buf(),
        }),
        None => {
            let kind = requested.unwrap_or_default();
            create(io, dir, kind)?;
            Ok(kind)
        }
    }
}

/// Checks `dir`'s format file for a read-only open; returns its backend.
pub(crate) fn check_existing(dir: &Path) -> Result<IndexKind> {
    match read(dir)? {
        Some(bytes) => check(&dir.join(FORMAT_FILE), &bytes, None).map(|(kind, _)| kind),
        None => Err(Error::NotAStore {
            path: dir.to_path_buf(),
        }),
    }
}

fn read(dir: &Path) -> Result<Option<Vec<u8>>> {
    let path = dir.join(FORMAT_FILE);
    match std::fs::read(&path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io("read format file", &path, e)),
    }
}

/// Whether `dir` has segments or an index (a store that lost its `FORMAT`).
fn holds_store_data(dir: &Path) -> bool {
    let non_empty = |name: &str| {
        std::fs::read_dir(dir.join(name)).is_ok_and(|mut entries| entries.next().is_some())
    };
    non_empty("segments") || non_empty("index")
}

fn create(io: &dyn FileIo, dir: &Path, kind: IndexKind) -> Result<()> {
    let path = dir.join(FORMAT_FILE);
    let temp = dir.join("FORMAT.tmp");
    let file = io
        .create(&temp)
        .map_err(|e| Error::io("create format file", &temp, e))?;
    io.write_at(&file, &temp, &encode(kind), 0)
        .map_err(|e| Error::io("write format file", &temp, e))?;
    io.sync_data(&file, &temp)
        .map_err(|e| Error::io("fdatasync", &temp, e))?;
    io.rename(&temp, &path)
        .map_err(|e| Error::io("rename format file", &path, e))?;
    io.sync_dir(dir)
        .map_err(|e| Error::io("fsync directory", dir, e))
}

/// Checks a format file; returns its backend and format version.
fn check(path: &Path, bytes: &[u8], requested: Option<IndexKind>) -> Result<(IndexKind, u32)> {
    let foreign = |reason: &str| Error::ForeignFile {
        path: path.to_path_buf(),
        reason: reason.to_owned(),
    };
    if bytes.len() < 17 || bytes[..8] != MAGIC {
        return Err(foreign("not a Tessera format file"));
    }
    let (body, crc) = bytes.split_at(bytes.len() - 4);
    let crc = u32::from_le_bytes([crc[0], crc[1], crc[2], crc[3]]);
    if crc32fast::hash(body) != crc {
        return Err(foreign("format file fails its checksum"));
    }
    let version = u32::from_le_bytes([body[8], body[9], body[10], body[11]]);
    if !(OLDEST_READABLE_FORMAT..=FORMAT_VERSION).contains(&version) {
        return Err(Error::UnsupportedFormat {
            path: path.to_path_buf(),
            found: version,
            supported: FORMAT_VERSION,
        });
    }
    let name = body
        .get(13..)
        .ok_or_else(|| foreign("format file is truncated"))?;
    if usize::from(body[12]) != name.len() {
        return Err(foreign("format file backend name has the wrong length"));
    }
    let found = IndexKind::from_name(name).ok_or_else(|| Error::BackendMismatch {
        path: path.parent().unwrap_or(path).to_path_buf(),
        found: String::from_utf8_lossy(name).into_owned(),
        requested: requested.unwrap_or_default().name(),
    })?;
    match requested {
        Some(kind) if kind != found => Err(Error::BackendMismatch {
            path: path.parent().unwrap_or(path).to_path_buf(),
            found: found.name().to_owned(),
            requested: kind.name(),
        }),
        _ => Ok((found, version)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::OsFileIo;

    #[test]
    fn creates_then_accepts_its_own_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        check_or_create(&OsFileIo, dir.path(), Some(IndexKind::Sled)).expect("create");
        check_or_create(&OsFileIo, dir.path(), Some(IndexKind::Sled)).expect("check");
        check_existing(dir.path()).expect("read-only check");
    }

    #[test]
    fn refuses_future_versions_and_garbage() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(FORMAT_FILE);
        let mut bytes = encode(IndexKind::Sled);
        bytes[8..12].copy_from_slice(&(FORMAT_VERSION + 1).to_le_bytes());
        let len = bytes.len();
        let crc = crc32fast::hash(&bytes[..len - 4]);
        bytes[len - 4..].copy_from_slice(&crc.to_le_bytes());
        std::fs::write(&path, &bytes).expect("write");
        assert!(matches!(
            check_or_create(&OsFileIo, dir.path(), Some(IndexKind::Sled)),
            Err(Error::UnsupportedFormat { found, .. }) if found == FORMAT_VERSION + 1
        ));
        std::fs::write(&path, b"hello world, not a format file").expect("write");
        assert!(matches!(
            check_or_create(&OsFileIo, dir.path(), Some(IndexKind::Sled)),
            Err(Error::ForeignFile { .. })
        ));
    }

    #[test]
    fn a_missing_format_file_over_store_data_is_an_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("segments")).expect("mkdir");
        std::fs::write(dir.path().join("segments/x"), b"x").expect("write");
        assert!(matches!(
            check_or_create(&OsFileIo, dir.path(), Some(IndexKind::Sled)),
            Err(Error::MissingFormat { .. })
        ));
        assert!(matches!(
            check_existing(dir.path()),
            Err(Error::NotAStore { .. })
        ));
    }
}
