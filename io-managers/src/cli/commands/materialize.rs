//! `tessera materialize`: the main job.

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use tessera_engine::Store;

use super::{CommandResult, RunCommand};
use crate::cli::interrupt::{INTERRUPTED_EXIT, cancel_on_interrupt};
use crate::cli::keys::{shown, shown_partition};
use crate::cli::selection::{parse_partitions, select_assets};
use crate::cli::session::{Session, is_object_store};
use crate::cli::summary::{SummaryOptions, print_summary};
use crate::executor::{MaterializeRequest, PartitionOutcome, PartitionSelection, RunObserver};

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
    /// These partitions: `FIRST..LAST` (inclusive), `A,B,C` or one key
    /// (instead of --from/--to).
    #[arg(long, conflicts_with_all = ["from", "to"])]
    partitions: Option<String>,
    /// These assets only: `ASSET`, `+ASSET` (with its upstreams), `ASSET+`
    /// (with its downstreams); repeat or separate with spaces.
    #[arg(long, num_args = 1..)]
    select: Vec<String>,
    /// Only partitions that are missing (no value, or a damaged one), whose
    /// latest run failed, or that are stale.
    #[arg(long)]
    missing_or_stale: bool,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

impl RunCommand for Materialize {
    fn run(self, session: &Session<'_>) -> CommandResult {
        let partitions = match &self.partitions {
            Some(text) => parse_partitions(text)?,
            None => self.range(session.default_partitions())?,
        };
        let threads = checked_threads(self.threads)?;
        let store = session.open_for_writing()?;
        let definitions = session.definitions(store.clone())?;
        let assets = select_assets(&definitions, &self.select)?;
        let cancel = cancel_on_interrupt()?;
        let request = MaterializeRequest::new()
            .assets(assets)
            .partitions(partitions)
            .only_missing_or_stale(self.missing_or_stale)
            .threads(threads)
            .cancel_flag(cancel.clone());
        let progress = Progress::new(self.quiet || session.global.json)?;
        let result = definitions.materialize_with(&request, &progress)?;
        progress.bar.finish_and_clear();
        drop(definitions);
        store.flush()?;
        let interrupted = cancel.load(Ordering::SeqCst);
        print_summary(
            &result,
            &SummaryOptions {
                json: session.global.json,
                verbose: session.global.verbose > 0,
                interrupted,
                store: store_name(session, &store),
            },
        )?;
        close(store)?;
        Ok(if interrupted {
            ExitCode::from(INTERRUPTED_EXIT)
        } else if result.is_success() {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        })
    }
}

impl Materialize {
    /// `--from`/`--to` as a range (a bound left out comes from the default
    /// range), or the default selection when neither is given.
    fn range(&self, default: &PartitionSelection) -> Result<PartitionSelection, String> {
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
/// The store as the summary names it: its directory, or for a store on
/// object storage its address (its path is the local cache's).
fn store_name(session: &Session, store: &Store) -> String {
    if is_object_store(session.store_dir()) {
        session.store_dir().display().to_string()
    } else {
        store.path().display().to_string()
    }
}

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
