//! The command line.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Tessera: an embedded store of partitioned data assets.
#[derive(Debug, Parser)]
#[command(name = "tessera", version, about)]
pub(crate) struct Cli {
    /// The store directory.
    #[arg(long, global = true, default_value = "tessera-data")]
    pub(crate) store: PathBuf,
    /// What to do.
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Materialize the example pipeline (weather_obs → rolling_7d_stats → summary) over a range of days.
    Materialize {
        /// The first day.
        #[arg(long, default_value = "2024-01-01")]
        from: String,
        /// The last day (inclusive).
        #[arg(long, default_value = "2024-01-31")]
        to: String,
        /// Partitions run at once.
        #[arg(long, default_value_t = 2)]
        threads: usize,
        /// Only partitions that are missing, failed or stale.
        #[arg(long)]
        missing_or_stale: bool,
        /// No progress bar.
        #[arg(long)]
        quiet: bool,
    },
    /// List the assets with their partition counts and sizes.
    Assets,
    /// List the partitions of an asset with their sizes and status.
    Partitions {
        /// The asset key, components separated by `/` (e.g. `public/weather_obs`).
        asset: String,
    },
    /// Show one partition: its record, its materialization and, for Arrow, its schema and first rows.
    Show {
        /// The asset key (`public/weather_obs`).
        asset: String,
        /// The partition key (omit for an unpartitioned asset).
        partition: Option<String>,
        /// Rows to print.
        #[arg(long, default_value_t = 5)]
        rows: usize,
    },
    /// Write one Arrow partition as an Arrow IPC file that any Arrow tool reads.
    Export {
        /// The asset key.
        asset: String,
        /// The partition key (`-` for an unpartitioned asset).
        partition: String,
        /// The file to write.
        file: PathBuf,
    },
    /// Recompute every payload's checksum and check the index against the log.
    Verify,
    /// Rebuild the index from the segments (the log), reporting what the open repaired.
    Repair,
    /// Counts and sizes of the store.
    Stats,
}
