//! Large Arrow partitions are encoded straight into the segment
//! (`Store::put_arrow`, `WriteBatch::put_arrow`): the stored payload is the
//! IPC file `Payload::arrow` makes, byte for byte, readable by arrow-ipc's
//! `FileReader`; a write failing in the middle of its stream (an injected
//! `write_at` error, with or without a partial write) leaves no visible trace,
//! the store stays usable, and it reopens clean with every acknowledged value;
//! and a power loss at any instant of a streamed write leaves the old value
//! or the new one.

use std::io::Cursor;
use std::sync::Arc;

use arrow_array::{Float64Array, Int64Array, RecordBatch, StringArray};
use arrow_ipc::reader::FileReader;
use arrow_schema::{DataType, Field, Schema};
use tessera_engine::{
    ArrowPayload, AssetKey, Durability, Error, PartitionKey, Payload, Store, WriteBatch,
};
use tessera_tests::power_loss::{Fault, FaultError, IndexChoice, OpKind, RecordingFileIo};
use tessera_tests::{backends, store_backends};

fn asset() -> AssetKey {
    AssetKey::new(["streamed", "arrow"]).expect("asset")
}

fn key(name: &str) -> PartitionKey {
    PartitionKey::new(name).expect("partition")
}

/// A batch of about `rows * 30` bytes: integers, nullable floats, strings.
fn batch(rows: usize, seed: i64) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("value", DataType::Float64, true),
        Field::new("station", DataType::Utf8, false),
    ]));
    let ids = Int64Array::from_iter_values((0..rows as i64).map(|i| i * 7 + seed));
    let values = Float64Array::from_iter(
        (0..rows).map(|i| (i % 10 != 0).then_some(i as f64 * 0.5 + seed as f64)),
    );
    let stations = StringArray::from_iter_values((0..rows).map(|i| format!("st-{}", i % 97)));
    RecordBatch::try_new(
        schema,
        vec![Arc::new(ids), Arc::new(values), Arc::new(stations)],
    )
    .expect("batch")
}

/// The batches arrow-ipc's own reader finds in `file`.
fn read_with_arrow_ipc(file: &[u8]) -> Vec<RecordBatch> {
    FileReader::try_new(Cursor::new(file.to_vec()), None)
        .expect("arrow-ipc opens the stored file")
        .collect::<Result<Vec<_>, _>>()
        .expect("arrow-ipc reads every batch")
}

fn assert_same_columns(read: &[RecordBatch], written: &[RecordBatch], what: &str) {
    assert_eq!(read.len(), written.len(), "{what}: number of batches");
    for (r, w) in read.iter().zip(written) {
        assert_eq!(r.columns(), w.columns(), "{what}: columns");
    }
}

#[test]
fn a_streamed_write_stores_the_file_payload_arrow_encodes() {
    for index in backends() {
        for durability in [Durability::Immediate, Durability::Buffered] {
            let what = format!("{index:?} {durability:?}");
            let dir = tempfile::tempdir().expect("tempdir");
            let store = Store::builder(dir.path())
                .index(index)
                .durability(durability)
                .segment_capacity(8 << 20)
                .open()
                .expect("open");
            // 3 MiB and more: streamed; two of them overflow a segment.
            let written = [
                vec![batch(100_000, 1)],
                vec![batch(60_000, 2), batch(50_000, 3)],
                vec![batch(200_000, 4)],
            ];
            for (n, batches) in written.iter().enumerate() {
                store
                    .put_arrow(&asset(), &key(&format!("p{n}")), batches)
                    .expect("put");
            }
            let mut both = WriteBatch::new();
            both.put_arrow(&asset(), &key("b0"), &written[0])
                .expect("batch put")
                .put(&asset(), &key("b1"), &b"small raw"[..]);
            store.write(both).expect("batch write");
            drop(store);
            let store = Store::builder(dir.path())
                .index(index)
                .open()
                .expect("reopen");
            for (n, batches) in written.iter().enumerate() {
                let blob = store
                    .get(&asset(), &key(&format!("p{n}")))
                    .expect("get")
                    .expect("present");
                let expected = Payload::arrow(batches).expect("encode");
                assert_eq!(&blob[..], expected.bytes(), "{what}: p{n} bytes");
                assert_same_columns(&read_with_arrow_ipc(&blob[..]), batches, &what);
                assert_eq!(blob.arrow().expect("decode").batches, *batches, "{what}");
            }
            let b0 = store.get(&asset(), &key("b0")).expect("get").expect("b0");
            assert_same_columns(&read_with_arrow_ipc(&b0[..]), &written[0], &what);
            let b1 = store.get(&asset(), &key("b1")).expect("get").expect("b1");
            assert_eq!(&b1[..], b"small raw");
            let report = store.verify().expect("verify");
            assert!(report.is_ok(), "{what}: {:?}", report.damaged);
        }
    }
}

fn is_injected(error: &Error) -> bool {
    let expected = FaultError::EIO.to_io_error();
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = source {
        if let Some(io) = current.downcast_ref::<std::io::Error>() {
            return io.raw_os_error() == expected.raw_os_error();
        }
        source = current.source();
    }
    false
}

/// Fails each `write_at` call of a streamed put in turn (whole, then after
/// a partial write): the put returns the error, readers keep the old value,
/// later writes succeed, and the reopened store holds exactly the
/// acknowledged values and passes `verify`.
#[test]
fn a_write_failing_mid_stream_leaves_no_partial_value() {
    let old = vec![batch(40_000, 10)];
    let new = vec![batch(40_000, 20), batch(30_000, 21)];
    for index in backends() {
        for prefix in [0, 100_000] {
            let root = tempfile::tempdir().expect("tempdir");
            let dir = root.path().join("store");
            let recorder = Arc::new(RecordingFileIo::new(root.path()).expect("recorder"));
            let store = Store::builder(&dir)
                .index(index)
                .durability(Durability::Immediate)
                .file_io(Arc::clone(&recorder) as Arc<dyn tessera_engine::io::FileIo>)
                .open()
                .expect("open");
            store.put_arrow(&asset(), &key("day"), &old).expect("old");
            let before = recorder.calls(OpKind::WriteAt);
            store
                .put_arrow(&asset(), &key("probe"), &new)
                .expect("probe");
            let per_put = recorder.calls(OpKind::WriteAt) - before;
            assert!(per_put >= 2, "a streamed put makes {per_put} writes");
            let mut acked = 0;
            for n in 1..=per_put {
                let what = format!("{index:?} write {n} of {per_put}, prefix {prefix}");
                recorder.inject(
                    Fault::new(OpKind::WriteAt, n, FaultError::EIO).with_written_prefix(prefix),
                );
                let error = store
                    .put_arrow(&asset(), &key("day"), &new)
                    .expect_err(&what);
                assert!(is_injected(&error), "{what}: {error:?}");
                assert_eq!(recorder.armed_faults(), 0, "{what}: the fault fired");
                let seen = store.get_arrow(&asset(), &key("day")).expect("get");
                assert_eq!(
                    seen.expect("day").batches,
                    old,
                    "{what}: partial value seen"
                );
                // The store takes writes again at once.
                store
                    .put_arrow(&asset(), &key(&format!("after-{n}")), &old)
                    .expect("a write after the failed one");
                acked += 1;
            }
            drop(store);
            let store = Store::builder(&dir).index(index).open().expect("reopen");
            let day = store.get_arrow(&asset(), &key("day")).expect("get");
            assert_eq!(
                day.expect("day").batches,
                old,
                "{index:?}: day after reopen"
            );
            for n in 1..=acked {
                let after = store
                    .get_arrow(&asset(), &key(&format!("after-{n}")))
                    .expect("get");
                assert_eq!(after.expect("after").batches, old, "{index:?}: after-{n}");
            }
            let report = store.verify().expect("verify");
            assert!(
                report.is_ok(),
                "{index:?}: verify after reopen: {:?} {:?}",
                report.damaged,
                report.index_mismatches
            );
        }
    }
}

/// A power loss at any instant of two streamed `Immediate` overwrites leaves
/// a store that opens and holds, for the key, the value of the last
/// acknowledged write or of the one in flight, bit-identical, never a mix.
#[test]
fn streamed_overwrites_survive_power_loss_at_every_event() {
    let values = [
        vec![batch(30_000, 30)],
        vec![batch(30_000, 31), batch(20_000, 32)],
        vec![batch(50_000, 33)],
    ];
    for index in backends() {
        let root = tempfile::tempdir().expect("tempdir");
        let dir = root.path().join("store");
        let recorder = Arc::new(RecordingFileIo::new(root.path()).expect("recorder"));
        // Small segments keep each crash image small.
        let store = Store::builder(&dir)
            .index(index)
            .durability(Durability::Immediate)
            .segment_capacity(4 << 20)
            .file_io(Arc::clone(&recorder) as Arc<dyn tessera_engine::io::FileIo>)
            .open()
            .expect("open");
        // The event count when each value was acknowledged.
        let mut acked_at = Vec::new();
        for value in &values {
            store.put_arrow(&asset(), &key("day"), value).expect("put");
            acked_at.push(recorder.events_len());
        }
        drop(store);
        let history = recorder.history();
        let mut checked = 0;
        for at_event in acked_at[0]..=history.len() {
            for seed in 0..2 {
                let image_dir = tempfile::tempdir().expect("image dir");
                history
                    .crash_image(at_event, seed, IndexChoice::Random, image_dir.path())
                    .expect("crash image");
                let what = format!("{index:?} crash at event {at_event}, seed {seed}");
                let store = Store::builder(image_dir.path().join("store"))
                    .index(index)
                    .open()
                    .unwrap_or_else(|e| panic!("{what}: open: {e}"));
                let last_acked = acked_at
                    .iter()
                    .rposition(|&at| at <= at_event)
                    .expect("acked");
                let found = store
                    .get_arrow(&asset(), &key("day"))
                    .unwrap_or_else(|e| panic!("{what}: read: {e}"))
                    .unwrap_or_else(|| panic!("{what}: an acknowledged value is gone"))
                    .batches;
                let allowed = &values[last_acked..(last_acked + 2).min(values.len())];
                assert!(
                    allowed.contains(&found),
                    "{what}: the value read is neither the acknowledged one nor the next"
                );
                let report = store.verify().expect("verify");
                assert!(report.is_ok(), "{what}: verify: {:?}", report.damaged);
                checked += 1;
            }
        }
        assert!(checked > 10, "{index:?}: only {checked} crash images");
    }
}

#[test]
fn an_arrow_payload_knows_its_stored_length_and_keeps_its_metadata() {
    // Local stores stream the large payload; on object storage it is encoded
    // into the log object, with the same metadata.
    for backend in store_backends() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = backend.open(dir.path(), 1_000);
        // 10 rows: encoded at once; 100,000 rows (about 3 MiB): streamed.
        for (rows, streamed) in [(10, false), (100_000, true)] {
            let written = vec![batch(rows, 5)];
            let payload = ArrowPayload::new(&written)
                .expect("payload")
                .with_metadata("dagster/row_count", rows.to_string())
                .with_data_version("v7");
            assert_eq!(payload.is_streamed(), streamed, "{backend:?}, {rows} rows");
            let len = payload.len();
            let partition = key(&format!("rows-{rows}"));
            let mut batch = WriteBatch::new();
            batch.put_arrow_payload(&asset(), &partition, payload);
            store.write(batch).expect("write");
            let blob = store
                .get(&asset(), &partition)
                .expect("get")
                .expect("stored");
            assert_eq!(blob.len() as u64, len, "{rows} rows: stored length");
            let encoded = Payload::arrow(&written).expect("encode");
            assert_eq!(&blob[..], encoded.bytes(), "{rows} rows: same file");
            let meta = store
                .meta(&asset(), &partition)
                .expect("meta")
                .expect("meta");
            assert_eq!(meta.data_version.as_deref(), Some("v7"));
            assert_eq!(
                meta.metadata.get("dagster/row_count"),
                Some(&rows.to_string())
            );
        }
    }
}
