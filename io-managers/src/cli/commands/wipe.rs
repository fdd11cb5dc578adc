//! `wipe ASSET [--partitions RANGE]`: Dagster's wipe. The partitions' values,
//! materialization records and failures are deleted in one atomic batch; the
//! partitions read as never materialized (`materialize --missing-or-stale`
//! runs them again).

use std::collections::BTreeSet;
use std::process::ExitCode;

use clap::Args;
use tessera_engine::{AssetKey, PartitionKey, Store};

use super::{CommandResult, RunCommand, parse_asset};
use crate::cli::keys::shown;
use crate::cli::selection::parse_partitions;
use crate::cli::session::Session;
use crate::executor::PartitionSelection;
use crate::records::RecordStore;

/// `tessera wipe ASSET [--partitions RANGE]`.
#[derive(Debug, Args)]
pub(crate) struct Wipe {
    /// The asset key.
    asset: String,
    /// Only these partitions: `FIRST..LAST` (inclusive, in key order),
    /// `A,B,C` or one key. Default: every partition.
    #[arg(long)]
    partitions: Option<String>,
}

impl RunCommand for Wipe {
    fn run(self, session: &Session<'_>) -> CommandResult {
        let asset = parse_asset(&self.asset)?;
        let selection = match &self.partitions {
            Some(text) => parse_partitions(text)?,
            None => PartitionSelection::All,
        };
        if let PartitionSelection::Range(first, last) = &selection
            && first.as_str() > last.as_str()
        {
            return Err(format!(
                "--partitions {first}..{last}: the first partition comes after the last \
                 (a range is FIRST..LAST in key order)"
            )
            .into());
        }
        let store = session.open_existing()?;
        let records = RecordStore::new(store.clone());
        let known = known_partitions(&store, &records, &asset)?;
        let chosen: Vec<PartitionKey> = known
            .into_iter()
            .filter(|key| is_selected(key, &selection))
            .collect();
        let wiped = records.wipe(&asset, &chosen)?;
        outln!("wiped {wiped} partitions of {}", shown(&asset));
        Ok(ExitCode::SUCCESS)
    }
}

/// Every partition of `asset` with a value or a record, in key order.
fn known_partitions(
    store: &Store,
    records: &RecordStore,
    asset: &AssetKey,
) -> Result<BTreeSet<PartitionKey>, Box<dyn std::error::Error>> {
    let mut known: BTreeSet<PartitionKey> = store.list_partitions(asset)?.into_iter().collect();
    known.extend(records.materialized_partitions(asset)?);
    if known.is_empty() {
        return Err(format!("asset {} has no stored partitions", shown(asset)).into());
    }
    Ok(known)
}

fn is_selected(key: &PartitionKey, selection: &PartitionSelection) -> bool {
    let Some(key) = key.as_str() else {
        return matches!(selection, PartitionSelection::All);
    };
    match selection {
        PartitionSelection::Range(first, last) => first.as_str() <= key && key <= last.as_str(),
        PartitionSelection::Keys(keys) => keys.iter().any(|k| k == key),
        _ => true,
    }
}
