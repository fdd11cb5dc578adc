//! The executor: per-partition overhead of a no-op pipeline over 10^4
//! partitions, and the main job's pipeline (a rolling 7-day window) over a
//! year of daily partitions, with 1 and 2 threads.

use std::path::Path;
use std::sync::Arc;

use chrono::{TimeZone, Utc};
use tessera_engine::{AssetKey, Durability, IndexKind, Store};
use tessera_io_managers::executor::{
    AssetDefinition, DEFAULT_IO_MANAGER_KEY, Definitions, MaterializeRequest, Output,
    PartitionSelection,
};
use tessera_io_managers::partitions::TimeWindowPartitionsDefinition;
use tessera_io_managers::{InMemoryIoManager, IoManagers, example};

use crate::error::Result;
use crate::measure::{median, timed};
use crate::plan::Plan;
use crate::report::Row;

const SYSTEM: &str = "tessera executor";
/// The target for the executor's own cost per partition task.
const OVERHEAD_TARGET_US: f64 = 20.0;

/// Runs the executor workloads.
///
/// # Errors
/// A store or definition error.
pub fn run(plan: &Plan, root: &Path) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    for index in [IndexKind::Sled, IndexKind::Redb] {
        for threads in [1, 2] {
            rows.push(no_op_overhead(plan, root, index, threads)?);
        }
    }
    let mut rates = Vec::new();
    for threads in [1, 2] {
        let (row, rate) = rolling_job(plan, root, threads)?;
        rows.push(row);
        rates.push(rate);
    }
    if let [one, two] = rates.as_slice() {
        rows.push(
            Row::new(SYSTEM, "main job speed-up, 2 threads", two / one, "×")
                .against("1 thread", 1.0),
        );
    }
    Ok(rows)
}

/// A pipeline whose compute does nothing, over hourly partitions; records go
/// to a Buffered store, so the figure is the executor's own cost per task
/// (planning, scheduling, contexts, one record write). Records go to the `index` backend's store: their write is
/// most of the cost.
fn no_op_overhead(plan: &Plan, root: &Path, index: IndexKind, threads: usize) -> Result<Row> {
    let partitions = if plan.quick { 1_000 } else { 10_000 };
    eprintln!(
        "executor: no-op pipeline, {partitions} partitions, {} index, {threads} threads",
        index.name()
    );
    let start = Utc
        .with_ymd_and_hms(2020, 1, 1, 0, 0, 0)
        .single()
        .ok_or("a fixed instant")?;
    let hours = i64::try_from(partitions)?;
    let now = start + chrono::Duration::hours(hours);
    let last = (now - chrono::Duration::hours(1))
        .format("%Y-%m-%d-%H:%M")
        .to_string();
    let mut per_task = Vec::new();
    for _ in 0..plan.runs {
        let dir = tempfile::tempdir_in(root)?;
        let store = Arc::new(
            Store::builder(dir.path())
                .durability(Durability::Buffered)
                .open()?,
        );
        let noop = AssetDefinition::new(AssetKey::new(["noop"])?, |_, _| Ok(Output::none()))
            .partitions(TimeWindowPartitionsDefinition::hourly("2020-01-01-00:00")?);
        let definitions = Definitions::builder(store)
            .asset(noop)
            .managers(
                IoManagers::new()
                    .with_io_manager(DEFAULT_IO_MANAGER_KEY, InMemoryIoManager::<u64>::new()),
            )
            .build()?;
        let request = MaterializeRequest::new()
            .partitions(PartitionSelection::Range(
                "2020-01-01-00:00".to_owned(),
                last.clone(),
            ))
            .threads(threads)
            .now(now);
        let (result, secs) = timed(|| Ok(definitions.materialize(&request)?))?;
        if result.materialized() != partitions {
            return Err(format!(
                "no-op pipeline materialized {} of {partitions}",
                result.materialized()
            )
            .into());
        }
        per_task.push(secs * 1e6 / partitions as f64);
    }
    let overhead = median(&per_task);
    Ok(Row::new(
        format!("{SYSTEM} ({})", index.name()),
        format!("no-op task overhead, {partitions} partitions, {threads} thread(s)"),
        overhead,
        "µs",
    )
    .target(
        format!("≤ {OVERHEAD_TARGET_US} µs per task"),
        overhead <= OVERHEAD_TARGET_US,
    ))
}

/// The main job's pipeline over a year of days (a week in `--quick`), on a
/// default (Immediate) store like the main job's; returns partitions per second.
fn rolling_job(plan: &Plan, root: &Path, threads: usize) -> Result<(Row, f64)> {
    let (first, last) = if plan.quick {
        ("2024-01-01", "2024-01-07")
    } else {
        ("2024-01-01", "2024-12-31")
    };
    eprintln!("executor: main job {first}..{last}, {threads} threads");
    let mut rates = Vec::new();
    let runs = if plan.quick { 1 } else { plan.runs.min(2) };
    for _ in 0..runs {
        let dir = tempfile::tempdir_in(root)?;
        let store = Arc::new(Store::open(dir.path())?);
        let definitions = example::definitions(store)?;
        let request = MaterializeRequest::new()
            .partitions(PartitionSelection::Range(first.to_owned(), last.to_owned()))
            .threads(threads);
        let (result, secs) = timed(|| Ok(definitions.materialize(&request)?))?;
        if !result.is_success() {
            return Err("the main job's pipeline failed in the benchmark".into());
        }
        rates.push(result.materialized() as f64 / secs);
    }
    let rate = median(&rates);
    let row = Row::new(
        SYSTEM,
        format!("main job {first}..{last}, {threads} thread(s)"),
        rate,
        "part/s",
    );
    Ok((row, rate))
}
