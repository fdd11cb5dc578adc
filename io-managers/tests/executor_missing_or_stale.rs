//! `only_missing_or_stale` selects exactly the partitions that must run again:
//! no stored value (deleted, or never written), a value failing its checksum,
//! a latest run that failed, a new code version, a downstream of anything
//! the run materializes (the unpartitioned summary over new upstream days),
//! and a record that cannot be read (counted as missing, with a warning,
//! never aborting the run). A fresh store selects nothing.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, TimeZone, Utc};
use tessera_engine::{AssetKey, Blob, PartitionKey, Payload, Store};
use tessera_io_managers::executor::{
    AssetDefinition, AssetInput, DEFAULT_IO_MANAGER_KEY, Definitions, MaterializeRequest,
    MaterializeResult, Output, PartitionSelection,
};
use tessera_io_managers::partitions::{PartitionMapping, TimeWindowPartitionsDefinition};
use tessera_io_managers::{BytesIoManager, IoManagers};

fn key(name: &str) -> AssetKey {
    AssetKey::new([name]).expect("valid key")
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 1, 11, 0, 0, 0)
        .single()
        .expect("a valid instant")
}

/// What a test pipeline can be told to do differently.
#[derive(Clone)]
struct Knobs {
    fail_days: Arc<AtomicBool>,
    daily_code_version: &'static str,
}

impl Default for Knobs {
    fn default() -> Self {
        Self {
            fail_days: Arc::new(AtomicBool::new(false)),
            daily_code_version: "1",
        }
    }
}

/// `days` (daily, a recognizable payload per day), `pairs` (each day and the
/// one before) and the unpartitioned `total` over every day.
fn definitions(store: &Arc<Store>, knobs: &Knobs) -> Definitions {
    let daily = TimeWindowPartitionsDefinition::daily("2024-01-01").expect("valid");
    let fail = knobs.fail_days.clone();
    let days = AssetDefinition::new(key("days"), move |ctx, _| {
        if fail.load(Ordering::SeqCst) {
            return Err("told to fail".into());
        }
        let day = ctx.partition_key().ok_or("one day")?;
        Ok(Output::new(format!("payload-of-{day}").into_bytes()))
    })
    .partitions(daily.clone())
    .code_version(knobs.daily_code_version);
    let pairs = AssetDefinition::new(key("pairs"), |_, inputs| {
        let days = inputs.take::<Blob>("days")?.into_map();
        Ok(Output::new(
            days.values()
                .flat_map(|day| day.iter().copied())
                .collect::<Vec<u8>>(),
        ))
    })
    .partitions(daily)
    .code_version("1")
    .input(
        AssetInput::new("days", key("days"))
            .mapping(PartitionMapping::TimeWindow {
                start_offset: -1,
                end_offset: 0,
                allow_nonexistent_upstream_partitions: true,
            })
            .allow_missing_partitions(true),
    );
    let total = AssetDefinition::new(key("total"), |_, inputs| {
        let days = inputs.take::<Blob>("days")?.into_map();
        Ok(Output::new(days.len().to_string().into_bytes()))
    })
    .code_version("1")
    .input(AssetInput::new("days", key("days")).allow_missing_partitions(true));
    Definitions::builder(store.clone())
        .asset(days)
        .asset(pairs)
        .asset(total)
        .managers(
            IoManagers::new()
                .with_io_manager(DEFAULT_IO_MANAGER_KEY, BytesIoManager::new(store.clone())),
        )
        .build()
        .expect("valid definitions")
}

fn run(
    definitions: &Definitions,
    last_day: &str,
    only_missing_or_stale: bool,
) -> MaterializeResult {
    let request = MaterializeRequest::new()
        .partitions(PartitionSelection::Range(
            "2024-01-01".to_owned(),
            last_day.to_owned(),
        ))
        .only_missing_or_stale(only_missing_or_stale)
        .now(now())
        .threads(2);
    definitions
        .materialize(&request)
        .expect("the run is planned")
}

/// The `(asset, partition)` pairs a run materialized, sorted.
fn ran(result: &MaterializeResult) -> Vec<String> {
    let mut ran: Vec<String> = result
        .outcomes
        .iter()
        .map(|o| format!("{} {}", o.asset, o.partition.as_deref().unwrap_or("-")))
        .collect();
    ran.sort();
    ran
}

fn open(dir: &Path) -> Arc<Store> {
    Arc::new(Store::open(dir).expect("open the store"))
}

/// A store with days, pairs and total materialized for 2024-01-01..=05.
fn materialized_store(dir: &Path, knobs: &Knobs) -> Arc<Store> {
    let store = open(dir);
    let first = run(&definitions(&store, knobs), "2024-01-05", false);
    assert!(first.is_success(), "{:?}", first.outcomes);
    assert_eq!(first.materialized(), 11);
    store
}

#[test]
fn a_fresh_store_selects_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let knobs = Knobs::default();
    let store = materialized_store(dir.path(), &knobs);
    let again = run(&definitions(&store, &knobs), "2024-01-05", true);
    assert_eq!(ran(&again), Vec::<String>::new());
    assert!(again.warnings.is_empty(), "{:?}", again.warnings);
}

#[test]
fn new_upstream_days_rerun_the_summary_over_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let knobs = Knobs::default();
    let store = materialized_store(dir.path(), &knobs);
    let defs = definitions(&store, &knobs);
    let again = run(&defs, "2024-01-07", true);
    assert_eq!(
        ran(&again),
        [
            "days 2024-01-06",
            "days 2024-01-07",
            "pairs 2024-01-06",
            "pairs 2024-01-07",
            "total -",
        ]
    );
    assert!(again.is_success(), "{:?}", again.outcomes);
    let total = store
        .get(&key("total"), &PartitionKey::unpartitioned())
        .expect("read")
        .expect("stored");
    assert_eq!(&total[..], b"7", "the total counts the new days");
}

#[test]
fn a_value_deleted_through_the_library_is_materialized_again() {
    let dir = tempfile::tempdir().expect("tempdir");
    let knobs = Knobs::default();
    let store = materialized_store(dir.path(), &knobs);
    assert!(
        store
            .delete(&key("days"), &PartitionKey::new("2024-01-03").expect("key"))
            .expect("delete")
    );
    let again = run(&definitions(&store, &knobs), "2024-01-05", true);
    assert_eq!(
        ran(&again),
        [
            "days 2024-01-03",
            "pairs 2024-01-03",
            "pairs 2024-01-04",
            "total -"
        ]
    );
    assert!(again.is_success(), "{:?}", again.outcomes);
}

#[test]
fn a_value_failing_its_checksum_is_materialized_again_with_a_warning() {
    let dir = tempfile::tempdir().expect("tempdir");
    let knobs = Knobs::default();
    drop(materialized_store(dir.path(), &knobs));
    flip_byte_of(dir.path(), b"payload-of-2024-01-02");
    let store = open(dir.path());
    let again = run(&definitions(&store, &knobs), "2024-01-05", true);
    assert!(
        ran(&again).contains(&"days 2024-01-02".to_owned()),
        "{:?}",
        ran(&again)
    );
    assert_eq!(again.warnings.len(), 1, "{:?}", again.warnings);
    assert!(
        again.warnings[0].contains("days 2024-01-02") && again.warnings[0].contains("damaged"),
        "{:?}",
        again.warnings
    );
    let repaired = store
        .get(&key("days"), &PartitionKey::new("2024-01-02").expect("key"))
        .expect("the new value reads back")
        .expect("stored");
    assert_eq!(&repaired[..], b"payload-of-2024-01-02");
}

#[test]
fn a_partition_whose_latest_run_failed_is_selected_after_an_earlier_success() {
    let dir = tempfile::tempdir().expect("tempdir");
    let knobs = Knobs::default();
    let store = materialized_store(dir.path(), &knobs);
    let defs = definitions(&store, &knobs);
    knobs.fail_days.store(true, Ordering::SeqCst);
    let failing = MaterializeRequest::new()
        .partitions(PartitionSelection::Keys(vec!["2024-01-04".to_owned()]))
        .assets(tessera_io_managers::executor::AssetSelection::Assets(vec![
            key("days"),
        ]))
        .now(now());
    let failed = defs.materialize(&failing).expect("planned");
    assert_eq!(failed.failed().count(), 1);
    knobs.fail_days.store(false, Ordering::SeqCst);
    let again = run(&defs, "2024-01-05", true);
    assert!(
        ran(&again).contains(&"days 2024-01-04".to_owned()),
        "{:?}",
        ran(&again)
    );
    assert!(again.is_success(), "{:?}", again.outcomes);
    assert_eq!(
        ran(&run(&defs, "2024-01-05", true)),
        Vec::<String>::new(),
        "a success clears the failure"
    );
}

#[test]
fn a_new_code_version_selects_every_partition_of_the_asset() {
    let dir = tempfile::tempdir().expect("tempdir");
    let knobs = Knobs::default();
    let store = materialized_store(dir.path(), &knobs);
    let changed = Knobs {
        daily_code_version: "2",
        ..Knobs::default()
    };
    let again = run(&definitions(&store, &changed), "2024-01-05", true);
    let days: Vec<String> = ran(&again)
        .into_iter()
        .filter(|r| r.starts_with("days "))
        .collect();
    assert_eq!(days.len(), 5, "{days:?}");
}

#[test]
fn an_unreadable_record_counts_as_missing_and_the_run_goes_on() {
    let dir = tempfile::tempdir().expect("tempdir");
    let knobs = Knobs::default();
    let store = materialized_store(dir.path(), &knobs);
    let record_key = key("pairs")
        .with_prefix(["__tessera__", "materializations"])
        .expect("key");
    store
        .put(
            &record_key,
            &PartitionKey::new("2024-01-02").expect("key"),
            Payload::raw(b"not a record".to_vec()),
        )
        .expect("overwrite the record with garbage");
    let again = run(&definitions(&store, &knobs), "2024-01-05", true);
    assert!(again.is_success(), "{:?}", again.outcomes);
    assert_eq!(ran(&again), ["pairs 2024-01-02"]);
    assert_eq!(again.warnings.len(), 1, "{:?}", again.warnings);
    assert!(
        again.warnings[0].contains("pairs 2024-01-02")
            && again.warnings[0].contains("cannot be read"),
        "{:?}",
        again.warnings
    );
    assert_eq!(
        ran(&run(&definitions(&store, &knobs), "2024-01-05", true)),
        Vec::<String>::new(),
        "the new record is readable"
    );
}

/// Flips one byte of the (only) occurrence of `needle` in the store's segments.
fn flip_byte_of(dir: &Path, needle: &[u8]) {
    let segments = std::fs::read_dir(dir.join("segments")).expect("segments directory");
    for entry in segments {
        let path = entry.expect("entry").path();
        let mut bytes = std::fs::read(&path).expect("read segment");
        if let Some(at) = bytes.windows(needle.len()).position(|w| w == needle) {
            bytes[at + needle.len() - 1] ^= 0x01;
            std::fs::write(&path, bytes).expect("write segment");
            return;
        }
    }
    panic!("no segment holds {:?}", String::from_utf8_lossy(needle));
}
