//! `verify`: every payload's checksum, and the index against the log.

use std::process::ExitCode;

use clap::Args;
use tessera_engine::Store;

use super::{CommandResult, RunCommand};
use crate::cli::session::Session;
use crate::cli::table::bytes;

/// `tessera verify`.
#[derive(Debug, Args)]
pub(crate) struct Verify {}

impl RunCommand for Verify {
    fn run(self, session: &Session<'_>) -> CommandResult {
        verify(&*session.open_read_only()?)
    }
}

fn verify(store: &Store) -> CommandResult {
    let report = store.verify()?;
    outln!(
        "checked {} partitions, {}",
        report.checked,
        bytes(report.bytes)
    );
    for damaged in &report.damaged {
        outln!("damaged: {}", damaged.error);
    }
    for mismatch in &report.index_mismatches {
        outln!(
            "index: {} {}: {}",
            mismatch
                .asset
                .as_ref()
                .map_or_else(|| "?".to_owned(), ToString::to_string),
            mismatch
                .partition
                .as_ref()
                .map_or_else(|| "?".to_owned(), ToString::to_string),
            mismatch.problem
        );
    }
    for segment in &report.quarantined {
        outln!(
            "quarantined: {}: {}",
            segment.path.display(),
            segment.reason
        );
    }
    for stray in &report.stray_files {
        outln!("stray file (ignored): {}", stray.display());
    }
    Ok(if report.is_ok() {
        outln!("every checksum matches and the index agrees with the log");
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
