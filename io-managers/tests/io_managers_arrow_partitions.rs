//! Many Arrow partitions in one input: `load_batches` gives every partition's
//! batches as one list in partition order, `stream_partitions` yields them
//! one at a time (only the current one is held) with the skipped keys.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use arrow_array::{Int64Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use tessera_engine::{AssetKey, Store};
use tessera_io_managers::{ArrowIoManager, Error, InputContext, IoManager, OutputContext};

fn table(values: Vec<i64>) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![Field::new(
        "value",
        DataType::Int64,
        false,
    )]));
    RecordBatch::try_new(schema, vec![Arc::new(Int64Array::from(values))]).expect("a valid batch")
}

fn first_values(batches: &[RecordBatch]) -> Vec<i64> {
    batches
        .iter()
        .map(|b| b.column(0).as_primitive::<Int64Type>().value(0))
        .collect()
}

/// Days `2022-01-01..=n`, each with two batches `[d]` and `[d * 100]`.
fn days(store: &Arc<Store>, asset: &AssetKey, n: i64) -> (ArrowIoManager, Vec<String>) {
    let manager = ArrowIoManager::new(Arc::clone(store));
    let keys: Vec<String> = (1..=n).map(|d| format!("2022-01-{d:02}")).collect();
    for (d, key) in (1..).zip(&keys) {
        let output = OutputContext::builder(asset.clone())
            .partition_key(key)
            .build();
        manager
            .handle_output(&output, vec![table(vec![d]), table(vec![d * 100])])
            .expect("handle_output");
    }
    (manager, keys)
}

#[test]
fn load_batches_concatenates_partitions_in_context_order() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = Arc::new(Store::open(dir.path()).expect("open the store"));
    let asset = AssetKey::new(["daily"]).expect("asset key");
    let (manager, mut keys) = days(&store, &asset, 3);
    keys.reverse();
    let input = InputContext::builder(asset)
        .asset_partition_keys(keys)
        .build();
    let all = manager.load_batches(&input).expect("load_batches");
    assert_eq!(first_values(&all.batches), [3, 300, 2, 200, 1, 100]);
    assert_eq!(all.schema, Some(table(vec![0]).schema()));
    assert!(all.skipped.is_empty());
}

#[test]
fn load_batches_of_no_partition_has_no_schema() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = Arc::new(Store::open(dir.path()).expect("open the store"));
    let asset = AssetKey::new(["daily"]).expect("asset key");
    let (manager, _) = days(&store, &asset, 1);
    let input = InputContext::builder(asset)
        .asset_partition_keys(Vec::<String>::new())
        .build();
    let none = manager.load_batches(&input).expect("load_batches");
    assert!(none.batches.is_empty());
    assert_eq!(none.schema, None);
}

#[test]
fn the_stream_yields_partitions_one_at_a_time_and_reports_skips() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = Arc::new(Store::open(dir.path()).expect("open the store"));
    let asset = AssetKey::new(["daily"]).expect("asset key");
    let (manager, mut keys) = days(&store, &asset, 30);
    keys.insert(10, "2021-12-31".to_owned());
    let input = InputContext::builder(asset.clone())
        .asset_partition_keys(keys)
        .allow_missing_partitions(true)
        .build();
    let mut stream = manager.stream_partitions(&input);
    let mut seen = Vec::new();
    for item in &mut stream {
        let (key, partition) = item.expect("a partition");
        assert_eq!(partition.batches.len(), 2, "{key}");
        seen.push(first_values(&partition.batches)[0]);
    }
    assert_eq!(seen, (1..=30).collect::<Vec<_>>());
    assert_eq!(stream.skipped(), ["2021-12-31"]);

    let strict = InputContext::builder(asset)
        .asset_partition_keys(["2022-01-01", "2021-12-31", "2022-01-02"])
        .build();
    let items: Vec<_> = manager.stream_partitions(&strict).collect();
    assert_eq!(items.len(), 3, "an error does not end the stream");
    assert!(items[0].is_ok());
    assert!(
        matches!(&items[1], Err(Error::Missing { partition: Some(p), .. }) if p == "2021-12-31")
    );
    assert!(items[2].is_ok());
}

#[test]
fn an_unpartitioned_table_streams_as_one_item_with_an_empty_key() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = Arc::new(Store::open(dir.path()).expect("open the store"));
    let asset = AssetKey::new(["plain"]).expect("asset key");
    let manager = ArrowIoManager::new(Arc::clone(&store));
    manager
        .handle_output(
            &OutputContext::builder(asset.clone()).build(),
            vec![table(vec![7])],
        )
        .expect("handle_output");
    let input = InputContext::builder(asset).build();
    let items: Vec<_> = manager
        .stream_partitions(&input)
        .collect::<Result<_, _>>()
        .expect("one item");
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].0, "");
    assert_eq!(first_values(&items[0].1.batches), [7]);
}
