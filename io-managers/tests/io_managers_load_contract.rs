//! Several upstream partitions in one input: Dagster's contract (0 mapped keys
//! give nothing, 1 the bare value, 2 or more a map keyed by partition key) or
//! [`LoadMode::AlwaysMap`]; maps follow the context's key order (§6 scenarios
//! 6, 7 and 10), not the store's byte order.

use std::sync::Arc;

use tessera_engine::{AssetKey, Store};
use tessera_io_managers::{
    BytesIoManager, InMemoryIoManager, InputContext, InputManager, InputValue, IoManager, LoadMode,
    OutputContext, RkyvIoManager,
};

fn store() -> (tempfile::TempDir, Arc<Store>) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = Arc::new(Store::open(dir.path()).expect("open the store"));
    (dir, store)
}

fn put<M: IoManager>(manager: &M, asset: &AssetKey, partition: &str, value: M::Value) {
    let context = OutputContext::builder(asset.clone())
        .partition_key(partition)
        .build();
    manager
        .handle_output(&context, value)
        .expect("handle_output");
}

fn input(asset: &AssetKey, keys: &[&str], mode: LoadMode) -> InputContext {
    InputContext::builder(asset.clone())
        .asset_partition_keys(keys.iter().copied())
        .load_mode(mode)
        .build()
}

#[test]
fn scenario_6_a_daily_run_loads_24_hourly_partitions_in_chronological_order() {
    let (_dir, store) = store();
    let manager = RkyvIoManager::<u32>::new(store);
    let hourly = AssetKey::new(["hourly"]).expect("asset key");
    let hours: Vec<String> = (0..24).map(|h| format!("2022-01-01-{h:02}:00")).collect();
    // Written in reverse, so the store's write order is not the answer.
    for (hour, key) in hours.iter().enumerate().rev() {
        put(&manager, &hourly, key, u32::try_from(hour).expect("small"));
    }
    let context = InputContext::builder(hourly)
        .partition_key("2022-01-01")
        .asset_partition_keys(hours.clone())
        .build();
    let InputValue::Many(map) = manager.load_input(&context).expect("load").into_value() else {
        panic!("24 partitions are a map");
    };
    assert_eq!(map.len(), 24);
    assert_eq!(map.keys().collect::<Vec<_>>(), hours);
    assert_eq!(
        map.values().copied().collect::<Vec<_>>(),
        (0..24).collect::<Vec<_>>()
    );
    assert_eq!(map.get("2022-01-01-23:00"), Some(&23));
}

#[test]
fn scenario_7_an_unpartitioned_downstream_of_all_static_partitions_gets_both() {
    let (_dir, store) = store();
    let manager = BytesIoManager::new(store);
    let upstream = AssetKey::new(["static"]).expect("asset key");
    // Definition order B, A: the map keeps it, although the store orders A first.
    for key in ["B", "A"] {
        put(&manager, &upstream, key, key.as_bytes().to_vec());
    }
    let context = input(&upstream, &["B", "A"], LoadMode::DagsterContract);
    assert!(
        !context.has_partition_key(),
        "the downstream is unpartitioned"
    );
    let map = manager.load_input(&context).expect("load").into_map();
    assert_eq!(map.keys().collect::<Vec<_>>(), ["B", "A"]);
    let bytes: Vec<&[u8]> = map.values().map(|blob| &**blob).collect();
    assert_eq!(bytes, [&b"B"[..], &b"A"[..]]);
}

#[test]
fn dagster_contract_gives_nothing_one_bare_value_or_a_map() {
    let manager = InMemoryIoManager::<i64>::new();
    let asset = AssetKey::new(["daily"]).expect("asset key");
    for (value, day) in (1..).zip(["2022-01-01", "2022-01-02", "2022-01-03"]) {
        put(&manager, &asset, day, value);
    }
    let load = |keys: &[&str]| {
        manager
            .load_input(&input(&asset, keys, LoadMode::DagsterContract))
            .expect("load")
            .into_value()
    };
    assert_eq!(load(&[]), InputValue::Nothing);
    assert_eq!(
        load(&["2022-01-02"]),
        InputValue::One(Some("2022-01-02".to_owned()), 2)
    );
    assert_eq!(
        load(&["2022-01-01", "2022-01-02"]),
        InputValue::Many([("2022-01-01", 1), ("2022-01-02", 2)].into_iter().collect())
    );
}

#[test]
fn always_map_gives_a_map_for_zero_one_or_many_keys() {
    let manager = InMemoryIoManager::<i64>::new();
    let asset = AssetKey::new(["daily"]).expect("asset key");
    for (value, day) in (1..).zip(["2022-01-01", "2022-01-02", "2022-01-03"]) {
        put(&manager, &asset, day, value);
    }
    let load = |keys: &[&str]| {
        manager
            .load_input(&input(&asset, keys, LoadMode::AlwaysMap))
            .expect("load")
            .into_value()
    };
    assert_eq!(load(&[]), InputValue::Many(Default::default()));
    assert_eq!(
        load(&["2022-01-03"]),
        InputValue::Many([("2022-01-03", 3)].into_iter().collect())
    );
    let InputValue::Many(all) = load(&["2022-01-03", "2022-01-01", "2022-01-02"]) else {
        panic!("always a map");
    };
    assert_eq!(
        all.iter().collect::<Vec<_>>(),
        [("2022-01-03", &3), ("2022-01-01", &1), ("2022-01-02", &2)]
    );
}

#[test]
fn an_unpartitioned_upstream_is_one_value_without_a_key() {
    let manager = InMemoryIoManager::<&'static str>::new();
    let asset = AssetKey::new(["plain"]).expect("asset key");
    manager
        .handle_output(&OutputContext::builder(asset.clone()).build(), "value")
        .expect("handle_output");
    let loaded = manager
        .load_input(&InputContext::builder(asset).build())
        .expect("load");
    assert_eq!(loaded.value(), &InputValue::One(None, "value"));
    assert_eq!(loaded.into_map().keys().collect::<Vec<_>>(), [""]);
}
