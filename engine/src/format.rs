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

/// The on-disk format version this build reads and writes.
pub const FORMAT_VERSION: u32 = 1;
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

/// Checks `dir`'s format file against this build and `kind`, or writes it
/// (durably) when the store is new.
pub(crate) fn check_or_create(dir: &Path, kind: IndexKind) -> Result<()> {
    let path = dir.join(FORMAT_FILE);
    match std::fs::read(&path) {
        Ok(bytes) => check(&path, &bytes, kind),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => create(dir, kind),
        Err(e) => Err(Error::io("read format file", &path, e)),
    }
}

fn create(dir: &Path, kind: IndexKind) -> Result<()> {
    let path = dir.join(FORMAT_FILE);
    let temp = dir.join("FORMAT.tmp");
    std::fs::write(&temp, encode(kind)).map_err(|e| Error::io("write format file", &temp, e))?;
    std::fs::File::open(&temp)
        .and_then(|f| f.sync_all())
        .map_err(|e| Error::io("fsync", &temp, e))?;
    std::fs::rename(&temp, &path).map_err(|e| Error::io("rename format file", &path, e))?;
    crate::fsutil::sync_dir(dir)
}

fn check(path: &Path, bytes: &[u8], kind: IndexKind) -> Result<()> {
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
    if version != FORMAT_VERSION {
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
    if name != kind.name().as_bytes() {
        return Err(Error::BackendMismatch {
            path: path.parent().unwrap_or(path).to_path_buf(),
            found: String::from_utf8_lossy(name).into_owned(),
            requested: kind.name(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_then_accepts_its_own_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        check_or_create(dir.path(), IndexKind::Sled).expect("create");
        check_or_create(dir.path(), IndexKind::Sled).expect("check");
    }

    #[test]
    fn refuses_future_versions_and_garbage() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(FORMAT_FILE);
        let mut bytes = encode(IndexKind::Sled);
        bytes[8..12].copy_from_slice(&2u32.to_le_bytes());
        let len = bytes.len();
        let crc = crc32fast::hash(&bytes[..len - 4]);
        bytes[len - 4..].copy_from_slice(&crc.to_le_bytes());
        std::fs::write(&path, &bytes).expect("write");
        assert!(matches!(
            check_or_create(dir.path(), IndexKind::Sled),
            Err(Error::UnsupportedFormat { found: 2, .. })
        ));
        std::fs::write(&path, b"hello world, not a format file").expect("write");
        assert!(matches!(
            check_or_create(dir.path(), IndexKind::Sled),
            Err(Error::ForeignFile { .. })
        ));
    }
}
