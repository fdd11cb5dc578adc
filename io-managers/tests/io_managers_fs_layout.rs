//! The filesystem I/O manager writes Dagster's layout (§6 scenarios 1, 2, 9,
//! 10): `<base>/<asset/key/path>` for an unpartitioned asset,
//! `<base>/<asset/key/path>/<partition_key>` for a partitioned one (dots kept),
//! one directory level per dimension of a multi-partition key.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use arrow_array::{Int64Array, RecordBatch};
use arrow_ipc::reader::FileReader;
use arrow_schema::{DataType, Field, Schema};
use tessera_engine::AssetKey;
use tessera_io_managers::metadata::PATH;
use tessera_io_managers::{
    FilesystemIoManager, InputContext, InputManager, InputValue, IoManager, MetadataValue,
    OutputContext,
};

fn table(values: &[i64]) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![Field::new(
        "value",
        DataType::Int64,
        false,
    )]));
    RecordBatch::try_new(schema, vec![Arc::new(Int64Array::from(values.to_vec()))])
        .expect("a valid batch")
}

fn values(batches: &[RecordBatch]) -> Vec<i64> {
    batches
        .iter()
        .flat_map(|batch| {
            batch
                .column(0)
                .as_primitive::<Int64Type>()
                .values()
                .to_vec()
        })
        .collect()
}

fn read_file(path: &Path) -> Vec<i64> {
    let file = File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let reader = FileReader::try_new(file, None).expect("an Arrow IPC file");
    values(
        &reader
            .collect::<Result<Vec<_>, _>>()
            .expect("readable batches"),
    )
}

/// Every file under `dir`, relative to it, sorted.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(next) = pending.pop() {
        for entry in std::fs::read_dir(&next).expect("readable directory") {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                pending.push(path);
            } else {
                found.push(path.strip_prefix(dir).expect("below dir").to_path_buf());
            }
        }
    }
    found.sort();
    found
}

fn key(path: &[&str]) -> AssetKey {
    AssetKey::new(path.iter().copied()).expect("asset key")
}

/// Scenario 1 (or 2 with `partition`): `asset1` returns `[1, 2, 3]`, `asset2`
/// loads it once and returns it with `4` appended.
fn run_two_assets(manager: &FilesystemIoManager, partition: Option<&str>) {
    let output = |asset: AssetKey| match partition {
        Some(day) => OutputContext::builder(asset).partition_key(day).build(),
        None => OutputContext::builder(asset).build(),
    };
    let asset1 = key(&["one", "two", "three", "asset1"]);
    manager
        .handle_output(&output(asset1.clone()), vec![table(&[1, 2, 3])])
        .expect("write asset1");

    let input = match partition {
        Some(day) => InputContext::builder(asset1)
            .partition_key(day)
            .asset_partition_keys([day]),
        None => InputContext::builder(asset1),
    };
    let loaded = manager
        .load_input(&input.build())
        .expect("load asset1")
        .into_one()
        .expect("one value");
    let mut downstream = values(&loaded.batches);
    downstream.push(4);
    manager
        .handle_output(
            &output(key(&["four", "five", "asset2"])),
            vec![table(&downstream)],
        )
        .expect("write asset2");
}

#[test]
fn scenario_1_asset_keys_become_directories() {
    let base = tempfile::tempdir().expect("temporary directory");
    let manager = FilesystemIoManager::new(base.path());
    run_two_assets(&manager, None);
    assert_eq!(
        files_under(base.path()),
        vec![
            PathBuf::from("four/five/asset2"),
            PathBuf::from("one/two/three/asset1")
        ]
    );
    assert_eq!(
        read_file(&base.path().join("one/two/three/asset1")),
        [1, 2, 3]
    );
    assert_eq!(
        read_file(&base.path().join("four/five/asset2")),
        [1, 2, 3, 4]
    );
}

#[test]
fn scenario_2_partitions_are_files_under_the_asset_directory() {
    let base = tempfile::tempdir().expect("temporary directory");
    let manager = FilesystemIoManager::new(base.path());
    run_two_assets(&manager, Some("2020-05-03"));
    assert_eq!(
        files_under(base.path()),
        vec![
            PathBuf::from("four/five/asset2/2020-05-03"),
            PathBuf::from("one/two/three/asset1/2020-05-03")
        ]
    );
    assert_eq!(
        read_file(&base.path().join("four/five/asset2/2020-05-03")),
        [1, 2, 3, 4]
    );
}

#[test]
fn scenario_9_dots_in_a_key_are_kept_in_the_file_name() {
    let base = tempfile::tempdir().expect("temporary directory");
    let manager = FilesystemIoManager::new(base.path());
    let context = OutputContext::builder(key(&["static"]))
        .partition_key("0.0-to-1.0")
        .build();
    manager
        .handle_output(&context, vec![table(&[7])])
        .expect("write");
    assert_eq!(
        files_under(base.path()),
        vec![PathBuf::from("static/0.0-to-1.0")]
    );
}

#[test]
fn scenario_10_a_single_mapped_partition_is_bare_and_its_path_ends_in_the_key() {
    let base = tempfile::tempdir().expect("temporary directory");
    let manager = FilesystemIoManager::new(base.path());
    let upstream = key(&["upstream"]);
    let output = OutputContext::builder(upstream.clone())
        .partition_key("2022-01-01")
        .build();
    manager
        .handle_output(&output, vec![table(&[1])])
        .expect("write");
    let Some(MetadataValue::Path(path)) = output.output_metadata().get(PATH).cloned() else {
        panic!("a path is recorded");
    };
    assert!(path.ends_with("/upstream/2022-01-01"), "{path}");

    let input = InputContext::builder(upstream)
        .partition_key("2022-01-01")
        .asset_partition_keys(["2022-01-01"])
        .build();
    match manager.load_input(&input).expect("load").into_value() {
        InputValue::One(Some(partition), table) => {
            assert_eq!(partition, "2022-01-01");
            assert_eq!(values(&table.batches), [1]);
        }
        other => panic!("expected the bare value, got {other:?}"),
    }
}

#[test]
fn a_multi_partition_key_is_one_directory_per_dimension() {
    let base = tempfile::tempdir().expect("temporary directory");
    let manager = FilesystemIoManager::new(base.path());
    // Dimensions `color` and `date`, sorted by name: `red|2022-07-23`.
    let context = OutputContext::builder(key(&["m"]))
        .partition_key("red|2022-07-23")
        .build();
    manager
        .handle_output(&context, vec![table(&[5])])
        .expect("write");
    assert_eq!(
        files_under(base.path()),
        vec![PathBuf::from("m/red/2022-07-23")]
    );
    assert_eq!(
        manager
            .path_for(&key(&["m"]), Some("red|2022-07-23"))
            .expect("a path"),
        base.path().join("m/red/2022-07-23")
    );
}

#[test]
fn an_overwrite_keeps_only_the_latest_value() {
    let base = tempfile::tempdir().expect("temporary directory");
    let manager = FilesystemIoManager::new(base.path());
    let context = || {
        OutputContext::builder(key(&["a"]))
            .partition_key("p")
            .build()
    };
    manager
        .handle_output(&context(), vec![table(&[1])])
        .expect("first write");
    manager
        .handle_output(&context(), vec![table(&[2, 3])])
        .expect("overwrite");
    assert_eq!(files_under(base.path()), vec![PathBuf::from("a/p")]);
    assert_eq!(read_file(&base.path().join("a/p")), [2, 3]);
}
