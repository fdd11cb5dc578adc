//! The partition I/O targets, evaluated on the figures of the same run.

use tessera_engine::{Durability, IndexKind};

use super::io::{CRC32, FILES, Figures, SEQ_WRITE, read_workload, write_workload};
use crate::baselines::dagster::{DagsterCase, DagsterResults};
use crate::data::Format;
use crate::report::Row;
use crate::tessera::system_name;

const KIB: usize = 1 << 10;
const MIB: usize = 1 << 20;

/// What the Dagster targets are against.
const DAGSTER_FASTEST: &str = "dagster (faster of logging on/off)";

/// Rows for Dagster's own figures (pandas DataFrames, partitions per second
/// converted to MiB/s of nominal size), with logging as in a default run and
/// off, shown next to Buffered writes (Dagster does not sync) and reads.
#[must_use]
pub fn dagster_rows(dagster: &DagsterResults) -> Vec<Row> {
    let mut rows = Vec::new();
    for case in &dagster.cases {
        let mib = case.size as f64 / MIB as f64;
        for (workload, rate) in [
            (
                write_workload(Durability::Buffered, Format::Arrow),
                case.write_rate(),
            ),
            (read_workload(Format::Arrow), case.read_rate()),
        ] {
            let system = case.logging.system_name();
            rows.push(Row::new(system, workload, rate * mib, "MiB/s").size(case.size as u64));
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
    let default = system_name(IndexKind::Redb);
    small_values(figures, &default, &mut rows);
    for &size in sizes.iter().filter(|&&s| s >= MIB) {
        arrow_against_raw(figures, &default, size, &mut rows);
    }
    leads(figures, &default, sizes, &mut rows);
    rows
}

/// The key-value stores a user would pick instead (issue 11, item 7).
pub const KEY_VALUE_STORES: [&str; 4] = [
    "sled inline",
    "lmdb (heed)",
    "redb inline",
    "fjall (kv separation)",
];

/// 1 KiB raw values: reads ≥ 2× sled inline and ≥ 10^6 per second; `Buffered`
/// writes ≥ 3× sled inline and ≥ 0.7× the sequential-write limit; 1 KiB Arrow
/// reads ≥ 500,000 per second.
fn small_values(figures: &Figures, system: &str, rows: &mut Vec<Row>) {
    let per_sec = |mib_s: f64| mib_s * (MIB / KIB) as f64;
    let read = read_workload(Format::Raw);
    let write = write_workload(Durability::Buffered, Format::Raw);
    for (workload, label, factor) in [
        (&read, "target: 1 KiB raw read", 2.0),
        (&write, "target: 1 KiB raw write", 3.0),
    ] {
        if let (Some(ours), Some(sled)) = (
            figures.rate(workload, system, KIB),
            figures.rate(workload, "sled inline", KIB),
        ) {
            let row = ratio_row(system, label, KIB, ours, "sled inline", sled);
            let met = row.ratio.is_some_and(|r| r >= factor);
            rows.push(row.target(format!(">= {factor}x sled inline"), met));
        }
    }
    if let (Some(ours), Some(seq)) = (
        figures.rate(&write, system, KIB),
        figures.rate(&write, SEQ_WRITE, KIB),
    ) {
        let row = ratio_row(system, "target: 1 KiB raw write", KIB, ours, SEQ_WRITE, seq);
        let met = row.ratio.is_some_and(|r| r >= 0.7);
        rows.push(row.target(">= 0.7x seq write", met));
    }
    for (workload, label, floor) in [
        (&read, "target: 1 KiB raw reads/s", 1e6),
        (
            &read_workload(Format::Arrow),
            "target: 1 KiB Arrow reads/s",
            5e5,
        ),
    ] {
        if let Some(ours) = figures.rate(workload, system, KIB) {
            let row = Row::new(system, label, per_sec(ours), "reads/s")
                .size(KIB as u64)
                .against(format!("{floor} reads/s"), floor);
            let met = row.ratio.is_some_and(|r| r >= 1.0);
            rows.push(row.target(format!(">= {floor} reads/s"), met));
        }
    }
}

/// `Buffered` Arrow writes ≥ 0.8× `Buffered` raw writes of the same size (the
/// value log's ceiling: the same append without encoding).
fn arrow_against_raw(figures: &Figures, system: &str, size: usize, rows: &mut Vec<Row>) {
    let arrow = write_workload(Durability::Buffered, Format::Arrow);
    let raw = write_workload(Durability::Buffered, Format::Raw);
    if let (Some(ours), Some(ceiling)) = (
        figures.rate(&arrow, system, size),
        figures.rate(&raw, system, size),
    ) {
        let row = ratio_row(
            system,
            "target: Buffered Arrow write",
            size,
            ours,
            "same, raw bytes",
            ceiling,
        );
        let met = row.ratio.is_some_and(|r| r >= 0.8);
        rows.push(row.target(">= 0.8x raw value-log ceiling", met));
    }
}

/// Tessera leads every key-value store on every row at ≥ 64 KiB, and on reads
/// at 1 KiB, raw and Arrow.
fn leads(figures: &Figures, system: &str, sizes: &[usize], rows: &mut Vec<Row>) {
    for format in [Format::Raw, Format::Arrow] {
        let workloads = [
            write_workload(Durability::Immediate, format),
            write_workload(Durability::Buffered, format),
            read_workload(format),
        ];
        for workload in &workloads {
            for &size in sizes {
                if size < 64 * KIB && !workload.starts_with("read") {
                    continue;
                }
                let Some(ours) = figures.rate(workload, system, size) else {
                    continue;
                };
                let best = KEY_VALUE_STORES
                    .iter()
                    .filter_map(|&name| figures.rate(workload, name, size).map(|r| (name, r)))
                    .max_by(|a, b| a.1.total_cmp(&b.1));
                let Some((name, rate)) = best else {
                    continue;
                };
                let row = ratio_row(system, &format!("lead: {workload}"), size, ours, name, rate);
                let met = row.ratio.is_some_and(|r| r >= 1.0);
                rows.push(row.target(">= 1x best key-value store", met));
            }
        }
    }
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
        let rate: fn(&DagsterCase) -> f64 = if workload == &write {
            DagsterCase::write_rate
        } else {
            DagsterCase::read_rate
        };
        let Some(rate) = dagster.and_then(|d| d.fastest(KIB, rate)) else {
            rows.push(
                Row::new(system, label, ours, "MiB/s")
                    .size(KIB as u64)
                    .target(">= 100x Dagster: not run", false),
            );
            continue;
        };
        let row = ratio_row(
            system,
            label,
            KIB,
            ours,
            DAGSTER_FASTEST,
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
