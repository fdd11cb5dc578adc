//! `compact`: reclaim the space of overwritten, expired and deleted versions now.

use std::process::ExitCode;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use tessera_engine::{CompactionProgress, CompactionReport, Store};

use super::{CommandResult, RunCommand};
use crate::cli::output::print_json;
use crate::cli::session::Session;
use crate::cli::table::bytes;

/// `tessera compact`.
#[derive(Debug, Args)]
pub(crate) struct Compact {
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

impl RunCommand for Compact {
    fn run(self, session: &Session<'_>) -> CommandResult {
        let store = session.open_existing()?;
        let bar = progress_bar(self.quiet || session.global.json)?;
        let report = store.compact_with_progress(&mut |progress| show(&bar, progress))?;
        bar.finish_and_clear();
        if session.global.json {
            return summary_json(&store, &report);
        }
        summary(&store, &report)
    }
}

fn progress_bar(quiet: bool) -> Result<ProgressBar, indicatif::style::TemplateError> {
    let bar = if quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(0)
    };
    bar.set_style(ProgressStyle::with_template(
        "{bar:40} {pos}/{len} segments {elapsed} {msg}",
    )?);
    Ok(bar)
}

fn show(bar: &ProgressBar, progress: CompactionProgress) {
    bar.set_length(progress.segments_total);
    bar.set_position(progress.segments_done);
    bar.set_message(format!("{} copied", bytes(progress.moved_bytes)));
}

/// `compact --json`: the report and the space after it as one object.
fn summary_json(store: &Store, report: &CompactionReport) -> CommandResult {
    let after = store.stats()?;
    print_json(&json!({
        "segments_reclaimed": report.segments_reclaimed,
        "bytes_before": report.bytes_before,
        "bytes_after": report.bytes_after,
        "reclaimed_bytes": report.reclaimed_bytes(),
        "moved_versions": report.moved_versions,
        "moved_bytes": report.moved_bytes,
        "dropped_versions": report.dropped_versions,
        "carried_deletes": report.carried_deletes,
        "duration_ms": report.duration.as_secs_f64() * 1e3,
        "live_bytes": after.live_bytes,
        "garbage_bytes": after.garbage_bytes,
        "reclaimable_bytes": after.reclaimable_bytes,
        "segments": after.segments,
    }))?;
    Ok(ExitCode::SUCCESS)
}

fn summary(store: &Store, report: &CompactionReport) -> CommandResult {
    outln!(
        "compacted {} segment{} in {:.2?}",
        report.segments_reclaimed,
        if report.segments_reclaimed == 1 {
            ""
        } else {
            "s"
        },
        report.duration
    );
    outln!("bytes before:    {}", bytes(report.bytes_before));
    outln!("bytes after:     {}", bytes(report.bytes_after));
    outln!("reclaimed:       {}", bytes(report.reclaimed_bytes()));
    outln!(
        "moved:           {} versions ({})",
        report.moved_versions,
        bytes(report.moved_bytes)
    );
    outln!(
        "dropped:         {} versions outside the retention",
        report.dropped_versions
    );
    outln!("carried deletes: {}", report.carried_deletes);
    let after = store.stats()?;
    outln!(
        "now:             {} live, {} garbage ({} reclaimable) in {} segment{}",
        bytes(after.live_bytes),
        bytes(after.garbage_bytes),
        bytes(after.reclaimable_bytes),
        after.segments,
        if after.segments == 1 { "" } else { "s" }
    );
    Ok(ExitCode::SUCCESS)
}
