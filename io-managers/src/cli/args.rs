//! The command line's arguments: global options and the subcommand.

use std::path::PathBuf;

use clap::{Args, Parser};

use super::commands::Command;
use super::retention_args::RetentionArgs;

/// Tessera: an embedded store of partitioned data assets.
#[derive(Debug, Parser)]
#[command(
    version,
    about = "Tessera: an embedded store of partitioned data assets."
)]
pub(super) struct Cli {
    /// Options every subcommand takes.
    #[command(flatten)]
    pub(super) global: GlobalArgs,
    /// What to do.
    #[command(subcommand)]
    pub(super) command: Command,
}

/// Options every subcommand takes.
#[derive(Debug, Args)]
pub(crate) struct GlobalArgs {
    /// The store directory, or the address of a store on object storage (a build with the
    /// `object-store` feature): `s3://bucket/prefix` (configured from the AWS_* environment),
    /// `gs://bucket/prefix` (GOOGLE_*), `az://container/prefix` (AZURE_*) or
    /// `file:///shared/dir`; fetched objects are cached under the temporary directory.
    #[arg(long, global = true, default_value = "tessera-data")]
    pub(crate) store: PathBuf,
    /// Make a store in `--store` even if the directory already holds other files.
    #[arg(long, global = true)]
    pub(crate) create: bool,
    /// Print JSON instead of tables (assets, partitions, show, stats, verify, materialize).
    #[arg(long, global = true)]
    pub(crate) json: bool,
    /// Show more: with `materialize`, the lines each asset's compute logged.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub(crate) verbose: u8,
    /// The retention the store is opened with.
    #[command(flatten)]
    pub(crate) retention: RetentionArgs,
}
