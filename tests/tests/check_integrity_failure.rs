//! Damage on disk never yields wrong data: a flipped payload or frame byte, a
//! truncated segment, a garbled index or a foreign file either makes the store
//! report `Corrupted` for exactly the damaged partitions, or refuse to open with
//! a clear error. Nothing panics.

use std::fs::OpenOptions;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use tessera_engine::{AssetKey, Codec, Error, IndexKind, PartitionKey, Payload, Store};
use tessera_tests::{backends, payload_for};

const PARTITIONS: u64 = 20;

fn asset() -> AssetKey {
    AssetKey::new(["integrity"]).expect("valid asset")
}

fn key(n: u64) -> PartitionKey {
    PartitionKey::new(format!("p{n:03}")).expect("valid partition")
}

fn segment_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(dir.join("segments"))
        .expect("segments dir")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    files
}

/// Writes the partitions, closes the store, and returns each payload's offset
/// within the single segment file.
fn populate(dir: &Path, kind: IndexKind) -> Vec<u64> {
    let store = Store::builder(dir).index(kind).open().expect("open");
    for n in 0..PARTITIONS {
        store.put(&asset(), &key(n), payload_for(n)).expect("put");
    }
    drop(store);
    let segment = std::fs::read(&segment_files(dir)[0]).expect("read segment");
    (0..PARTITIONS)
        .map(|n| {
            let payload = payload_for(n);
            let at = segment
                .windows(payload.len().min(64))
                .position(|w| w == &payload[..payload.len().min(64)]);
            at.expect("payload found in segment") as u64
        })
        .collect()
}

fn flip_byte(path: &Path, offset: u64) {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .expect("open file");
    let mut byte = [0u8];
    file.read_exact_at(&mut byte, offset).expect("read byte");
    file.write_all_at(&[byte[0] ^ 0x5A], offset)
        .expect("write byte");
}

fn damaged_partitions(store: &Store) -> Vec<PartitionKey> {
    let mut damaged = Vec::new();
    for n in 0..PARTITIONS {
        match store.get(&asset(), &key(n)) {
            Ok(Some(blob)) => assert_eq!(
                &*blob,
                payload_for(n).as_slice(),
                "partition {n} returned wrong data"
            ),
            Ok(None) => panic!("partition {n} vanished"),
            Err(Error::Corrupted { partition, .. }) => damaged.push(partition),
            Err(other) => panic!("unexpected error for {n}: {other}"),
        }
    }
    damaged
}

#[test]
fn flipped_payload_byte_is_reported_for_that_partition_only() {
    for kind in backends() {
        let dir = tempfile::tempdir().expect("tempdir");
        let offsets = populate(dir.path(), kind);
        let segment = &segment_files(dir.path())[0];
        flip_byte(segment, offsets[7] + 3);
        let store = Store::builder(dir.path())
            .index(kind)
            .open()
            .expect("opens despite damage");
        assert_eq!(damaged_partitions(&store), vec![key(7)]);
        let report = store.verify().expect("verify");
        assert_eq!(report.checked, PARTITIONS);
        let reported: Vec<_> = report.damaged.iter().map(|d| d.partition.clone()).collect();
        assert_eq!(reported, vec![Some(key(7))]);
    }
}

#[test]
fn flipped_frame_header_byte_is_reported_even_without_checksums() {
    let dir = tempfile::tempdir().expect("tempdir");
    let offsets = populate(dir.path(), IndexKind::Sled);
    let segment = &segment_files(dir.path())[0];
    // The frame header starts 128 bytes before the payload (64-byte header plus
    // the key, padded to 64).
    flip_byte(segment, offsets[3] - 128 + 9);
    let store = Store::builder(dir.path())
        .verify_checksums(false)
        .open()
        .expect("open");
    assert_eq!(damaged_partitions(&store), vec![key(3)]);
}

#[test]
fn truncated_segment_reports_the_cut_partitions() {
    for kind in backends() {
        let dir = tempfile::tempdir().expect("tempdir");
        let offsets = populate(dir.path(), kind);
        let segment = &segment_files(dir.path())[0];
        let cut = offsets[12] + 10;
        OpenOptions::new()
            .write(true)
            .open(segment)
            .expect("open")
            .set_len(cut)
            .expect("truncate");
        let store = Store::builder(dir.path())
            .index(kind)
            .open()
            .expect("opens despite truncation");
        let expected: Vec<_> = (12..PARTITIONS).map(key).collect();
        assert_eq!(damaged_partitions(&store), expected);
    }
}

#[test]
fn segment_cut_inside_its_header_is_quarantined() {
    for kind in backends() {
        let dir = tempfile::tempdir().expect("tempdir");
        populate(dir.path(), kind);
        let segment = &segment_files(dir.path())[0];
        OpenOptions::new()
            .write(true)
            .open(segment)
            .expect("open")
            .set_len(30)
            .expect("truncate");
        let store = Store::builder(dir.path())
            .index(kind)
            .open()
            .expect("opens with the segment quarantined");
        assert_eq!(store.recovery().quarantined.len(), 1);
        assert_eq!(&store.recovery().quarantined[0].path, segment);
        let all: Vec<_> = (0..PARTITIONS).map(key).collect();
        assert_eq!(damaged_partitions(&store), all, "{kind}");
        let report = store.verify().expect("verify");
        assert!(!report.is_ok());
        assert_eq!(report.quarantined.len(), 1);
        store.put(&asset(), &key(0), payload_for(0)).expect("put");
        drop(store);
        let reopened = Store::builder(dir.path())
            .index(kind)
            .open()
            .expect("reopen");
        let blob = reopened
            .get(&asset(), &key(0))
            .expect("get")
            .expect("present");
        assert_eq!(&*blob, payload_for(0).as_slice(), "a new segment id");
    }
}

#[test]
fn stray_files_are_ignored_and_reported_and_a_foreign_format_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    populate(dir.path(), IndexKind::Sled);
    let stray = dir.path().join("segments").join(".DS_Store");
    std::fs::write(&stray, "hello").expect("write");
    let store = Store::open(dir.path()).expect("a stray file does not stop the open");
    assert_eq!(store.recovery().stray_files, vec![stray.clone()]);
    assert!(damaged_partitions(&store).is_empty());
    assert_eq!(
        store.verify().expect("verify").stray_files,
        vec![stray.clone()]
    );
    drop(store);
    std::fs::remove_file(&stray).expect("remove");
    std::fs::write(dir.path().join("FORMAT"), "not a format file").expect("write");
    assert!(matches!(
        Store::open(dir.path()),
        Err(Error::ForeignFile { .. })
    ));
}

/// Garbling the index (every 97th byte of every index file) must never produce
/// wrong data: either the open fails with an error, or every read is correct
/// or reported as damage.
#[test]
fn garbled_index_never_yields_wrong_data() {
    for kind in backends() {
        let dir = tempfile::tempdir().expect("tempdir");
        populate(dir.path(), kind);
        for entry in walk(&dir.path().join("index")) {
            let len = std::fs::metadata(&entry).expect("stat").len();
            for offset in (64..len).step_by(97) {
                flip_byte(&entry, offset);
            }
        }
        let outcome = std::panic::catch_unwind(|| check_garbled(dir.path(), kind));
        assert!(
            outcome.is_ok(),
            "{kind}: a garbled index made the engine panic"
        );
    }
}

fn check_garbled(dir: &Path, kind: IndexKind) {
    let Ok(store) = Store::builder(dir).index(kind).open() else {
        return;
    };
    for n in 0..PARTITIONS {
        if let Ok(Some(blob)) = store.get(&asset(), &key(n)) {
            assert_eq!(
                &*blob,
                payload_for(n).as_slice(),
                "{kind}: wrong data for {n}"
            );
        }
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

#[test]
fn codec_mismatch_and_invalid_archives_are_typed_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path()).expect("open");
    let raw = key(1);
    store
        .put(&asset(), &raw, &b"not an archive"[..])
        .expect("put");
    let blob = store.get(&asset(), &raw).expect("get").expect("present");
    assert!(matches!(
        blob.rkyv::<u64>(),
        Err(Error::CodecMismatch {
            expected: Codec::Rkyv,
            found: Codec::Raw,
            ..
        })
    ));
    assert!(matches!(blob.arrow(), Err(Error::CodecMismatch { .. })));
    let fake = key(2);
    store
        .put(&asset(), &fake, Payload::encoded(Codec::Rkyv, &b"xyz"[..]))
        .expect("put");
    let blob = store.get(&asset(), &fake).expect("get").expect("present");
    assert!(matches!(
        blob.rkyv::<Vec<String>>(),
        Err(Error::InvalidArchive { .. })
    ));
    let fake_arrow = key(3);
    store
        .put(
            &asset(),
            &fake_arrow,
            Payload::encoded(Codec::ArrowIpc, vec![0xAB; 300]),
        )
        .expect("put");
    let blob = store
        .get(&asset(), &fake_arrow)
        .expect("get")
        .expect("present");
    assert!(matches!(blob.arrow(), Err(Error::ArrowDecode { .. })));
}
