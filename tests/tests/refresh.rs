//! `Store::refresh`: a read-only store follows the log another handle or
//! process writes. It sees puts and deletes, survives compaction retiring the
//! segments it read without bringing deleted data back, keeps the bytes of
//! blobs it handed out, and never faults on a segment its writer cuts back
//! when sealing it. The model test runs on object storage too.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use tessera_engine::{
    AssetKey, Blob, CompactionOptions, Durability, IndexKind, PartitionKey, Payload, Refresh,
    Store, WriteBatch,
};
use tessera_tests::{Backend, child_command, payload_for, store_backends};

const CHILD_DIR: &str = "TESSERA_REFRESH_DIR";
const CHILD_WRITES: u64 = 40;

fn asset() -> AssetKey {
    AssetKey::new(["follow", "me"]).expect("asset")
}

fn partition(n: u64) -> PartitionKey {
    PartitionKey::new(format!("p{n:03}")).expect("partition")
}

/// A writer with small segments and no background compaction: tests say when
/// compaction runs.
fn writer(dir: &Path) -> Store {
    writer_on(&Backend::Local(IndexKind::default()), dir)
}

/// [`writer`]'s store on `backend`.
fn writer_on(backend: &Backend, dir: &Path) -> Store {
    backend
        .builder(dir, tessera_engine::DEFAULT_CHECKPOINT_EVERY)
        .segment_capacity(8 << 10)
        .durability(Durability::Buffered)
        .compaction(
            CompactionOptions::default()
                .background(false)
                .garbage_ratio(0.0),
        )
        .wait_for_lock(Duration::from_secs(60))
        .open()
        .expect("open writer")
}

fn reader(dir: &Path) -> Store {
    Store::builder(dir).read_only().open().expect("open reader")
}

/// A read-only handle on the store [`writer_on`] opens (on object storage:
/// with its own cache, as on another machine).
fn reader_on(backend: &Backend, dir: &Path) -> Store {
    let dir = if backend.is_remote() {
        dir.join("reader-cache")
    } else {
        dir.to_path_buf()
    };
    backend
        .builder(&dir, tessera_engine::DEFAULT_CHECKPOINT_EVERY)
        .read_only()
        .open()
        .expect("open reader")
}

#[test]
fn a_reader_catches_up_with_another_handles_puts_and_deletes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let writing = writer(dir.path());
    writing
        .put(&asset(), &partition(0), payload_for(0))
        .expect("put");
    let reading = reader(dir.path());
    assert_eq!(reading.refresh().expect("refresh"), Refresh::Unchanged);
    for n in 1..6 {
        writing
            .put(&asset(), &partition(n), payload_for(n))
            .expect("put");
    }
    assert!(reading.get(&asset(), &partition(5)).expect("get").is_none());
    assert_eq!(
        reading.refresh().expect("refresh"),
        Refresh::CaughtUp { batches: 5 }
    );
    for n in 0..6 {
        let blob = reading.get(&asset(), &partition(n)).expect("get");
        assert_eq!(blob.as_deref(), Some(&payload_for(n)[..]));
    }
    assert!(writing.delete(&asset(), &partition(2)).expect("delete"));
    writing
        .put(&asset(), &partition(3), payload_for(33))
        .expect("overwrite");
    reading.refresh().expect("refresh");
    assert!(reading.get(&asset(), &partition(2)).expect("get").is_none());
    assert_eq!(
        reading
            .get(&asset(), &partition(3))
            .expect("get")
            .as_deref(),
        Some(&payload_for(33)[..])
    );
    assert_eq!(reading.list_partitions(&asset()).expect("list").len(), 5);
    assert_eq!(reading.refresh().expect("refresh"), Refresh::Unchanged);
    assert_eq!(writing.refresh().expect("refresh"), Refresh::Unchanged);
}

#[test]
fn a_reader_keeps_its_blobs_and_drops_deleted_data_across_compaction() {
    let dir = tempfile::tempdir().expect("tempdir");
    let writing = writer(dir.path());
    for n in 0..20 {
        writing
            .put(&asset(), &partition(n), payload_for(n))
            .expect("put");
    }
    let reading = reader(dir.path());
    let held: Vec<Blob> = (0..20)
        .map(|n| {
            reading
                .get(&asset(), &partition(n))
                .expect("get")
                .expect("present")
        })
        .collect();
    for n in 0..10 {
        writing.delete(&asset(), &partition(n)).expect("delete");
    }
    for n in 10..15 {
        writing
            .put(&asset(), &partition(n), payload_for(100 + n))
            .expect("overwrite");
    }
    writing.close().expect("close seals the active segment");
    let writing = writer(dir.path());
    let report = writing.compact().expect("compact");
    assert!(report.segments_reclaimed > 0, "{report:?}");
    let refreshed = reading.refresh().expect("refresh");
    assert!(
        matches!(&refreshed, Refresh::Reloaded { reason } if reason.contains("retired")),
        "{refreshed:?}"
    );
    for n in 0..20 {
        let stored = reading.get(&asset(), &partition(n)).expect("get");
        let expected = match n {
            0..10 => None,
            10..15 => Some(payload_for(100 + n)),
            _ => Some(payload_for(n)),
        };
        assert_eq!(stored.as_deref(), expected.as_deref(), "partition {n}");
    }
    for (n, blob) in (0..).zip(&held) {
        assert_eq!(&blob[..], &payload_for(n)[..], "held blob {n}");
    }
}

/// A writer that seals its segment (cuts the preallocated room off at close)
/// under a reader that mapped it at the preallocated length: the reader
/// never touches the cut pages (that would fault with SIGBUS and kill this
/// test), even when the cut falls on a page boundary.
#[test]
fn a_reader_never_reads_past_a_sealed_segments_end() {
    let dir = tempfile::tempdir().expect("tempdir");
    let open_writer = || {
        Store::builder(dir.path())
            .wait_for_lock(Duration::from_secs(60))
            .open()
            .expect("open writer")
    };
    open_writer().close().expect("create");
    let segment = |d: &Path| {
        let mut files: Vec<_> = std::fs::read_dir(d.join("segments"))
            .expect("segments")
            .map(|e| e.expect("entry").path())
            .collect();
        files.sort();
        files.pop().expect("a segment")
    };
    let mut page_aligned_cuts = 0;
    for cycle in 0..300u64 {
        let writing = open_writer();
        let len = 64 * (1 + cycle % 2) as usize;
        writing
            .put(&asset(), &partition(cycle), vec![7u8; len])
            .expect("put");
        let reading = reader(dir.path());
        writing.close().expect("close cuts the segment");
        let sealed = std::fs::metadata(segment(dir.path())).expect("stat").len();
        page_aligned_cuts += u32::from(sealed % 4096 == 0);
        assert_eq!(reading.refresh().expect("refresh"), Refresh::Unchanged);
        let blob = reading.get(&asset(), &partition(cycle)).expect("get");
        assert_eq!(blob.as_deref(), Some(&vec![7u8; len][..]));
        let writing = open_writer();
        writing
            .put(&asset(), &partition(1000 + cycle), vec![8u8; 64])
            .expect("put after reopening the segment");
        writing.close().expect("close");
        assert_eq!(
            reading.refresh().expect("refresh"),
            Refresh::CaughtUp { batches: 1 }
        );
        assert!(
            reading
                .contains(&asset(), &partition(1000 + cycle))
                .expect("contains")
        );
        if page_aligned_cuts >= 2 {
            return;
        }
    }
    panic!("no seal cut the segment on a page boundary");
}

/// A payload damaged in a sealed segment (synced when sealed, so never a
/// torn write) reads as `Corrupted` through a reader, as through the writer;
/// the partitions after it in the segment stay readable.
#[test]
fn a_reader_reads_a_damaged_payload_in_a_sealed_segment_as_corrupted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let writing = writer(dir.path());
    for (n, byte, len) in [(0, b'A', 1000), (1, b'B', 1000), (2, b'C', 7000)] {
        writing
            .put(&asset(), &partition(n), vec![byte; len])
            .expect("put");
    }
    writing.close().expect("close");
    let mut segments: Vec<_> = std::fs::read_dir(dir.path().join("segments"))
        .expect("segments")
        .map(|e| e.expect("entry").path())
        .collect();
    segments.sort();
    assert!(segments.len() >= 2, "the third put started a new segment");
    let mut bytes = std::fs::read(&segments[0]).expect("read");
    let at = bytes
        .windows(100)
        .position(|w| w.iter().all(|&b| b == b'A'))
        .expect("the first payload");
    bytes[at + 10] ^= 0xff;
    std::fs::write(&segments[0], bytes).expect("damage the payload");
    let reading = reader(dir.path());
    assert!(matches!(
        reading.get(&asset(), &partition(0)),
        Err(tessera_engine::Error::Corrupted { .. })
    ));
    assert_eq!(
        reading
            .get(&asset(), &partition(1))
            .expect("get")
            .as_deref(),
        Some(&vec![b'B'; 1000][..])
    );
    assert_eq!(
        reading
            .get(&asset(), &partition(2))
            .expect("get")
            .as_deref(),
        Some(&vec![b'C'; 7000][..])
    );
}

/// Child: `CHILD_WRITES` cycles of open (waiting for the lock) → put →
/// close, as Dagster's step processes do; every fifth cycle deletes the
/// previous partition instead, and every tenth compacts.
#[test]
fn refresh_child_writer() {
    let Ok(dir) = std::env::var(CHILD_DIR) else {
        return;
    };
    for n in 0..CHILD_WRITES {
        let store = writer(Path::new(&dir));
        store
            .put(&asset(), &partition(n), payload_for(n))
            .expect("put");
        if n % 5 == 4 {
            store.delete(&asset(), &partition(n - 1)).expect("delete");
        }
        if n % 10 == 9 {
            store.compact().expect("compact");
        }
        store.close().expect("close");
    }
    println!("CHILD-DONE");
}

#[test]
fn a_reader_follows_a_writer_in_another_process() {
    let dir = tempfile::tempdir().expect("tempdir");
    writer(dir.path()).close().expect("create the store");
    let reading = reader(dir.path());
    let dir_text = dir.path().to_str().expect("utf-8");
    let mut child = child_command("refresh_child_writer", &[(CHILD_DIR, dir_text)])
        .spawn()
        .expect("spawn");
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut last_seen = 0;
    loop {
        reading.refresh().expect("refresh while the writer works");
        let listed = reading.list_partitions(&asset()).expect("list");
        for key in &listed {
            let blob = reading.get(&asset(), key).expect("get").expect("listed");
            let n: u64 = key.as_str().expect("partitioned")[1..]
                .parse()
                .expect("number");
            assert_eq!(&blob[..], &payload_for(n)[..], "partition {n}");
        }
        last_seen = last_seen.max(listed.len());
        let done = child.try_wait().expect("wait").is_some();
        if done {
            break;
        }
        assert!(Instant::now() < deadline, "the writer did not finish");
        std::thread::sleep(Duration::from_millis(5));
    }
    let mut out = String::new();
    child
        .stdout
        .take()
        .expect("stdout")
        .read_to_string(&mut out)
        .expect("read");
    assert!(out.contains("CHILD-DONE"), "child output: {out}");
    reading.refresh().expect("final refresh");
    let expected: Vec<PartitionKey> = (0..CHILD_WRITES)
        .filter(|n| n % 5 != 3)
        .map(partition)
        .collect();
    assert_eq!(reading.list_partitions(&asset()).expect("list"), expected);
    for key in &expected {
        assert!(reading.get(&asset(), key).expect("get").is_some());
    }
    assert!(last_seen > 0, "the reader saw writes while they happened");
}

#[derive(Debug, Clone)]
enum Step {
    Put(u64, u64),
    Delete(u64),
    Batch(Vec<(u64, Option<u64>)>),
    Compact,
    ReopenWriter,
    Refresh,
    RefreshHolding,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        5 => (0..12u64, 0..1000u64).prop_map(|(k, v)| Step::Put(k, v)),
        2 => (0..12u64).prop_map(Step::Delete),
        2 => prop::collection::vec((0..12u64, prop::option::of(0..1000u64)), 1..5)
            .prop_map(Step::Batch),
        2 => Just(Step::Compact),
        1 => Just(Step::ReopenWriter),
        3 => Just(Step::Refresh),
        1 => Just(Step::RefreshHolding),
    ]
}

type Model = BTreeMap<u64, u64>;

/// The reader's whole view equals the model: every partition's bytes, the
/// listing, and nothing else.
fn check_view(reading: &Store, model: &Model) {
    let listed = reading.list_partitions(&asset()).expect("list");
    let expected: Vec<PartitionKey> = model.keys().map(|&k| partition(k)).collect();
    assert_eq!(listed, expected);
    for key in 0..12 {
        let stored = reading.get(&asset(), &partition(key)).expect("get");
        let wanted = model.get(&key).map(|&v| payload_for(v));
        assert_eq!(stored.as_deref(), wanted.as_deref(), "partition {key}");
    }
}

fn apply(writing: &mut Store, model: &mut Model, step: &Step, backend: &Backend, dir: &Path) {
    match step {
        Step::Put(key, value) => {
            writing
                .put(
                    &asset(),
                    &partition(*key),
                    Payload::raw(payload_for(*value)),
                )
                .expect("put");
            model.insert(*key, *value);
        }
        Step::Delete(key) => {
            writing.delete(&asset(), &partition(*key)).expect("delete");
            model.remove(key);
        }
        Step::Batch(changes) => {
            let mut batch = WriteBatch::new();
            for (key, value) in changes {
                match value {
                    Some(value) => {
                        batch.put(&asset(), &partition(*key), payload_for(*value));
                        model.insert(*key, *value);
                    }
                    None => {
                        batch.delete(&asset(), &partition(*key));
                        model.remove(key);
                    }
                }
            }
            writing.write(batch).expect("batch");
        }
        Step::Compact => {
            writing.compact().expect("compact");
        }
        Step::ReopenWriter => {
            let closed = std::mem::replace(writing, reader_on(backend, dir));
            closed.close().expect("close");
            *writing = writer_on(backend, dir);
        }
        Step::Refresh | Step::RefreshHolding => {}
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn a_refreshed_reader_matches_the_writers_model(steps in prop::collection::vec(step(), 1..60)) {
        for backend in store_backends() {
            follow_the_model(&backend, &steps);
        }
    }
}

/// Runs `steps` through a writer, refreshing a reader where they say, and
/// checks the reader's view (and the bytes of the blobs it handed out)
/// against the model.
fn follow_the_model(backend: &Backend, steps: &[Step]) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut writing = writer_on(backend, dir.path());
    let reading = reader_on(backend, dir.path());
    let mut model = Model::new();
    let mut held: Vec<(Blob, u64)> = Vec::new();
    for step in steps {
        apply(&mut writing, &mut model, step, backend, dir.path());
        if matches!(step, Step::Refresh | Step::RefreshHolding) {
            reading.refresh().expect("refresh");
            check_view(&reading, &model);
            if matches!(step, Step::RefreshHolding) {
                for (&key, &value) in &model {
                    let blob = reading
                        .get(&asset(), &partition(key))
                        .expect("get")
                        .expect("present");
                    held.push((blob, value));
                }
            }
        }
    }
    reading.refresh().expect("refresh");
    check_view(&reading, &model);
    for (blob, value) in &held {
        assert_eq!(&blob[..], &payload_for(*value)[..], "{backend:?}");
    }
    assert_eq!(reading.refresh().expect("refresh"), Refresh::Unchanged);
    let fresh = reader_on(backend, dir.path());
    check_view(&fresh, &model);
}
