//! Data objects: the payloads too large for a log object.
//!
//! ```text
//! {prefix}/data/{id:016x}   one payload, uploaded before the commit naming it
//!
//! data object := segment header (64 bytes: format version 4, segment id
//!                `id`, the uploading writer handle's id in bytes 32..40)
//!                put frame (sequence number 0: the version is not known
//!                yet) with the key, the described bytes and the payload
//! ```
//!
//! `id` has [`DATA_OBJECT_BIT`] set (the other 63 bits are random), so it is
//! a segment id no log object ever has: a record points into the data
//! object like into any segment, and the cache holds it as a segment file.
//! The log object that commits the put holds an *external put* instead of
//! the payload: a put frame flagged external, with the payload's length and
//! crc32, whose described bytes lead with `id`. The upload goes through the
//! object store's multipart upload, a few MiB per part, so neither the
//! payload nor the log object is ever held whole in a second buffer.

use crate::format::EXTERNAL_PAYLOAD_FORMAT;
use crate::log::{
    DATA_OBJECT_BIT, FrameHeader, FrameKind, FrameView, align64, decode_frame, is_data_object,
    split_version,
};
use crate::record::Checksum;
use crate::segment::{ChangeFrame, SEGMENT_HEADER_LEN, Segment, encode_header_version};

/// The name (under the store's prefix) of data object `id`.
pub(crate) fn data_object_name(id: u64) -> String {
    format!("data/{id:016x}")
}

/// The id of the data object a listed name (prefix included) gives, if it
/// names one.
pub(crate) fn data_object_id(name: &str) -> Option<u64> {
    let (rest, hex) = name.rsplit_once('/')?;
    let is_data = rest == "data" || rest.ends_with("/data");
    let id = (is_data && hex.len() == 16)
        .then(|| u64::from_str_radix(hex, 16).ok())
        .flatten()?;
    is_data_object(id).then_some(id)
}

/// A fresh data object id from 64 random bits (never `u64::MAX`, so that
/// one more than any segment id a cache directory holds is still a number).
pub(crate) fn new_data_object_id(random: u64) -> u64 {
    (random | DATA_OBJECT_BIT).min(u64::MAX - 1)
}

/// Whether `change` is a put whose payload is at least `threshold` bytes
/// (and so goes to a data object).
pub(crate) fn is_large(change: &ChangeFrame<'_>, threshold: u64) -> bool {
    matches!(
        change.kind,
        FrameKind::Put {
            external: false,
            ..
        }
    ) && change.payload.len() as u64 >= threshold
}

/// The bytes of data object `id` before and after the payload of `change`
/// (a put, new or moved): its segment header and put frame, and the padding
/// to a multiple of 64.
pub(crate) fn data_object_framing(
    id: u64,
    writer: u64,
    change: &ChangeFrame<'_>,
) -> (Vec<u8>, Vec<u8>) {
    let mut head = encode_header_version(id, EXTERNAL_PAYLOAD_FORMAT).to_vec();
    head[32..40].copy_from_slice(&writer.to_le_bytes());
    let (kind, described) = match change.kind {
        FrameKind::Put {
            codec,
            payload_len,
            checksum,
            moved,
            ..
        } => {
            let described = if moved {
                split_version(change.described).map_or(change.described, |(_, rest)| rest)
            } else {
                change.described
            };
            let kind = FrameKind::Put {
                codec,
                payload_len,
                checksum,
                moved: false,
                external: false,
            };
            (kind, described)
        }
        other => (other, change.described),
    };
    let frame = FrameHeader {
        seq: 0,
        kind,
        key_len: u32::try_from(change.key.len()).unwrap_or(u32::MAX),
        described_len: u32::try_from(described.len()).unwrap_or(u32::MAX),
    };
    frame.encode_into(change.key, described, &mut head);
    let len = change.payload.len() as u64;
    let padding = vec![0u8; usize::try_from(align64(len) - len).unwrap_or(0)];
    (head, padding)
}

/// The described bytes of the external put standing for `change` in the log
/// object: `id`, then `change`'s own.
pub(crate) fn external_described(id: u64, change: &ChangeFrame<'_>) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + change.described.len());
    out.extend_from_slice(&id.to_le_bytes());
    out.extend_from_slice(change.described);
    out
}

/// The external put standing for `change` (a put) in the log object, its
/// described bytes from [`external_described`].
pub(crate) fn external_put<'a>(change: &ChangeFrame<'a>, described: &'a [u8]) -> ChangeFrame<'a> {
    let kind = match change.kind {
        FrameKind::Put {
            codec,
            payload_len,
            checksum,
            moved,
            ..
        } => FrameKind::Put {
            codec,
            payload_len,
            checksum,
            moved,
            external: true,
        },
        other => other,
    };
    ChangeFrame {
        kind,
        key: change.key,
        described,
        payload: &[],
    }
}

/// The data objects the external puts of `frames` name.
pub(crate) fn referenced_data<'a>(
    frames: impl IntoIterator<Item = FrameView<'a>>,
) -> impl Iterator<Item = u64> {
    frames
        .into_iter()
        .filter_map(|frame| frame.data_object().ok().and_then(|(id, _)| id))
}

/// The frames of a log object, in order, up to the first that fails its
/// checks (a log object is checked whole before it is read, see
/// `check_whole`).
pub(crate) fn frames_of(segment: &Segment) -> Vec<FrameView<'_>> {
    let mut frames = Vec::new();
    let mut offset = SEGMENT_HEADER_LEN;
    while offset < segment.mapped_len() {
        let Ok(frame) = decode_frame(segment.tail(offset)) else {
            break;
        };
        offset += frame.header.frame_len();
        frames.push(frame);
    }
    frames
}

/// Checks a fetched data object: its put frame and its payload's crc32;
/// `Err` says what is wrong.
pub(crate) fn check_data_object(segment: &Segment) -> Result<(), String> {
    let frame = decode_frame(segment.tail(SEGMENT_HEADER_LEN))
        .map_err(|reason| format!("data object frame: {reason}"))?;
    let FrameKind::Put {
        payload_len,
        checksum,
        external: false,
        ..
    } = frame.header.kind
    else {
        return Err("a data object holds something other than a put".into());
    };
    let start = SEGMENT_HEADER_LEN + frame.header.payload_offset();
    let payload = segment
        .bytes(start, payload_len)
        .ok_or("the data object's payload is truncated")?;
    if Checksum::of(payload) != checksum {
        return Err("the data object's payload fails its crc32".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::Codec;

    fn put(payload: &[u8]) -> ChangeFrame<'_> {
        ChangeFrame {
            kind: FrameKind::Put {
                codec: Codec::Raw,
                payload_len: payload.len() as u64,
                checksum: Checksum::of(payload),
                moved: false,
                external: false,
            },
            key: b"key",
            described: b"described",
            payload,
        }
    }

    #[test]
    fn data_object_names_give_their_ids_and_nothing_else_does() {
        let id = new_data_object_id(0x1234);
        assert!(is_data_object(id));
        assert_eq!(
            data_object_id(&format!("p/{}", data_object_name(id))),
            Some(id)
        );
        assert_eq!(data_object_id(&data_object_name(id)), Some(id));
        assert_eq!(data_object_id("p/data/0000000000001234"), None, "bit unset");
        assert_eq!(data_object_id("p/log/8000000000001234"), None);
        assert_eq!(data_object_id("p/data/80000000000012"), None);
    }

    #[test]
    fn an_external_put_names_its_data_object_and_keeps_the_payload_facts() {
        let payload = vec![5u8; 1000];
        let change = put(&payload);
        let id = new_data_object_id(77);
        let described = external_described(id, &change);
        let external = external_put(&change, &described);
        let header = FrameHeader {
            seq: 9,
            kind: external.kind,
            key_len: 3,
            described_len: u32::try_from(described.len()).expect("short"),
        };
        let bytes = header.encode(external.key, external.described);
        assert_eq!(bytes.len() as u64, header.frame_len(), "no payload bytes");
        let frame = decode_frame(&bytes).expect("frame");
        assert_eq!(frame.data_object(), Ok((Some(id), &b"described"[..])));
        assert_eq!(frame.put_version(), Ok((9, &b"described"[..])));
        assert_eq!(referenced_data([frame]).collect::<Vec<_>>(), [id]);
        let FrameKind::Put {
            payload_len,
            checksum,
            external: true,
            ..
        } = frame.header.kind
        else {
            panic!("not an external put: {:?}", frame.header.kind);
        };
        assert_eq!((payload_len, checksum), (1000, Checksum::of(&payload)));
    }

    #[test]
    fn a_data_object_is_a_checked_segment_holding_its_put() {
        let payload = vec![9u8; 100];
        let change = put(&payload);
        let id = new_data_object_id(5);
        let (head, tail) = data_object_framing(id, 42, &change);
        let mut bytes = head;
        bytes.extend_from_slice(&payload);
        bytes.extend_from_slice(&tail);
        assert_eq!(bytes.len() % 64, 0);
        assert_eq!(&bytes[32..40], &42u64.to_le_bytes());
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("data.seg");
        std::fs::write(&path, &bytes).expect("write");
        let Ok(segment) = Segment::open(&path, id) else {
            panic!("a data object is a segment");
        };
        assert_eq!(check_data_object(&segment), Ok(()));
        let frame = decode_frame(segment.tail(SEGMENT_HEADER_LEN)).expect("frame");
        assert_eq!(frame.key, b"key");
        assert_eq!(frame.described, b"described");

        let last = bytes.len() - tail.len() - 1;
        bytes[last] ^= 1;
        std::fs::write(&path, &bytes).expect("write");
        let Ok(damaged) = Segment::open(&path, id) else {
            panic!("still a segment");
        };
        assert!(
            check_data_object(&damaged).is_err(),
            "payload damage is caught"
        );
    }
}
