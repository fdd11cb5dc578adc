//! `assets`: every asset with its partition count and stored bytes.

use std::process::ExitCode;

use clap::Args;
use tessera_engine::Store;

use super::{CommandResult, RunCommand};
use crate::cli::keys::shown;
use crate::cli::session::Session;
use crate::cli::table::{bytes, print_table};
use crate::records::RESERVED_PREFIX;

/// `tessera assets`.
#[derive(Debug, Args)]
pub(crate) struct Assets {}

impl RunCommand for Assets {
    fn run(self, session: &Session<'_>) -> CommandResult {
        assets(&*session.open_read_only()?)
    }
}

fn assets(store: &Store) -> CommandResult {
    let mut rows = Vec::new();
    for asset in store.list_assets()? {
        if asset.components().first().map(String::as_str) == Some(RESERVED_PREFIX) {
            continue;
        }
        let partitions = store.list_partitions(&asset)?;
        let mut size = 0;
        for partition in &partitions {
            size += store.meta(&asset, partition)?.map_or(0, |m| m.len);
        }
        let count = if partitions.iter().all(|p| p.is_unpartitioned()) {
            "unpartitioned".to_owned()
        } else {
            partitions.len().to_string()
        };
        rows.push(vec![shown(&asset).to_string(), count, bytes(size)]);
    }
    print_table(&["asset", "partitions", "bytes"], &rows)?;
    Ok(ExitCode::SUCCESS)
}
