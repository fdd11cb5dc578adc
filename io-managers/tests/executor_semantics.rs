//! Executor semantics: self-dependency, failure isolation, cancellation,
//! single-run backfills, invalid upstream partitions and wrong types.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use chrono::{DateTime, TimeZone, Utc};
use tessera_engine::{AssetKey, Store};
use tessera_io_managers::executor::{
    AssetDefinition, AssetInput, BackfillPolicy, DEFAULT_IO_MANAGER_KEY, Definitions,
    MaterializeRequest, Output, PartitionSelection, TaskStatus,
};
use tessera_io_managers::partitions::{PartitionMapping, TimeWindowPartitionsDefinition};
use tessera_io_managers::records::PartitionStatus;
use tessera_io_managers::{InputValue, IoManagers, PartitionMap, RkyvIoManager};

fn at(year: i32, month: u32, day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(year, month, day, hour, 0, 0)
        .single()
        .expect("valid instant")
}

fn key(name: &str) -> AssetKey {
    AssetKey::new([name]).expect("valid key")
}

fn daily() -> TimeWindowPartitionsDefinition {
    TimeWindowPartitionsDefinition::daily("2024-01-01").expect("valid definition")
}

fn store() -> (tempfile::TempDir, Arc<Store>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(Store::open(dir.path()).expect("open"));
    (dir, store)
}

/// The `u64` stored for `asset`'s partition `day`.
fn stored_u64(store: &Store, asset: &str, day: &str) -> u64 {
    store
        .get_rkyv::<u64>(
            &key(asset),
            &tessera_engine::PartitionKey::new(day).expect("key"),
        )
        .expect("read")
        .expect("stored")
        .deserialize()
        .expect("u64")
}

fn managers(store: &Arc<Store>) -> IoManagers {
    IoManagers::new().with_io_manager(
        DEFAULT_IO_MANAGER_KEY,
        RkyvIoManager::<u64>::new(store.clone()),
    )
}

fn range(first: &str, last: &str) -> MaterializeRequest {
    MaterializeRequest::new()
        .partitions(PartitionSelection::Range(first.to_owned(), last.to_owned()))
        .now(at(2024, 6, 1, 0))
}

#[test]
fn a_self_dependent_asset_adds_one_to_the_previous_day() {
    let (_dir, store) = store();
    let counter = AssetDefinition::new(key("counter"), |_, inputs| {
        let previous = match inputs.take::<u64>("previous")?.into_value() {
            InputValue::Nothing => 0,
            InputValue::One(_, value) => value,
            InputValue::Many(_) => return Err("one previous day at most".into()),
        };
        Ok(Output::new(previous + 1))
    })
    .partitions(daily())
    .input(
        AssetInput::new("previous", key("counter")).mapping(PartitionMapping::TimeWindow {
            start_offset: -1,
            end_offset: -1,
            allow_nonexistent_upstream_partitions: false,
        }),
    );
    let definitions = Definitions::builder(store.clone())
        .asset(counter)
        .managers(managers(&store))
        .build()
        .expect("valid");
    let result = definitions
        .materialize(&range("2024-01-01", "2024-01-10").threads(2))
        .expect("plan");
    assert!(
        result.is_success(),
        "{:?}",
        result.failed().collect::<Vec<_>>()
    );
    for (day, expected) in [("2024-01-01", 1u64), ("2024-01-05", 5), ("2024-01-10", 10)] {
        assert_eq!(stored_u64(&store, "counter", day), expected, "{day}");
    }
}

fn failing_pipeline(store: &Arc<Store>) -> Definitions {
    let upstream = AssetDefinition::new(key("up"), |ctx, _| {
        if ctx.partition_key() == Some("2024-01-03") {
            return Err("sensor offline".into());
        }
        Ok(Output::new(7u64))
    })
    .partitions(daily());
    let downstream = AssetDefinition::new(key("down"), |_, inputs| {
        let value = inputs
            .take::<u64>("up")?
            .into_one()
            .ok_or("one partition")?;
        Ok(Output::new(value * 2))
    })
    .partitions(daily())
    .input(AssetInput::new("up", key("up")));
    Definitions::builder(store.clone())
        .asset(upstream)
        .asset(downstream)
        .managers(managers(store))
        .build()
        .expect("valid")
}

#[test]
fn a_failing_partition_fails_alone_and_skips_its_dependents() {
    let (_dir, store) = store();
    let definitions = failing_pipeline(&store);
    let result = definitions
        .materialize(&range("2024-01-01", "2024-01-05").threads(2))
        .expect("plan");
    assert_eq!(result.materialized(), 8);
    assert_eq!(result.skipped(), 1);
    let failed: Vec<_> = result.failed().collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].asset, key("up"));
    assert_eq!(failed[0].partition.as_deref(), Some("2024-01-03"));
    assert!(
        matches!(&failed[0].status, TaskStatus::Failed { error } if error.contains("sensor offline"))
    );
    let skipped = result
        .outcome(&key("down"), Some("2024-01-03"))
        .expect("planned");
    assert!(matches!(skipped.status, TaskStatus::Skipped { .. }));
    let records = definitions.records();
    assert_eq!(
        records
            .status(&key("up"), Some("2024-01-03"))
            .expect("status"),
        PartitionStatus::Failed
    );
    assert_eq!(
        records
            .status(&key("down"), Some("2024-01-03"))
            .expect("status"),
        PartitionStatus::Missing
    );
    assert_eq!(
        records
            .status(&key("down"), Some("2024-01-04"))
            .expect("status"),
        PartitionStatus::Materialized
    );
}

#[test]
fn a_later_success_clears_the_recorded_failure() {
    let (_dir, store) = store();
    let first_run = failing_pipeline(&store)
        .materialize(&range("2024-01-03", "2024-01-03"))
        .expect("plan");
    assert_eq!(first_run.failed().count(), 1);
    let healthy = AssetDefinition::new(key("up"), |_, _| Ok(Output::new(7u64))).partitions(daily());
    let definitions = Definitions::builder(store.clone())
        .asset(healthy)
        .managers(managers(&store))
        .build()
        .expect("valid");
    let records = definitions.records();
    assert_eq!(
        records
            .status(&key("up"), Some("2024-01-03"))
            .expect("status"),
        PartitionStatus::Failed
    );
    let retry = definitions
        .materialize(&range("2024-01-03", "2024-01-03"))
        .expect("plan");
    assert!(retry.is_success());
    assert_eq!(
        records
            .status(&key("up"), Some("2024-01-03"))
            .expect("status"),
        PartitionStatus::Materialized
    );
    assert!(
        records
            .failure(&key("up"), Some("2024-01-03"))
            .expect("read")
            .is_none(),
        "the failure record is deleted with the successful write"
    );
}

#[test]
fn a_set_cancel_flag_starts_no_further_partition() {
    let (_dir, store) = store();
    let flag = Arc::new(AtomicBool::new(false));
    let calls = Arc::new(AtomicUsize::new(0));
    let (flag_in, calls_in) = (flag.clone(), calls.clone());
    let asset = AssetDefinition::new(key("slow"), move |_, _| {
        calls_in.fetch_add(1, Ordering::SeqCst);
        flag_in.store(true, Ordering::SeqCst);
        Ok(Output::new(1u64))
    })
    .partitions(daily());
    let definitions = Definitions::builder(store.clone())
        .asset(asset)
        .managers(managers(&store))
        .build()
        .expect("valid");
    let result = definitions
        .materialize(
            &range("2024-01-01", "2024-01-10")
                .threads(1)
                .cancel_flag(flag),
        )
        .expect("plan");
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(result.materialized(), 1);
    assert_eq!(result.cancelled(), 9);
}

#[test]
fn a_single_run_backfill_computes_once_and_records_each_partition() {
    let (_dir, store) = store();
    let calls = Arc::new(AtomicUsize::new(0));
    let calls_in = calls.clone();
    let asset = AssetDefinition::new(key("batch"), move |ctx, _| {
        calls_in.fetch_add(1, Ordering::SeqCst);
        let values: PartitionMap<u64> = ctx
            .partition_keys()
            .iter()
            .enumerate()
            .map(|(index, key)| (key.clone(), index as u64))
            .collect();
        Ok(Output::partitions(values))
    })
    .partitions(daily())
    .backfill_policy(BackfillPolicy::SingleRun);
    let definitions = Definitions::builder(store.clone())
        .asset(asset)
        .managers(managers(&store))
        .build()
        .expect("valid");
    let result = definitions
        .materialize(&range("2024-01-01", "2024-01-03"))
        .expect("plan");
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(result.materialized(), 3);
    for (index, day) in ["2024-01-01", "2024-01-02", "2024-01-03"]
        .into_iter()
        .enumerate()
    {
        let record = definitions
            .records()
            .materialization(&key("batch"), Some(day))
            .expect("read")
            .expect("recorded");
        assert!(record.metadata.contains_key("tessera/byte_size"));
        assert_eq!(stored_u64(&store, "batch", day), index as u64);
    }
}

#[test]
fn an_hourly_partition_of_a_daily_upstream_that_does_not_exist_yet_fails() {
    let (_dir, store) = store();
    let upstream = AssetDefinition::new(key("daily_up"), |_, _| Ok(Output::new(1u64)))
        .partitions(TimeWindowPartitionsDefinition::daily("2020-01-01").expect("valid"));
    let downstream = AssetDefinition::new(key("hourly_down"), |_, _| Ok(Output::new(1u64)))
        .partitions(TimeWindowPartitionsDefinition::hourly("2020-01-01-00:00").expect("valid"))
        .input(AssetInput::new("daily_up", key("daily_up")));
    let definitions = Definitions::builder(store.clone())
        .asset(upstream)
        .asset(downstream)
        .managers(managers(&store))
        .build()
        .expect("valid");
    let request = MaterializeRequest::new()
        .assets(tessera_io_managers::executor::AssetSelection::Assets(vec![
            key("hourly_down"),
        ]))
        .partitions(PartitionSelection::Keys(vec![
            "2020-01-02-05:00".to_owned(),
        ]))
        .now(at(2020, 1, 2, 10));
    let result = definitions.materialize(&request).expect("plan");
    let failed: Vec<_> = result.failed().collect();
    assert_eq!(failed.len(), 1);
    assert!(
        matches!(&failed[0].status, TaskStatus::Failed { error } if error.contains("depends on invalid partitions")),
        "{:?}",
        failed[0].status
    );
}

#[test]
fn an_output_of_the_wrong_type_fails_with_both_type_names() {
    let (_dir, store) = store();
    let asset = AssetDefinition::new(key("typo"), |_, _| {
        Ok(Output::new("not a number".to_owned()))
    });
    let definitions = Definitions::builder(store.clone())
        .asset(asset)
        .managers(managers(&store))
        .build()
        .expect("valid");
    let result = definitions
        .materialize(&MaterializeRequest::new())
        .expect("plan");
    let failed: Vec<_> = result.failed().collect();
    assert_eq!(failed.len(), 1);
    let TaskStatus::Failed { error } = &failed[0].status else {
        panic!("expected a failure");
    };
    assert!(error.contains("u64") && error.contains("String"), "{error}");
}
