//! Chooses the I/O managers from the environment, as the seed's
//! `resources_by_env`: `TESSERA_ENV=local` (the default) keeps lists in memory
//! and tables as Arrow files on disk; any other value stores both in a Tessera
//! store. The assets are the seed's: `upstream_asset` returns `[1, 2, 3]`,
//! `downstream_asset` returns it with `4` appended.
//!
//! ```text
//! cargo run -p tessera-io-managers --example resources_by_env [DIR]
//! TESSERA_ENV=prod cargo run -p tessera-io-managers --example resources_by_env [DIR]
//! ```

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::{Int64Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use tessera_engine::{AssetKey, Store};
use tessera_io_managers::{
    AnyValue, ArrowIoManager, FilesystemIoManager, InMemoryIoManager, InputContext, IoManagers,
    OutputContext, RkyvIoManager,
};

type AnyError = Box<dyn std::error::Error>;

/// The managers of one environment: `io_manager` for lists, `tables` for tables.
fn resources(env: &str, dir: &Path) -> Result<IoManagers, AnyError> {
    Ok(match env {
        "local" => IoManagers::new()
            .with_io_manager("io_manager", InMemoryIoManager::<Vec<i64>>::new())
            .with_io_manager("tables", FilesystemIoManager::new(dir.join("files"))),
        _ => {
            let store = Arc::new(Store::open(dir.join("store"))?);
            IoManagers::new()
                .with_io_manager(
                    "io_manager",
                    RkyvIoManager::<Vec<i64>>::new(Arc::clone(&store)),
                )
                .with_io_manager("tables", ArrowIoManager::new(store))
        }
    })
}

fn table(values: &[i64]) -> Result<RecordBatch, AnyError> {
    let schema = Arc::new(Schema::new(vec![Field::new(
        "value",
        DataType::Int64,
        false,
    )]));
    Ok(RecordBatch::try_new(
        schema,
        vec![Arc::new(Int64Array::from(values.to_vec()))],
    )?)
}

fn main() -> Result<(), AnyError> {
    let env = std::env::var("TESSERA_ENV").unwrap_or_else(|_| "local".to_owned());
    let dir = std::env::args().nth(1).map_or_else(
        || PathBuf::from("tessera-data/resources_by_env"),
        PathBuf::from,
    );
    let managers = resources(&env, &dir)?;

    let upstream = AssetKey::new(["upstream_asset"])?;
    managers.io_manager("io_manager")?.handle_output_erased(
        "io_manager",
        &OutputContext::builder(upstream.clone()).build(),
        AnyValue::new(vec![1_i64, 2, 3]),
    )?;
    let mut downstream = managers
        .input_manager("io_manager")?
        .load_input_erased("io_manager", &InputContext::builder(upstream).build())?
        .downcast::<Vec<i64>>()?
        .into_one()
        .ok_or("upstream_asset is one value")?;
    downstream.push(4);

    let output = OutputContext::builder(AssetKey::new(["downstream_asset"])?).build();
    managers.io_manager("tables")?.handle_output_erased(
        "tables",
        &output,
        AnyValue::new(vec![table(&downstream)?]),
    )?;
    println!("TESSERA_ENV={env}: {managers:?}");
    println!(
        "downstream_asset = {downstream:?}, stored by `tables` with metadata {:?}",
        output.output_metadata()
    );
    Ok(())
}
