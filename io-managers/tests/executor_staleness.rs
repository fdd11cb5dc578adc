//! Materialization records and staleness, as Dagster defines them.

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use tessera_engine::{AssetKey, Store};
use tessera_io_managers::executor::{
    AssetDefinition, AssetInput, DEFAULT_IO_MANAGER_KEY, Definitions, MaterializeRequest, Output,
    PartitionSelection,
};
use tessera_io_managers::partitions::{PartitionMapping, TimeWindowPartitionsDefinition};
use tessera_io_managers::records::{StaleCauseCategory, StaleStatus};
use tessera_io_managers::{IoManagers, RkyvIoManager};

fn key(name: &str) -> AssetKey {
    AssetKey::new([name]).expect("valid key")
}

fn definitions(store: &Arc<Store>, downstream_code_version: &str) -> Definitions {
    let daily = TimeWindowPartitionsDefinition::daily("2024-01-01").expect("valid");
    let upstream =
        AssetDefinition::new(key("obs"), |_, _| Ok(Output::new(3u64))).partitions(daily.clone());
    let downstream = AssetDefinition::new(key("rolling"), |_, inputs| {
        let total: u64 = inputs.take::<u64>("obs")?.into_map().values().sum();
        Ok(Output::new(total))
    })
    .partitions(daily)
    .code_version(downstream_code_version)
    .input(
        AssetInput::new("obs", key("obs")).mapping(PartitionMapping::TimeWindow {
            start_offset: -6,
            end_offset: 0,
            allow_nonexistent_upstream_partitions: true,
        }),
    );
    Definitions::builder(store.clone())
        .asset(upstream)
        .asset(downstream)
        .managers(IoManagers::new().with_io_manager(
            DEFAULT_IO_MANAGER_KEY,
            RkyvIoManager::<u64>::new(store.clone()),
        ))
        .build()
        .expect("valid")
}

fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 6, 1, 0, 0, 0)
        .single()
        .expect("valid")
}

fn request(first: &str, last: &str) -> MaterializeRequest {
    MaterializeRequest::new()
        .partitions(PartitionSelection::Range(first.to_owned(), last.to_owned()))
        .now(now())
        .threads(2)
}

fn days() -> Vec<String> {
    (1..=20).map(|d| format!("2024-01-{d:02}")).collect()
}

fn stale_days(definitions: &Definitions, asset: &str) -> Vec<(String, StaleStatus)> {
    days()
        .into_iter()
        .filter_map(|day| {
            let status = definitions
                .stale_status(&key(asset), Some(&day), now())
                .expect("status");
            (!status.is_fresh()).then_some((day, status))
        })
        .collect()
}

#[test]
fn rematerializing_one_upstream_day_makes_exactly_the_seven_days_that_read_it_stale() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(Store::open(dir.path()).expect("open"));
    let defs = definitions(&store, "1");
    assert!(
        defs.materialize(&request("2024-01-01", "2024-01-20"))
            .expect("plan")
            .is_success()
    );
    assert!(stale_days(&defs, "rolling").is_empty());

    let rerun = MaterializeRequest::new()
        .assets(tessera_io_managers::executor::AssetSelection::Assets(vec![
            key("obs"),
        ]))
        .partitions(PartitionSelection::Keys(vec!["2024-01-10".to_owned()]))
        .now(now());
    assert!(defs.materialize(&rerun).expect("plan").is_success());

    let stale = stale_days(&defs, "rolling");
    let stale_keys: Vec<&str> = stale.iter().map(|(day, _)| day.as_str()).collect();
    assert_eq!(
        stale_keys,
        [
            "2024-01-10",
            "2024-01-11",
            "2024-01-12",
            "2024-01-13",
            "2024-01-14",
            "2024-01-15",
            "2024-01-16"
        ]
    );
    for (_, status) in &stale {
        let StaleStatus::Stale(causes) = status else {
            panic!("stale")
        };
        assert!(
            causes
                .iter()
                .all(|c| c.category == StaleCauseCategory::Data)
        );
        assert_eq!(causes[0].reason, "has a new dependency data version");
    }

    let refresh = request("2024-01-01", "2024-01-20").only_missing_or_stale(true);
    let result = defs.materialize(&refresh).expect("plan");
    assert_eq!(result.outcomes.len(), 7, "only the stale days run again");
    assert!(stale_days(&defs, "rolling").is_empty());
}

#[test]
fn a_new_code_version_makes_every_materialized_partition_stale_for_code() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(Store::open(dir.path()).expect("open"));
    let defs = definitions(&store, "1");
    assert!(
        defs.materialize(&request("2024-01-01", "2024-01-05"))
            .expect("plan")
            .is_success()
    );
    let bumped = definitions(&store, "2");
    let status = bumped
        .stale_status(&key("rolling"), Some("2024-01-03"), now())
        .expect("status");
    let StaleStatus::Stale(causes) = status else {
        panic!("expected stale, got {status:?}")
    };
    assert_eq!(causes[0].category, StaleCauseCategory::Code);
    assert_eq!(causes[0].reason, "has a new code version");
    assert_eq!(
        bumped
            .stale_status(&key("rolling"), Some("2024-01-06"), now())
            .expect("status"),
        StaleStatus::Missing
    );
    assert!(
        bumped
            .stale_status(&key("obs"), Some("2024-01-03"), now())
            .expect("status")
            .is_fresh()
    );
}

#[test]
fn records_carry_versions_metadata_and_the_upstream_versions_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(Store::open(dir.path()).expect("open"));
    let defs = definitions(&store, "1");
    assert!(
        defs.materialize(&request("2024-01-01", "2024-01-03"))
            .expect("plan")
            .is_success()
    );
    let record = defs
        .records()
        .materialization(&key("rolling"), Some("2024-01-03"))
        .expect("read")
        .expect("recorded");
    assert_eq!(record.code_version, "1");
    assert!(!record.data_version_user_provided);
    assert_eq!(record.data_version.len(), 64, "a SHA-256 in hex");
    assert!(record.metadata.contains_key("tessera/byte_size"));
    assert_eq!(record.inputs.len(), 1);
    let read: Vec<&str> = record.inputs[0]
        .partitions
        .iter()
        .map(|(k, _)| k.as_str())
        .collect();
    assert_eq!(read, ["2024-01-01", "2024-01-02", "2024-01-03"]);
    let upstream = defs
        .records()
        .materialization(&key("obs"), Some("2024-01-02"))
        .expect("read")
        .expect("recorded");
    assert_eq!(record.inputs[0].partitions[1].1, upstream.data_version);
}
