//! Every adapter gives back what it stored: bytes, rkyv values (owned and as
//! views), Arrow tables (whole and projected), in-memory values and
//! filesystem files; a value with no partition loads through its upstream
//! output context (§6 scenario 13), and a stored null is a value (scenario 4).

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::{Float64Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use tessera_engine::{AssetKey, Store};
use tessera_io_managers::{
    ArrowIoManager, BytesIoManager, Error, FilesystemIoManager, InMemoryIoManager, InputContext,
    InputManager, IoManager, OutputContext, RkyvIoManager, RkyvViewInputManager,
};

/// A user type archived with rkyv.
#[derive(Debug, Clone, PartialEq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
struct Observation {
    station: String,
    hour: u8,
    readings: Vec<f64>,
    note: Option<String>,
}

fn store() -> (tempfile::TempDir, Arc<Store>) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = Arc::new(Store::open(dir.path()).expect("open the store"));
    (dir, store)
}

fn table() -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("temperature", DataType::Float64, true),
        Field::new("station", DataType::Utf8, false),
    ]));
    RecordBatch::try_new(
        schema,
        vec![
            Arc::new(Int64Array::from(vec![1, 2, 3])),
            Arc::new(Float64Array::from(vec![Some(21.5), None, Some(19.8)])),
            Arc::new(StringArray::from(vec!["a", "b", "c"])),
        ],
    )
    .expect("a valid batch")
}

/// Stores `value` for `partition` of `asset` and loads it back as one value.
fn round_trip<M: IoManager>(
    manager: &M,
    asset: &AssetKey,
    partition: &str,
    value: M::Value,
) -> M::Loaded {
    let output = OutputContext::builder(asset.clone())
        .partition_key(partition)
        .build();
    manager
        .handle_output(&output, value)
        .expect("handle_output");
    let input = InputContext::builder(asset.clone())
        .asset_partition_keys([partition])
        .build();
    manager
        .load_input(&input)
        .expect("load_input")
        .into_one()
        .expect("one partition")
}

#[test]
fn bytes_round_trip() {
    let (_dir, store) = store();
    let asset = AssetKey::new(["raw"]).expect("asset key");
    let manager = BytesIoManager::new(store);
    let payload: Vec<u8> = (0..=255).collect();
    let blob = round_trip(&manager, &asset, "p", payload.clone());
    assert_eq!(&*blob, payload.as_slice());
    let empty = round_trip(&manager, &asset, "empty", Vec::new());
    assert!(empty.is_empty());
}

#[test]
fn rkyv_round_trips_a_derived_struct_owned_and_as_a_view() {
    let (_dir, store) = store();
    let asset = AssetKey::new(["observations"]).expect("asset key");
    let manager = RkyvIoManager::<Observation>::new(Arc::clone(&store));
    let value = Observation {
        station: "st-1".to_owned(),
        hour: 5,
        readings: vec![21.5, 22.0, 19.8],
        note: Some("calibrated".to_owned()),
    };
    assert_eq!(round_trip(&manager, &asset, "p", value.clone()), value);

    let input = InputContext::builder(asset)
        .asset_partition_keys(["p"])
        .build();
    for views in [manager.views(), RkyvViewInputManager::new(store)] {
        let view = views
            .load_input(&input)
            .expect("load")
            .into_one()
            .expect("one partition");
        assert_eq!(view.station.as_str(), "st-1");
        assert_eq!(view.hour, 5);
        assert_eq!(view.readings[2].to_native(), 19.8);
        assert_eq!(view.note.as_ref().map(|n| n.as_str()), Some("calibrated"));
        assert_eq!(view.deserialize().expect("deserialize"), value);
    }
}

/// Stores `value` under output `abc` of step `123`, then loads it with an input
/// context that knows only that upstream output.
fn through_upstream_output<M: IoManager>(manager: &M, value: M::Value) -> Option<M::Loaded> {
    let asset = AssetKey::new(["123", "abc"]).expect("asset key");
    let output = Arc::new(OutputContext::builder(asset.clone()).name("abc").build());
    manager
        .handle_output(&output, value)
        .expect("handle_output");
    let input = InputContext::builder(asset)
        .upstream_output(Arc::clone(&output))
        .build();
    assert_eq!(
        input.upstream_output().map(OutputContext::name),
        Some("abc")
    );
    manager.load_input(&input).expect("load").into_one()
}

#[test]
fn scenario_13_values_without_a_partition_load_through_the_upstream_output() {
    let (_dir, store) = store();
    let ints = RkyvIoManager::<i64>::new(Arc::clone(&store));
    assert_eq!(through_upstream_output(&ints, 0), Some(0));
    let floats = RkyvIoManager::<f64>::new(Arc::clone(&store));
    assert_eq!(through_upstream_output(&floats, 0.0), Some(0.0));
    let lists = RkyvIoManager::<Vec<i64>>::new(Arc::clone(&store));
    assert_eq!(
        through_upstream_output(&lists, vec![0, 1, 2]),
        Some(vec![0, 1, 2])
    );
    let maps = RkyvIoManager::<HashMap<String, i64>>::new(store);
    let map: HashMap<String, i64> = [("a".to_owned(), 0)].into_iter().collect();
    assert_eq!(through_upstream_output(&maps, map.clone()), Some(map));
}

#[test]
fn scenario_4_a_stored_null_is_a_value_not_a_missing_partition() {
    let (_dir, store) = store();
    let asset = AssetKey::new(["maybe"]).expect("asset key");
    let manager = RkyvIoManager::<Option<i64>>::new(store);
    assert_eq!(round_trip(&manager, &asset, "p", None), None);
    let in_memory = InMemoryIoManager::<Option<i64>>::new();
    assert_eq!(round_trip(&in_memory, &asset, "p", None), None);
    assert_eq!(in_memory.len(), 1, "the null is stored");
}

#[test]
fn arrow_round_trips_and_projects_columns() {
    let (_dir, store) = store();
    let asset = AssetKey::new(["tables"]).expect("asset key");
    let manager = ArrowIoManager::new(store);
    let stored = round_trip(&manager, &asset, "p", vec![table(), table()]);
    assert_eq!(stored.batches, vec![table(), table()]);
    assert_eq!(stored.num_rows(), 6);

    let projected = InputContext::builder(asset.clone())
        .asset_partition_keys(["p"])
        .columns(["station", "id"])
        .build();
    let partition = manager
        .load_input(&projected)
        .expect("load")
        .into_one()
        .expect("one partition");
    let names: Vec<&str> = partition
        .schema
        .fields()
        .iter()
        .map(|f| f.name().as_str())
        .collect();
    assert_eq!(names, ["station", "id"]);
    let expected = table().project(&[2, 0]).expect("projection");
    assert_eq!(partition.batches, vec![expected.clone(), expected]);

    let unknown = InputContext::builder(asset)
        .asset_partition_keys(["p"])
        .columns(["humidity"])
        .build();
    let error = manager.load_input(&unknown).expect_err("no such column");
    assert!(
        matches!(&error, Error::Column { column, .. } if column == "humidity"),
        "{error:?}"
    );
}

#[test]
fn in_memory_round_trips_per_asset_and_partition() {
    let manager = InMemoryIoManager::<String>::new();
    assert!(manager.is_empty());
    let a = AssetKey::new(["a"]).expect("asset key");
    let b = AssetKey::new(["b"]).expect("asset key");
    assert_eq!(round_trip(&manager, &a, "p", "a/p".to_owned()), "a/p");
    assert_eq!(round_trip(&manager, &b, "p", "b/p".to_owned()), "b/p");
    assert_eq!(round_trip(&manager, &a, "q", "a/q".to_owned()), "a/q");
    assert_eq!(manager.len(), 3);
}

#[test]
fn filesystem_round_trips_tables() {
    let base = tempfile::tempdir().expect("temporary directory");
    let manager = FilesystemIoManager::new(base.path());
    let asset = AssetKey::new(["tables"]).expect("asset key");
    let stored = round_trip(&manager, &asset, "p", vec![table(), table()]);
    assert_eq!(stored.batches, vec![table(), table()]);
    assert_eq!(stored.schema, table().schema());
}
