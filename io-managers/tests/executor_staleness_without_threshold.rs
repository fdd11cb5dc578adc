//! Staleness has no threshold and a public query: a partition reading 744
//! hourly partitions, or an unpartitioned summary of three years of days, is
//! stale exactly when one of its inputs changed, and
//! `Definitions::stale_partitions` names each stale or missing partition with
//! its causes. A new code version makes every materialized partition stale,
//! whatever the partitioning (Dagster #22704 reports it does not there).

use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use tessera_engine::{AssetKey, Durability, Store};
use tessera_io_managers::executor::{
    AssetDefinition, AssetInput, AssetSelection, DEFAULT_IO_MANAGER_KEY, Definitions,
    MaterializeRequest, Output, PartitionSelection,
};
use tessera_io_managers::partitions::{
    DynamicPartitionsDefinition, MultiPartitionsDefinition, PartitionsDefinition,
    StaticPartitionsDefinition, TimeWindowPartitionsDefinition as Tw,
};
use tessera_io_managers::records::{StaleCause, StaleCauseCategory, StalePartition};
use tessera_io_managers::{IoManagers, RkyvIoManager};

fn key(name: &str) -> AssetKey {
    AssetKey::new([name]).expect("valid key")
}

fn utc(y: i32, mo: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, 0, 0, 0)
        .single()
        .expect("valid")
}

fn open_store(dir: &tempfile::TempDir) -> Arc<Store> {
    Arc::new(
        Store::builder(dir.path())
            .durability(Durability::Buffered)
            .open()
            .expect("open"),
    )
}

fn source(name: &str, partitions: impl Into<PartitionsDefinition>) -> AssetDefinition {
    AssetDefinition::new(key(name), |_, _| Ok(Output::new(1u64))).partitions(partitions)
}

fn summing(name: &str, upstream: &str) -> AssetDefinition {
    let input = upstream.to_owned();
    AssetDefinition::new(key(name), move |_, inputs| {
        let total: u64 = inputs.take::<u64>(&input)?.into_map().values().sum();
        Ok(Output::new(total))
    })
    .input(AssetInput::new(upstream, key(upstream)))
}

fn build(store: &Arc<Store>, assets: Vec<AssetDefinition>) -> Definitions {
    let mut builder =
        Definitions::builder(store.clone()).managers(IoManagers::new().with_io_manager(
            DEFAULT_IO_MANAGER_KEY,
            RkyvIoManager::<u64>::new(store.clone()),
        ));
    for asset in assets {
        builder = builder.asset(asset);
    }
    builder.build().expect("valid definitions")
}

fn run(defs: &Definitions, request: MaterializeRequest) {
    let result = defs.materialize(&request.threads(2)).expect("plan");
    assert!(result.is_success(), "{:?}", result.failed().next());
}

fn rerun_one(defs: &Definitions, asset: &str, partition: &str, now: DateTime<Utc>) {
    run(
        defs,
        MaterializeRequest::new()
            .assets(AssetSelection::Assets(vec![key(asset)]))
            .partitions(PartitionSelection::Keys(vec![partition.to_owned()]))
            .now(now),
    );
}

fn data_cause(upstream: &str, partition: &str) -> StaleCause {
    StaleCause {
        category: StaleCauseCategory::Data,
        reason: "has a new dependency data version".to_owned(),
        dependency: Some((key(upstream), Some(partition.to_owned()))),
    }
}

#[test]
fn a_month_over_744_hours_is_stale_exactly_when_one_hour_changed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open_store(&dir);
    let now = utc(2024, 2, 1);
    let hourly = Tw::hourly("2024-01-01-00:00").expect("valid");
    let monthly = Tw::monthly("2024-01-01").expect("valid");
    let defs = build(
        &store,
        vec![
            source("hours", hourly),
            summing("month", "hours").partitions(monthly),
        ],
    );
    run(&defs, MaterializeRequest::new().now(now));
    let record = defs
        .records()
        .materialization(&key("month"), Some("2024-01-01"))
        .expect("read")
        .expect("recorded");
    assert_eq!(
        record.inputs[0].partitions.len(),
        744,
        "every hour's version"
    );
    assert_eq!(
        defs.stale_partitions_at(&key("month"), now).expect("query"),
        []
    );

    rerun_one(&defs, "hours", "2024-01-15-07:00", now);
    assert_eq!(
        defs.stale_partitions_at(&key("month"), now).expect("query"),
        [StalePartition {
            partition: Some("2024-01-01".to_owned()),
            missing: false,
            causes: vec![data_cause("hours", "2024-01-15-07:00")],
        }]
    );
}

#[test]
fn an_unpartitioned_summary_of_three_years_of_days_is_stale_when_one_day_changed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open_store(&dir);
    let now = utc(2024, 1, 1);
    let daily = Tw::daily("2021-01-01").expect("valid");
    let defs = build(
        &store,
        vec![source("days", daily), summing("summary", "days")],
    );
    run(&defs, MaterializeRequest::new().now(now));
    assert!(
        defs.stale_partitions_at(&key("summary"), now)
            .expect("query")
            .is_empty()
    );

    rerun_one(&defs, "days", "2022-06-30", now);
    rerun_one(&defs, "days", "2023-12-31", now);
    let stale = defs
        .stale_partitions_at(&key("summary"), now)
        .expect("query");
    assert_eq!(
        stale,
        [StalePartition {
            partition: None,
            missing: false,
            causes: vec![
                data_cause("days", "2022-06-30"),
                data_cause("days", "2023-12-31")
            ],
        }]
    );
}

#[test]
fn missing_partitions_are_listed_with_the_upstream_partitions_they_lack() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open_store(&dir);
    let now = utc(2024, 1, 4);
    let daily = Tw::daily("2024-01-01").expect("valid");
    let defs = build(
        &store,
        vec![
            source("obs", daily.clone()),
            summing("clean", "obs").partitions(daily),
        ],
    );
    rerun_one(&defs, "obs", "2024-01-01", now);
    rerun_one(&defs, "obs", "2024-01-02", now);
    rerun_one(&defs, "clean", "2024-01-01", now);

    let stale = defs.stale_partitions_at(&key("clean"), now).expect("query");
    let missing_obs = StaleCause {
        category: StaleCauseCategory::MissingUpstream,
        reason: "has a missing dependency".to_owned(),
        dependency: Some((key("obs"), Some("2024-01-03".to_owned()))),
    };
    assert_eq!(
        stale,
        [
            StalePartition {
                partition: Some("2024-01-02".to_owned()),
                missing: true,
                causes: vec![],
            },
            StalePartition {
                partition: Some("2024-01-03".to_owned()),
                missing: true,
                causes: vec![missing_obs],
            },
        ]
    );
}

/// Materializes `asset` (code version 1) over `partitions`, then checks that
/// with code version 2 every partition is stale for its code alone, and a
/// downstream identity-mapped asset stays fresh until the upstream runs again
/// (Dagster's behaviour for unpartitioned assets).
fn code_version_bump_makes_every_partition_stale(
    partitions: PartitionsDefinition,
    add_dynamic: Option<(&str, &[&str])>,
) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open_store(&dir);
    let now = utc(2024, 1, 4);
    let assets = |version: &str| {
        vec![
            source("up", partitions.clone()).code_version(version),
            summing("down", "up")
                .partitions(partitions.clone())
                .code_version("1"),
        ]
    };
    let defs = build(&store, assets("1"));
    if let Some((name, keys)) = add_dynamic {
        defs.dynamic_partitions()
            .add_partitions(name, keys.iter().copied())
            .expect("dynamic keys");
    }
    run(&defs, MaterializeRequest::new().now(now));
    let all = defs
        .partition_keys(defs.asset(&key("up")).expect("asset"), now)
        .expect("keys")
        .expect("partitioned");
    assert!(all.len() >= 2, "{all:?}");
    assert!(
        defs.stale_partitions_at(&key("up"), now)
            .expect("query")
            .is_empty()
    );

    let bumped = build(&store, assets("2"));
    let stale = bumped.stale_partitions_at(&key("up"), now).expect("query");
    let code = StaleCause {
        category: StaleCauseCategory::Code,
        reason: "has a new code version".to_owned(),
        dependency: None,
    };
    let expected: Vec<StalePartition> = all
        .iter()
        .map(|p| StalePartition {
            partition: Some(p.clone()),
            missing: false,
            causes: vec![code.clone()],
        })
        .collect();
    assert_eq!(stale, expected);
    assert!(
        bumped
            .stale_partitions_at(&key("down"), now)
            .expect("query")
            .is_empty(),
        "the downstream is fresh until the upstream runs again"
    );

    rerun_one(&bumped, "up", &all[0], now);
    let down = bumped
        .stale_partitions_at(&key("down"), now)
        .expect("query");
    assert_eq!(down.len(), 1, "{down:?}");
    assert_eq!(down[0].partition.as_deref(), Some(all[0].as_str()));
    assert_eq!(down[0].causes, [data_cause("up", &all[0])]);
}

#[test]
fn a_new_code_version_makes_time_window_partitions_stale() {
    code_version_bump_makes_every_partition_stale(
        Tw::daily("2024-01-01").expect("valid").into(),
        None,
    );
}

#[test]
fn a_new_code_version_makes_static_partitions_stale() {
    code_version_bump_makes_every_partition_stale(
        StaticPartitionsDefinition::new(["b", "a", "c"])
            .expect("valid")
            .into(),
        None,
    );
}

#[test]
fn a_new_code_version_makes_dynamic_partitions_stale() {
    code_version_bump_makes_every_partition_stale(
        DynamicPartitionsDefinition::new("regions")
            .expect("valid")
            .into(),
        Some(("regions", &["eu", "us", "asia"])),
    );
}

#[test]
fn a_new_code_version_makes_multi_partitions_stale() {
    let multi = MultiPartitionsDefinition::new([
        (
            "color",
            StaticPartitionsDefinition::new(["red", "blue"])
                .expect("valid")
                .into(),
        ),
        ("date", Tw::daily("2024-01-01").expect("valid").into()),
    ])
    .expect("valid");
    code_version_bump_makes_every_partition_stale(multi.into(), None);
}

#[test]
fn an_added_or_removed_input_is_a_dependencies_cause() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open_store(&dir);
    let now = utc(2024, 1, 4);
    let unpartitioned = |name: &str| AssetDefinition::new(key(name), |_, _| Ok(Output::new(1u64)));
    let reading = |inputs: &[&str]| {
        let mut asset = AssetDefinition::new(key("c"), |_, _| Ok(Output::new(2u64)));
        for input in inputs {
            asset = asset.input(AssetInput::new(*input, key(input)));
        }
        asset
    };
    let defs = build(
        &store,
        vec![unpartitioned("a"), unpartitioned("b"), reading(&["a"])],
    );
    run(&defs, MaterializeRequest::new().now(now));
    assert!(
        defs.stale_partitions_at(&key("c"), now)
            .expect("query")
            .is_empty()
    );

    let moved = build(
        &store,
        vec![unpartitioned("a"), unpartitioned("b"), reading(&["b"])],
    );
    let stale = moved.stale_partitions_at(&key("c"), now).expect("query");
    let reasons: Vec<(StaleCauseCategory, &str)> = stale[0]
        .causes
        .iter()
        .map(|c| (c.category, c.reason.as_str()))
        .collect();
    assert_eq!(
        reasons,
        [
            (StaleCauseCategory::Dependencies, "removed dependency on a"),
            (
                StaleCauseCategory::Dependencies,
                "has a new dependency on b"
            ),
        ]
    );
}
