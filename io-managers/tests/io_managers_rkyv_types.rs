//! An rkyv value remembers its type: loading a `u64` through an
//! `RkyvIoManager<f64>` is [`Error::WrongStoredType`] naming both types,
//! never a reinterpreted number; a value stored before types were recorded
//! still loads.

use std::sync::Arc;

use tessera_engine::{AssetKey, PartitionKey, Store};
use tessera_io_managers::metadata::{RKYV_LAYOUT, RKYV_TYPE};
use tessera_io_managers::{
    Error, InputContext, InputManager, IoManager, OutputContext, RkyvIoManager,
};

fn store() -> (tempfile::TempDir, Arc<Store>) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = Arc::new(Store::open(dir.path()).expect("open the store"));
    (dir, store)
}

fn input(asset: &AssetKey) -> InputContext {
    InputContext::builder(asset.clone()).build()
}

#[test]
fn a_u64_loaded_as_f64_is_a_wrong_type_naming_both() {
    let (_dir, store) = store();
    let asset = AssetKey::new(["count"]).expect("key");
    RkyvIoManager::<u64>::new(store.clone())
        .handle_output(&OutputContext::builder(asset.clone()).build(), 42)
        .expect("store a u64");
    let error = RkyvIoManager::<f64>::new(store.clone())
        .load_input(&input(&asset))
        .expect_err("a u64 is not an f64");
    match &error {
        Error::WrongStoredType(mismatch) => {
            assert_eq!(mismatch.asset, asset);
            assert_eq!(mismatch.stored, "u64");
            assert_eq!(mismatch.requested, "f64");
        }
        other => panic!("expected WrongStoredType, got {other:?}"),
    }
    assert!(error.to_string().contains("u64") && error.to_string().contains("f64"));
    let same = RkyvIoManager::<u64>::new(store)
        .load_input(&input(&asset))
        .expect("the stored type loads")
        .into_one();
    assert_eq!(same, Some(42));
}

#[test]
fn the_type_and_layout_are_recorded_beside_the_value() {
    let (_dir, store) = store();
    let asset = AssetKey::new(["list"]).expect("key");
    RkyvIoManager::<Vec<u32>>::new(store.clone())
        .handle_output(&OutputContext::builder(asset.clone()).build(), vec![1, 2])
        .expect("store");
    let meta = store
        .meta(&asset, &PartitionKey::unpartitioned())
        .expect("meta")
        .expect("stored");
    assert_eq!(
        meta.metadata.get(RKYV_TYPE).map(String::as_str),
        Some("alloc::vec::Vec<u32>")
    );
    assert!(
        meta.metadata
            .get(RKYV_LAYOUT)
            .is_some_and(|l| l.starts_with("size="))
    );
    let error = RkyvIoManager::<Vec<u64>>::new(store)
        .load_input(&input(&asset))
        .expect_err("Vec<u32> is not Vec<u64>");
    assert!(matches!(error, Error::WrongStoredType(_)), "{error:?}");
}

#[test]
fn a_value_stored_without_a_type_still_loads() {
    let (_dir, store) = store();
    let asset = AssetKey::new(["old"]).expect("key");
    store
        .put_rkyv(&asset, &PartitionKey::unpartitioned(), &7_u64)
        .expect("stored as before types were recorded");
    let loaded = RkyvIoManager::<u64>::new(store)
        .load_input(&input(&asset))
        .expect("loads")
        .into_one();
    assert_eq!(loaded, Some(7));
}
