//! `tessera export`: one Arrow partition as an Arrow IPC file.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use arrow_ipc::writer::FileWriter;
use clap::Args;
use tessera_engine::{AssetKey, Store};

use super::{CommandResult, RunCommand, parse_asset, partition_key};
use crate::cli::session::Session;

/// `tessera export ASSET PARTITION FILE`.
#[derive(Debug, Args)]
pub(crate) struct Export {
    /// The asset key.
    asset: String,
    /// The partition key (`-` for an unpartitioned asset).
    partition: String,
    /// The file to write.
    file: PathBuf,
}

impl RunCommand for Export {
    fn run(self, session: &Session<'_>) -> CommandResult {
        let partition = (self.partition != "-").then_some(self.partition.as_str());
        export(
            &*session.open_existing()?,
            &parse_asset(&self.asset)?,
            partition,
            &self.file,
        )
    }
}

fn export(store: &Store, asset: &AssetKey, partition: Option<&str>, file: &Path) -> CommandResult {
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
