//! Checkpoint objects of a store on object storage: the view after log
//! object `n`, so an open reads it and only the log objects after `n`.
//!
//! ```text
//! {prefix}/checkpoint/{n:020}
//!      0    16  magic "TESSERA CKPT\0\0\0\0"
//!     16     4  format version (u32 LE)
//!     20    32  the last batch's commit frame: segment, offset, seq, end (u64 LE each)
//!     52     8  number of keys (u64 LE)
//!           per key: key length (u32), key, largest sequence number (u64),
//!           delete bound + 1 (u64, 0: none), new put (u8), versions (u32),
//!           per version: version (u64), stored (u8), record length (u32), record
//!    end-4   4  crc32 of everything before
//! ```
//!
//! The records point into log objects by number, as the replayed ones do:
//! a read fetches the object it needs (and caches it) on first use.

use std::collections::BTreeMap;

use super::overlay::OverlayEntry;
use crate::format::FORMAT_VERSION;
use crate::log::FrameRef;

const MAGIC: [u8; 16] = *b"TESSERA CKPT\0\0\0\0";

/// The name (under the store's prefix) of the checkpoint after log object `id`.
pub(super) fn checkpoint_name(id: u64) -> String {
    format!("checkpoint/{id:020}")
}

/// The log object number a checkpoint object's name gives, if it is one.
pub(super) fn checkpoint_id(name: &str) -> Option<u64> {
    let id = name.rsplit('/').next()?;
    (id.len() == 20 && id.bytes().all(|b| b.is_ascii_digit()))
        .then(|| id.parse().ok())
        .flatten()
}

/// A store's view after one log object: where the log stands, and every key's entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ViewCheckpoint {
    pub after: FrameRef,
    pub entries: BTreeMap<Vec<u8>, OverlayEntry>,
}

fn put_len(out: &mut Vec<u8>, len: usize) {
    out.extend_from_slice(&u32::try_from(len).unwrap_or(u32::MAX).to_le_bytes());
}

impl ViewCheckpoint {
    /// The checkpoint's bytes.
    pub(super) fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        for word in [
            self.after.segment,
            self.after.offset,
            self.after.seq,
            self.after.end,
        ] {
            out.extend_from_slice(&word.to_le_bytes());
        }
        out.extend_from_slice(&(self.entries.len() as u64).to_le_bytes());
        for (key, entry) in &self.entries {
            put_len(&mut out, key.len());
            out.extend_from_slice(key);
            out.extend_from_slice(&entry.seq.to_le_bytes());
            let bound = entry.cleared_below.map_or(0, |b| b.saturating_add(1));
            out.extend_from_slice(&bound.to_le_bytes());
            out.push(u8::from(entry.has_new_put));
            put_len(&mut out, entry.versions.len());
            for (version, record) in &entry.versions {
                out.extend_from_slice(&version.to_le_bytes());
                out.push(u8::from(record.is_some()));
                let record = record.as_deref().unwrap_or_default();
                put_len(&mut out, record.len());
                out.extend_from_slice(record);
            }
        }
        let crc = crc32fast::hash(&out);
        out.extend_from_slice(&crc.to_le_bytes());
        out
    }

    /// Decodes and checks a checkpoint; `Err` says what is wrong.
    pub(super) fn decode(bytes: &[u8]) -> Result<Self, String> {
        let (body, crc) = bytes
            .split_last_chunk::<4>()
            .ok_or("checkpoint is truncated")?;
        if crc32fast::hash(body) != u32::from_le_bytes(*crc) {
            return Err("checkpoint fails its checksum".into());
        }
        let mut reader = Reader { bytes: body };
        if reader.take(16)? != MAGIC {
            return Err("not a Tessera checkpoint (magic missing)".into());
        }
        let version = reader.u32()?;
        if version != FORMAT_VERSION {
            return Err(format!(
                "checkpoint has format version {version}; this build reads {FORMAT_VERSION}"
            ));
        }
        let after = FrameRef {
            segment: reader.u64()?,
            offset: reader.u64()?,
            seq: reader.u64()?,
            end: reader.u64()?,
        };
        let count = reader.u64()?;
        let mut entries = BTreeMap::new();
        for _ in 0..count {
            let key_len = reader.u32()? as usize;
            let key = reader.take(key_len)?.to_vec();
            let seq = reader.u64()?;
            let bound = reader.u64()?;
            let has_new_put = reader.flag()?;
            let mut versions = BTreeMap::new();
            for _ in 0..reader.u32()? {
                let version = reader.u64()?;
                let stored = reader.flag()?;
                let len = reader.u32()? as usize;
                let record = reader.take(len)?.to_vec();
                versions.insert(version, stored.then_some(record));
            }
            let entry = OverlayEntry {
                seq,
                cleared_below: bound.checked_sub(1),
                has_new_put,
                versions,
            };
            entries.insert(key, entry);
        }
        if !reader.bytes.is_empty() {
            return Err("checkpoint has bytes after its last key".into());
        }
        Ok(Self { after, entries })
    }
}

/// Reads a checkpoint's fields in order, each bounds-checked.
struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, len: usize) -> Result<&'a [u8], String> {
        if self.bytes.len() < len {
            return Err("checkpoint is truncated".into());
        }
        let (head, rest) = self.bytes.split_at(len);
        self.bytes = rest;
        Ok(head)
    }

    fn u64(&mut self) -> Result<u64, String> {
        let mut word = [0u8; 8];
        word.copy_from_slice(self.take(8)?);
        Ok(u64::from_le_bytes(word))
    }

    fn u32(&mut self) -> Result<u32, String> {
        let mut word = [0u8; 4];
        word.copy_from_slice(self.take(4)?);
        Ok(u32::from_le_bytes(word))
    }

    fn flag(&mut self) -> Result<bool, String> {
        match self.take(1)? {
            [0] => Ok(false),
            [1] => Ok(true),
            _ => Err("checkpoint has a flag that is neither 0 nor 1".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> ViewCheckpoint {
        let mut entries = BTreeMap::new();
        entries.insert(
            b"key-a".to_vec(),
            OverlayEntry {
                seq: 9,
                cleared_below: Some(4),
                has_new_put: true,
                versions: BTreeMap::from([(5, Some(b"record".to_vec())), (7, None)]),
            },
        );
        entries.insert(
            b"key-b".to_vec(),
            OverlayEntry {
                seq: 11,
                cleared_below: Some(0),
                has_new_put: false,
                versions: BTreeMap::new(),
            },
        );
        ViewCheckpoint {
            after: FrameRef {
                segment: 3,
                offset: 64,
                seq: 11,
                end: 128,
            },
            entries,
        }
    }

    #[test]
    fn round_trips() {
        let checkpoint = sample();
        assert_eq!(ViewCheckpoint::decode(&checkpoint.encode()), Ok(checkpoint));
        assert_eq!(checkpoint_id(&checkpoint_name(42)), Some(42));
        assert_eq!(checkpoint_id("checkpoint/abc"), None);
    }

    #[test]
    fn any_flipped_bit_or_cut_is_detected() {
        let bytes = sample().encode();
        for at in 0..bytes.len() {
            let mut damaged = bytes.clone();
            damaged[at] ^= 0x10;
            assert!(ViewCheckpoint::decode(&damaged).is_err(), "byte {at}");
        }
        for len in 0..bytes.len() {
            assert!(
                ViewCheckpoint::decode(&bytes[..len]).is_err(),
                "cut at {len}"
            );
        }
    }
}
