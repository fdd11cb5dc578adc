//! Filesystem writes are atomic: a file appears whole under its final name
//! (temporary file, fsync, rename), no temporary file is left behind after
//! successful or failed writes, and a failed write leaves the previous value.

use std::path::Path;
use std::sync::Arc;

use arrow_array::{Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use tessera_engine::{AssetKey, Durability};
use tessera_io_managers::{
    FilesystemIoManager, InputContext, InputManager, IoManager, OutputContext,
};

fn table(values: Vec<i64>) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![Field::new(
        "value",
        DataType::Int64,
        false,
    )]));
    RecordBatch::try_new(schema, vec![Arc::new(Int64Array::from(values))]).expect("a valid batch")
}

/// The names of every entry in `dir` and below.
fn names_under(dir: &Path) -> Vec<String> {
    let mut names = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(next) = pending.pop() {
        for entry in std::fs::read_dir(&next).expect("readable directory") {
            let entry = entry.expect("directory entry");
            names.push(entry.file_name().to_string_lossy().into_owned());
            if entry.path().is_dir() {
                pending.push(entry.path());
            }
        }
    }
    names.sort();
    names
}

fn load(manager: &FilesystemIoManager, asset: &AssetKey, partition: &str) -> Vec<i64> {
    let input = InputContext::builder(asset.clone())
        .asset_partition_keys([partition])
        .build();
    let table = manager
        .load_input(&input)
        .expect("load")
        .into_one()
        .expect("one partition");
    table
        .batches
        .iter()
        .flat_map(|batch| {
            batch
                .column(0)
                .as_any()
                .downcast_ref::<Int64Array>()
                .expect("an Int64 column")
                .values()
                .to_vec()
        })
        .collect()
}

#[test]
fn repeated_writes_leave_no_temporary_files() {
    for durability in [Durability::Immediate, Durability::Buffered] {
        let base = tempfile::tempdir().expect("temporary directory");
        let manager = FilesystemIoManager::new(base.path()).with_durability(durability);
        let asset = AssetKey::new(["events"]).expect("asset key");
        for round in 0..5 {
            for day in ["2024-01-01", "2024-01-02", "2024-01-03"] {
                let context = OutputContext::builder(asset.clone())
                    .partition_key(day)
                    .build();
                manager
                    .handle_output(&context, vec![table(vec![round; 10])])
                    .expect("write");
            }
        }
        assert_eq!(
            names_under(base.path()),
            ["2024-01-01", "2024-01-02", "2024-01-03", "events"],
            "{durability:?}: only the partitions' files, no temporary file"
        );
        assert_eq!(load(&manager, &asset, "2024-01-02"), vec![4; 10]);
    }
}

#[test]
fn a_failed_write_keeps_the_previous_value_and_leaves_nothing_behind() {
    let base = tempfile::tempdir().expect("temporary directory");
    let manager = FilesystemIoManager::new(base.path());
    let asset = AssetKey::new(["events"]).expect("asset key");
    let context = || {
        OutputContext::builder(asset.clone())
            .partition_key("p")
            .build()
    };
    manager
        .handle_output(&context(), vec![table(vec![1, 2])])
        .expect("first write");

    let other_schema = Arc::new(Schema::new(vec![Field::new(
        "value",
        DataType::Utf8,
        false,
    )]));
    let mismatched = RecordBatch::try_new(
        other_schema,
        vec![Arc::new(StringArray::from(vec!["nine"]))],
    )
    .expect("a valid batch");
    manager
        .handle_output(&context(), vec![table(vec![3]), mismatched])
        .expect_err("batches of two schemas cannot be one file");
    manager
        .handle_output(&context(), Vec::new())
        .expect_err("no batch, no schema");

    assert_eq!(names_under(base.path()), ["events", "p"]);
    assert_eq!(load(&manager, &asset, "p"), vec![1, 2]);
}

#[test]
fn concurrent_writers_of_one_partition_leave_one_whole_file() {
    let base = tempfile::tempdir().expect("temporary directory");
    let manager = Arc::new(FilesystemIoManager::new(base.path()));
    let asset = AssetKey::new(["events"]).expect("asset key");
    let writers: Vec<_> = (0..4_i64)
        .map(|writer| {
            let manager = Arc::clone(&manager);
            let asset = asset.clone();
            std::thread::spawn(move || {
                for _ in 0..10 {
                    let context = OutputContext::builder(asset.clone())
                        .partition_key("p")
                        .build();
                    manager
                        .handle_output(&context, vec![table(vec![writer; 1000])])
                        .expect("write");
                }
            })
        })
        .collect();
    for writer in writers {
        writer.join().expect("the writer finished");
    }
    let values = load(&manager, &asset, "p");
    assert_eq!(values.len(), 1000);
    assert!(
        values.iter().all(|v| *v == values[0]),
        "one writer's whole file"
    );
    assert_eq!(names_under(base.path()), ["events", "p"]);
}
