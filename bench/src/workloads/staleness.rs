//! Staleness without a threshold: every partition of a 10-year daily asset
//! over a 10-year hourly one (one year in `--quick`), computed from the
//! records with range scans, after one upstream hour was materialized again.
//! Dagster stops following an edge at 100 upstream partitions; here each day
//! reads 24 and the query also resolves every hour first.

use std::path::Path;
use std::sync::Arc;

use chrono::{TimeZone, Utc};
use tessera_engine::{AssetKey, Durability, Store};
use tessera_io_managers::executor::{
    AssetDefinition, AssetInput, AssetSelection, DEFAULT_IO_MANAGER_KEY, Definitions,
    MaterializeRequest, Output, PartitionSelection,
};
use tessera_io_managers::partitions::TimeWindowPartitionsDefinition;
use tessera_io_managers::{InMemoryIoManager, IoManagers};

use crate::error::Result;
use crate::measure::{median, timed};
use crate::plan::Plan;
use crate::report::Row;

const SYSTEM: &str = "tessera staleness";

/// Runs the staleness workload.
///
/// # Errors
/// A store, definition or run error, or a wrong staleness answer.
pub fn run(plan: &Plan, root: &Path) -> Result<Vec<Row>> {
    let (years, start_year) = if plan.quick { (1, 2024) } else { (10, 2015) };
    eprintln!("staleness: {years}-year daily over {years}-year hourly");
    let now = Utc
        .with_ymd_and_hms(start_year + years, 1, 1, 0, 0, 0)
        .single()
        .ok_or("a fixed instant")?;
    let dir = tempfile::tempdir_in(root)?;
    let store = Arc::new(
        Store::builder(dir.path())
            .durability(Durability::Buffered)
            .open()?,
    );
    let hours = AssetKey::new(["hours"])?;
    let days = AssetKey::new(["days"])?;
    let definitions = Definitions::builder(store)
        .asset(
            AssetDefinition::new(hours.clone(), |_, _| Ok(Output::new(1u64))).partitions(
                TimeWindowPartitionsDefinition::hourly(&format!("{start_year}-01-01-00:00"))?,
            ),
        )
        .asset(
            AssetDefinition::new(days.clone(), |_, inputs| {
                let total: u64 = inputs.take::<u64>("hours")?.into_map().values().sum();
                Ok(Output::new(total))
            })
            .partitions(TimeWindowPartitionsDefinition::daily(&format!(
                "{start_year}-01-01"
            ))?)
            .input(AssetInput::new("hours", hours.clone())),
        )
        .managers(
            IoManagers::new()
                .with_io_manager(DEFAULT_IO_MANAGER_KEY, InMemoryIoManager::<u64>::new()),
        )
        .build()?;
    let materialized = definitions
        .materialize(&MaterializeRequest::new().now(now).threads(2))?
        .materialized();
    let changed = format!("{start_year}-06-15-07:00");
    let rerun = MaterializeRequest::new()
        .assets(AssetSelection::Assets(vec![hours.clone()]))
        .partitions(PartitionSelection::Keys(vec![changed]))
        .now(now);
    definitions.materialize(&rerun)?;

    let day_count = definitions
        .partition_keys(definitions.asset(&days)?, now)?
        .map_or(0, |keys| keys.len());
    let mut times = Vec::new();
    for _ in 0..plan.runs {
        let (stale, secs) = timed(|| Ok(definitions.stale_partitions_at(&days, now)?))?;
        let expected = Some(format!("{start_year}-06-15"));
        if stale.len() != 1 || stale[0].partition != expected {
            return Err(format!("expected exactly {expected:?} stale, got {stale:?}").into());
        }
        times.push(secs * 1e3);
    }
    Ok(vec![Row::new(
        SYSTEM,
        format!(
            "stale partitions of {day_count} days over {} hours ({materialized} records)",
            materialized - day_count
        ),
        median(&times),
        "ms",
    )])
}
