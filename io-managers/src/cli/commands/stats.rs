//! `stats`: counts and sizes of the store.

use std::process::ExitCode;

use clap::Args;
use tessera_engine::Store;

use super::{CommandResult, RunCommand};
use crate::cli::session::Session;
use crate::cli::table::{bytes, print_table};

/// `tessera stats`.
#[derive(Debug, Args)]
pub(crate) struct Stats {}

impl RunCommand for Stats {
    fn run(self, session: &Session<'_>) -> CommandResult {
        stats(&*session.open_read_only()?)
    }
}

fn stats(store: &Store) -> CommandResult {
    let stats = store.stats()?;
    print_table(
        &[
            "assets",
            "partitions",
            "payload",
            "live",
            "garbage",
            "segments",
            "segment files",
        ],
        &[vec![
            stats.assets.to_string(),
            stats.partitions.to_string(),
            bytes(stats.payload_bytes),
            bytes(stats.live_bytes),
            bytes(stats.garbage_bytes),
            stats.segments.to_string(),
            bytes(stats.segment_bytes),
        ]],
    )?;
    Ok(ExitCode::SUCCESS)
}
