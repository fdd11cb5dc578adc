//! The checkpoint record the index keeps beside its entries, and the digest
//! that lets an open check the entries against it.
//!
//! ```text
//! key    := 0x00 "checkpoint"      (below every data key, tag 0x01)
//! value  := version:u8 (=1) covered:u8 (0 or 1)
//!           [segment:u64 offset:u64 seq:u64 end:u64]   (the last frame covered)
//!           next_segment:u64 entries:u64 digest:u64 crc32:u32
//! ```
//! `digest` is the XOR of a 64-bit hash of every data entry and every
//! older-version row (key and value),
//! so a checkpoint can update it per changed entry, and an open recomputes it
//! with one scan: a lost, added or altered entry changes it.

use crate::log::FrameRef;

/// The index key of the checkpoint record.
pub(crate) const CHECKPOINT_KEY: &[u8] = b"\x00checkpoint";
const VERSION: u8 = 1;

/// What the index covers of the log, and what it should contain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Checkpoint {
    /// The last frame whose batch the index holds; replay starts after it.
    pub covered: Option<FrameRef>,
    /// The id the next new segment gets (ids are never reused).
    pub next_segment: u64,
    /// Data entries and older-version rows in the index.
    pub entries: u64,
    /// XOR of [`entry_hash`] over the data entries and older-version rows.
    pub digest: u64,
}

/// The hash of one index entry, for [`Checkpoint::digest`].
pub(crate) fn entry_hash(key: &[u8], value: &[u8]) -> u64 {
    let word = (u64::from(crc32fast::hash(key)) << 32) | u64::from(crc32fast::hash(value));
    mix(word ^ ((key.len() as u64) << 48) ^ value.len() as u64)
}

/// splitmix64's finalizer: spreads every input bit over the output.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Checkpoint {
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut out = vec![VERSION, u8::from(self.covered.is_some())];
        if let Some(frame) = self.covered {
            for word in [frame.segment, frame.offset, frame.seq, frame.end] {
                out.extend_from_slice(&word.to_le_bytes());
            }
        }
        for word in [self.next_segment, self.entries, self.digest] {
            out.extend_from_slice(&word.to_le_bytes());
        }
        let crc = crc32fast::hash(&out);
        out.extend_from_slice(&crc.to_le_bytes());
        out
    }

    /// Decodes a checkpoint record, or says why the bytes are not one.
    pub(crate) fn decode(bytes: &[u8]) -> Result<Self, &'static str> {
        let (body, crc) = bytes
            .split_last_chunk::<4>()
            .ok_or("checkpoint record is truncated")?;
        if crc32fast::hash(body) != u32::from_le_bytes(*crc) {
            return Err("checkpoint record fails its checksum");
        }
        let (&[version, covered], rest) = body
            .split_first_chunk::<2>()
            .ok_or("checkpoint record is truncated")?;
        if version != VERSION {
            return Err("checkpoint record has an unknown version");
        }
        let words: Vec<u64> = rest
            .chunks_exact(8)
            .map(|c| u64::from_le_bytes(c.try_into().unwrap_or_default()))
            .collect();
        match (covered, words.as_slice(), rest.len() % 8) {
            (0, &[next_segment, entries, digest], 0) => Ok(Self {
                covered: None,
                next_segment,
                entries,
                digest,
            }),
            (1, &[segment, offset, seq, end, next_segment, entries, digest], 0) => Ok(Self {
                covered: Some(FrameRef {
                    segment,
                    offset,
                    seq,
                    end,
                }),
                next_segment,
                entries,
                digest,
            }),
            _ => Err("checkpoint record has the wrong length"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_detects_damage() {
        let checkpoint = Checkpoint {
            covered: Some(FrameRef {
                segment: 3,
                offset: 640,
                seq: 99,
                end: 704,
            }),
            next_segment: 4,
            entries: 12,
            digest: 0xDEAD_BEEF,
        };
        let bytes = checkpoint.encode();
        assert_eq!(Checkpoint::decode(&bytes), Ok(checkpoint));
        for at in 0..bytes.len() {
            let mut bad = bytes.clone();
            bad[at] ^= 0x10;
            assert!(Checkpoint::decode(&bad).is_err(), "byte {at}");
        }
        let empty = Checkpoint::default();
        assert_eq!(Checkpoint::decode(&empty.encode()), Ok(empty));
    }

    #[test]
    fn entry_hashes_differ_for_swapped_or_altered_entries() {
        let a = entry_hash(b"key", b"value");
        assert_ne!(a, entry_hash(b"value", b"key"));
        assert_ne!(a, entry_hash(b"kez", b"value"));
        assert_ne!(a, entry_hash(b"key", b"valud"));
    }
}
