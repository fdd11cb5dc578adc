//! A missing upstream partition is an error naming the asset and the
//! partition, unless the input allows missing partitions: then it is skipped
//! and the load lists it. Missing means the store's own "not found"; any other
//! failure (a directory where a file should be) stays an error.

use std::sync::Arc;

use arrow_array::{Int64Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use tessera_engine::{AssetKey, Store};
use tessera_io_managers::{
    ArrowIoManager, Error, FilesystemIoManager, InputContext, InputManager, InputValue, IoManager,
    LoadMode, OutputContext, RkyvIoManager,
};

fn store() -> (tempfile::TempDir, Arc<Store>) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = Arc::new(Store::open(dir.path()).expect("open the store"));
    (dir, store)
}

fn table(value: i64) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![Field::new(
        "value",
        DataType::Int64,
        false,
    )]));
    RecordBatch::try_new(schema, vec![Arc::new(Int64Array::from(vec![value]))])
        .expect("a valid batch")
}

const DAYS: [&str; 4] = ["2022-01-01", "2022-01-02", "2022-01-03", "2022-01-04"];

/// An rkyv manager holding every day but `2022-01-03`.
fn three_of_four_days(store: Arc<Store>, asset: &AssetKey) -> RkyvIoManager<i64> {
    let manager = RkyvIoManager::new(store);
    for (value, day) in (1..).zip(DAYS) {
        if day != "2022-01-03" {
            let context = OutputContext::builder(asset.clone())
                .partition_key(day)
                .build();
            manager
                .handle_output(&context, value)
                .expect("handle_output");
        }
    }
    manager
}

#[test]
fn a_missing_partition_names_asset_and_partition() {
    let (_dir, store) = store();
    let asset = AssetKey::new(["public", "daily"]).expect("asset key");
    let manager = three_of_four_days(store, &asset);
    let context = InputContext::builder(asset.clone())
        .asset_partition_keys(DAYS)
        .build();
    let error = manager
        .load_input(&context)
        .expect_err("2022-01-03 is missing");
    assert!(
        matches!(&error, Error::Missing { asset: a, partition: Some(p) } if *a == asset && p == "2022-01-03"),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(message.contains("public/daily"), "{message}");
    assert!(message.contains("2022-01-03"), "{message}");
}

#[test]
fn a_missing_unpartitioned_value_is_missing_without_a_partition() {
    let (_dir, store) = store();
    let asset = AssetKey::new(["never_written"]).expect("asset key");
    let error = RkyvIoManager::<i64>::new(store)
        .load_input(&InputContext::builder(asset.clone()).build())
        .expect_err("nothing was stored");
    assert!(
        matches!(&error, Error::Missing { asset: a, partition: None } if *a == asset),
        "{error:?}"
    );
}

#[test]
fn allow_missing_partitions_skips_and_lists_the_missing_keys() {
    let (_dir, store) = store();
    let asset = AssetKey::new(["daily"]).expect("asset key");
    let manager = three_of_four_days(store, &asset);
    let context = InputContext::builder(asset)
        .asset_partition_keys(DAYS)
        .allow_missing_partitions(true)
        .build();
    let loaded = manager.load_input(&context).expect("load");
    assert_eq!(loaded.skipped_partitions(), ["2022-01-03"]);
    let map = loaded.into_map();
    assert_eq!(
        map.keys().collect::<Vec<_>>(),
        ["2022-01-01", "2022-01-02", "2022-01-04"]
    );
    assert_eq!(map.values().copied().collect::<Vec<_>>(), [1, 2, 4]);
}

#[test]
fn a_single_missing_key_allowed_to_be_missing_loads_nothing() {
    let (_dir, store) = store();
    let asset = AssetKey::new(["daily"]).expect("asset key");
    let manager = three_of_four_days(store, &asset);
    for (mode, expected) in [
        (LoadMode::DagsterContract, InputValue::Nothing),
        (LoadMode::AlwaysMap, InputValue::Many(Default::default())),
    ] {
        let context = InputContext::builder(asset.clone())
            .asset_partition_keys(["2022-01-03"])
            .allow_missing_partitions(true)
            .load_mode(mode)
            .build();
        let loaded = manager.load_input(&context).expect("load");
        assert_eq!(loaded.skipped_partitions(), ["2022-01-03"]);
        assert_eq!(loaded.into_value(), expected, "{mode:?}");
    }
}

#[test]
fn the_arrow_stream_and_batches_skip_missing_partitions_too() {
    let (_dir, store) = store();
    let asset = AssetKey::new(["tables"]).expect("asset key");
    let manager = ArrowIoManager::new(store);
    for (value, day) in (1..).zip(["2022-01-01", "2022-01-04"]) {
        let context = OutputContext::builder(asset.clone())
            .partition_key(day)
            .build();
        manager
            .handle_output(&context, vec![table(value)])
            .expect("handle_output");
    }
    let strict = InputContext::builder(asset.clone())
        .asset_partition_keys(DAYS)
        .build();
    let error = manager
        .load_batches(&strict)
        .expect_err("two days are missing");
    assert!(
        matches!(&error, Error::Missing { partition: Some(p), .. } if p == "2022-01-02"),
        "{error:?}"
    );

    let lenient = InputContext::builder(asset)
        .asset_partition_keys(DAYS)
        .allow_missing_partitions(true)
        .build();
    let all = manager.load_batches(&lenient).expect("load");
    assert_eq!(all.batches, vec![table(1), table(2)]);
    assert_eq!(all.skipped, ["2022-01-02", "2022-01-03"]);
}

#[test]
fn the_filesystem_manager_reports_missing_files_as_missing() {
    let base = tempfile::tempdir().expect("temporary directory");
    let manager = FilesystemIoManager::new(base.path());
    let asset = AssetKey::new(["daily"]).expect("asset key");
    let context = OutputContext::builder(asset.clone())
        .partition_key("2022-01-01")
        .build();
    manager
        .handle_output(&context, vec![table(1)])
        .expect("handle_output");

    let input = InputContext::builder(asset.clone())
        .asset_partition_keys(["2022-01-01", "2022-01-02"])
        .build();
    let error = manager
        .load_input(&input)
        .expect_err("2022-01-02 is missing");
    let expected_path = base.path().join("daily").join("2022-01-02");
    assert!(
        matches!(&error, Error::MissingFile { partition: Some(p), path, .. }
            if p == "2022-01-02" && *path == expected_path),
        "{error:?}"
    );
}

#[test]
fn an_io_error_is_never_taken_for_a_missing_partition() {
    let base = tempfile::tempdir().expect("temporary directory");
    let manager = FilesystemIoManager::new(base.path());
    let asset = AssetKey::new(["daily"]).expect("asset key");
    let context = OutputContext::builder(asset.clone())
        .partition_key("2022-01-01")
        .build();
    manager
        .handle_output(&context, vec![table(1)])
        .expect("handle_output");

    // Loading the partitioned asset as unpartitioned meets its directory
    // (Dagster's `IsADirectoryError`): an error, even when missing
    // partitions are allowed.
    let input = InputContext::builder(asset)
        .allow_missing_partitions(true)
        .build();
    let error = manager
        .load_input(&input)
        .expect_err("a directory is not a missing file");
    assert!(!matches!(error, Error::Missing { .. }), "{error:?}");
}
