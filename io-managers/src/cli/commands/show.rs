//! `show ASSET [PARTITION]`: one partition's record, materialization and,
//! for Arrow, its schema and first rows.

use std::process::ExitCode;
use std::sync::Arc;

use clap::Args;
use serde_json::json;
use tessera_engine::{AssetKey, Blob, Codec, Store};

use super::{CommandResult, RunCommand, parse_asset, parse_partition, partition_key};
use crate::cli::keys::{shown, shown_components, shown_partition};
use crate::cli::output::print_json;
use crate::cli::session::Session;
use crate::cli::table::{batch_rows, bytes, print_table};
use crate::cli::version_args::VersionArgs;
use crate::records::{MaterializationRecord, RecordStore};

/// `tessera show ASSET [PARTITION]`.
#[derive(Debug, Args)]
pub(crate) struct Show {
    /// The asset key (`public/weather_obs`).
    asset: String,
    /// The partition key (omit for an unpartitioned asset).
    partition: Option<String>,
    /// Rows to print.
    #[arg(long, default_value_t = 5)]
    rows: usize,
    /// Which version to show.
    #[command(flatten)]
    version: VersionArgs,
}

impl RunCommand for Show {
    fn run(self, session: &Session<'_>) -> CommandResult {
        let partition = self.partition.as_deref().map(parse_partition).transpose()?;
        if session.global.json {
            return show_json(
                session.open_read_only()?,
                &parse_asset(&self.asset)?,
                partition.as_deref(),
                self.rows,
                &self.version,
            );
        }
        show(
            session.open_read_only()?,
            &parse_asset(&self.asset)?,
            partition.as_deref(),
            self.rows,
            &self.version,
        )
    }
}

fn show(
    store: Arc<Store>,
    asset: &AssetKey,
    partition: Option<&str>,
    limit: usize,
    version: &VersionArgs,
) -> CommandResult {
    let blob = stored_blob(&store, asset, partition, version)?;
    let meta = blob.meta();
    outln!("asset:        {}", shown(asset));
    outln!("partition:    {}", partition_label(partition));
    outln!("version:      {}", meta.version);
    outln!("codec:        {:?}", meta.codec);
    outln!("bytes:        {} ({})", meta.len, bytes(meta.len));
    outln!("crc32:        {:08x}", meta.checksum.0);
    outln!(
        "stored at:    {}",
        meta.created_at.format("%Y-%m-%d %H:%M:%S%.3f UTC")
    );
    outln!(
        "data version: {}",
        meta.data_version.as_deref().unwrap_or("-")
    );
    for (name, value) in &meta.metadata {
        outln!("metadata:     {name} = {value}");
    }
    let record = run_record(&store, asset, partition, meta.version, version);
    if let Err(error) = &record {
        outln!("run:          the materialization record cannot be read ({error})");
    }
    if let Ok(Some(record)) = record {
        outln!(
            "run:          {} ({:.2?})",
            record.run_id,
            record.duration()
        );
        outln!("code version: {}", record.code_version);
        for input in &record.inputs {
            outln!(
                "read:         {} ({} partitions{}{})",
                shown_components(&input.asset),
                input.partitions.len(),
                read_versions(&input.stored_versions),
                input
                    .as_of
                    .as_ref()
                    .map(|as_of| format!(", as of {as_of}"))
                    .unwrap_or_default()
            );
        }
    }
    if meta.codec == Codec::ArrowIpc {
        let table = blob.arrow()?;
        outln!("rows:         {}", table.num_rows());
        outln!("schema:");
        for field in table.schema.fields() {
            outln!(
                "  {}: {}{}",
                field.name(),
                field.data_type(),
                if field.is_nullable() {
                    " (nullable)"
                } else {
                    ""
                }
            );
        }
        if let Some(batch) = table.batches.first() {
            let header: Vec<&str> = table
                .schema
                .fields()
                .iter()
                .map(|f| f.name().as_str())
                .collect();
            print_table(&header, &batch_rows(batch, limit))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A partition key as printed, or `(unpartitioned)`.
fn partition_label(partition: Option<&str>) -> String {
    partition.map_or_else(
        || "(unpartitioned)".to_owned(),
        |key| shown_partition(key).to_string(),
    )
}

/// The stored value of `(asset, partition)`, or an error naming both.
fn stored_blob(
    store: &Store,
    asset: &AssetKey,
    partition: Option<&str>,
    version: &VersionArgs,
) -> Result<Blob, Box<dyn std::error::Error>> {
    Ok(version
        .read(store, asset, &partition_key(partition)?)?
        .ok_or_else(|| {
            format!(
                "asset {} has no partition {}{}",
                shown(asset),
                partition_label(partition),
                version.describe()
            )
        })?)
}

/// `show --json`: the same facts as one JSON object.
fn show_json(
    store: Arc<Store>,
    asset: &AssetKey,
    partition: Option<&str>,
    limit: usize,
    version: &VersionArgs,
) -> CommandResult {
    let blob = stored_blob(&store, asset, partition, version)?;
    let meta = blob.meta();
    let mut object = json!({
        "asset": asset.components(),
        "partition": partition,
        "version": meta.version,
        "codec": format!("{:?}", meta.codec),
        "bytes": meta.len,
        "crc32": format!("{:08x}", meta.checksum.0),
        "stored_at": meta.created_at.to_rfc3339(),
        "data_version": meta.data_version,
        "metadata": meta.metadata,
    });
    let record = run_record(&store, asset, partition, meta.version, version);
    if let Err(error) = &record {
        object["materialization_error"] = error.to_string().into();
    }
    if let Ok(Some(record)) = record {
        object["materialization"] = json!({
            "run_id": record.run_id,
            "duration_ms": record.duration().as_secs_f64() * 1e3,
            "code_version": record.code_version,
            "inputs": record.inputs.iter().map(|input| json!({
                "asset": input.asset,
                "partitions": input.partitions.len(),
                "stored_versions": input.stored_versions,
                "as_of": input.as_of,
            })).collect::<Vec<_>>(),
            "stored_version": record.stored_version,
        });
    }
    if meta.codec == Codec::ArrowIpc {
        let table = blob.arrow()?;
        object["rows"] = table.num_rows().into();
        object["schema"] = table
            .schema
            .fields()
            .iter()
            .map(|f| json!({"name": f.name(), "type": f.data_type().to_string(), "nullable": f.is_nullable()}))
            .collect();
        object["first_rows"] = table
            .batches
            .first()
            .map(|batch| batch_rows(batch, limit))
            .unwrap_or_default()
            .into();
    }
    print_json(&object)?;
    Ok(ExitCode::SUCCESS)
}

/// The materialization record of the run that wrote `shown` (a version of
/// `(asset, partition)`): the latest record, unless an earlier version was
/// asked for and the record does not name it as the one it wrote.
fn run_record(
    store: &Arc<Store>,
    asset: &AssetKey,
    partition: Option<&str>,
    shown: u64,
    version: &VersionArgs,
) -> crate::Result<Option<MaterializationRecord>> {
    let record = RecordStore::new(store.clone()).materialization(asset, partition)?;
    Ok(record.filter(|r| !version.is_pinned() || r.stored_version == Some(shown)))
}

/// `, version 12` or `, versions 3..40` for the store versions an input read.
fn read_versions(versions: &[(String, u64)]) -> String {
    let numbers = versions.iter().map(|(_, version)| *version);
    match (numbers.clone().min(), numbers.max()) {
        (Some(low), Some(high)) if low == high => format!(", version {low}"),
        (Some(low), Some(high)) => format!(", versions {low}..{high}"),
        _ => String::new(),
    }
}
