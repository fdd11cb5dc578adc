//! A read never returns bytes other than the ones written: with one bit of a
//! frame (its header, key, described bytes or payload) flipped in a sealed
//! segment, reading that partition gives its exact bytes or
//! `Error::Corrupted`, with checksums on (where the read skips the frame
//! header's own crc32 and relies on comparing it with the index record and
//! on the payload's crc32) and off (where the frame header's crc32 is the
//! check; payload bytes are then not checked, by design, so only the frame
//! header, key and described bytes are flipped).

use std::fs::OpenOptions;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use tessera_engine::{AssetKey, Error, PartitionKey, Store};
use tessera_tests::payload_for;

/// Where the first frame of a segment starts (after the segment header).
const FIRST_FRAME: u64 = 64;
/// The frame header's length; the key and described bytes follow it.
const FRAME_HEADER: u64 = 40;

fn asset() -> AssetKey {
    AssetKey::new(["fault", "frames"]).expect("asset")
}

fn partition(n: u64) -> PartitionKey {
    PartitionKey::new(format!("2024-01-{:02}", n + 1)).expect("partition")
}

/// A store of a few 300-byte partitions in 4 KiB segments; the first
/// segment file (sealed) holds partition 0's frame first.
fn written(dir: &Path) -> PathBuf {
    let store = Store::builder(dir)
        .segment_capacity(4 << 10)
        .open()
        .expect("open");
    for n in 0..30 {
        let mut value = payload_for(n);
        value.resize(300, 7);
        store.put(&asset(), &partition(n), value).expect("put");
    }
    store.close().expect("close");
    let mut segments: Vec<PathBuf> = std::fs::read_dir(dir.join("segments"))
        .expect("segments")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "seg"))
        .collect();
    segments.sort();
    assert!(segments.len() > 1, "the first segment is sealed");
    segments.swap_remove(0)
}

/// Flips each bit of `range` in `segment` in turn, reading partition 0
/// through `store` (which maps the segment) after each flip.
fn flip_each_bit(store: &Store, segment: &Path, range: std::ops::Range<u64>) -> (u32, u32) {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(segment)
        .expect("open the segment");
    let mut expected = payload_for(0);
    expected.resize(300, 7);
    let (mut exact, mut refused) = (0, 0);
    for at in range {
        let mut byte = [0u8];
        file.read_exact_at(&mut byte, at).expect("read a byte");
        for bit in 0..8 {
            file.write_all_at(&[byte[0] ^ (1 << bit)], at)
                .expect("flip a bit");
            match store.get(&asset(), &partition(0)) {
                Ok(Some(blob)) => {
                    assert_eq!(&*blob, expected.as_slice(), "bit {bit} of byte {at}");
                    exact += 1;
                }
                Err(Error::Corrupted { .. }) => refused += 1,
                other => panic!("bit {bit} of byte {at}: {other:?}"),
            }
        }
        file.write_all_at(&byte, at).expect("restore the byte");
    }
    (exact, refused)
}

#[test]
fn a_flipped_bit_in_a_frame_reads_exactly_or_as_corrupted_with_checksums_on() {
    let dir = tempfile::tempdir().expect("tempdir");
    let segment = written(dir.path());
    let store = Store::open(dir.path()).expect("reopen");
    let frame_and_payload = FIRST_FRAME..FIRST_FRAME + FRAME_HEADER + 400;
    let (_, refused) = flip_each_bit(&store, &segment, frame_and_payload);
    assert!(
        refused > 300 * 8,
        "every payload flip is refused: {refused}"
    );
}

#[test]
fn a_flipped_bit_in_a_frame_header_reads_exactly_or_as_corrupted_with_checksums_off() {
    let dir = tempfile::tempdir().expect("tempdir");
    let segment = written(dir.path());
    let store = Store::builder(dir.path())
        .verify_checksums(false)
        .open()
        .expect("reopen");
    let key_len = asset().to_string().len() + partition(0).to_string().len();
    let header_and_key = FIRST_FRAME..FIRST_FRAME + FRAME_HEADER + key_len as u64;
    let (_, refused) = flip_each_bit(&store, &segment, header_and_key);
    assert!(refused > 0);
}
