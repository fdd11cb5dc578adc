//! The partition I/O targets, evaluated on the figures of the same run.

use tessera_engine::{Durability, IndexKind};

use super::io::{CRC32, FILES, Figures, SEQ_WRITE, read_workload, write_workload};
use crate::baselines::dagster::DagsterResults;
use crate::data::Format;
use crate::report::Row;
use crate::tessera::system_name;

const KIB: usize = 1 << 10;
const MIB: usize = 1 << 20;

/// The Dagster baseline's system name.
pub const DAGSTER: &str = "dagster FilesystemIOManager";

/// Rows for Dagster's own figures (pandas DataFrames, partitions per second
/// converted to MiB/s of nominal size), shown next to Buffered writes (Dagster
/// does not sync) and reads.
#[must_use]
pub fn dagster_rows(dagster: &DagsterResults, sizes: &[usize]) -> Vec<Row> {
    let mut rows = Vec::new();
    for &size in sizes {
        let Some(case) = dagster.case("pandas", size as u64) else {
            continue;
        };
        let mib = size as f64 / MIB as f64;
        for (workload, rate) in [
            (
                write_workload(Durability::Buffered, Format::Arrow),
                case.write_rate(),
            ),
            (read_workload(Format::Arrow), case.read_rate()),
        ] {
            rows.push(Row::new(DAGSTER, workload, rate * mib, "MiB/s").size(size as u64));
        }
    }
    rows
}

/// Every target of the issue about partition I/O, for both index backends.
#[must_use]
pub fn rows(figures: &Figures, sizes: &[usize], dagster: Option<&DagsterResults>) -> Vec<Row> {
    let mut rows = Vec::new();
    for index in [IndexKind::Sled, IndexKind::Redb] {
        let system = system_name(index);
        small_partitions(figures, &system, dagster, &mut rows);
        for &size in sizes.iter().filter(|&&s| s >= MIB) {
            large_partitions(figures, &system, size, &mut rows);
        }
        zero_copy(figures, &system, sizes, &mut rows);
    }
    rows
}

fn ratio_row(
    system: &str,
    workload: &str,
    size: usize,
    ours: f64,
    base_name: &str,
    base: f64,
) -> Row {
    Row::new(system, workload, ours, "MiB/s")
        .size(size as u64)
        .against(base_name, base)
}

/// 1 KiB partitions: ≥ 100× Dagster and ≥ 10× files, writes (Buffered) and reads.
fn small_partitions(
    figures: &Figures,
    system: &str,
    dagster: Option<&DagsterResults>,
    rows: &mut Vec<Row>,
) {
    let write = write_workload(Durability::Buffered, Format::Arrow);
    let read = read_workload(Format::Arrow);
    for (label, workload) in [
        ("target: 1 KiB write", &write),
        ("target: 1 KiB read", &read),
    ] {
        let (Some(ours), Some(files)) = (
            figures.rate(workload, system, KIB),
            figures.rate(workload, FILES, KIB),
        ) else {
            continue;
        };
        let row = ratio_row(system, label, KIB, ours, FILES, files);
        let met = row.ratio.is_some_and(|r| r >= 10.0);
        rows.push(row.target(">= 10x files", met));
        let Some(case) = dagster.and_then(|d| d.case("pandas", KIB as u64)) else {
            rows.push(
                Row::new(system, label, ours, "MiB/s")
                    .size(KIB as u64)
                    .target(">= 100x Dagster: not run", false),
            );
            continue;
        };
        let rate = if workload == &write {
            case.write_rate()
        } else {
            case.read_rate()
        };
        let row = ratio_row(
            system,
            label,
            KIB,
            ours,
            DAGSTER,
            rate * KIB as f64 / MIB as f64,
        );
        let met = row.ratio.is_some_and(|r| r >= 100.0);
        rows.push(row.target(">= 100x Dagster", met));
    }
}

/// ≥ 1 MiB: Immediate writes ≥ 80% of the sequential-write limit; verified
/// reads ≥ 50% of crc32fast; reads ≥ 3× sled inline.
fn large_partitions(figures: &Figures, system: &str, size: usize, rows: &mut Vec<Row>) {
    let write = write_workload(Durability::Immediate, Format::Arrow);
    if let (Some(ours), Some(seq)) = (
        figures.rate(&write, system, size),
        figures.rate(&write, SEQ_WRITE, size),
    ) {
        let row = ratio_row(
            system,
            "target: Immediate write",
            size,
            ours,
            SEQ_WRITE,
            seq,
        );
        let met = row.ratio.is_some_and(|r| r >= 0.8);
        rows.push(row.target(">= 0.8x seq write", met));
    }
    let read = read_workload(Format::Arrow);
    let Some(ours) = figures.rate(&read, system, size) else {
        return;
    };
    if let Some(crc) = figures.rate(&read, CRC32, size) {
        let row = ratio_row(system, "target: verified read", size, ours, CRC32, crc);
        let met = row.ratio.is_some_and(|r| r >= 0.5);
        rows.push(row.target(">= 0.5x crc32fast", met));
    }
    if let Some(sled) = figures.rate(&read, "sled inline", size) {
        let row = ratio_row(
            system,
            "target: read vs sled",
            size,
            ours,
            "sled inline",
            sled,
        );
        let met = row.ratio.is_some_and(|r| r >= 3.0);
        rows.push(row.target(">= 3x sled inline", met));
    }
}

/// Zero-copy: with verification off, the time of one Arrow read at the largest
/// size is no more than twice its time at 1 MiB.
fn zero_copy(figures: &Figures, system: &str, sizes: &[usize], rows: &mut Vec<Row>) {
    let name = format!("{system} (no verify)");
    let Some(&largest) = sizes.iter().max() else {
        return;
    };
    let (Some(&small), Some(&large)) = (
        figures.read_latency.get(&(name.clone(), MIB)),
        figures.read_latency.get(&(name.clone(), largest)),
    ) else {
        return;
    };
    let row = Row::new(&name, "target: zero-copy read time", large * 1e6, "µs/read")
        .size(largest as u64)
        .against(
            format!("same at 1 MiB ({:.1} µs)", small * 1e6),
            small * 1e6,
        );
    let met = row.ratio.is_some_and(|r| r <= 2.0);
    rows.push(row.target("<= 2x the 1 MiB read time", met));
}
