//! Definitions are validated before anything runs.

use std::sync::Arc;

use tessera_engine::{AssetKey, Store};
use tessera_io_managers::executor::{
    AssetDefinition, AssetInput, DEFAULT_IO_MANAGER_KEY, Definitions, Output,
};
use tessera_io_managers::partitions::{
    PartitionMapping, StaticPartitionsDefinition, TimeWindowPartitionsDefinition,
};
use tessera_io_managers::{Error, IoManagers, RkyvIoManager};

fn key(name: &str) -> AssetKey {
    AssetKey::new([name]).expect("valid key")
}

fn asset(name: &str) -> AssetDefinition {
    AssetDefinition::new(key(name), |_, _| Ok(Output::new(1u64)))
}

fn build(assets: Vec<AssetDefinition>) -> Result<Definitions, Error> {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(Store::open(dir.path()).expect("open"));
    let managers = IoManagers::new().with_io_manager(
        DEFAULT_IO_MANAGER_KEY,
        RkyvIoManager::<u64>::new(store.clone()),
    );
    assets
        .into_iter()
        .fold(Definitions::builder(store), |builder, asset| {
            builder.asset(asset)
        })
        .managers(managers)
        .build()
}

#[test]
fn an_unknown_upstream_is_refused() {
    let error = build(vec![
        asset("a").input(AssetInput::new("ghost", key("ghost"))),
    ])
    .expect_err("invalid");
    assert!(matches!(error, Error::UnknownUpstream { .. }), "{error}");
}

#[test]
fn a_cycle_is_refused() {
    let error = build(vec![
        asset("a").input(AssetInput::new("b", key("b"))),
        asset("b").input(AssetInput::new("a", key("a"))),
    ])
    .expect_err("invalid");
    assert!(
        matches!(&error, Error::Cycle(keys) if keys.len() == 2),
        "{error}"
    );
}

#[test]
fn a_missing_manager_is_refused() {
    let error = build(vec![asset("a").io_manager("warehouse")]).expect_err("invalid");
    assert!(
        matches!(&error, Error::MissingManager { key, .. } if key == "warehouse"),
        "{error}"
    );
    let error = build(vec![
        asset("a"),
        asset("b").input(AssetInput::new("a", key("a")).input_manager("numpy")),
    ])
    .expect_err("invalid");
    assert!(
        matches!(&error, Error::MissingManager { key, .. } if key == "numpy"),
        "{error}"
    );
}

#[test]
fn a_mapping_that_does_not_fit_is_refused() {
    let daily = TimeWindowPartitionsDefinition::daily("2024-01-01").expect("valid");
    let colors = StaticPartitionsDefinition::new(["red", "blue"]).expect("valid");
    let error = build(vec![
        asset("a").partitions(daily),
        asset("b")
            .partitions(colors)
            .input(
                AssetInput::new("a", key("a")).mapping(PartitionMapping::TimeWindow {
                    start_offset: 0,
                    end_offset: 0,
                    allow_nonexistent_upstream_partitions: false,
                }),
            ),
    ])
    .expect_err("invalid");
    assert!(
        matches!(error, Error::IncompatibleMapping { .. }),
        "{error}"
    );
}

#[test]
fn a_self_dependency_must_read_earlier_partitions() {
    let daily = TimeWindowPartitionsDefinition::daily("2024-01-01").expect("valid");
    let error = build(vec![asset("a").partitions(daily).input(
        AssetInput::new("a", key("a")).mapping(PartitionMapping::Identity),
    )])
    .expect_err("invalid");
    assert!(
        matches!(error, Error::IncompatibleMapping { .. }),
        "{error}"
    );
}

#[test]
fn duplicate_and_reserved_keys_are_refused() {
    assert!(matches!(
        build(vec![asset("a"), asset("a")]),
        Err(Error::DuplicateAsset(_))
    ));
    let reserved =
        AssetDefinition::new(AssetKey::new(["__tessera__", "x"]).expect("key"), |_, _| {
            Ok(Output::none())
        });
    assert!(matches!(
        build(vec![reserved]),
        Err(Error::ReservedAsset(_))
    ));
}
