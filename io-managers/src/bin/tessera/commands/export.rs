//! `tessera export`: one Arrow partition as an Arrow IPC file.

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;
use std::process::ExitCode;

use arrow_ipc::writer::FileWriter;
use tessera_engine::{AssetKey, Store};

use super::{CommandResult, partition_key};

pub(super) fn run(
    store: &Store,
    asset: &AssetKey,
    partition: Option<&str>,
    file: &Path,
) -> CommandResult {
    let table = store
        .get_arrow(asset, &partition_key(partition)?)?
        .ok_or_else(|| {
            format!(
                "asset {asset} has no partition {}",
                partition.unwrap_or("(unpartitioned)")
            )
        })?;
    let output = File::create(file).map_err(|e| format!("create {}: {e}", file.display()))?;
    let mut writer = FileWriter::try_new(BufWriter::new(output), &table.schema)?;
    for batch in &table.batches {
        writer.write(batch)?;
    }
    writer.finish()?;
    writer.into_inner()?.get_ref().sync_all()?;
    outln!(
        "wrote {} rows of {asset} to {}",
        table.num_rows(),
        file.display()
    );
    Ok(ExitCode::SUCCESS)
}
