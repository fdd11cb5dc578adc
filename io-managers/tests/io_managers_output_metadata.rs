//! Output metadata: what an I/O manager or the user records on the output
//! context is stored with the materialization (§6 scenario 12); a key added
//! twice is an error, as in Dagster.

use std::sync::Arc;

use tessera_engine::{AssetKey, PartitionKey, Store};
use tessera_io_managers::metadata::BYTE_SIZE;
use tessera_io_managers::{
    BytesIoManager, Error, InputContext, InputManager, IoManager, LoadedInput, MetadataValue,
    OutputContext, RkyvIoManager,
};

/// A user's manager with a `get_metadata` hook: it records the length of
/// every stored list, then delegates to the rkyv manager.
struct LengthRecording(RkyvIoManager<Vec<i64>>);

impl InputManager for LengthRecording {
    type Loaded = Vec<i64>;

    fn load_partition(
        &self,
        context: &InputContext,
        partition: Option<&str>,
    ) -> tessera_io_managers::Result<Option<Vec<i64>>> {
        self.0.load_partition(context, partition)
    }
}

impl IoManager for LengthRecording {
    type Value = Vec<i64>;

    fn handle_output(
        &self,
        context: &OutputContext,
        value: Vec<i64>,
    ) -> tessera_io_managers::Result<()> {
        context.add_output_metadata("length", value.len())?;
        self.0.handle_output(context, value)
    }
}

fn store() -> (tempfile::TempDir, Arc<Store>) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = Arc::new(Store::open(dir.path()).expect("open the store"));
    (dir, store)
}

#[test]
fn scenario_12_custom_metadata_is_recorded_and_stored() {
    let (_dir, store) = store();
    let manager = LengthRecording(RkyvIoManager::new(Arc::clone(&store)));
    for (name, value, length) in [("list", vec![0, 1, 2], 3), ("empty", Vec::new(), 0)] {
        let asset = AssetKey::new([name]).expect("asset key");
        let context = OutputContext::builder(asset.clone()).build();
        manager
            .handle_output(&context, value.clone())
            .expect("handle_output");
        assert_eq!(
            context.output_metadata().get("length"),
            Some(&MetadataValue::Int(length))
        );
        let stored = store
            .meta(&asset, &PartitionKey::unpartitioned())
            .expect("meta")
            .expect("stored");
        assert_eq!(stored.metadata.get("length"), Some(&length.to_string()));
        assert_eq!(
            stored.metadata.get(BYTE_SIZE),
            Some(&stored.len.to_string())
        );
        let loaded: LoadedInput<Vec<i64>> = manager
            .load_input(&InputContext::builder(asset).build())
            .expect("load");
        assert_eq!(loaded.into_one(), Some(value));
    }
}

#[test]
fn adding_a_metadata_key_twice_is_an_error() {
    let context = OutputContext::builder(AssetKey::new(["a"]).expect("asset key")).build();
    context.add_output_metadata("rows", 1_i64).expect("first");
    let error = context
        .add_output_metadata("rows", 2_i64)
        .expect_err("the key is taken");
    assert!(
        matches!(&error, Error::DuplicateMetadata(key) if key == "rows"),
        "{error:?}"
    );
    assert_eq!(
        context.output_metadata().get("rows"),
        Some(&MetadataValue::Int(1)),
        "the first value stays"
    );

    context
        .add_partition_metadata("p", "index", 0_i64)
        .expect("first");
    let error = context
        .add_partition_metadata("p", "index", 1_i64)
        .expect_err("the key is taken for p");
    assert!(matches!(&error, Error::DuplicateMetadata(key) if key == "index"));
    context
        .add_partition_metadata("q", "index", 1_i64)
        .expect("another partition has its own keys");
}

#[test]
fn a_key_the_manager_records_cannot_be_preset_by_the_user() {
    let (_dir, store) = store();
    let manager = BytesIoManager::new(Arc::clone(&store));
    let asset = AssetKey::new(["raw"]).expect("asset key");
    let context = OutputContext::builder(asset.clone()).build();
    context
        .add_output_metadata(BYTE_SIZE, 1_i64)
        .expect("the user's value");
    let error = manager
        .handle_output(&context, b"abc".to_vec())
        .expect_err("the manager's byte size collides");
    assert!(matches!(&error, Error::DuplicateMetadata(key) if key == BYTE_SIZE));
    assert!(
        !store
            .contains(&asset, &PartitionKey::unpartitioned())
            .expect("contains"),
        "nothing is stored"
    );
}

#[test]
fn the_data_version_is_stored_with_the_materialization() {
    let (_dir, store) = store();
    let manager = BytesIoManager::new(Arc::clone(&store));
    let asset = AssetKey::new(["raw"]).expect("asset key");
    let context = OutputContext::builder(asset.clone())
        .partition_key("p")
        .data_version("v7")
        .build();
    manager
        .handle_output(&context, b"abc".to_vec())
        .expect("handle_output");
    let stored = store
        .meta(&asset, &PartitionKey::new("p").expect("key"))
        .expect("meta")
        .expect("stored");
    assert_eq!(stored.data_version.as_deref(), Some("v7"));
}
