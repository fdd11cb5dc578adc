//! `assets`: every user asset with its partition count and stored bytes
//! (Tessera's own `__tessera__` entries are left out; `stats` counts them).

use std::process::ExitCode;

use clap::Args;
use tessera_engine::{AssetKey, Store};

use super::{CommandResult, RunCommand};
use crate::cli::keys::shown;
use crate::cli::output::{Cell, Table};
use crate::cli::session::Session;
use crate::records::RESERVED_PREFIX;

/// `tessera assets`.
#[derive(Debug, Args)]
pub(crate) struct Assets {}

impl RunCommand for Assets {
    fn run(self, session: &Session<'_>) -> CommandResult {
        let store = session.open_read_only()?;
        let mut table = Table::new(&["asset", "partitions", "bytes"]);
        for asset in store.list_assets()? {
            if is_internal(&asset) {
                continue;
            }
            let sizes = partition_sizes(&store, &asset)?;
            let unpartitioned = sizes.iter().all(|(unpartitioned, _)| *unpartitioned);
            table.push(vec![
                Cell::with_value(shown(&asset).to_string(), asset.components().into()),
                if unpartitioned {
                    Cell::with_value("unpartitioned", serde_json::Value::Null)
                } else {
                    Cell::count(sizes.len() as u64)
                },
                Cell::bytes(sizes.iter().map(|(_, size)| size).sum()),
            ]);
        }
        table.print(session.global.json)?;
        Ok(ExitCode::SUCCESS)
    }
}

/// Whether `asset` is one of Tessera's own entries (records, dynamic partitions).
pub(crate) fn is_internal(asset: &AssetKey) -> bool {
    asset.components().first().map(String::as_str) == Some(RESERVED_PREFIX)
}

/// For each stored partition of `asset`: whether it is the unpartitioned
/// key, and its payload size.
pub(crate) fn partition_sizes(
    store: &Store,
    asset: &AssetKey,
) -> Result<Vec<(bool, u64)>, tessera_engine::Error> {
    store
        .list_partitions(asset)?
        .iter()
        .map(|partition| {
            let size = store.meta(asset, partition)?.map_or(0, |m| m.len);
            Ok((partition.is_unpartitioned(), size))
        })
        .collect()
}
