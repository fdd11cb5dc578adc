//! The subcommands.

mod export;
mod inspect;
mod materialize;

use std::error::Error;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use tessera_engine::{AssetKey, PartitionKey, Store};

use crate::cli::{Cli, Command};

/// What a subcommand returns.
pub(crate) type CommandResult = Result<ExitCode, Box<dyn Error>>;

/// Runs the command line's subcommand.
pub(crate) fn run(cli: Cli) -> CommandResult {
    let store = &cli.store;
    match cli.command {
        Command::Materialize {
            from,
            to,
            threads,
            missing_or_stale,
            quiet,
        } => materialize::run(open(store)?, &from, &to, threads, missing_or_stale, quiet),
        Command::Assets => inspect::assets(&*open_existing(store)?),
        Command::Partitions { asset } => {
            inspect::partitions(open_existing(store)?, &parse_asset(&asset)?)
        }
        Command::Show {
            asset,
            partition,
            rows,
        } => inspect::show(
            open_existing(store)?,
            &parse_asset(&asset)?,
            partition.as_deref(),
            rows,
        ),
        Command::Export {
            asset,
            partition,
            file,
        } => {
            let partition = (partition != "-").then_some(partition);
            export::run(
                &*open_existing(store)?,
                &parse_asset(&asset)?,
                partition.as_deref(),
                &file,
            )
        }
        Command::Verify => inspect::verify(&*open_existing(store)?),
        Command::Repair => inspect::repair(&*open_existing(store)?),
        Command::Stats => inspect::stats(&*open_existing(store)?),
    }
}

fn open(dir: &Path) -> Result<Arc<Store>, Box<dyn Error>> {
    Ok(Arc::new(Store::open(dir)?))
}

/// Opens a store that must already exist (inspecting must not create one).
fn open_existing(dir: &Path) -> Result<Arc<Store>, Box<dyn Error>> {
    if !dir.join("FORMAT").exists() {
        return Err(format!(
            "{} is not a Tessera store (run `tessera materialize` first)",
            dir.display()
        )
        .into());
    }
    open(dir)
}

fn parse_asset(path: &str) -> Result<AssetKey, Box<dyn Error>> {
    Ok(AssetKey::parse(path)?)
}

fn partition_key(partition: Option<&str>) -> Result<PartitionKey, Box<dyn Error>> {
    Ok(match partition {
        Some(key) => PartitionKey::new(key)?,
        None => PartitionKey::unpartitioned(),
    })
}
