//! Asking a manager for, or handing it, a value of another type is
//! [`Error::WrongType`] naming the manager and both types, through the
//! type-erased registry the executor uses; a payload of another codec is the
//! engine's codec mismatch, never a misread.

use std::sync::Arc;

use tessera_engine::{AssetKey, Store};
use tessera_io_managers::{
    AnyValue, ArrowIoManager, Error, InputContext, InputManager, IoManager, IoManagers,
    OutputContext, RkyvIoManager,
};

fn store() -> (tempfile::TempDir, Arc<Store>) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = Arc::new(Store::open(dir.path()).expect("open the store"));
    (dir, store)
}

#[test]
fn a_value_of_another_type_is_refused_by_handle_output() {
    let (_dir, store) = store();
    let managers = IoManagers::new()
        .with_io_manager("lists", RkyvIoManager::<Vec<i64>>::new(Arc::clone(&store)));
    let asset = AssetKey::new(["a"]).expect("asset key");
    let context = OutputContext::builder(asset.clone()).build();
    let error = managers
        .io_manager("lists")
        .expect("registered")
        .handle_output_erased("lists", &context, AnyValue::new("not a list"))
        .expect_err("a &str is not a Vec<i64>");
    match &error {
        Error::WrongType {
            manager,
            expected,
            found,
        } => {
            assert_eq!(manager, "lists");
            assert!(expected.contains("Vec<i64>"), "{expected}");
            assert!(found.contains("str"), "{found}");
        }
        other => panic!("expected WrongType, got {other:?}"),
    }
    assert!(error.to_string().contains("lists"));
    assert!(
        store.list_assets().expect("list").is_empty(),
        "nothing stored"
    );
}

#[test]
fn a_load_asked_as_another_type_is_refused() {
    let (_dir, store) = store();
    let managers = IoManagers::new()
        .with_io_manager("lists", RkyvIoManager::<Vec<i64>>::new(Arc::clone(&store)));
    let asset = AssetKey::new(["a"]).expect("asset key");
    let manager = managers.io_manager("lists").expect("registered");
    manager
        .handle_output_erased(
            "lists",
            &OutputContext::builder(asset.clone()).build(),
            AnyValue::new(vec![1_i64, 2]),
        )
        .expect("handle_output");
    assert!(manager.value_type().contains("Vec<i64>"));

    let input = InputContext::builder(asset).build();
    let loaded = managers
        .input_manager("lists")
        .expect("registered")
        .load_input_erased("lists", &input)
        .expect("load");
    let error = loaded
        .downcast::<Vec<i32>>()
        .expect_err("the manager loads Vec<i64>");
    assert!(
        matches!(&error, Error::WrongType { manager, expected, found }
            if manager == "lists" && expected.contains("i64") && found.contains("i32")),
        "{error:?}"
    );
}

#[test]
fn a_range_output_with_one_value_of_another_type_stores_nothing() {
    let (_dir, store) = store();
    let managers =
        IoManagers::new().with_io_manager("ints", RkyvIoManager::<i64>::new(Arc::clone(&store)));
    let asset = AssetKey::new(["a"]).expect("asset key");
    let context = OutputContext::builder(asset)
        .partition_keys(["x", "y"])
        .build();
    let values = [("x", AnyValue::new(1_i64)), ("y", AnyValue::new(2_u8))]
        .into_iter()
        .collect();
    let error = managers
        .io_manager("ints")
        .expect("registered")
        .handle_range_output_erased("ints", &context, values)
        .expect_err("a u8 is not an i64");
    assert!(matches!(error, Error::WrongType { .. }), "{error:?}");
    assert!(store.list_assets().expect("list").is_empty());
}

#[test]
fn any_value_names_both_types() {
    let value = AnyValue::new(3.5_f64);
    assert_eq!(value.type_name(), "f64");
    let error = value.downcast::<String>("m").expect_err("not a String");
    assert!(
        matches!(&error, Error::WrongType { expected, found, .. } if expected.contains("String") && *found == "f64"),
        "{error:?}"
    );
    assert_eq!(AnyValue::new(7_u16).downcast::<u16>("m").expect("a u16"), 7);
}

#[test]
fn an_rkyv_payload_read_as_arrow_is_a_codec_mismatch() {
    let (_dir, store) = store();
    let asset = AssetKey::new(["a"]).expect("asset key");
    RkyvIoManager::<Vec<i64>>::new(Arc::clone(&store))
        .handle_output(&OutputContext::builder(asset.clone()).build(), vec![1, 2])
        .expect("handle_output");
    let error = ArrowIoManager::new(store)
        .load_input(&InputContext::builder(asset).build())
        .expect_err("rkyv is not Arrow");
    assert!(
        matches!(
            error,
            Error::Engine(tessera_engine::Error::CodecMismatch { .. })
        ),
        "{error:?}"
    );
}
