//! Loads through the store-backed managers do not copy: every buffer of every
//! column of a loaded Arrow table (projected or not, one partition or a list
//! of batches) and every rkyv view lies inside the store's mapping.

use std::sync::Arc;

use arrow_array::{Array, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow_data::ArrayData;
use arrow_schema::{DataType, Field, Schema};
use tessera_engine::{AssetKey, Blob, PartitionKey, Store};
use tessera_io_managers::{
    ArrowIoManager, InputContext, InputManager, IoManager, OutputContext, RkyvIoManager,
};

fn assert_in_mapping(blob: &Blob, data: &ArrayData) {
    for buffer in data.buffers() {
        assert!(blob.is_in_mapping(buffer.as_ptr()), "a buffer was copied");
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

fn assert_batches_in_mapping(blob: &Blob, batches: &[RecordBatch]) {
    assert!(!batches.is_empty());
    for batch in batches {
        for column in batch.columns() {
            assert_in_mapping(blob, &column.to_data());
        }
    }
}

fn table(rows: usize) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("value", DataType::Float64, true),
        Field::new("station", DataType::Utf8, false),
    ]));
    let count = i64::try_from(rows).expect("small");
    RecordBatch::try_new(
        schema,
        vec![
            Arc::new(Int64Array::from_iter_values(0..count)),
            Arc::new(Float64Array::from_iter(
                (0..rows).map(|i| (i % 7 != 0).then_some(i as f64)),
            )),
            Arc::new(StringArray::from_iter_values(
                (0..rows).map(|i| format!("st-{}", i % 13)),
            )),
        ],
    )
    .expect("a valid batch")
}

fn store() -> (tempfile::TempDir, Arc<Store>) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = Arc::new(Store::open(dir.path()).expect("open the store"));
    (dir, store)
}

fn blob(store: &Store, asset: &AssetKey, partition: &str) -> Blob {
    store
        .get(asset, &PartitionKey::new(partition).expect("key"))
        .expect("get")
        .expect("stored")
}

#[test]
fn arrow_loads_borrow_every_buffer_from_the_mapping() {
    let (_dir, store) = store();
    let manager = ArrowIoManager::new(Arc::clone(&store));
    let asset = AssetKey::new(["tables"]).expect("asset key");
    let output = OutputContext::builder(asset.clone())
        .partition_key("p")
        .build();
    manager
        .handle_output(&output, vec![table(10_000), table(5_000)])
        .expect("handle_output");
    let stored = blob(&store, &asset, "p");

    for columns in [None, Some(vec!["station", "value"])] {
        let mut input = InputContext::builder(asset.clone()).asset_partition_keys(["p"]);
        if let Some(columns) = &columns {
            input = input.columns(columns.iter().copied());
        }
        let partition = manager
            .load_input(&input.build())
            .expect("load")
            .into_one()
            .expect("one partition");
        assert_eq!(partition.num_rows(), 15_000);
        assert_batches_in_mapping(&stored, &partition.batches);
    }
}

#[test]
fn load_batches_and_the_stream_borrow_every_partition_from_the_mapping() {
    let (_dir, store) = store();
    let manager = ArrowIoManager::new(Arc::clone(&store));
    let asset = AssetKey::new(["tables"]).expect("asset key");
    let days = ["2022-01-01", "2022-01-02", "2022-01-03"];
    for day in days {
        let output = OutputContext::builder(asset.clone())
            .partition_key(day)
            .build();
        manager
            .handle_output(&output, vec![table(1_000)])
            .expect("handle_output");
    }
    let input = InputContext::builder(asset.clone())
        .asset_partition_keys(days)
        .build();
    let all = manager.load_batches(&input).expect("load_batches");
    assert_eq!(all.batches.len(), 3);
    for (day, batch) in days.iter().zip(&all.batches) {
        assert_batches_in_mapping(&blob(&store, &asset, day), std::slice::from_ref(batch));
    }
    for (item, day) in manager.stream_partitions(&input).zip(days) {
        let (key, partition) = item.expect("a partition");
        assert_eq!(key, day);
        assert_batches_in_mapping(&blob(&store, &asset, day), &partition.batches);
    }
}

#[test]
fn an_rkyv_view_is_the_archive_in_the_mapping() {
    let (_dir, store) = store();
    let manager = RkyvIoManager::<Vec<f64>>::new(Arc::clone(&store));
    let asset = AssetKey::new(["readings"]).expect("asset key");
    let value: Vec<f64> = (0..50_000).map(f64::from).collect();
    manager
        .handle_output(
            &OutputContext::builder(asset.clone())
                .partition_key("p")
                .build(),
            value.clone(),
        )
        .expect("handle_output");
    let input = InputContext::builder(asset.clone())
        .asset_partition_keys(["p"])
        .build();
    let view = manager
        .views()
        .load_input(&input)
        .expect("load")
        .into_one()
        .expect("one partition");
    let stored = blob(&store, &asset, "p");
    let archived: *const u8 = std::ptr::from_ref(&*view).cast();
    assert!(
        stored.is_in_mapping(archived),
        "the archive is in the mapping"
    );
    assert!(
        stored.is_in_mapping(view.as_ptr().cast()),
        "the elements are in the mapping"
    );
    let payload = stored.as_ptr() as usize..stored.as_ptr() as usize + stored.len();
    assert!(
        payload.contains(&(archived as usize)),
        "inside this very payload"
    );
    assert_eq!(view.len(), value.len());
    assert_eq!(view[49_999].to_native(), 49_999.0);
}
