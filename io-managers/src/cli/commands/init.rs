//! `init`: make a store in `--store` explicitly.

use std::process::ExitCode;

use clap::Args;

use super::{CommandResult, RunCommand};
use crate::cli::session::{Session, is_object_store, is_store};

/// `tessera init`.
#[derive(Debug, Args)]
pub(crate) struct Init {}

impl RunCommand for Init {
    fn run(self, session: &Session<'_>) -> CommandResult {
        let dir = session.store_dir();
        let existed = is_store(dir);
        let store = session.create_or_open(dir)?;
        drop(store);
        if is_object_store(dir) {
            outln!("{} is a Tessera store", dir.display());
        } else if existed {
            outln!("{} is already a Tessera store", dir.display());
        } else {
            outln!("made a Tessera store in {}", dir.display());
        }
        Ok(ExitCode::SUCCESS)
    }
}
