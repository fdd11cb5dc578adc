//! `stats`: counts and sizes of the store, user assets apart from Tessera's
//! own entries (materialization records, dynamic partitions).

use std::process::ExitCode;

use clap::Args;
use serde_json::json;
use tessera_engine::Store;

use super::assets::{is_internal, partition_sizes};
use super::{CommandResult, RunCommand};
use crate::cli::output::{Cell, Table, print_json};
use crate::cli::session::Session;

/// `tessera stats`.
#[derive(Debug, Args)]
pub(crate) struct Stats {}

/// Assets, partitions and payload bytes of one kind of entry.
#[derive(Default)]
struct Counts {
    assets: u64,
    partitions: u64,
    bytes: u64,
}

impl RunCommand for Stats {
    fn run(self, session: &Session<'_>) -> CommandResult {
        let store = session.open_read_only()?;
        let (user, internal) = counts(&store)?;
        let stats = store.stats()?;
        let mut entries = Table::new(&["entries", "assets", "partitions", "payload"]);
        for (kind, counts) in [
            ("user assets", &user),
            ("internal (__tessera__)", &internal),
        ] {
            entries.push(vec![
                Cell::text(kind),
                Cell::count(counts.assets),
                Cell::count(counts.partitions),
                Cell::bytes(counts.bytes),
            ]);
        }
        let mut space = Table::new(&[
            "live",
            "garbage",
            "reclaimable",
            "old versions",
            "segments",
            "segment files",
        ]);
        space.push(vec![
            Cell::bytes(stats.live_bytes),
            Cell::bytes(stats.garbage_bytes),
            Cell::bytes(stats.reclaimable_bytes),
            Cell::count(stats.old_versions),
            Cell::count(stats.segments),
            Cell::bytes(stats.segment_bytes),
        ]);
        if session.global.json {
            print_json(&json!({
                "user": {"assets": user.assets, "partitions": user.partitions, "payload_bytes": user.bytes},
                "internal": {"assets": internal.assets, "partitions": internal.partitions, "payload_bytes": internal.bytes},
                "live_bytes": stats.live_bytes,
                "garbage_bytes": stats.garbage_bytes,
                "reclaimable_bytes": stats.reclaimable_bytes,
                "old_versions": stats.old_versions,
                "segments": stats.segments,
                "segment_bytes": stats.segment_bytes,
            }))?;
        } else {
            entries.print(false)?;
            outln!();
            space.print(false)?;
        }
        Ok(ExitCode::SUCCESS)
    }
}

/// The counts of user assets and of internal entries.
fn counts(store: &Store) -> Result<(Counts, Counts), tessera_engine::Error> {
    let (mut user, mut internal) = (Counts::default(), Counts::default());
    for asset in store.list_assets()? {
        let sizes = partition_sizes(store, &asset)?;
        let counts = if is_internal(&asset) {
            &mut internal
        } else {
            &mut user
        };
        counts.assets += 1;
        counts.partitions += sizes.len() as u64;
        counts.bytes += sizes.iter().map(|(_, size)| size).sum::<u64>();
    }
    Ok((user, internal))
}
