//! `partitions ASSET`: an asset's partitions with sizes, rows and status.

use std::process::ExitCode;
use std::sync::Arc;

use clap::Args;
use tessera_engine::{AssetKey, Store};

use super::{CommandResult, RunCommand, parse_asset};
use crate::cli::keys::{shown, shown_partition};
use crate::cli::session::Session;
use crate::cli::table::{bytes, print_table};
use crate::records::RecordStore;

/// `tessera partitions ASSET`.
#[derive(Debug, Args)]
pub(crate) struct Partitions {
    /// The asset key, components separated by `/` (e.g. `public/weather_obs`).
    asset: String,
}

impl RunCommand for Partitions {
    fn run(self, session: &Session<'_>) -> CommandResult {
        partitions(session.open_read_only()?, &parse_asset(&self.asset)?)
    }
}

fn partitions(store: Arc<Store>, asset: &AssetKey) -> CommandResult {
    let records = RecordStore::new(store.clone());
    let mut rows = Vec::new();
    for partition in store.list_partitions(asset)? {
        let key = partition.as_str();
        let meta = store.meta(asset, &partition)?;
        let record = records.materialization(asset, key)?;
        rows.push(vec![
            key.map_or_else(
                || "(unpartitioned)".to_owned(),
                |key| shown_partition(key).to_string(),
            ),
            meta.as_ref().map_or_else(String::new, |m| bytes(m.len)),
            meta.as_ref()
                .and_then(|m| m.metadata.get("dagster/row_count").cloned())
                .unwrap_or_default(),
            records.status(asset, key)?.to_string(),
            record
                .map(|r| r.started_at().format("%Y-%m-%d %H:%M:%S").to_string())
                .unwrap_or_default(),
        ]);
    }
    if rows.is_empty() {
        return Err(format!("asset {} has no stored partitions", shown(asset)).into());
    }
    print_table(
        &[
            "partition",
            "bytes",
            "rows",
            "status",
            "materialized at (UTC)",
        ],
        &rows,
    )?;
    Ok(ExitCode::SUCCESS)
}
