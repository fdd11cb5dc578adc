//! `tessera materialize`: the main job.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use tessera_engine::Store;
use tessera_io_managers::example;
use tessera_io_managers::executor::{
    MaterializeRequest, PartitionOutcome, PartitionSelection, TaskStatus,
};
use tessera_io_managers::metadata::{BYTE_SIZE, ROW_COUNT};

use super::CommandResult;
use crate::table::{bytes, print_table};

/// Per-asset totals of a run.
#[derive(Default)]
struct AssetTotals {
    materialized: usize,
    failed: usize,
    skipped: usize,
    rows: i64,
    bytes: i64,
    compute: Duration,
}

pub(super) fn run(
    store: Arc<Store>,
    from: &str,
    to: &str,
    threads: usize,
    missing_or_stale: bool,
    quiet: bool,
) -> CommandResult {
    let definitions = example::definitions(store.clone())?;
    let request = MaterializeRequest::new()
        .partitions(PartitionSelection::Range(from.to_owned(), to.to_owned()))
        .only_missing_or_stale(missing_or_stale)
        .threads(threads);
    let days = tessera_io_managers::partitions::TimeWindowPartitionsDefinition::daily(
        example::START_DATE,
    )?;
    let planned = days.keys_in_range(from, to, chrono::Utc::now())?.len() * 2 + 1;
    let bar = if quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(planned as u64)
    };
    bar.set_style(ProgressStyle::with_template(
        "{bar:40} {pos}/{len} partitions {elapsed} {msg}",
    )?);
    let result = definitions.materialize_with(&request, &|outcome: &PartitionOutcome| {
        bar.inc(1);
        bar.set_message(format!(
            "{} {}",
            outcome.asset,
            outcome.partition.as_deref().unwrap_or("")
        ));
    })?;
    bar.finish_and_clear();
    store.flush()?;
    print_summary(&result.outcomes)?;
    outln!(
        "materialized {} partitions in {:.2?} into {} (run {})",
        result.materialized(),
        result.elapsed,
        store.path().display(),
        result.run_id
    );
    for failed in result.failed() {
        if let TaskStatus::Failed { error } = &failed.status {
            outln!(
                "failed: {} {}: {error}",
                failed.asset,
                failed.partition.as_deref().unwrap_or("")
            );
        }
    }
    Ok(if result.is_success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn print_summary(outcomes: &[PartitionOutcome]) -> std::io::Result<()> {
    let mut totals: BTreeMap<String, AssetTotals> = BTreeMap::new();
    let mut order = Vec::new();
    for outcome in outcomes {
        let name = outcome.asset.to_string();
        if !totals.contains_key(&name) {
            order.push(name.clone());
        }
        let entry = totals.entry(name).or_default();
        match &outcome.status {
            TaskStatus::Materialized {
                duration, metadata, ..
            } => {
                entry.materialized += 1;
                entry.rows += metadata
                    .get(ROW_COUNT)
                    .and_then(|v| v.as_int())
                    .unwrap_or_default();
                entry.bytes += metadata
                    .get(BYTE_SIZE)
                    .and_then(|v| v.as_int())
                    .unwrap_or_default();
                entry.compute += *duration;
            }
            TaskStatus::Failed { .. } => entry.failed += 1,
            TaskStatus::Skipped { .. } | TaskStatus::Cancelled => entry.skipped += 1,
        }
    }
    let rows: Vec<Vec<String>> = order
        .iter()
        .map(|name| {
            let t = &totals[name];
            vec![
                name.clone(),
                t.materialized.to_string(),
                t.failed.to_string(),
                t.skipped.to_string(),
                t.rows.to_string(),
                bytes(u64::try_from(t.bytes).unwrap_or_default()),
                format!("{:.2?}", t.compute),
            ]
        })
        .collect();
    print_table(
        &[
            "asset",
            "materialized",
            "failed",
            "skipped",
            "rows",
            "bytes",
            "task time",
        ],
        &rows,
    )
}
