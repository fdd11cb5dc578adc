//! The seed's asset input managers: `first_asset` and `second_asset` are stored
//! by the default I/O manager and loaded into `third_asset` by the manager
//! registered as `pandas_series`, an input manager other than the one that
//! stored them (here: rkyv views in place of owned lists).

use std::sync::Arc;

use tessera_engine::{AssetKey, Store};
use tessera_io_managers::{
    AnyValue, Error, InputContext, IoManagers, OutputContext, RkyvIoManager, RkyvViewInputManager,
};

fn definitions(store: &Arc<Store>) -> IoManagers {
    IoManagers::new()
        .with_io_manager(
            "io_manager",
            RkyvIoManager::<Vec<i64>>::new(Arc::clone(store)),
        )
        .with_input_manager(
            "pandas_series",
            RkyvViewInputManager::<Vec<i64>>::new(Arc::clone(store)),
        )
}

fn materialize(managers: &IoManagers, name: &str, value: Vec<i64>) -> Arc<OutputContext> {
    let context =
        Arc::new(OutputContext::builder(AssetKey::new([name]).expect("asset key")).build());
    managers
        .io_manager("io_manager")
        .expect("the default I/O manager")
        .handle_output_erased("io_manager", &context, AnyValue::new(value))
        .expect("handle_output");
    context
}

/// Loads one input of `third_asset` through the `pandas_series` input manager.
fn series(managers: &IoManagers, upstream: &Arc<OutputContext>) -> Vec<i64> {
    let input = InputContext::builder(upstream.asset_key().clone())
        .upstream_output(Arc::clone(upstream))
        .build();
    let view = managers
        .input_manager("pandas_series")
        .expect("registered")
        .load_input_erased("pandas_series", &input)
        .expect("load_input")
        .downcast::<tessera_engine::ArchivedBlob<Vec<i64>>>()
        .expect("the input manager loads views")
        .into_one()
        .expect("an unpartitioned input is one value");
    view.iter().map(|value| value.to_native()).collect()
}

#[test]
fn first_and_second_asset_are_loaded_into_third_asset_by_the_input_manager() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = Arc::new(Store::open(dir.path()).expect("open the store"));
    let managers = definitions(&store);
    let first = materialize(&managers, "first_asset", vec![1, 2, 3]);
    let second = materialize(&managers, "second_asset", vec![4, 5, 6]);

    let mut third = series(&managers, &first);
    third.extend(series(&managers, &second));
    third.extend([7, 8]);
    assert_eq!(third, vec![1, 2, 3, 4, 5, 6, 7, 8]);
}

#[test]
fn the_default_io_manager_still_loads_owned_values() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = Arc::new(Store::open(dir.path()).expect("open the store"));
    let managers = definitions(&store);
    let first = materialize(&managers, "first_asset", vec![1, 2, 3]);
    let input = InputContext::builder(first.asset_key().clone()).build();
    let owned = managers
        .input_manager("io_manager")
        .expect("an I/O manager also loads inputs")
        .load_input_erased("io_manager", &input)
        .expect("load_input")
        .downcast::<Vec<i64>>()
        .expect("the I/O manager loads Vec<i64>")
        .into_one();
    assert_eq!(owned, Some(vec![1, 2, 3]));
}

#[test]
fn an_unknown_manager_key_is_named_in_the_error() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = Arc::new(Store::open(dir.path()).expect("open the store"));
    let managers = definitions(&store);
    assert!(managers.has_input_manager("pandas_series"));
    assert!(!managers.has_io_manager("pandas_series"));
    let error = managers
        .input_manager("numpy_manager")
        .err()
        .expect("nothing is registered as numpy_manager");
    assert!(matches!(&error, Error::UnknownManager(key) if key == "numpy_manager"));
    assert!(error.to_string().contains("numpy_manager"));
}
