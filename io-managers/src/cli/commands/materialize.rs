//! `tessera materialize`: the main job.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use tessera_engine::Store;

use super::{CommandResult, RunCommand};
use crate::cli::interrupt::{INTERRUPTED_EXIT, cancel_on_interrupt};
use crate::cli::keys::{shown, shown_partition};
use crate::cli::session::Session;
use crate::cli::table::{bytes, print_table};
use crate::executor::{
    MaterializeRequest, MaterializeResult, PartitionOutcome, PartitionSelection, RunObserver,
    TaskStatus,
};
use crate::metadata::{BYTE_SIZE, ROW_COUNT};

/// `tessera materialize`.
#[derive(Debug, Args)]
pub(crate) struct Materialize {
    /// The first partition (default: the pipeline's default range).
    #[arg(long)]
    from: Option<String>,
    /// The last partition, inclusive (default: the pipeline's default range).
    #[arg(long)]
    to: Option<String>,
    /// Partitions run at once (at most 32 per core of this machine).
    #[arg(long, default_value_t = 2)]
    threads: usize,
    /// Only partitions that are missing, failed or stale.
    #[arg(long)]
    missing_or_stale: bool,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

impl RunCommand for Materialize {
    fn run(self, session: &Session<'_>) -> CommandResult {
        let partitions = self.partitions(session.default_partitions())?;
        let threads = checked_threads(self.threads)?;
        let store = session.open_for_writing()?;
        let definitions = session.definitions(store.clone())?;
        let cancel = cancel_on_interrupt()?;
        let request = MaterializeRequest::new()
            .partitions(partitions)
            .only_missing_or_stale(self.missing_or_stale)
            .threads(threads)
            .cancel_flag(cancel.clone());
        let progress = Progress::new(self.quiet)?;
        let result = definitions.materialize_with(&request, &progress)?;
        progress.bar.finish_and_clear();
        drop(definitions);
        let code = report(&store, &result, cancel.load(Ordering::SeqCst))?;
        close(store)?;
        Ok(code)
    }
}

impl Materialize {
    /// `--from`/`--to` as a range (a bound left out comes from the default
    /// range), or the default selection when neither is given.
    fn partitions(&self, default: &PartitionSelection) -> Result<PartitionSelection, String> {
        if self.from.is_none() && self.to.is_none() {
            return Ok(default.clone());
        }
        let (default_from, default_to) = match default {
            PartitionSelection::Range(from, to) => (Some(from), Some(to)),
            _ => (None, None),
        };
        let from = self.from.as_ref().or(default_from);
        let to = self.to.as_ref().or(default_to);
        match (from, to) {
            (Some(from), Some(to)) => Ok(PartitionSelection::Range(from.clone(), to.clone())),
            _ => Err("give both --from and --to".to_owned()),
        }
    }
}

/// `--threads`, refused past 32 per core (each is an OS thread).
fn checked_threads(threads: usize) -> Result<usize, String> {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let most = cores * 32;
    if threads == 0 || threads > most {
        return Err(format!(
            "--threads {threads}: give 1 to {most} (32 per core; this machine has {cores})"
        ));
    }
    Ok(threads)
}

/// Closes the store (its last checkpoint and sync) when nothing else holds it.
fn close(store: Arc<Store>) -> Result<(), Box<dyn std::error::Error>> {
    match Arc::try_unwrap(store) {
        Ok(store) => Ok(store.close()?),
        Err(shared) => Ok(shared.flush()?),
    }
}

/// The progress bar, sized once the run is planned.
struct Progress {
    bar: ProgressBar,
}

impl Progress {
    fn new(quiet: bool) -> Result<Self, indicatif::style::TemplateError> {
        let bar = if quiet {
            ProgressBar::hidden()
        } else {
            ProgressBar::new(0)
        };
        bar.set_style(ProgressStyle::with_template(
            "{bar:40} {pos}/{len} partitions {elapsed} {msg}",
        )?);
        Ok(Self { bar })
    }
}

impl RunObserver for Progress {
    fn planned(&self, partitions: usize) {
        self.bar.set_length(partitions as u64);
    }

    fn outcome(&self, outcome: &PartitionOutcome) {
        self.bar.inc(1);
        self.bar.set_message(format!(
            "{} {}",
            shown(&outcome.asset),
            shown_partition(outcome.partition.as_deref().unwrap_or(""))
        ));
    }
}

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

fn report(store: &Arc<Store>, result: &MaterializeResult, interrupted: bool) -> CommandResult {
    store.flush()?;
    for warning in &result.warnings {
        eprintln!("warning: {warning}");
    }
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
                shown(&failed.asset),
                shown_partition(failed.partition.as_deref().unwrap_or(""))
            );
        }
    }
    if interrupted {
        outln!(
            "interrupted: {} partitions were not started; the store is closed cleanly",
            result.cancelled()
        );
        return Ok(ExitCode::from(INTERRUPTED_EXIT));
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
        let name = shown(&outcome.asset).to_string();
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
