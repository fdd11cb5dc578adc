//! A user's own pipeline gets the CLI's commands through
//! `tessera_io_managers::cli::App`: `materialize` runs the user's assets into
//! the store the command line names.

use std::process::ExitCode;
use std::sync::Arc;

use tessera_engine::{AssetKey, PartitionKey, Store};
use tessera_io_managers::cli::App;
use tessera_io_managers::executor::{
    AssetDefinition, AssetInput, DEFAULT_IO_MANAGER_KEY, Definitions, Output,
};
use tessera_io_managers::partitions::StaticPartitionsDefinition;
use tessera_io_managers::{IoManagers, RkyvIoManager};

fn definitions(store: Arc<Store>) -> tessera_io_managers::Result<Definitions> {
    let counts = AssetDefinition::new(AssetKey::new(["counts"])?, |ctx, _inputs| {
        let key = ctx.partition_key().ok_or("one partition")?;
        Ok(Output::new(u64::try_from(key.len())?))
    })
    .partitions(StaticPartitionsDefinition::new(["a", "bb", "ccc"])?);
    let total = AssetDefinition::new(AssetKey::new(["total"])?, |_ctx, inputs| {
        Ok(Output::new(
            inputs
                .take::<u64>("counts")?
                .into_map()
                .values()
                .sum::<u64>(),
        ))
    })
    .input(AssetInput::new("counts", AssetKey::new(["counts"])?));
    Definitions::builder(store.clone())
        .asset(counts)
        .asset(total)
        .managers(
            IoManagers::new()
                .with_io_manager(DEFAULT_IO_MANAGER_KEY, RkyvIoManager::<u64>::new(store)),
        )
        .build()
}

#[test]
fn the_users_assets_are_materialized_by_the_cli() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store_dir = dir.path().join("store");
    let store_arg = store_dir.to_str().expect("utf-8 path");
    let code = App::new("mine", definitions).run_from([
        "mine",
        "--store",
        store_arg,
        "materialize",
        "--quiet",
    ]);
    assert_eq!(code, ExitCode::SUCCESS);

    let store = Store::open(&store_dir).expect("the CLI made a store");
    let total = store
        .get_rkyv::<u64>(
            &AssetKey::new(["total"]).expect("key"),
            &PartitionKey::unpartitioned(),
        )
        .expect("read")
        .expect("total stored");
    assert_eq!(total.deserialize().expect("u64"), 1 + 2 + 3);
    let partitions = store
        .list_partitions(&AssetKey::new(["counts"]).expect("key"))
        .expect("list");
    assert_eq!(partitions.len(), 3);
}

#[test]
fn a_command_that_fails_exits_with_status_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("nowhere");
    let code = App::new("mine", definitions).run_from([
        "mine",
        "--store",
        missing.to_str().expect("utf-8 path"),
        "assets",
    ]);
    assert_eq!(code, ExitCode::from(2));
    assert!(!missing.exists(), "a read command created {missing:?}");
}
