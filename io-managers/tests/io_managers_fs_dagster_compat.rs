//! The filesystem manager reads what Dagster's UPath managers wrote and fails
//! as they fail: a multi-partition key is loaded from the legacy `a|b` file
//! when the `a/b` layout has no file (new writes always use `a/b`), and a
//! missing file is an error naming both the key asked for and the file
//! looked at.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use arrow_array::{Int64Array, RecordBatch};
use arrow_ipc::writer::FileWriter;
use arrow_schema::{DataType, Field, Schema};
use tessera_engine::AssetKey;
use tessera_io_managers::{
    Error, FilesystemIoManager, InputContext, InputManager, InputValue, IoManager, OutputContext,
};

fn table(value: i64) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![Field::new(
        "value",
        DataType::Int64,
        false,
    )]));
    RecordBatch::try_new(schema, vec![Arc::new(Int64Array::from(vec![value]))])
        .expect("a valid batch")
}

fn value_of(batches: &[RecordBatch]) -> i64 {
    batches[0].column(0).as_primitive::<Int64Type>().value(0)
}

fn asset() -> AssetKey {
    AssetKey::new(["multipartitioned"]).expect("asset key")
}

/// Writes an Arrow IPC file at `path` as an older Dagster layout would have.
fn write_legacy(path: &Path, value: i64) {
    fs::create_dir_all(path.parent().expect("a parent")).expect("directories");
    let batch = table(value);
    let file = File::create(path).expect("legacy file");
    let mut writer = FileWriter::try_new(file, &batch.schema()).expect("writer");
    writer.write(&batch).expect("write");
    writer.finish().expect("finish");
}

fn load_one(manager: &FilesystemIoManager, key: &str) -> Result<i64, Error> {
    let input = InputContext::builder(asset())
        .asset_partition_keys([key])
        .build();
    match manager.load_input(&input)?.into_value() {
        InputValue::One(_, partition) => Ok(value_of(&partition.batches)),
        other => panic!("expected one value, got {other:?}"),
    }
}

#[test]
fn upath_loads_the_legacy_pipe_file_when_the_dimension_directories_are_absent() {
    let base = tempfile::tempdir().expect("temporary directory");
    let manager = FilesystemIoManager::new(base.path());
    write_legacy(&base.path().join("multipartitioned/c|2020-04-22"), 7);

    assert_eq!(load_one(&manager, "c|2020-04-22").expect("legacy load"), 7);
    assert_eq!(
        manager
            .legacy_multi_path(&asset(), Some("c|2020-04-22"))
            .expect("a path"),
        Some(base.path().join("multipartitioned/c|2020-04-22"))
    );
}

#[test]
fn upath_prefers_the_dimension_directories_over_the_legacy_file() {
    let base = tempfile::tempdir().expect("temporary directory");
    let manager = FilesystemIoManager::new(base.path());
    write_legacy(&base.path().join("multipartitioned/c|2020-04-22"), 1);
    let output = OutputContext::builder(asset())
        .partition_key("c|2020-04-22")
        .build();
    manager
        .handle_output(&output, vec![table(2)])
        .expect("write");

    assert!(
        base.path().join("multipartitioned/c/2020-04-22").is_file(),
        "new writes go to the directory layout"
    );
    assert_eq!(load_one(&manager, "c|2020-04-22").expect("load"), 2);
}

#[test]
fn upath_has_no_legacy_file_for_a_single_dimension_key() {
    let base = tempfile::tempdir().expect("temporary directory");
    let manager = FilesystemIoManager::new(base.path());
    assert_eq!(
        manager
            .legacy_multi_path(&asset(), Some("2020-04-22"))
            .expect("a path"),
        None
    );
}

#[test]
fn upath_file_not_found_names_the_file_looked_at_and_the_key() {
    let base = tempfile::tempdir().expect("temporary directory");
    let manager = FilesystemIoManager::new(base.path());
    let error = load_one(&manager, "c|2020-04-21").expect_err("nothing was written");
    let expected: PathBuf = base.path().join("multipartitioned/c/2020-04-21");
    let message = error.to_string();
    assert!(
        message.contains(&expected.display().to_string()),
        "{message}"
    );
    assert!(message.contains("c|2020-04-21"), "{message}");
    assert!(
        matches!(&error, Error::MissingFile { path, partition: Some(p), .. }
            if *path == expected && p == "c|2020-04-21"),
        "{error:?}"
    );
}

#[test]
fn upath_allow_missing_partitions_skips_keys_missing_in_both_layouts() {
    let base = tempfile::tempdir().expect("temporary directory");
    let manager = FilesystemIoManager::new(base.path());
    write_legacy(&base.path().join("multipartitioned/a|2020-04-22"), 3);
    let input = InputContext::builder(asset())
        .asset_partition_keys(["a|2020-04-22", "b|2020-04-22"])
        .allow_missing_partitions(true)
        .build();
    let loaded = manager.load_input(&input).expect("lenient load");
    assert_eq!(loaded.skipped_partitions(), ["b|2020-04-22"]);
    match loaded.into_value() {
        InputValue::Many(map) => {
            let keys: Vec<&str> = map.keys().collect();
            assert_eq!(keys, ["a|2020-04-22"]);
        }
        other => panic!("expected a map, got {other:?}"),
    }
}
