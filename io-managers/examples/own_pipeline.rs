//! A user's own pipeline behind the `tessera` command line: two assets of
//! this binary's own, and every command of the CLI for them.
//!
//! ```text
//! cargo run -p tessera-io-managers --example own_pipeline -- --store /tmp/orders materialize
//! cargo run -p tessera-io-managers --example own_pipeline -- --store /tmp/orders partitions orders
//! cargo run -p tessera-io-managers --example own_pipeline -- --store /tmp/orders show order_total
//! ```

use std::process::ExitCode;
use std::sync::Arc;

use tessera_engine::{AssetKey, Store};
use tessera_io_managers::cli::App;
use tessera_io_managers::executor::{
    AssetDefinition, AssetInput, DEFAULT_IO_MANAGER_KEY, Definitions, Output,
};
use tessera_io_managers::partitions::StaticPartitionsDefinition;
use tessera_io_managers::{IoManagers, RkyvIoManager};

/// The regions the orders are partitioned by.
const REGIONS: [&str; 3] = ["eu", "us", "apac"];

/// `orders` (one count per region) and the unpartitioned `order_total`.
fn definitions(store: Arc<Store>) -> tessera_io_managers::Result<Definitions> {
    let regions = StaticPartitionsDefinition::new(REGIONS)?;
    let orders = AssetDefinition::new(AssetKey::new(["orders"])?, |ctx, _inputs| {
        let region = ctx.partition_key().ok_or("one region at a time")?;
        let count = u64::try_from(region.len() * 100)?;
        ctx.log(format!("{region}: {count} orders"));
        Ok(Output::new(count))
    })
    .partitions(regions)
    .code_version("1");
    let total = AssetDefinition::new(AssetKey::new(["order_total"])?, |_ctx, inputs| {
        let counts = inputs.take::<u64>("orders")?.into_map();
        Ok(Output::new(counts.values().sum::<u64>()))
    })
    .code_version("1")
    .input(AssetInput::new("orders", AssetKey::new(["orders"])?));
    Definitions::builder(store.clone())
        .asset(orders)
        .asset(total)
        .managers(
            IoManagers::new()
                .with_io_manager(DEFAULT_IO_MANAGER_KEY, RkyvIoManager::<u64>::new(store)),
        )
        .build()
}

fn main() -> ExitCode {
    App::new("own_pipeline", definitions).run()
}
