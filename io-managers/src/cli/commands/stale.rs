//! `stale [ASSET]`: the missing and stale partitions of one asset or of every
//! asset, with their causes, as a table or as JSON.

use std::process::ExitCode;

use clap::Args;
use serde_json::{Value, json};
use tessera_engine::AssetKey;

use super::{CommandResult, RunCommand, parse_asset};
use crate::cli::keys::{shown, shown_partition};
use crate::cli::session::Session;
use crate::cli::table::print_table;
use crate::records::{StaleCause, StaleCauseCategory, StalePartition};

/// Causes shown per partition in the table (`--json` lists them all).
const TABLE_CAUSES: usize = 3;

/// `tessera stale [ASSET]`.
#[derive(Debug, Args)]
pub(crate) struct Stale {
    /// The asset key as printed (e.g. `public/weather_obs`); every asset of
    /// the pipeline, upstream first, when left out.
    asset: Option<String>,
}

impl RunCommand for Stale {
    fn run(self, session: &Session<'_>) -> CommandResult {
        let store = session.open_read_only()?;
        let definitions = session.definitions(store)?;
        let assets: Vec<AssetKey> = match &self.asset {
            Some(asset) => vec![parse_asset(asset)?],
            None => definitions.assets().map(|a| a.key().clone()).collect(),
        };
        let mut found = Vec::new();
        for asset in assets {
            let stale = definitions.stale_partitions(&asset)?;
            found.push((asset, stale));
        }
        if session.global.json {
            outln!("{}", serde_json::to_string_pretty(&as_json(&found))?);
        } else {
            print_found(&found)?;
        }
        Ok(ExitCode::SUCCESS)
    }
}

fn category(category: StaleCauseCategory) -> &'static str {
    match category {
        StaleCauseCategory::Code => "code",
        StaleCauseCategory::Data => "data",
        StaleCauseCategory::Dependencies => "dependencies",
        StaleCauseCategory::MissingUpstream => "missing upstream",
    }
}

/// `data: public/weather_obs 2024-01-02 has a new dependency data version`.
fn cause_text(cause: &StaleCause) -> String {
    let upstream = match &cause.dependency {
        Some((asset, Some(partition))) => {
            format!(" {} {}", shown(asset), shown_partition(partition))
        }
        Some((asset, None)) => format!(" {}", shown(asset)),
        None => String::new(),
    };
    format!("{}:{upstream} {}", category(cause.category), cause.reason)
}

fn print_found(found: &[(AssetKey, Vec<StalePartition>)]) -> std::io::Result<()> {
    let mut rows = Vec::new();
    for (asset, partitions) in found {
        for entry in partitions {
            let mut causes: Vec<String> = entry
                .causes
                .iter()
                .take(TABLE_CAUSES)
                .map(cause_text)
                .collect();
            if entry.causes.len() > TABLE_CAUSES {
                causes.push(format!("(+{} more)", entry.causes.len() - TABLE_CAUSES));
            }
            rows.push(vec![
                shown(asset).to_string(),
                entry.partition.as_deref().map_or_else(
                    || "(unpartitioned)".to_owned(),
                    |p| shown_partition(p).to_string(),
                ),
                if entry.missing { "missing" } else { "stale" }.to_owned(),
                causes.join("; "),
            ]);
        }
    }
    let stale = found
        .iter()
        .flat_map(|(_, p)| p)
        .filter(|p| !p.missing)
        .count();
    let missing = found
        .iter()
        .flat_map(|(_, p)| p)
        .filter(|p| p.missing)
        .count();
    if !rows.is_empty() {
        print_table(&["asset", "partition", "status", "causes"], &rows)?;
    }
    outln!(
        "{stale} stale and {missing} missing partition(s) in {} asset(s)",
        found.len()
    );
    Ok(())
}

fn as_json(found: &[(AssetKey, Vec<StalePartition>)]) -> Value {
    let assets: Vec<Value> = found
        .iter()
        .map(|(asset, partitions)| {
            json!({
                "asset": asset.components(),
                "partitions": partitions.iter().map(partition_json).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({ "assets": assets })
}

fn partition_json(entry: &StalePartition) -> Value {
    let causes: Vec<Value> = entry
        .causes
        .iter()
        .map(|cause| {
            let (asset, partition) = match &cause.dependency {
                Some((asset, partition)) => (Some(asset.components()), partition.as_deref()),
                None => (None, None),
            };
            json!({
                "category": category(cause.category),
                "reason": cause.reason,
                "upstream_asset": asset,
                "upstream_partition": partition,
            })
        })
        .collect();
    json!({
        "partition": entry.partition,
        "status": if entry.missing { "missing" } else { "stale" },
        "causes": causes,
    })
}
