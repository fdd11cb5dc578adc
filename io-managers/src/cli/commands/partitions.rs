//! `partitions ASSET`: an asset's partitions with sizes, rows and status.

use std::process::ExitCode;
use std::sync::Arc;

use clap::Args;
use tessera_engine::{AssetKey, Store};

use super::{CommandResult, RunCommand, parse_asset};
use crate::cli::keys::{shown, shown_partition};
use crate::cli::output::{Cell, Table};
use crate::cli::session::Session;
use crate::metadata::ROW_COUNT;
use crate::records::RecordStore;

/// `tessera partitions ASSET`.
#[derive(Debug, Args)]
pub(crate) struct Partitions {
    /// The asset key, components separated by `/` (e.g. `public/weather_obs`).
    asset: String,
}

impl RunCommand for Partitions {
    fn run(self, session: &Session<'_>) -> CommandResult {
        let store = session.open_read_only()?;
        let asset = parse_asset(&self.asset)?;
        let table = partitions(store, &asset)?;
        if table.is_empty() {
            return Err(format!("asset {} has no stored partitions", shown(&asset)).into());
        }
        table.print(session.global.json)?;
        Ok(ExitCode::SUCCESS)
    }
}

fn partitions(store: Arc<Store>, asset: &AssetKey) -> Result<Table, Box<dyn std::error::Error>> {
    let records = RecordStore::new(store.clone());
    let mut table = Table::new(&[
        "partition",
        "bytes",
        "rows",
        "status",
        "materialized at (UTC)",
    ]);
    for partition in store.list_partitions(asset)? {
        let key = partition.as_str();
        let meta = store.meta(asset, &partition)?;
        let record = records.materialization(asset, key);
        let rows = meta
            .as_ref()
            .and_then(|m| m.metadata.get(ROW_COUNT))
            .and_then(|rows| rows.parse::<u64>().ok());
        table.push(vec![
            key.map_or_else(
                || Cell::with_value("(unpartitioned)", serde_json::Value::Null),
                |key| Cell::with_value(shown_partition(key).to_string(), key.into()),
            ),
            meta.as_ref()
                .map_or_else(Cell::none, |m| Cell::bytes(m.len)),
            rows.map_or_else(Cell::none, Cell::count),
            Cell::text(match &record {
                Err(_) => "record damaged".to_owned(),
                Ok(_) => records.status(asset, key)?.to_string(),
            }),
            record.ok().flatten().map_or_else(Cell::none, |r| {
                let at = r.started_at();
                Cell::with_value(
                    at.format("%Y-%m-%d %H:%M:%S").to_string(),
                    at.to_rfc3339().into(),
                )
            }),
        ]);
    }
    Ok(table)
}
