//! `repair`: rebuild the index from the log.

use std::process::ExitCode;

use clap::Args;
use tessera_engine::Store;

use super::{CommandResult, RunCommand};
use crate::cli::session::Session;

/// `tessera repair`.
#[derive(Debug, Args)]
pub(crate) struct Repair {}

impl RunCommand for Repair {
    fn run(self, session: &Session<'_>) -> CommandResult {
        repair(&*session.open_existing()?)
    }
}

fn repair(store: &Store) -> CommandResult {
    let recovery = store.recovery();
    if let Some(rebuilt) = &recovery.index_rebuilt {
        outln!("the open rebuilt the index: {}", rebuilt.reason);
    }
    if let Some(tail) = &recovery.cut_tail {
        outln!(
            "cut the tail of {} at byte {}: {}",
            tail.path.display(),
            tail.offset,
            tail.reason
        );
    }
    let entries = store.rebuild_index()?;
    outln!("index rebuilt from the segments: {entries} entries");
    Ok(ExitCode::SUCCESS)
}
