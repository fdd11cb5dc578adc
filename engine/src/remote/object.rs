//! The objects of a store on object storage: names and encodings.

use crate::format::{EXTERNAL_PAYLOAD_FORMAT, FORMAT_VERSION};
use crate::log::{FRAME_HEADER_LEN, FrameHeader, FrameKind, align64, is_data_object};
use crate::segment::{ChangeFrame, SEGMENT_HEADER_LEN, encode_header_version};

/// The name (under the store's prefix) of log object `id`.
pub(crate) fn log_object_name(id: u64) -> String {
    format!("log/{id:020}")
}

/// The name of the object holding segment `id`: a data object or a log
/// object.
pub(crate) fn object_name(id: u64) -> String {
    if is_data_object(id) {
        super::data::data_object_name(id)
    } else {
        log_object_name(id)
    }
}

/// The number of the log object a listed name (prefix included) gives, if
/// it names one.
pub(crate) fn log_object_id(name: &str) -> Option<u64> {
    let (rest, id) = name.rsplit_once('/')?;
    let is_log = rest == "log" || rest.ends_with("/log");
    (is_log && id.len() == 20 && id.bytes().all(|b| b.is_ascii_digit()))
        .then(|| id.parse().ok())
        .flatten()
}

/// The name (under the store's prefix) of the object naming the store.
pub(crate) const FORMAT_OBJECT: &str = "FORMAT";

/// The bytes of the `FORMAT` object of a new store with id `store_id`.
pub(crate) fn format_bytes(store_id: &str) -> Vec<u8> {
    format!("tessera object store\nformat {FORMAT_VERSION}\nid {store_id}\n").into_bytes()
}

/// The format version and store id a `FORMAT` object records; `Err` says
/// what is wrong with it.
pub(crate) fn parse_format(bytes: &[u8]) -> Result<(u32, String), String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "FORMAT is not UTF-8".to_owned())?;
    let mut lines = text.lines();
    if lines.next() != Some("tessera object store") {
        return Err("FORMAT does not name a Tessera object store".into());
    }
    let version = lines
        .next()
        .and_then(|l| l.strip_prefix("format "))
        .and_then(|v| v.parse().ok())
        .ok_or("FORMAT lacks its format version")?;
    let id = lines
        .next()
        .and_then(|l| l.strip_prefix("id "))
        .filter(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric()))
        .ok_or("FORMAT lacks a valid store id")?;
    Ok((version, id.to_owned()))
}

/// Encodes batches as log object `id` from writer handle `writer`: a segment
/// header (format version 4 if the object holds an external put, see
/// [`crate::remote`]), then each batch's change frames and commit frame, numbered on from
/// `first_seq`, each payload 64-byte aligned.
///
/// The writer's id goes in bytes 32..40 of the header (zeros in a local
/// segment, which no reader checks): two writers' objects are never
/// byte-identical, so a writer that reads a taken object back to learn
/// whether its create landed never mistakes another writer's identical batch
/// (a delete of the same keys at the same place in the log) for its own.
pub(crate) fn encode_log_object(
    id: u64,
    writer: u64,
    first_seq: u64,
    batches: &[&[ChangeFrame<'_>]],
) -> Vec<u8> {
    let frames: u64 = batches
        .iter()
        .flat_map(|batch| batch.iter())
        .map(|change| header(0, change).frame_len())
        .sum();
    let total = SEGMENT_HEADER_LEN + frames + FRAME_HEADER_LEN * batches.len() as u64;
    let mut out = Vec::with_capacity(usize::try_from(total).unwrap_or(0));
    let external = batches
        .iter()
        .flat_map(|batch| batch.iter())
        .any(|change| matches!(change.kind, FrameKind::Put { external: true, .. }));
    let version = if external {
        EXTERNAL_PAYLOAD_FORMAT
    } else {
        FORMAT_VERSION
    };
    out.extend_from_slice(&encode_header_version(id, version));
    out[32..40].copy_from_slice(&writer.to_le_bytes());
    let mut seq = first_seq;
    for changes in batches {
        encode_batch(seq, changes, &mut out);
        seq += changes.len() as u64 + 1;
    }
    out
}

fn header(seq: u64, change: &ChangeFrame<'_>) -> FrameHeader {
    FrameHeader {
        seq,
        kind: change.kind,
        key_len: u32::try_from(change.key.len()).unwrap_or(u32::MAX),
        described_len: u32::try_from(change.described.len()).unwrap_or(u32::MAX),
    }
}

/// Appends one batch's change frames, numbered from `first_seq`, and its
/// commit frame.
fn encode_batch(first_seq: u64, changes: &[ChangeFrame<'_>], out: &mut Vec<u8>) {
    for (change, seq) in changes.iter().zip(first_seq..) {
        let frame = header(seq, change);
        frame.encode_into(change.key, change.described, out);
        out.extend_from_slice(change.payload);
        let padded = align64(change.payload.len() as u64) - change.payload.len() as u64;
        out.resize(out.len() + padded as usize, 0);
    }
    let commit = FrameHeader {
        seq: first_seq + changes.len() as u64,
        kind: FrameKind::Commit {
            first_seq,
            changes: u32::try_from(changes.len()).unwrap_or(u32::MAX),
        },
        key_len: 0,
        described_len: 0,
    };
    commit.encode_into(&[], &[], out);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listed_log_object_names_give_their_numbers() {
        assert_eq!(
            log_object_id(&format!("a/b/{}", log_object_name(42))),
            Some(42)
        );
        assert_eq!(log_object_id(&log_object_name(7)), Some(7));
        assert_eq!(log_object_id("a/log/123"), None);
        assert_eq!(log_object_id("a/checkpoint/00000000000000000001"), None);
        assert_eq!(log_object_id("a/log/0000000000000000000x"), None);
    }

    #[test]
    fn format_round_trips_and_rejects_foreign_bytes() {
        let bytes = format_bytes("abc123");
        assert_eq!(parse_format(&bytes), Ok((FORMAT_VERSION, "abc123".into())));
        assert!(parse_format(b"something else\n").is_err());
        assert!(parse_format(b"tessera object store\nformat 1\nid ../x\n").is_err());
    }

    #[test]
    fn log_object_is_a_segment_with_its_batch() {
        let changes = [ChangeFrame {
            kind: FrameKind::Delete { carried: false },
            key: b"k",
            described: &[],
            payload: &[],
        }];
        let bytes = encode_log_object(7, 99, 40, &[&changes]);
        assert_eq!(&bytes[32..40], &99u64.to_le_bytes());
        assert_ne!(
            bytes,
            encode_log_object(7, 98, 40, &[&changes]),
            "writers differ"
        );
        assert_eq!(
            bytes.len() as u64,
            SEGMENT_HEADER_LEN + 2 * FRAME_HEADER_LEN + 64
        );
        assert_eq!(&bytes[..16], b"TESSERA SEGMENT\0");
        assert_eq!(
            u64::from_le_bytes(bytes[20..28].try_into().expect("8 bytes")),
            7
        );
        let first = crate::log::decode_frame(&bytes[64..]).expect("change frame");
        assert_eq!(first.header.seq, 40);
        let commit = crate::log::decode_frame(&bytes[192..]).expect("commit frame");
        assert_eq!(
            commit.header.kind,
            FrameKind::Commit {
                first_seq: 40,
                changes: 1
            }
        );
    }
}
