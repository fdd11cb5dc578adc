//! `history ASSET [PARTITION]`: the retained versions of one partition.

use std::process::ExitCode;

use chrono::SecondsFormat;
use clap::Args;
use serde_json::{Value, json};
use tessera_engine::{AssetKey, Store, VersionInfo};

use super::{CommandResult, RunCommand, parse_asset, parse_partition, partition_key};
use crate::cli::keys::{shown, shown_partition};
use crate::cli::output::print_json;
use crate::cli::session::Session;
use crate::cli::table::{bytes, print_table};

/// `tessera history ASSET [PARTITION]`.
#[derive(Debug, Args)]
pub(crate) struct History {
    /// The asset key (`public/weather_obs`).
    asset: String,
    /// The partition key (omit for an unpartitioned asset).
    partition: Option<String>,
}

impl RunCommand for History {
    fn run(self, session: &Session<'_>) -> CommandResult {
        let partition = self.partition.as_deref().map(parse_partition).transpose()?;
        history(
            &*session.open_read_only()?,
            &parse_asset(&self.asset)?,
            partition.as_deref(),
            session.global.json,
        )
    }
}

fn history(store: &Store, asset: &AssetKey, partition: Option<&str>, json: bool) -> CommandResult {
    let versions = store.history(asset, &partition_key(partition)?)?;
    let label = partition.map_or_else(
        || "(unpartitioned)".to_owned(),
        |key| shown_partition(key).to_string(),
    );
    if versions.is_empty() {
        return Err(format!("asset {} has no partition {label}", shown(asset)).into());
    }
    if json {
        print_json(&Value::Array(versions.iter().map(version_json).collect()))?;
        return Ok(ExitCode::SUCCESS);
    }
    let rows: Vec<Vec<String>> = versions.iter().enumerate().map(row).collect();
    print_table(
        &["version", "stored at", "codec", "bytes", "data version", ""],
        &rows,
    )?;
    outln!(
        "{} retained version{} of {} {label}",
        versions.len(),
        if versions.len() == 1 { "" } else { "s" },
        shown(asset)
    );
    Ok(ExitCode::SUCCESS)
}

/// One line of the table; the first (newest) is the one `get` reads. The
/// time is printed in full, so that `--as-of` given it selects this version.
fn row((rank, info): (usize, &VersionInfo)) -> Vec<String> {
    let meta = &info.meta;
    vec![
        info.version.to_string(),
        meta.created_at.to_rfc3339_opts(SecondsFormat::AutoSi, true),
        format!("{:?}", meta.codec),
        bytes(meta.len),
        meta.data_version.as_deref().map_or("-", short).to_owned(),
        if rank == 0 { "newest" } else { "" }.to_owned(),
    ]
}

/// One version as JSON: every field of its record, the data version whole.
fn version_json(info: &VersionInfo) -> Value {
    let meta = &info.meta;
    json!({
        "version": info.version,
        "stored_at": meta.created_at.to_rfc3339_opts(SecondsFormat::AutoSi, true),
        "codec": format!("{:?}", meta.codec),
        "bytes": meta.len,
        "crc32": format!("{:08x}", meta.checksum.0),
        "data_version": meta.data_version,
        "metadata": meta.metadata,
    })
}

/// The first 16 characters of a long data version (a SHA-256 in hex).
fn short(version: &str) -> &str {
    version.get(..16).unwrap_or(version)
}
