//! The subcommands, one file each.
//!
//! Adding one: a file here with a clap `Args` struct that implements
//! [`RunCommand`], its `mod` line, and one line in the `subcommands!` list
//! below (the line's doc comment is the command's `--help` summary).

mod assets;
mod compact;
mod completions;
mod export;
mod history;
mod init;
mod materialize;
mod partitions;
mod repair;
mod show;
mod stale;
mod stats;
mod verify;
mod wipe;

use std::error::Error;
use std::process::ExitCode;

use tessera_engine::{AssetKey, PartitionKey};

use super::keys;
use super::session::Session;

/// What a subcommand returns.
pub(crate) type CommandResult = Result<ExitCode, Box<dyn Error>>;

/// A subcommand: parsed arguments that know how to run.
pub(crate) trait RunCommand {
    /// Runs the command in `session`.
    fn run(self, session: &Session<'_>) -> CommandResult;
}

/// Declares the [`Command`] enum (one variant per subcommand) and its dispatch.
macro_rules! subcommands {
    ($($(#[$doc:meta])* $variant:ident($args:ty),)*) => {
        /// The subcommands.
        #[derive(Debug, clap::Subcommand)]
        pub(crate) enum Command {
            $($(#[$doc])* $variant($args),)*
        }

        impl RunCommand for Command {
            fn run(self, session: &Session<'_>) -> CommandResult {
                match self {
                    $(Self::$variant(args) => args.run(session),)*
                }
            }
        }
    };
}

subcommands! {
    /// Make a store in `--store` (even in a directory that holds other files).
    Init(init::Init),
    /// Materialize the pipeline's assets over a range of partitions.
    Materialize(materialize::Materialize),
    /// List the assets with their partition counts and sizes.
    Assets(assets::Assets),
    /// List the partitions of an asset with their sizes and status.
    Partitions(partitions::Partitions),
    /// Show one partition: its record, its materialization and, for Arrow, its schema and first rows.
    Show(show::Show),
    /// Write one Arrow partition as an Arrow IPC file that any Arrow tool reads.
    Export(export::Export),
    /// List the retained versions of one partition, newest first.
    History(history::History),
    /// Recompute every payload's checksum and check the index against the log.
    Verify(verify::Verify),
    /// Rebuild the index from the segments (the log), reporting what the open repaired.
    Repair(repair::Repair),
    /// Counts and sizes of the store: user assets, internal entries, live, garbage and reclaimable bytes.
    Stats(stats::Stats),
    /// The missing and stale partitions of an asset (or of every asset) and why, as a table or JSON.
    Stale(stale::Stale),
    /// Print a shell completion script (bash, zsh, fish).
    Completions(completions::Completions),
    /// Delete an asset's values and materialization records (all, or --partitions).
    Wipe(wipe::Wipe),
    /// Reclaim the space of overwritten, expired and deleted versions now, with a summary.
    Compact(compact::Compact),
}

/// Parses an asset key written as on screen (`public/weather_obs`, `a\/b`).
pub(crate) fn parse_asset(path: &str) -> Result<AssetKey, Box<dyn Error>> {
    Ok(keys::parse_asset(path)?)
}

/// Parses a partition key written as on screen (`\` and control
/// characters escaped).
pub(crate) fn parse_partition(text: &str) -> Result<String, Box<dyn Error>> {
    Ok(keys::parse_partition(text)?)
}

/// The partition key of `partition`, or the unpartitioned key for `None`.
pub(crate) fn partition_key(partition: Option<&str>) -> Result<PartitionKey, Box<dyn Error>> {
    Ok(match partition {
        Some(key) => PartitionKey::new(key)?,
        None => PartitionKey::unpartitioned(),
    })
}
