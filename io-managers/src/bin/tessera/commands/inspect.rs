//! `assets`, `partitions`, `show`, `verify`, `repair` and `stats`.

use std::process::ExitCode;
use std::sync::Arc;

use tessera_engine::{AssetKey, Codec, Store};
use tessera_io_managers::records::{RESERVED_PREFIX, RecordStore};

use super::{CommandResult, partition_key};
use crate::table::{batch_rows, bytes, print_table};

pub(super) fn assets(store: &Store) -> CommandResult {
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
        rows.push(vec![asset.to_string(), count, bytes(size)]);
    }
    print_table(&["asset", "partitions", "bytes"], &rows)?;
    Ok(ExitCode::SUCCESS)
}

pub(super) fn partitions(store: Arc<Store>, asset: &AssetKey) -> CommandResult {
    let records = RecordStore::new(store.clone());
    let mut rows = Vec::new();
    for partition in store.list_partitions(asset)? {
        let key = partition.as_str();
        let meta = store.meta(asset, &partition)?;
        let record = records.materialization(asset, key)?;
        rows.push(vec![
            key.unwrap_or("(unpartitioned)").to_owned(),
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
        return Err(format!("asset {asset} has no stored partitions").into());
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

pub(super) fn show(
    store: Arc<Store>,
    asset: &AssetKey,
    partition: Option<&str>,
    limit: usize,
) -> CommandResult {
    let key = partition_key(partition)?;
    let blob = store.get(asset, &key)?.ok_or_else(|| {
        format!(
            "asset {asset} has no partition {}",
            partition.unwrap_or("(unpartitioned)")
        )
    })?;
    let meta = blob.meta();
    outln!("asset:        {asset}");
    outln!("partition:    {}", partition.unwrap_or("(unpartitioned)"));
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
    if let Some(record) = RecordStore::new(store.clone()).materialization(asset, partition)? {
        outln!(
            "run:          {} ({:.2?})",
            record.run_id,
            record.duration()
        );
        outln!("code version: {}", record.code_version);
        for input in &record.inputs {
            outln!(
                "read:         {} ({} partitions)",
                input.asset.join("/"),
                input.partitions.len()
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

pub(super) fn verify(store: &Store) -> CommandResult {
    let report = store.verify()?;
    outln!(
        "checked {} partitions, {}",
        report.checked,
        bytes(report.bytes)
    );
    for damaged in &report.damaged {
        outln!("damaged: {}", damaged.error);
    }
    for mismatch in &report.index_mismatches {
        outln!(
            "index: {} {}: {}",
            mismatch
                .asset
                .as_ref()
                .map_or_else(|| "?".to_owned(), ToString::to_string),
            mismatch
                .partition
                .as_ref()
                .map_or_else(|| "?".to_owned(), ToString::to_string),
            mismatch.problem
        );
    }
    for segment in &report.quarantined {
        outln!(
            "quarantined: {}: {}",
            segment.path.display(),
            segment.reason
        );
    }
    for stray in &report.stray_files {
        outln!("stray file (ignored): {}", stray.display());
    }
    Ok(if report.is_ok() {
        outln!("every checksum matches and the index agrees with the log");
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

pub(super) fn repair(store: &Store) -> CommandResult {
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

pub(super) fn stats(store: &Store) -> CommandResult {
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
