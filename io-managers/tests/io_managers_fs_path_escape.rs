//! No asset or partition key makes the filesystem I/O manager write outside
//! its base directory: `..` and `.` segments are percent-escaped, a leading `/`
//! becomes `%2F`, a `/` inside a partition key nests directories (as Dagster's
//! layout does), a `/` inside an asset key component is escaped, and keys with
//! empty segments are refused with [`Error::UnsafePath`].

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::{Int64Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use tessera_engine::AssetKey;
use tessera_io_managers::{
    Error, FilesystemIoManager, InputContext, InputManager, IoManager, OutputContext,
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

/// A sandbox: `root/base` is the manager's base directory, so anything
/// written outside `base` shows up in `root`.
struct Sandbox {
    root: tempfile::TempDir,
    manager: FilesystemIoManager,
}

impl Sandbox {
    fn new() -> Self {
        let root = tempfile::tempdir().expect("temporary directory");
        let manager = FilesystemIoManager::new(root.path().join("base"));
        Self { root, manager }
    }

    fn write(&self, asset: &AssetKey, partition: &str, value: i64) -> Result<(), Error> {
        let context = OutputContext::builder(asset.clone())
            .partition_key(partition)
            .build();
        self.manager.handle_output(&context, vec![table(value)])
    }

    fn read(&self, asset: &AssetKey, partition: &str) -> i64 {
        let input = InputContext::builder(asset.clone())
            .asset_partition_keys([partition])
            .build();
        let loaded = self
            .manager
            .load_input(&input)
            .expect("load")
            .into_one()
            .expect("one partition");
        let column = loaded.batches[0].column(0);
        column
            .as_any()
            .downcast_ref::<Int64Array>()
            .expect("an Int64 column")
            .value(0)
    }

    /// Every file written, relative to `root`: all must lie under `base/`.
    fn files(&self) -> Vec<PathBuf> {
        files_under(self.root.path())
    }
}

#[test]
fn hostile_partition_keys_stay_under_the_base_directory() {
    let sandbox = Sandbox::new();
    let cases = [
        ("..", "base/s0/%2E%2E"),
        ("../../escaped", "base/s1/%2E%2E/%2E%2E/escaped"),
        ("/abs", "base/s2/%2Fabs"),
        ("/../../abs", "base/s3/%2F%2E%2E/%2E%2E/abs"),
        ("a/b", "base/s4/a/b"),
        ("a/./c", "base/s5/a/%2E/c"),
        ("100%", "base/s6/100%25"),
    ];
    let asset = |i: usize| AssetKey::new([format!("s{i}")]).expect("asset key");
    for (i, (partition, _)) in cases.iter().enumerate() {
        sandbox
            .write(&asset(i), partition, i64::try_from(i).expect("small"))
            .unwrap_or_else(|e| panic!("{partition:?}: {e}"));
    }
    let mut expected: Vec<PathBuf> = cases.iter().map(|(_, path)| PathBuf::from(path)).collect();
    expected.sort();
    assert_eq!(sandbox.files(), expected);
    for (i, (partition, _)) in cases.iter().enumerate() {
        let value = sandbox.read(&asset(i), partition);
        assert_eq!(value, i64::try_from(i).expect("small"), "{partition:?}");
    }
}

#[test]
fn keys_with_empty_segments_are_refused_and_write_nothing() {
    let sandbox = Sandbox::new();
    let asset = AssetKey::new(["s"]).expect("asset key");
    for partition in ["a//b", "a/", "//x", "/", "a||b"] {
        let error = sandbox
            .write(&asset, partition, 1)
            .expect_err("an empty segment is refused");
        assert!(
            matches!(&error, Error::UnsafePath { .. }),
            "{partition:?}: {error}"
        );
    }
    assert_eq!(sandbox.files(), Vec::<PathBuf>::new());
}

#[test]
fn hostile_asset_key_components_are_one_escaped_directory_each() {
    let sandbox = Sandbox::new();
    let cases = [
        (AssetKey::new(["..", "x"]), "base/%2E%2E/x/p"),
        (AssetKey::new(["a/b"]), "base/a%2Fb/p"),
        (AssetKey::new(["a", "b"]), "base/a/b/p"),
        (AssetKey::new(["/etc"]), "base/%2Fetc/p"),
        (AssetKey::new(["100%"]), "base/100%25/p"),
    ];
    for (value, (asset, _)) in (0..).zip(&cases) {
        let asset = asset.as_ref().expect("asset key");
        sandbox
            .write(asset, "p", value)
            .unwrap_or_else(|e| panic!("{asset}: {e}"));
    }
    let mut expected: Vec<PathBuf> = cases.iter().map(|(_, path)| PathBuf::from(path)).collect();
    expected.sort();
    assert_eq!(sandbox.files(), expected);
    for (value, (asset, _)) in (0..).zip(&cases) {
        let asset = asset.as_ref().expect("asset key");
        assert_eq!(sandbox.read(asset, "p"), value, "{asset}");
    }
}

#[test]
fn every_path_for_a_key_lies_below_the_base_directory() {
    let base = PathBuf::from("/srv/tessera");
    let manager = FilesystemIoManager::new(&base);
    let asset = AssetKey::new(["..", "..", "etc"]).expect("asset key");
    for partition in ["..", "/passwd", "../../../../root", "x/../../.."] {
        let path = manager
            .path_for(&asset, Some(partition))
            .expect("an escaped path");
        assert!(path.starts_with(&base), "{}", path.display());
        assert!(
            path.strip_prefix(&base)
                .expect("below base")
                .components()
                .all(|c| matches!(c, std::path::Component::Normal(_))),
            "{partition:?} gives {}",
            path.display()
        );
    }
}
