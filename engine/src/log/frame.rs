//! Log frames: every change a store makes is one frame in a segment.
//!
//! ```text
//! frame header (64 bytes)
//!      0     4  magic "TFRM"
//!      4     1  kind: 1 put, 2 delete, 3 commit, 4 moved put, 5 carried delete
//!      5     1  codec tag (put, moved put), else 0
//!      6     1  flags: bit 0 set = the payload is in a data object (an
//!               "external" put, object storage only); zero in every frame
//!               older than that, which therefore reads as before
//!      7     1  zero
//!      8     8  sequence number (u64 LE): strictly increasing along the log
//!     16     8  puts: payload length; commit: first sequence number of its batch
//!     24     4  puts: payload crc32; commit: number of changes in its batch
//!     28     4  key length (puts, deletes)
//!     32     4  described length: put: created-at, data version, metadata;
//!               moved put: the version (u64 LE) it moves, then as a put;
//!               carried delete: the bound (u64 LE) below which it deletes;
//!               an external put leads with the data object's id (u64 LE)
//!               before all of that
//!     36     4  crc32 of bytes 0..36, the key and the described bytes
//!     40    24  zero
//!     64     k  key, then the described bytes, zero-padded to a multiple of 64
//!    ...     n  payload, zero-padded to a multiple of 64 (put; none for an
//!               external put, whose length and crc32 are the data object's
//!               payload's)
//! ```
//! A batch is its change frames, with consecutive sequence numbers, followed
//! by a commit frame naming the first of them and their count.
//!
//! A put's version is its own sequence number, and a delete removes every
//! version below its own. Compaction writes the other two kinds: a moved
//! put is a live version copied out of a segment being reclaimed (its
//! version is the original put's), and a carried delete keeps a delete's
//! effect (its original bound) when the segment holding it is reclaimed.

use crate::codec::Codec;
use crate::record::Checksum;

/// Size of a frame header.
pub(crate) const FRAME_HEADER_LEN: u64 = 64;
const FRAME_MAGIC: [u8; 4] = *b"TFRM";
const KIND_PUT: u8 = 1;
const KIND_DELETE: u8 = 2;
const KIND_COMMIT: u8 = 3;
const KIND_MOVED_PUT: u8 = 4;
const KIND_CARRIED_DELETE: u8 = 5;
const CRC_COVERS: usize = 36;
/// Flag bit: the put's payload lives in a data object.
const FLAG_EXTERNAL: u8 = 1;

/// The segment ids of data objects (object storage) have this bit set; a
/// local segment or a log object never comes near it.
pub(crate) const DATA_OBJECT_BIT: u64 = 1 << 63;

/// Whether segment id `id` names a data object. Its put frame is written
/// before the commit numbers the version, so it carries sequence number 0
/// and the external put in the log object is what names the version.
pub(crate) const fn is_data_object(id: u64) -> bool {
    id & DATA_OBJECT_BIT != 0
}

/// Rounds `n` up to a multiple of 64.
pub(crate) const fn align64(n: u64) -> u64 {
    n.div_ceil(64) * 64
}

/// What a frame records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FrameKind {
    /// A payload stored under a key: a new version, or (`moved`) an
    /// existing version copied by compaction. An `external` put carries no
    /// payload bytes: its payload (`payload_len` bytes, `checksum`) is the
    /// one of the data object its described bytes name.
    Put {
        codec: Codec,
        payload_len: u64,
        checksum: Checksum,
        moved: bool,
        external: bool,
    },
    /// A key's versions removed: up to this frame, or (`carried`) below the
    /// bound its described bytes hold.
    Delete { carried: bool },
    /// The end of a batch: its changes count from here on.
    Commit { first_seq: u64, changes: u32 },
}

/// A decoded frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FrameHeader {
    pub seq: u64,
    pub kind: FrameKind,
    pub key_len: u32,
    pub described_len: u32,
}

/// A checked frame: its header and the key and described bytes it covers.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FrameView<'a> {
    pub header: FrameHeader,
    pub key: &'a [u8],
    pub described: &'a [u8],
}

impl FrameHeader {
    /// Offset of the payload from the start of the frame.
    pub(crate) fn payload_offset(&self) -> u64 {
        FRAME_HEADER_LEN + align64(u64::from(self.key_len) + u64::from(self.described_len))
    }

    /// The length of the payload bytes in the frame (0 unless a put that is
    /// not external).
    pub(crate) fn payload_len(&self) -> u64 {
        match self.kind {
            FrameKind::Put {
                payload_len,
                external: false,
                ..
            } => payload_len,
            FrameKind::Put { .. } | FrameKind::Delete { .. } | FrameKind::Commit { .. } => 0,
        }
    }

    /// Total frame length: header, padded key and described bytes, padded payload.
    pub(crate) fn frame_len(&self) -> u64 {
        self.payload_offset() + align64(self.payload_len())
    }

    fn words(&self) -> (u8, u8, u8, u64, u32) {
        match self.kind {
            FrameKind::Put {
                codec,
                payload_len,
                checksum,
                moved,
                external,
            } => {
                let kind = if moved { KIND_MOVED_PUT } else { KIND_PUT };
                let flags = if external { FLAG_EXTERNAL } else { 0 };
                (kind, codec.tag(), flags, payload_len, checksum.0)
            }
            FrameKind::Delete { carried } => {
                let kind = if carried {
                    KIND_CARRIED_DELETE
                } else {
                    KIND_DELETE
                };
                (kind, 0, 0, 0, 0)
            }
            FrameKind::Commit { first_seq, changes } => (KIND_COMMIT, 0, 0, first_seq, changes),
        }
    }

    /// The header, key and described bytes, padded: everything before the payload.
    #[cfg(test)]
    pub(crate) fn encode(&self, key: &[u8], described: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.payload_offset() as usize);
        self.encode_into(key, described, &mut out);
        out
    }

    /// Appends [`FrameHeader::encode`]'s bytes to `out` (no buffer of its own).
    pub(crate) fn encode_into(&self, key: &[u8], described: &[u8], out: &mut Vec<u8>) {
        let start = out.len();
        out.reserve(self.payload_offset() as usize);
        out.extend_from_slice(&self.head(key, described));
        out.extend_from_slice(key);
        out.extend_from_slice(described);
        out.resize(start + self.payload_offset() as usize, 0);
    }

    /// The frame's first 64 bytes: the fixed fields and their crc32 (which
    /// covers `key` and `described` too), then zeros.
    pub(crate) fn head(&self, key: &[u8], described: &[u8]) -> [u8; FRAME_HEADER_LEN as usize] {
        let (kind, codec, flags, word, small) = self.words();
        let mut head = [0u8; FRAME_HEADER_LEN as usize];
        head[..4].copy_from_slice(&FRAME_MAGIC);
        head[4] = kind;
        head[5] = codec;
        head[6] = flags;
        head[8..16].copy_from_slice(&self.seq.to_le_bytes());
        head[16..24].copy_from_slice(&word.to_le_bytes());
        head[24..28].copy_from_slice(&small.to_le_bytes());
        head[28..32].copy_from_slice(&self.key_len.to_le_bytes());
        head[32..36].copy_from_slice(&self.described_len.to_le_bytes());
        let mut crc = crc32fast::Hasher::new();
        crc.update(&head[..CRC_COVERS]);
        crc.update(key);
        crc.update(described);
        head[CRC_COVERS..CRC_COVERS + 4].copy_from_slice(&crc.finalize().to_le_bytes());
        head
    }

    fn decode_kind(head: &[u8; 40]) -> Result<FrameKind, &'static str> {
        let word = u64::from_le_bytes(field(head, 16));
        let small = u32::from_le_bytes(field(head, 24));
        let flags = head[6];
        let is_put = matches!(head[4], KIND_PUT | KIND_MOVED_PUT);
        if flags & !FLAG_EXTERNAL != 0 || (flags != 0 && !is_put) {
            return Err("frame has unknown flags");
        }
        match head[4] {
            kind @ (KIND_PUT | KIND_MOVED_PUT) => Ok(FrameKind::Put {
                codec: Codec::from_tag(head[5]).ok_or("frame has an unknown codec tag")?,
                payload_len: word,
                checksum: Checksum(small),
                moved: kind == KIND_MOVED_PUT,
                external: flags & FLAG_EXTERNAL != 0,
            }),
            KIND_DELETE => Ok(FrameKind::Delete { carried: false }),
            KIND_CARRIED_DELETE => Ok(FrameKind::Delete { carried: true }),
            KIND_COMMIT => Ok(FrameKind::Commit {
                first_seq: word,
                changes: small,
            }),
            _ => Err("frame has an unknown kind"),
        }
    }
}

fn field<const N: usize>(head: &[u8; 40], at: usize) -> [u8; N] {
    let mut out = [0u8; N];
    out.copy_from_slice(&head[at..at + N]);
    out
}

/// Splits the described bytes of a moved put or a carried delete into the
/// version (or bound) they lead with and the rest.
pub(crate) fn split_version(described: &[u8]) -> Result<(u64, &[u8]), &'static str> {
    let (version, rest) = described
        .split_first_chunk::<8>()
        .ok_or("moved frame lacks its version")?;
    Ok((u64::from_le_bytes(*version), rest))
}

impl FrameView<'_> {
    /// The version a put frame holds and its described fields' bytes (after
    /// the data object id of an external put).
    pub(crate) fn put_version(&self) -> Result<(u64, &[u8]), &'static str> {
        let (_, described) = self.data_object()?;
        match self.header.kind {
            FrameKind::Put { moved: true, .. } => split_version(described),
            _ => Ok((self.header.seq, described)),
        }
    }

    /// The id of the data object an external put's payload lives in
    /// (`None` for every other frame), and the described bytes after it.
    pub(crate) fn data_object(&self) -> Result<(Option<u64>, &[u8]), &'static str> {
        match self.header.kind {
            FrameKind::Put { external: true, .. } => {
                let (id, rest) = self
                    .described
                    .split_first_chunk::<8>()
                    .ok_or("external put lacks its data object")?;
                Ok((Some(u64::from_le_bytes(*id)), rest))
            }
            _ => Ok((None, self.described)),
        }
    }

    /// The version below which a delete frame removes every version.
    pub(crate) fn delete_bound(&self) -> Result<u64, &'static str> {
        match self.header.kind {
            FrameKind::Delete { carried: true } => split_version(self.described).map(|(b, _)| b),
            _ => Ok(self.header.seq),
        }
    }
}

/// Parses and checks the frame at the start of `bytes` (header, key and
/// described bytes; not the payload). `Err` says what is wrong.
pub(crate) fn decode_frame(bytes: &[u8]) -> Result<FrameView<'_>, &'static str> {
    let view = parse_frame(bytes)?;
    let head: &[u8; 40] = bytes
        .first_chunk::<40>()
        .ok_or("frame header is truncated")?;
    let covered_len = view.key.len() + view.described.len();
    let covered = bytes
        .get(FRAME_HEADER_LEN as usize..)
        .and_then(|rest| rest.get(..covered_len))
        .ok_or("frame key is truncated")?;
    let mut crc = crc32fast::Hasher::new();
    crc.update(&head[..CRC_COVERS]);
    crc.update(covered);
    if crc.finalize() != u32::from_le_bytes(field(head, CRC_COVERS)) {
        return Err("frame header fails its checksum");
    }
    Ok(view)
}

/// Parses the frame at the start of `bytes` without its header's crc32.
///
/// Only for a read that checks what it takes from the frame another way:
/// the key byte for byte, the codec, length, checksum and version against
/// the index record, and the payload (found at the offset the key and
/// described lengths give) against the record's crc32, so that a damaged
/// length moves the payload and fails that check. The described bytes are
/// not used by such a read.
pub(crate) fn parse_frame(bytes: &[u8]) -> Result<FrameView<'_>, &'static str> {
    let head: &[u8; 40] = bytes
        .first_chunk::<40>()
        .ok_or("frame header is truncated")?;
    if head[..4] != FRAME_MAGIC {
        return Err("frame magic is missing");
    }
    let key_len = u32::from_le_bytes(field(head, 28));
    let described_len = u32::from_le_bytes(field(head, 32));
    let key_start = FRAME_HEADER_LEN as usize;
    let key_end = key_start
        .checked_add(key_len as usize)
        .ok_or("frame key is too long")?;
    let end = key_end
        .checked_add(described_len as usize)
        .ok_or("frame metadata is too long")?;
    let covered = bytes.get(key_start..end).ok_or("frame key is truncated")?;
    let header = FrameHeader {
        seq: u64::from_le_bytes(field(head, 8)),
        kind: FrameHeader::decode_kind(head)?,
        key_len,
        described_len,
    };
    let (key, described) = covered.split_at(key_len as usize);
    Ok(FrameView {
        header,
        key,
        described,
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn kind_strategy() -> impl Strategy<Value = FrameKind> {
        prop_oneof![
            (
                0u8..3,
                any::<u64>(),
                any::<u32>(),
                any::<bool>(),
                any::<bool>()
            )
                .prop_map(|(tag, payload_len, crc, moved, external)| {
                    FrameKind::Put {
                        codec: Codec::from_tag(tag).expect("known tag"),
                        payload_len,
                        checksum: Checksum(crc),
                        moved,
                        external,
                    }
                }),
            any::<bool>().prop_map(|carried| FrameKind::Delete { carried }),
            (any::<u64>(), any::<u32>())
                .prop_map(|(first_seq, changes)| FrameKind::Commit { first_seq, changes }),
        ]
    }

    proptest! {
        #[test]
        fn round_trips_and_aligns(seq in any::<u64>(), kind in kind_strategy(),
                                  key in prop::collection::vec(any::<u8>(), 0..100),
                                  described in prop::collection::vec(any::<u8>(), 0..100)) {
            let header = FrameHeader { seq, kind, key_len: key.len() as u32, described_len: described.len() as u32 };
            let bytes = header.encode(&key, &described);
            prop_assert_eq!(bytes.len() as u64, header.payload_offset());
            prop_assert_eq!(bytes.len() % 64, 0);
            let view = decode_frame(&bytes).expect("valid");
            prop_assert_eq!(view.header, header);
            prop_assert_eq!(view.key, &key[..]);
            prop_assert_eq!(view.described, &described[..]);
        }

        #[test]
        fn any_flipped_bit_is_detected(seq in any::<u64>(), kind in kind_strategy(),
                                       key in prop::collection::vec(any::<u8>(), 1..40),
                                       at in any::<prop::sample::Index>(), bit in 0u8..8) {
            let header = FrameHeader { seq, kind, key_len: key.len() as u32, described_len: 3 };
            let mut bytes = header.encode(&key, b"abc");
            let i = at.index(40 + key.len() + 3);
            let i = if i < 40 { i } else { 64 + (i - 40) };
            bytes[i] ^= 1 << bit;
            prop_assert!(decode_frame(&bytes).is_err());
        }
    }

    #[test]
    fn truncated_and_zeroed_frames_are_refused() {
        let header = FrameHeader {
            seq: 9,
            kind: FrameKind::Delete { carried: false },
            key_len: 2,
            described_len: 0,
        };
        let good = header.encode(b"xy", b"");
        assert!(decode_frame(&good[..39]).is_err());
        assert!(decode_frame(&good[..65]).is_err());
        assert!(decode_frame(&[0u8; 128]).is_err());
    }
}
