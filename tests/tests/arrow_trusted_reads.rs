//! Arrow reads skip arrow-ipc's validation only where it is redundant: on a
//! payload that Tessera's own writer encoded and whose crc32 the read has just
//! verified. Damaged bytes never reach the decoder while checksums are on
//! (`Corrupted` comes first); with checksums off the decoder validates and
//! rejects them. Marked bytes from anywhere else are validated before a store
//! accepts them. Projections decode only the columns asked for.

use std::fs::OpenOptions;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::Arc;

use arrow_array::{Array, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use tessera_engine::{AssetKey, Codec, Error, PartitionKey, Payload, Store};

fn asset() -> AssetKey {
    AssetKey::new(["weather", "observations"]).expect("valid asset")
}

fn day() -> PartitionKey {
    PartitionKey::new("2022-07-23").expect("valid partition")
}

fn batch(rows: usize) -> RecordBatch {
    let schema = Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("value", DataType::Float64, false),
        Field::new("label", DataType::Utf8, false),
    ])
    .with_metadata([("source".to_owned(), "station-7".to_owned())]);
    RecordBatch::try_new(
        Arc::new(schema),
        vec![
            Arc::new(Int64Array::from_iter_values(0..rows as i64)),
            Arc::new(Float64Array::from_iter_values(
                (0..rows).map(|i| i as f64 / 2.0),
            )),
            Arc::new(StringArray::from_iter_values(
                (0..rows).map(|i| format!("label-{i:06}")),
            )),
        ],
    )
    .expect("valid batch")
}

fn open(dir: &Path, verify: bool) -> Store {
    Store::builder(dir)
        .verify_checksums(verify)
        .open()
        .expect("open")
}

/// Replaces the first byte of the string `label-000123` in the only segment
/// with 0xFF, which makes the string column invalid UTF-8.
fn damage_a_label(dir: &Path) {
    let segments = dir.join("segments");
    let entry = std::fs::read_dir(&segments)
        .expect("segments dir")
        .next()
        .expect("one segment")
        .expect("entry");
    let bytes = std::fs::read(entry.path()).expect("read segment");
    let at = bytes
        .windows(12)
        .position(|w| w == b"label-000123")
        .expect("label in segment");
    let file = OpenOptions::new()
        .write(true)
        .open(entry.path())
        .expect("open segment");
    file.write_all_at(&[0xFF], at as u64).expect("damage");
}

#[test]
fn verified_reads_return_the_batches_and_schema_as_written() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(dir.path(), true);
    let written = batch(1000);
    store
        .put_arrow(&asset(), &day(), std::slice::from_ref(&written))
        .expect("put");
    let read = store
        .get_arrow(&asset(), &day())
        .expect("get")
        .expect("present");
    assert_eq!(
        read.schema,
        written.schema(),
        "the writer's mark is not shown"
    );
    assert_eq!(read.batches, vec![written]);
}

#[test]
fn damaged_bytes_never_reach_the_decoder_with_checksums_on() {
    let dir = tempfile::tempdir().expect("tempdir");
    open(dir.path(), true)
        .put_arrow(&asset(), &day(), &[batch(1000)])
        .expect("put");
    damage_a_label(dir.path());
    let verified = open(dir.path(), true);
    assert!(
        matches!(
            verified.get_arrow(&asset(), &day()),
            Err(Error::Corrupted { .. })
        ),
        "the checksum must stop the read before any decoding"
    );
    drop(verified);
    let unverified = open(dir.path(), false);
    let blob = unverified
        .get(&asset(), &day())
        .expect("get")
        .expect("present");
    assert!(!blob.checksum_verified());
    assert!(
        matches!(blob.arrow(), Err(Error::ArrowDecode { .. })),
        "without checksums the decoder validates and rejects the damage"
    );
}

#[test]
fn a_copy_of_a_stored_payload_is_accepted_and_a_forged_mark_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(dir.path(), true);
    store
        .put_arrow(&asset(), &day(), &[batch(200)])
        .expect("put");
    let stored = store.get(&asset(), &day()).expect("get").expect("present");
    let copy = PartitionKey::new("2022-07-24").expect("valid partition");
    store
        .put(
            &asset(),
            &copy,
            Payload::encoded(Codec::ArrowIpc, stored.to_vec()),
        )
        .expect("a valid marked copy is accepted");
    let read = store
        .get_arrow(&asset(), &copy)
        .expect("get")
        .expect("present");
    assert_eq!(read.batches, vec![batch(200)]);

    let mut forged = stored.to_vec();
    let at = forged
        .windows(12)
        .position(|w| w == b"label-000123")
        .expect("label in payload");
    forged[at] = 0xFF;
    let refused = store.put(
        &asset(),
        &PartitionKey::new("2022-07-25").expect("valid partition"),
        Payload::encoded(Codec::ArrowIpc, forged),
    );
    assert!(
        matches!(
            refused,
            Err(Error::Encode {
                codec: Codec::ArrowIpc,
                ..
            })
        ),
        "an invalid payload carrying the writer's mark is refused: {refused:?}"
    );
}

#[test]
fn unmarked_ipc_files_made_elsewhere_are_still_validated() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(dir.path(), true);
    let mut writer =
        arrow_ipc::writer::FileWriter::try_new(Vec::new(), &batch(200).schema()).expect("writer");
    writer.write(&batch(200)).expect("write");
    let mut foreign = writer.into_inner().expect("finish");
    let at = foreign
        .windows(12)
        .position(|w| w == b"label-000123")
        .expect("label in file");
    foreign[at] = 0xFF;
    store
        .put(&asset(), &day(), Payload::encoded(Codec::ArrowIpc, foreign))
        .expect("unmarked bytes are accepted as they are");
    assert!(matches!(
        store.get_arrow(&asset(), &day()),
        Err(Error::ArrowDecode { .. })
    ));
}

#[test]
fn projections_decode_only_the_columns_asked_for() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(dir.path(), true);
    store
        .put_arrow(&asset(), &day(), &[batch(500)])
        .expect("put");
    let blob = store.get(&asset(), &day()).expect("get").expect("present");
    let projected = blob.arrow_projected(&[2, 0]).expect("projection");
    assert_eq!(
        projected.batches,
        vec![batch(500).project(&[2, 0]).expect("project")]
    );
    assert_eq!(projected.schema.fields().len(), 2);
    assert!(matches!(
        blob.arrow_projected(&[3]),
        Err(Error::ArrowDecode { .. })
    ));
    let label = projected.batches[0].column(0);
    let address = label.to_data().buffers()[1].as_ptr();
    assert!(
        blob.is_in_mapping(address),
        "projected buffers are not copied"
    );
}

#[test]
fn unchecked_reads_of_valid_payloads_equal_checked_ones() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(dir.path(), false);
    store
        .put_arrow(&asset(), &day(), &[batch(300)])
        .expect("put");
    let blob = store.get(&asset(), &day()).expect("get").expect("present");
    // SAFETY: the payload was just written by `put_arrow` to a store nothing
    // else touches.
    #[allow(unsafe_code, reason = "the opt-in under test")]
    let unchecked = unsafe { blob.arrow_unchecked(Some(&[1])) }.expect("decode");
    assert_eq!(
        unchecked.batches,
        blob.arrow_projected(&[1]).expect("decode").batches
    );
}
