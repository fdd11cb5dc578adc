//! Tessera's Arrow writes against the machine's limits, on their own (issue 11
//! items 3 and 5; run on request: `--only arrow-writes`): 1 KiB, 1, 16 and
//! 64 MiB partitions, `Immediate` against the sequential write with `fdatasync` on
//! the same bytes and `Buffered` against Tessera's raw writes of the same
//! size (the value-log ceiling), on each index backend. Each run measures
//! the backends in both orders (sled then redb, redb then sled), each right
//! after the previous system's directory was removed, so that a difference
//! that follows the order rather than the backend shows: the rows name the
//! position (`1st`, `2nd`).

use std::path::Path;

use tessera_engine::{Durability, IndexKind};

use crate::baselines::limits;
use crate::data::{Format, Value, arrow_ipc};
use crate::error::Result;
use crate::measure::{median, timed};
use crate::plan::Plan;
use crate::report::Row;
use crate::system::PartitionSystem;
use crate::tessera::Tessera;
use crate::workloads::io::SEQ_WRITE;

const KIB: usize = 1 << 10;
const MIB: usize = 1 << 20;

/// The sizes measured.
const SIZES: [usize; 4] = [KIB, MIB, 16 * MIB, 64 * MIB];

/// The orders the backends run in, within one run.
const ORDERS: [[IndexKind; 2]; 2] = [
    [IndexKind::Sled, IndexKind::Redb],
    [IndexKind::Redb, IndexKind::Sled],
];

/// Runs the workload; returns one row per (backend, position, durability, size).
///
/// # Errors
/// The first failing write.
pub fn run(plan: &Plan, root: &Path) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    for durability in [Durability::Buffered, Durability::Immediate] {
        for size in SIZES {
            eprintln!(
                "arrow-writes: {durability:?} {}",
                crate::report::human_size(size as u64)
            );
            let measured = case(plan, root, durability, size)?;
            // Each case's figures as soon as they are known (a case can take
            // minutes; the table comes at the end of the run).
            for row in &measured {
                eprintln!(
                    "  {}: {:.1} MiB/s ({:.0} writes/s){}",
                    row.system,
                    row.value,
                    row.value * MIB as f64 / size as f64,
                    row.ratio.map_or(String::new(), |r| format!(", {r:.2}x"))
                );
            }
            rows.extend(measured);
        }
    }
    Ok(rows)
}

/// Seconds per run of Tessera with `index` at `position` (0 or 1).
type Timing = ((IndexKind, usize), Vec<f64>);

fn case(plan: &Plan, root: &Path, durability: Durability, size: usize) -> Result<Vec<Row>> {
    let arrow = Value::of_size(Format::Arrow, size)?;
    let raw = Value::of_size(Format::Raw, size)?;
    let encoded = match &arrow {
        Value::Arrow(batch) => arrow_ipc(batch)?,
        _ => return Err("an Arrow value is not Arrow".into()),
    };
    let count = plan.io_count(size, durability);
    let mut timings: Vec<Timing> = Vec::new();
    let (mut limit, mut ceiling) = (Vec::new(), Vec::new());
    for _ in 0..plan.runs {
        for order in ORDERS {
            for (position, index) in order.into_iter().enumerate() {
                let secs = write_all(root, index, durability, &arrow, count)?;
                match timings.iter_mut().find(|(at, _)| *at == (index, position)) {
                    Some((_, secs_so_far)) => secs_so_far.push(secs),
                    None => timings.push(((index, position), vec![secs])),
                }
            }
        }
        let dir = tempfile::tempdir_in(root)?;
        limit.push(limits::sequential_write(
            dir.path(),
            &encoded,
            count,
            durability,
        )?);
        drop(dir);
        ceiling.push(write_all(root, IndexKind::Redb, durability, &raw, count)?);
    }
    let mib = (size * count) as f64 / MIB as f64;
    let workload = format!("Arrow write {durability:?}");
    let (baseline, base) = match durability {
        Durability::Immediate => (SEQ_WRITE.to_owned(), mib / median(&limit)),
        Durability::Buffered => ("tessera-redb raw".to_owned(), mib / median(&ceiling)),
    };
    let mut rows =
        vec![Row::new(baseline.clone(), workload.clone(), base, "MiB/s").size(size as u64)];
    for ((index, position), secs) in timings {
        let system = format!(
            "{} ({} of 2)",
            crate::tessera::system_name(index),
            position + 1
        );
        let rate = mib / median(&secs);
        rows.push(
            Row::new(system, workload.clone(), rate, "MiB/s")
                .size(size as u64)
                .against(baseline.clone(), base)
                .target(">= 0.8x", rate / base >= 0.8),
        );
    }
    Ok(rows)
}

/// Seconds for a new Tessera store in `root` to take `count` writes of
/// `value` (and the final flush of `Buffered`); the store and its directory
/// are removed after.
fn write_all(
    root: &Path,
    index: IndexKind,
    durability: Durability,
    value: &Value,
    count: usize,
) -> Result<f64> {
    let dir = tempfile::tempdir_in(root)?;
    let mut tessera = Tessera::new(dir.path(), index, durability)?;
    let keys: Vec<String> = (0..count).map(|i| format!("2022-07-23-{i:06}")).collect();
    let ((), secs) = timed(|| {
        for key in &keys {
            tessera.write(key, value)?;
        }
        tessera.finish_writes()
    })?;
    Ok(secs)
}
