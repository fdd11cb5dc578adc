//! The summary `materialize` prints: per-asset totals, failures, warnings
//! and, with `-v`, what each compute logged; or all of it as JSON.

use serde_json::json;

use super::keys::{shown, shown_partition};
use super::output::{Cell, Table, print_json};
use crate::executor::{MaterializeResult, PartitionOutcome, TaskStatus};
use crate::metadata::{BYTE_SIZE, ROW_COUNT};

/// What to print besides the totals.
pub(crate) struct SummaryOptions {
    /// Print JSON instead of text.
    pub(crate) json: bool,
    /// Print the lines each compute logged.
    pub(crate) verbose: bool,
    /// The run was interrupted (Ctrl-C).
    pub(crate) interrupted: bool,
    /// Where the run wrote.
    pub(crate) store: String,
}

/// Prints the summary of `result`.
pub(crate) fn print_summary(
    result: &MaterializeResult,
    options: &SummaryOptions,
) -> std::io::Result<()> {
    let totals = totals_table(&result.outcomes);
    if options.json {
        return print_json(&json!({
            "run_id": result.run_id,
            "store": options.store,
            "elapsed_ms": result.elapsed.as_secs_f64() * 1e3,
            "materialized": result.materialized(),
            "interrupted": options.interrupted,
            "not_started": result.cancelled(),
            "assets": totals.to_json(),
            "failed": result.failed().map(|o| json!({
                "asset": o.asset.components(),
                "partition": o.partition,
                "error": failure(o),
            })).collect::<Vec<_>>(),
            "warnings": result.warnings,
            "logs": logged(result).map(|(o, line)| json!({
                "asset": o.asset.components(),
                "partition": o.partition,
                "line": line,
            })).collect::<Vec<_>>(),
        }));
    }
    for warning in &result.warnings {
        eprintln!("warning: {warning}");
    }
    totals.print(false)?;
    if options.verbose {
        for (outcome, line) in logged(result) {
            outln!("log: {}: {line}", describe(outcome));
        }
    }
    outln!(
        "materialized {} partitions in {:.2?} into {} (run {})",
        result.materialized(),
        result.elapsed,
        options.store,
        result.run_id
    );
    for failed in result.failed() {
        outln!("failed: {}: {}", describe(failed), failure(failed));
    }
    if options.interrupted {
        outln!(
            "interrupted: {} partitions were not started; the store is closed cleanly",
            result.cancelled()
        );
    }
    Ok(())
}

/// `asset partition` as printed.
fn describe(outcome: &PartitionOutcome) -> String {
    match &outcome.partition {
        Some(partition) => format!("{} {}", shown(&outcome.asset), shown_partition(partition)),
        None => shown(&outcome.asset).to_string(),
    }
}

fn failure(outcome: &PartitionOutcome) -> &str {
    match &outcome.status {
        TaskStatus::Failed { error } => error,
        _ => "",
    }
}

/// Every logged line with the partition that logged it (a single-run task's
/// lines once, under its first partition).
fn logged(result: &MaterializeResult) -> impl Iterator<Item = (&PartitionOutcome, &String)> {
    let mut seen = std::collections::HashSet::new();
    result.outcomes.iter().flat_map(move |outcome| {
        let lines: &[String] = match &outcome.status {
            TaskStatus::Materialized { log, .. } if seen.insert(log.as_ptr()) => log,
            _ => &[],
        };
        lines.iter().map(move |line| (outcome, line))
    })
}

/// Per-asset totals of a run.
#[derive(Default)]
struct AssetTotals {
    materialized: u64,
    failed: u64,
    skipped: u64,
    rows: u64,
    bytes: u64,
    compute: std::time::Duration,
}

fn totals_table(outcomes: &[PartitionOutcome]) -> Table {
    let mut order: Vec<(&PartitionOutcome, AssetTotals)> = Vec::new();
    for outcome in outcomes {
        let at = match order
            .iter()
            .position(|(first, _)| first.asset == outcome.asset)
        {
            Some(at) => at,
            None => {
                order.push((outcome, AssetTotals::default()));
                order.len() - 1
            }
        };
        add(&mut order[at].1, &outcome.status);
    }
    let mut table = Table::new(&[
        "asset",
        "materialized",
        "failed",
        "skipped",
        "rows",
        "bytes",
        "task time",
    ]);
    for (first, t) in order {
        table.push(vec![
            Cell::with_value(
                shown(&first.asset).to_string(),
                first.asset.components().into(),
            ),
            Cell::count(t.materialized),
            Cell::count(t.failed),
            Cell::count(t.skipped),
            Cell::count(t.rows),
            Cell::bytes(t.bytes),
            Cell::duration(t.compute),
        ]);
    }
    table
}

fn add(totals: &mut AssetTotals, status: &TaskStatus) {
    match status {
        TaskStatus::Materialized {
            duration, metadata, ..
        } => {
            let count = |key: &str| {
                metadata
                    .get(key)
                    .and_then(|v| v.as_int())
                    .and_then(|v| u64::try_from(v).ok())
                    .unwrap_or_default()
            };
            totals.materialized += 1;
            totals.rows += count(ROW_COUNT);
            totals.bytes += count(BYTE_SIZE);
            totals.compute += *duration;
        }
        TaskStatus::Failed { .. } => totals.failed += 1,
        TaskStatus::Skipped { .. } | TaskStatus::Cancelled => totals.skipped += 1,
    }
}
