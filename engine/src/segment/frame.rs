//! The frame that wraps each payload inside a segment.
//!
//! ```text
//! offset  size  field
//!      0     4  magic "TFRM"
//!      4     1  codec tag
//!      5     3  zero
//!      8     8  payload length (u64 LE)
//!     16     4  payload crc32 (u32 LE)
//!     20     4  key length (u32 LE)
//!     24     4  crc32 of bytes 0..24 and the key
//!     28    36  zero
//!     64     k  encoded index key, zero-padded to a multiple of 64
//!  64+k'     n  payload, zero-padded to a multiple of 64
//! ```

use crate::codec::Codec;
use crate::record::Checksum;

/// Size of a frame header.
pub(crate) const FRAME_HEADER_LEN: u64 = 64;
const FRAME_MAGIC: [u8; 4] = *b"TFRM";

/// Rounds `n` up to a multiple of 64.
pub(crate) const fn align64(n: u64) -> u64 {
    n.div_ceil(64) * 64
}

/// Offset of the payload from the start of its frame.
pub(crate) fn payload_offset(key_len: usize) -> u64 {
    FRAME_HEADER_LEN + align64(key_len as u64)
}

/// The fixed-size header of a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FrameHeader {
    pub codec: Codec,
    pub payload_len: u64,
    pub checksum: Checksum,
    pub key_len: u32,
}

impl FrameHeader {
    /// Total frame length: header, padded key, padded payload.
    pub(crate) fn frame_len(&self) -> u64 {
        payload_offset(self.key_len as usize) + align64(self.payload_len)
    }

    /// The header and padded key, ready to write in front of the payload.
    pub(crate) fn encode_with_key(&self, key: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(payload_offset(key.len()) as usize);
        out.extend_from_slice(&FRAME_MAGIC);
        out.push(self.codec.tag());
        out.extend_from_slice(&[0; 3]);
        out.extend_from_slice(&self.payload_len.to_le_bytes());
        out.extend_from_slice(&self.checksum.0.to_le_bytes());
        out.extend_from_slice(&self.key_len.to_le_bytes());
        let mut crc = crc32fast::Hasher::new();
        crc.update(&out);
        crc.update(key);
        out.extend_from_slice(&crc.finalize().to_le_bytes());
        out.resize(FRAME_HEADER_LEN as usize, 0);
        out.extend_from_slice(key);
        out.resize(payload_offset(key.len()) as usize, 0);
        out
    }

    /// Parses and checks a header followed by its key; `Err` says what is wrong.
    pub(crate) fn decode(bytes: &[u8]) -> Result<(Self, &[u8]), &'static str> {
        let head = bytes.get(..28).ok_or("frame header is truncated")?;
        if head[..4] != FRAME_MAGIC {
            return Err("frame magic is missing");
        }
        let codec = Codec::from_tag(head[4]).ok_or("frame has an unknown codec tag")?;
        let field = |at: usize| -> [u8; 4] { [head[at], head[at + 1], head[at + 2], head[at + 3]] };
        let payload_len = u64::from_le_bytes([
            head[8], head[9], head[10], head[11], head[12], head[13], head[14], head[15],
        ]);
        let checksum = Checksum(u32::from_le_bytes(field(16)));
        let key_len = u32::from_le_bytes(field(20));
        let stored_crc = u32::from_le_bytes(field(24));
        let key_start = FRAME_HEADER_LEN as usize;
        let key = bytes
            .get(key_start..key_start + key_len as usize)
            .ok_or("frame key is truncated")?;
        let mut crc = crc32fast::Hasher::new();
        crc.update(&head[..24]);
        crc.update(key);
        if crc.finalize() != stored_crc {
            return Err("frame header fails its checksum");
        }
        let header = Self {
            codec,
            payload_len,
            checksum,
            key_len,
        };
        Ok((header, key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_aligns() {
        let header = FrameHeader {
            codec: Codec::ArrowIpc,
            payload_len: 100,
            checksum: Checksum(7),
            key_len: 3,
        };
        let bytes = header.encode_with_key(b"abc");
        assert_eq!(bytes.len() as u64, payload_offset(3));
        assert_eq!(bytes.len() % 64, 0);
        assert_eq!(header.frame_len(), 128 + 128);
        let (decoded, key) = FrameHeader::decode(&bytes).expect("valid");
        assert_eq!((decoded, key), (header, &b"abc"[..]));
    }

    #[test]
    fn detects_damage() {
        let header = FrameHeader {
            codec: Codec::Raw,
            payload_len: 1,
            checksum: Checksum(1),
            key_len: 2,
        };
        let good = header.encode_with_key(b"xy");
        for at in [0, 4, 9, 17, 21, 25, 64] {
            let mut bad = good.clone();
            bad[at] ^= 0x40;
            assert!(FrameHeader::decode(&bad).is_err(), "byte {at}");
        }
        assert!(FrameHeader::decode(&good[..40]).is_err());
    }
}
