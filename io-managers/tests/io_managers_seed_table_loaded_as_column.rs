//! The seed's "another manager loads the input": `upstream_asset` is stored as a
//! table by the `pandas_manager` (here [`ArrowIoManager`]) and the downstream
//! input, with `key_prefix="public"` and `input_manager_key="numpy_manager"`,
//! is loaded as a typed column (`ArrowColumnInputManager<Float64Type>` gives a
//! `Vec<f64>`, the NumPy array of the seed).

use std::sync::Arc;

use arrow_array::types::{Float64Type, Int64Type};
use arrow_array::{Float64Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use tessera_engine::{AssetKey, Store};
use tessera_io_managers::{
    AnyValue, ArrowColumnInputManager, ArrowIoManager, Error, InputContext, InputManager,
    IoManager, IoManagers, OutputContext,
};

/// `pd.DataFrame([1, 2, 3])`: one column named `0`.
fn data_frame() -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![Field::new("0", DataType::Float64, false)]));
    RecordBatch::try_new(
        schema,
        vec![Arc::new(Float64Array::from(vec![1.0, 2.0, 3.0]))],
    )
    .expect("a valid batch")
}

fn store() -> (tempfile::TempDir, Arc<Store>) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = Arc::new(Store::open(dir.path()).expect("open the store"));
    (dir, store)
}

#[test]
fn upstream_stored_as_a_table_is_loaded_as_a_column_by_another_manager() {
    let (_dir, store) = store();
    let managers = IoManagers::new()
        .with_io_manager("pandas_manager", ArrowIoManager::new(Arc::clone(&store)))
        .with_input_manager(
            "numpy_manager",
            ArrowColumnInputManager::<Float64Type>::new(Arc::clone(&store), "0"),
        );
    let upstream = AssetKey::new(["upstream_asset"])
        .and_then(|key| key.with_prefix(["public"]))
        .expect("asset key");

    let output = Arc::new(OutputContext::builder(upstream.clone()).build());
    managers
        .io_manager("pandas_manager")
        .expect("registered")
        .handle_output_erased("pandas_manager", &output, AnyValue::new(vec![data_frame()]))
        .expect("handle_output");

    let input = InputContext::builder(upstream)
        .name("upstream")
        .upstream_output(Arc::clone(&output))
        .build();
    let array: Vec<f64> = managers
        .input_manager("numpy_manager")
        .expect("registered")
        .load_input_erased("numpy_manager", &input)
        .expect("load_input")
        .downcast::<Vec<f64>>()
        .expect("the numpy manager loads Vec<f64>")
        .into_one()
        .expect("an unpartitioned input is one value");
    // `downstream_asset` returns `upstream.shape`.
    assert_eq!(array, vec![1.0, 2.0, 3.0]);
    assert_eq!(
        input.upstream_output().map(OutputContext::asset_key),
        Some(input.asset_key()),
        "the upstream output is still known to the input manager"
    );
}

#[test]
fn a_column_of_another_type_or_name_is_a_column_error() {
    let (_dir, store) = store();
    let asset = AssetKey::new(["upstream_asset"]).expect("asset key");
    ArrowIoManager::new(Arc::clone(&store))
        .handle_output(
            &OutputContext::builder(asset.clone()).build(),
            vec![data_frame()],
        )
        .expect("handle_output");
    let input = InputContext::builder(asset).build();

    let wrong_type = ArrowColumnInputManager::<Int64Type>::new(Arc::clone(&store), "0")
        .load_input(&input)
        .expect_err("a Float64 column is not Int64");
    assert!(
        matches!(&wrong_type, Error::Column { column, reason } if column == "0" && reason.contains("Float64")),
        "{wrong_type}"
    );
    let wrong_name = ArrowColumnInputManager::<Float64Type>::new(store, "1")
        .load_input(&input)
        .expect_err("there is no column 1");
    assert!(
        matches!(&wrong_name, Error::Column { column, .. } if column == "1"),
        "{wrong_name}"
    );
}
