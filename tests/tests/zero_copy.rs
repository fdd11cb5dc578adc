//! Reads borrow the mapped segment: every buffer of a decoded Arrow partition
//! (64 MiB here) and every rkyv view lies inside the store's mapping (on
//! object storage: the mapping of the cached log object), on every backend.

use std::sync::Arc;

use arrow_array::{Array, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use tessera_engine::{AssetKey, DEFAULT_CHECKPOINT_EVERY, PartitionKey, Store};
use tessera_tests::store_backends;

fn assert_in_mapping(blob: &tessera_engine::Blob, data: &arrow_data::ArrayData) {
    for buffer in data.buffers() {
        assert!(
            blob.is_in_mapping(buffer.as_ptr()),
            "a buffer was copied out of the mapping"
        );
    }
    if let Some(nulls) = data.nulls() {
        assert!(
            blob.is_in_mapping(nulls.buffer().as_ptr()),
            "a validity bitmap was copied"
        );
    }
    for child in data.child_data() {
        assert_in_mapping(blob, child);
    }
}

fn batch(rows: usize, offset: i64) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("value", DataType::Float64, true),
        Field::new("station", DataType::Utf8, false),
    ]));
    let ids = Int64Array::from_iter_values((0..rows as i64).map(|i| i + offset));
    let values =
        Float64Array::from_iter((0..rows).map(|i| (i % 10 != 0).then_some(i as f64 * 0.5)));
    let stations = StringArray::from_iter_values((0..rows).map(|i| format!("st-{}", i % 97)));
    RecordBatch::try_new(
        schema,
        vec![Arc::new(ids), Arc::new(values), Arc::new(stations)],
    )
    .expect("batch")
}

/// Runs `check` on a fresh store on every backend.
fn on_every_backend(check: impl Fn(&Store)) {
    for backend in store_backends() {
        let dir = tempfile::tempdir().expect("tempdir");
        check(&backend.open(dir.path(), DEFAULT_CHECKPOINT_EVERY));
    }
}

#[test]
fn a_64_mib_arrow_partition_is_read_without_copying_buffers() {
    on_every_backend(a_64_mib_arrow_partition_is_read_in_place);
}

/// On object storage with the default options, a 64 MiB partition goes
/// to its own data object (a multipart upload); the read maps the cached
/// data object.
#[cfg(feature = "object-store")]
#[test]
fn a_64_mib_arrow_partition_in_a_data_object_is_read_without_copying_buffers() {
    use tessera_engine::object_store::memory::InMemory;
    let cache = tempfile::tempdir().expect("tempdir");
    let store = Store::builder(cache.path())
        .object_store(std::sync::Arc::new(InMemory::new()), "zero-copy")
        .open()
        .expect("open on object storage");
    a_64_mib_arrow_partition_is_read_in_place(&store);
}

fn a_64_mib_arrow_partition_is_read_in_place(store: &Store) {
    let asset = AssetKey::new(["public", "weather_obs"]).expect("asset");
    let day = PartitionKey::new("2022-07-23").expect("partition");
    let batches: Vec<_> = (0..4).map(|i| batch(700_000, i * 700_000)).collect();
    store.put_arrow(&asset, &day, &batches).expect("put");
    let blob = store.get(&asset, &day).expect("get").expect("present");
    assert!(blob.len() >= 64 << 20, "partition is {} bytes", blob.len());
    let partition = blob.arrow().expect("decode");
    assert_eq!(partition.batches, batches, "round trip");
    for batch in &partition.batches {
        for column in batch.columns() {
            assert_in_mapping(&blob, &column.to_data());
        }
    }
}

#[test]
fn an_rkyv_view_points_into_the_mapping() {
    on_every_backend(an_rkyv_view_is_read_in_place);
}

fn an_rkyv_view_is_read_in_place(store: &Store) {
    let asset = AssetKey::new(["readings"]).expect("asset");
    let value: Vec<f64> = (0..100_000).map(f64::from).collect();
    store
        .put_rkyv(&asset, &PartitionKey::unpartitioned(), &value)
        .expect("put");
    let view = store
        .get_rkyv::<Vec<f64>>(&asset, &PartitionKey::unpartitioned())
        .expect("get")
        .expect("present");
    assert_eq!(view.len(), value.len());
    assert_eq!(view[99_999].to_native(), 99_999.0);
    assert!(view.blob().is_in_mapping(view.as_ptr().cast()));
    assert!(view.blob().is_in_mapping(std::ptr::from_ref(&*view).cast()));
    assert_eq!(view.deserialize().expect("deserialize"), value);
}

#[test]
fn the_blob_handle_outlives_an_overwrite() {
    on_every_backend(a_blob_outlives_an_overwrite);
}

fn a_blob_outlives_an_overwrite(store: &Store) {
    let asset = AssetKey::new(["a"]).expect("asset");
    let key = PartitionKey::new("k").expect("partition");
    store.put(&asset, &key, &b"first"[..]).expect("put");
    let old = store.get(&asset, &key).expect("get").expect("present");
    store.put(&asset, &key, &b"second"[..]).expect("overwrite");
    store.delete(&asset, &key).expect("delete");
    assert_eq!(&*old, b"first");
    assert!(old.is_in_mapping(old.as_ptr()));
}
