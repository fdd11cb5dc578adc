//! Loading an input as of an earlier version or time: every store-backed
//! manager (bytes, rkyv, Arrow) reads the version the [`AsOf`] selects and
//! notes the version it read; one `AsOf::Version` is one consistent point of
//! the whole store across partitions; versions outside the retention are
//! missing; managers without versions refuse an `AsOf` with a typed error.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use arrow_array::{Int64Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use chrono::{DateTime, TimeDelta, Utc};
use tessera_engine::{AssetKey, Retention, Store};
use tessera_io_managers::{
    ArrowIoManager, AsOf, BytesIoManager, Error, FilesystemIoManager, InMemoryIoManager,
    InputContext, InputManager, IoManager, LoadMode, OutputContext, RkyvIoManager,
};

/// A store keeping `keep` versions whose clock starts at `START` and moves
/// one hour per reading.
fn store(keep: u32) -> (tempfile::TempDir, Arc<Store>) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let hours = Arc::new(AtomicI64::new(0));
    let store = Store::builder(dir.path())
        .retention(Retention::keep_last(keep))
        .clock(Arc::new(move || {
            start() + TimeDelta::hours(hours.fetch_add(1, Ordering::Relaxed))
        }))
        .open()
        .expect("open the store");
    (dir, Arc::new(store))
}

fn start() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2024-01-01T00:00:00Z")
        .expect("time")
        .with_timezone(&Utc)
}

fn asset() -> AssetKey {
    AssetKey::new(["public", "obs"]).expect("asset key")
}

/// Stores `value` as `partition` and returns the store version it became.
fn write<M: IoManager>(manager: &M, partition: &str, value: M::Value) -> u64 {
    let context = OutputContext::builder(asset())
        .partition_key(partition)
        .build();
    manager.handle_output(&context, value).expect("store");
    context
        .stored_version(Some(partition))
        .expect("a store-backed manager notes the version it wrote")
}

fn input(partitions: &[&str], as_of: Option<AsOf>) -> InputContext {
    let builder = InputContext::builder(asset())
        .asset_partition_keys(partitions.iter().copied())
        .load_mode(LoadMode::AlwaysMap);
    match as_of {
        Some(as_of) => builder.as_of(as_of).build(),
        None => builder.build(),
    }
}

fn load_bytes(manager: &BytesIoManager, context: &InputContext) -> Vec<(String, Vec<u8>)> {
    manager
        .load_input(context)
        .expect("load")
        .into_map()
        .iter()
        .map(|(key, blob)| (key.to_owned(), blob.to_vec()))
        .collect()
}

#[test]
fn bytes_load_the_version_or_time_asked_and_note_what_they_read() {
    let (_dir, store) = store(3);
    let manager = BytesIoManager::new(store.clone());
    let first = write(&manager, "d", b"one".to_vec());
    let second = write(&manager, "d", b"two".to_vec());
    let third = write(&manager, "d", b"three".to_vec());
    assert!(first < second && second < third, "{first} {second} {third}");

    let newest = input(&["d"], None);
    assert_eq!(
        load_bytes(&manager, &newest),
        [("d".into(), b"three".to_vec())]
    );
    assert_eq!(newest.loaded_versions()[0].version, third);

    let pinned = input(&["d"], Some(AsOf::Version(second)));
    assert_eq!(
        load_bytes(&manager, &pinned),
        [("d".into(), b"two".to_vec())]
    );
    let read = pinned.loaded_versions();
    assert_eq!((read[0].partition.as_str(), read[0].version), ("d", second));

    let times: Vec<DateTime<Utc>> = store
        .history(
            &asset(),
            &tessera_engine::PartitionKey::new("d").expect("key"),
        )
        .expect("history")
        .iter()
        .map(|info| info.meta.created_at)
        .collect();
    let oldest_time = *times.last().expect("three versions");
    let at_first = input(&["d"], Some(AsOf::Time(oldest_time)));
    assert_eq!(
        load_bytes(&manager, &at_first),
        [("d".into(), b"one".to_vec())]
    );
    let between = input(&["d"], Some(AsOf::Time(times[1] + TimeDelta::minutes(1))));
    assert_eq!(
        load_bytes(&manager, &between),
        [("d".into(), b"two".to_vec())]
    );
}

#[test]
fn a_point_before_every_retained_version_is_missing() {
    let (_dir, store) = store(2);
    let manager = BytesIoManager::new(store);
    let first = write(&manager, "d", b"one".to_vec());
    let second = write(&manager, "d", b"two".to_vec());
    write(&manager, "d", b"three".to_vec());
    let dropped = input(&["d"], Some(AsOf::Version(first)));
    match manager.load_input(&dropped) {
        Err(Error::Missing {
            asset: missing,
            partition,
        }) => {
            assert_eq!(missing, asset());
            assert_eq!(partition.as_deref(), Some("d"));
        }
        other => panic!("version {first} is outside the retention: {other:?}"),
    }
    let kept = input(&["d"], Some(AsOf::Version(second)));
    assert_eq!(load_bytes(&manager, &kept), [("d".into(), b"two".to_vec())]);
    let early = input(&["d"], Some(AsOf::Time(start() - TimeDelta::days(1))));
    assert!(matches!(
        manager.load_input(&early),
        Err(Error::Missing { .. })
    ));
}

#[test]
fn one_version_is_one_point_of_the_store_across_partitions() {
    let (_dir, store) = store(5);
    let manager = BytesIoManager::new(store);
    write(&manager, "a", b"a1".to_vec());
    let b1 = write(&manager, "b", b"b1".to_vec());
    write(&manager, "a", b"a2".to_vec());
    write(&manager, "b", b"b2".to_vec());
    let snapshot = input(&["a", "b"], Some(AsOf::Version(b1)));
    assert_eq!(
        load_bytes(&manager, &snapshot),
        [("a".into(), b"a1".to_vec()), ("b".into(), b"b1".to_vec())]
    );
    let latest = input(&["a", "b"], None);
    assert_eq!(
        load_bytes(&manager, &latest),
        [("a".into(), b"a2".to_vec()), ("b".into(), b"b2".to_vec())]
    );
}

#[derive(Debug, Clone, PartialEq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
struct Reading {
    celsius: f64,
}

#[test]
fn rkyv_values_and_views_load_an_earlier_version() {
    let (_dir, store) = store(3);
    let manager = RkyvIoManager::<Reading>::new(store);
    let cold = write(&manager, "d", Reading { celsius: -3.0 });
    write(&manager, "d", Reading { celsius: 25.0 });
    let pinned = input(&["d"], Some(AsOf::Version(cold)));
    let value = manager.load_input(&pinned).expect("load").into_map();
    assert_eq!(value.get("d"), Some(&Reading { celsius: -3.0 }));
    let view = manager
        .views()
        .load_input(&pinned)
        .expect("load")
        .into_map();
    assert_eq!(view.get("d").map(|v| v.celsius.to_native()), Some(-3.0));
}

fn batch(value: i64) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![Field::new("v", DataType::Int64, false)]));
    RecordBatch::try_new(schema, vec![Arc::new(Int64Array::from(vec![value]))]).expect("batch")
}

#[test]
fn arrow_tables_load_an_earlier_version() {
    let (_dir, store) = store(3);
    let manager = ArrowIoManager::new(store);
    let old = write(&manager, "d", vec![batch(1)]);
    write(&manager, "d", vec![batch(2)]);
    let pinned = input(&["d"], Some(AsOf::Version(old)));
    let tables = manager.load_input(&pinned).expect("load").into_map();
    let table = tables.get("d").expect("loaded");
    let column = table.batches[0]
        .column(0)
        .as_any()
        .downcast_ref::<Int64Array>()
        .expect("int64");
    assert_eq!(column.value(0), 1);
    let streamed = manager.load_batches(&pinned).expect("stream");
    assert_eq!(streamed.batches.len(), 1);
}

#[test]
fn managers_without_versions_refuse_as_of_with_a_typed_error() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let files = FilesystemIoManager::new(dir.path());
    write_file(&files);
    let pinned = input(&["d"], Some(AsOf::Version(1)));
    match files.load_input(&pinned) {
        Err(Error::VersionsUnsupported {
            manager,
            asset: asked,
            as_of,
        }) => {
            assert_eq!(manager, "filesystem");
            assert_eq!(asked, asset());
            assert_eq!(as_of, AsOf::Version(1));
        }
        other => panic!("expected VersionsUnsupported, got {other:?}"),
    }
    assert!(files.load_input(&input(&["d"], None)).is_ok());

    let memory = InMemoryIoManager::<u8>::new();
    let context = OutputContext::builder(asset()).partition_key("d").build();
    memory.handle_output(&context, 7).expect("store");
    assert!(matches!(
        memory.load_input(&input(&["d"], Some(AsOf::Time(start())))),
        Err(Error::VersionsUnsupported {
            manager: "in-memory",
            ..
        })
    ));
}

fn write_file(files: &FilesystemIoManager) {
    let context = OutputContext::builder(asset()).partition_key("d").build();
    files
        .handle_output(&context, vec![batch(1)])
        .expect("store a file");
}
