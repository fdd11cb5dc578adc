//! A range output (a single-run backfill, §6 scenario 25) is stored as one
//! materialization per partition, all in one atomic write: each carries the
//! shared output metadata plus its own. Dagster's file managers refuse this.
//! The filesystem manager writes every file before publishing any; the
//! in-memory one stores the range under one lock.

use std::sync::Arc;

use arrow_array::{Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use tessera_engine::{AssetKey, PartitionKey, Store};
use tessera_io_managers::metadata::{BYTE_SIZE, PATH, ROW_COUNT};
use tessera_io_managers::{
    ArrowIoManager, Error, FilesystemIoManager, InMemoryIoManager, InputContext, InputManager,
    IoManager, MetadataValue, OutputContext, PartitionMap, RkyvIoManager,
};

fn store() -> (tempfile::TempDir, Arc<Store>) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = Arc::new(Store::open(dir.path()).expect("open the store"));
    (dir, store)
}

fn table(rows: usize) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![Field::new(
        "value",
        DataType::Int64,
        false,
    )]));
    let values = Int64Array::from_iter_values((0..rows).map(|r| i64::try_from(r).expect("small")));
    RecordBatch::try_new(schema, vec![Arc::new(values)]).expect("a valid batch")
}

const DAYS: [&str; 3] = ["2020-01-01", "2020-01-02", "2020-01-03"];

fn range_context(asset: &AssetKey, keys: &[&str]) -> OutputContext {
    OutputContext::builder(asset.clone())
        .partition_keys(keys.iter().copied())
        .build()
}

/// The rows stored for each of [`DAYS`], loaded as one input.
fn rows_per_day(
    manager: &impl InputManager<Loaded = tessera_engine::ArrowPartition>,
    asset: AssetKey,
) -> Vec<usize> {
    let input = InputContext::builder(asset)
        .asset_partition_keys(DAYS)
        .build();
    manager
        .load_input(&input)
        .expect("load")
        .into_map()
        .values()
        .map(|partition| partition.num_rows())
        .collect()
}

#[test]
fn scenario_25_one_materialization_per_partition_with_its_own_metadata() {
    let (_dir, store) = store();
    let manager = ArrowIoManager::new(Arc::clone(&store));
    let asset = AssetKey::new(["daily"]).expect("asset key");
    let context = range_context(&asset, &DAYS);
    assert!(!context.has_partition_key(), "a range has no single key");
    context
        .add_output_metadata("owner", "team-a")
        .expect("shared metadata");
    let values: PartitionMap<Vec<RecordBatch>> = DAYS
        .iter()
        .enumerate()
        .map(|(index, day)| {
            context
                .add_partition_metadata(day, "index", index)
                .expect("partition metadata");
            (*day, vec![table(index + 1)])
        })
        .collect();
    manager
        .handle_range_output(&context, values)
        .expect("handle_range_output");

    let stored = store.list_partitions(&asset).expect("list");
    assert_eq!(stored.len(), 3, "one materialization per partition");
    for (index, day) in DAYS.iter().enumerate() {
        let blob = store
            .get(&asset, &PartitionKey::new(*day).expect("key"))
            .expect("get")
            .expect("stored");
        let metadata = &blob.meta().metadata;
        assert_eq!(metadata.get("owner").map(String::as_str), Some("team-a"));
        assert_eq!(metadata.get("index"), Some(&index.to_string()));
        assert_eq!(metadata.get(ROW_COUNT), Some(&(index + 1).to_string()));
        assert_eq!(metadata.get(BYTE_SIZE), Some(&blob.len().to_string()));

        let recorded = context.metadata_for_partition(day);
        assert_eq!(
            recorded.get("index"),
            Some(&MetadataValue::Int(i64::try_from(index).expect("small")))
        );
        assert_eq!(recorded.get("owner"), Some(&MetadataValue::from("team-a")));
    }
    assert_eq!(rows_per_day(&manager, asset), [1, 2, 3]);
}

#[test]
fn scenario_25_a_multi_partition_range_stores_each_key() {
    let (_dir, store) = store();
    let manager = RkyvIoManager::<String>::new(Arc::clone(&store));
    let asset = AssetKey::new(["multi"]).expect("asset key");
    let keys = ["a|2020-01-01", "a|2020-01-02", "a|2020-01-03"];
    let values = keys.iter().map(|k| (*k, k.to_uppercase())).collect();
    manager
        .handle_range_output(&range_context(&asset, &keys), values)
        .expect("handle_range_output");
    let stored: Vec<String> = store
        .list_partitions(&asset)
        .expect("list")
        .iter()
        .filter_map(|key| key.as_str().map(str::to_owned))
        .collect();
    assert_eq!(stored, keys);
}

#[test]
fn a_range_whose_encoding_fails_stores_nothing() {
    let (_dir, store) = store();
    let manager = ArrowIoManager::new(Arc::clone(&store));
    let asset = AssetKey::new(["daily"]).expect("asset key");
    let other = Arc::new(Schema::new(vec![Field::new(
        "value",
        DataType::Utf8,
        false,
    )]));
    let mismatched = RecordBatch::try_new(other, vec![Arc::new(StringArray::from(vec!["x"]))])
        .expect("a valid batch");
    let values: PartitionMap<Vec<RecordBatch>> = [
        (DAYS[0], vec![table(1)]),
        (DAYS[1], vec![table(2)]),
        (DAYS[2], vec![table(1), mismatched]),
    ]
    .into_iter()
    .collect();
    let error = manager
        .handle_range_output(&range_context(&asset, &DAYS), values)
        .expect_err("the last partition mixes schemas");
    assert!(matches!(error, Error::Engine(_)), "{error:?}");
    assert_eq!(store.list_partitions(&asset).expect("list"), Vec::new());
}

#[test]
fn values_that_do_not_follow_the_context_keys_are_refused() {
    let (_dir, store) = store();
    let manager = RkyvIoManager::<i64>::new(Arc::clone(&store));
    let asset = AssetKey::new(["daily"]).expect("asset key");
    let context = range_context(&asset, &DAYS);
    for keys in [&DAYS[..2], &[DAYS[1], DAYS[0], DAYS[2]][..]] {
        let values = keys.iter().map(|k| (*k, 1)).collect();
        let error = manager
            .handle_range_output(&context, values)
            .expect_err("not the context's keys");
        assert!(
            matches!(&error, Error::RangeMismatch { expected, given, .. }
                if expected == &DAYS && given == keys),
            "{error:?}"
        );
    }
    assert_eq!(store.list_partitions(&asset).expect("list"), Vec::new());
}

#[test]
fn the_default_range_output_stores_each_partition_through_handle_output() {
    let manager = InMemoryIoManager::<i64>::new();
    let asset = AssetKey::new(["daily"]).expect("asset key");
    let values = (1..).zip(DAYS).map(|(v, k)| (k, v)).collect();
    manager
        .handle_range_output(&range_context(&asset, &DAYS), values)
        .expect("handle_range_output");
    assert_eq!(manager.len(), 3);
    let input = InputContext::builder(asset)
        .asset_partition_keys(DAYS)
        .build();
    let loaded = manager.load_input(&input).expect("load").into_map();
    assert_eq!(loaded.values().copied().collect::<Vec<_>>(), [1, 2, 3]);
}

#[test]
fn a_single_partition_handle_output_refuses_a_range_context() {
    let manager = InMemoryIoManager::<i64>::new();
    let asset = AssetKey::new(["daily"]).expect("asset key");
    let error = manager
        .handle_output(&range_context(&asset, &DAYS), 1)
        .expect_err("three keys are not one");
    assert!(
        matches!(error, Error::NotSinglePartition { count: 3, .. }),
        "{error:?}"
    );
}

fn mismatched_batch() -> RecordBatch {
    let other = Arc::new(Schema::new(vec![Field::new(
        "value",
        DataType::Utf8,
        false,
    )]));
    RecordBatch::try_new(other, vec![Arc::new(StringArray::from(vec!["x"]))])
        .expect("a valid batch")
}

/// Every file under `dir`, temporary ones included.
fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            found.extend(files_under(&path));
        } else {
            found.push(path);
        }
    }
    found
}

#[test]
fn a_filesystem_range_output_writes_one_file_per_partition_with_its_metadata() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let manager = FilesystemIoManager::new(dir.path());
    let asset = AssetKey::new(["daily"]).expect("asset key");
    let context = range_context(&asset, &DAYS);
    let values: PartitionMap<Vec<RecordBatch>> = DAYS
        .iter()
        .enumerate()
        .map(|(index, day)| (*day, vec![table(index + 1)]))
        .collect();
    manager
        .handle_range_output(&context, values)
        .expect("handle_range_output");
    for (index, day) in DAYS.iter().enumerate() {
        let path = dir.path().join("daily").join(day);
        assert!(path.is_file(), "{} exists", path.display());
        let metadata = context.metadata_for_partition(day);
        assert_eq!(
            metadata.get(ROW_COUNT),
            Some(&MetadataValue::Int(
                i64::try_from(index + 1).expect("small")
            ))
        );
        assert_eq!(
            metadata.get(PATH),
            Some(&MetadataValue::Path(path.display().to_string()))
        );
    }
    assert_eq!(rows_per_day(&manager, asset), [1, 2, 3]);
}

#[test]
fn a_filesystem_range_whose_last_partition_fails_publishes_nothing() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let manager = FilesystemIoManager::new(dir.path());
    let asset = AssetKey::new(["daily"]).expect("asset key");
    let earlier = range_context(&asset, &DAYS[..1]);
    manager
        .handle_range_output(&earlier, [(DAYS[0], vec![table(5)])].into_iter().collect())
        .expect("an earlier materialization");
    let values: PartitionMap<Vec<RecordBatch>> = [
        (DAYS[0], vec![table(1)]),
        (DAYS[1], vec![table(2)]),
        (DAYS[2], vec![table(1), mismatched_batch()]),
    ]
    .into_iter()
    .collect();
    manager
        .handle_range_output(&range_context(&asset, &DAYS), values)
        .expect_err("the last partition mixes schemas");
    assert_eq!(
        files_under(dir.path()),
        vec![dir.path().join("daily").join(DAYS[0])],
        "no new partition and no temporary file is left"
    );
    let input = InputContext::builder(asset)
        .asset_partition_keys([DAYS[0]])
        .build();
    let kept = manager.load_input(&input).expect("load").into_one();
    assert_eq!(
        kept.map(|p| p.num_rows()),
        Some(5),
        "the earlier file is untouched"
    );
}

#[test]
fn an_in_memory_range_output_stores_every_partition() {
    let manager = InMemoryIoManager::<u64>::new();
    let asset = AssetKey::new(["daily"]).expect("asset key");
    let values = DAYS.iter().zip(1u64..).map(|(day, n)| (*day, n)).collect();
    manager
        .handle_range_output(&range_context(&asset, &DAYS), values)
        .expect("handle_range_output");
    let input = InputContext::builder(asset)
        .asset_partition_keys(DAYS)
        .build();
    let loaded: Vec<u64> = manager
        .load_input(&input)
        .expect("load")
        .into_map()
        .values()
        .copied()
        .collect();
    assert_eq!(loaded, [1, 2, 3]);
}
