//! Space reclamation (issue 10), on the default index backend:
//!
//! - **space amplification** of an overwrite-heavy run: a year of daily
//!   partitions ([`DAYS`]) rewritten [`REWRITES`] times with the default
//!   retention (the newest version only), as segment bytes on disk over the
//!   live bytes: with compaction off, with background compaction on (the
//!   default, measured once the run ends and the compactor had a second to
//!   catch up), and after one `Store::compact()`;
//! - **compaction throughput**: a store whose sealed segments are two-thirds
//!   garbage (every partition written, then two of every three rewritten) is
//!   compacted by `Store::compact()`; the payload bytes it copied per second
//!   against the sequential-write limit measured in the same run on the same
//!   bytes (`write` + one `fdatasync`). Goal: at least 0.5x;
//! - **latency under compaction**: point reads of 64 KiB partitions and
//!   `Buffered` 4 KiB writes from two threads, p50 and p99, while a
//!   compaction of such a store runs against the same operations on the same
//!   store with no compaction running. Goal: p99 at most 2x.
//!
//! Stores use small segments (quick run: 2 MiB, full: 32 MiB) so that the
//! run spans many sealed segments, as a long-lived store does. The full run
//! writes 256 KiB days (912 MiB in all) and 8,192 partitions of 64 KiB for
//! the other cases; `--quick` writes 4 KiB days and 384 partitions.
//! The latency case measures "no compaction" on the same store right after
//! the compaction, for as long as the compaction ran.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tessera_engine::{
    AssetKey, CompactionOptions, Durability, IndexKind, PartitionKey, Payload, Store, WriteBatch,
};

use crate::baselines::limits;
use crate::data::raw_bytes;
use crate::error::{BenchError, Result};
use crate::measure::{median, percentile, shuffled};
use crate::plan::Plan;
use crate::report::Row;
use crate::tessera::{bench_asset, system_name};

/// Daily partitions of the overwrite-heavy run: one year.
const DAYS: usize = 365;
/// Times every partition of the year is written.
const REWRITES: usize = 10;
/// Payload of the latency case's writes.
const WRITE_SIZE: usize = 4 << 10;
const MIB: f64 = 1_048_576.0;
const SEQ_LIMIT: &str = "limit: seq write+fdatasync";
const INDEX: IndexKind = IndexKind::Redb;

/// Sizes of one run of this workload.
struct Sizes {
    /// Payload of each daily partition in the overwrite run.
    day_bytes: usize,
    /// Segment capacity of every store.
    segment: u64,
    /// Partitions and their size in the throughput and latency stores.
    partitions: usize,
    partition_bytes: usize,
}

impl Sizes {
    fn of(plan: &Plan) -> Self {
        if plan.quick {
            Self {
                day_bytes: 4 << 10,
                segment: 2 << 20,
                partitions: 384,
                partition_bytes: 64 << 10,
            }
        } else {
            Self {
                day_bytes: 256 << 10,
                segment: 32 << 20,
                partitions: 8192,
                partition_bytes: 64 << 10,
            }
        }
    }
}

/// Runs the workload.
///
/// # Errors
/// The first failing store operation.
pub fn run(plan: &Plan, root: &Path) -> Result<Vec<Row>> {
    let sizes = Sizes::of(plan);
    let system = system_name(INDEX);
    let mut rows = amplification(&sizes, root, &system)?;
    rows.push(throughput(plan, &sizes, root, &system)?);
    rows.extend(latency(plan, &sizes, root, &system)?);
    Ok(rows)
}

fn open(dir: &Path, sizes: &Sizes, background: bool) -> Result<Store> {
    let compaction = CompactionOptions::default()
        .background(background)
        .interval(Duration::from_millis(100));
    Ok(Store::builder(dir)
        .index(INDEX)
        .durability(Durability::Buffered)
        .segment_capacity(sizes.segment)
        .compaction(compaction)
        .open()?)
}

fn day(index: usize) -> Result<PartitionKey> {
    let date = chrono::NaiveDate::from_ymd_opt(2024, 1, 1)
        .and_then(|start| start.checked_add_days(chrono::Days::new(index as u64)))
        .ok_or("a date out of range")?;
    Ok(PartitionKey::new(date.format("%Y-%m-%d").to_string())?)
}

/// Segment bytes over live bytes after the overwrite-heavy run.
fn amplification(sizes: &Sizes, root: &Path, system: &str) -> Result<Vec<Row>> {
    let workload = |case: &str| format!("space: {DAYS} days x {REWRITES} rewrites, {case}");
    let mut rows = Vec::new();
    for background in [false, true] {
        eprintln!("compaction: overwrite run, background compaction {background}");
        let dir = tempfile::tempdir_in(root)?;
        let store = open(dir.path(), sizes, background)?;
        overwrite_year(&store, sizes)?;
        if background {
            std::thread::sleep(Duration::from_secs(1));
        }
        let case = if background {
            "background compaction"
        } else {
            "no compaction"
        };
        rows.push(space_row(&store, system, &workload(case))?);
        if !background {
            store.compact()?;
            rows.push(space_row(&store, system, &workload("after compact()"))?);
        }
    }
    Ok(rows)
}

fn overwrite_year(store: &Store, sizes: &Sizes) -> Result<()> {
    let asset = bench_asset()?;
    let payload = raw_bytes(sizes.day_bytes);
    for _ in 0..REWRITES {
        for index in 0..DAYS {
            store.put(&asset, &day(index)?, Payload::raw(payload.as_slice()))?;
        }
    }
    store.flush()?;
    Ok(())
}

fn space_row(store: &Store, system: &str, workload: &str) -> Result<Row> {
    let stats = store.stats()?;
    let on_disk = stats.segment_bytes as f64 / MIB;
    Ok(Row::new(system, workload, on_disk, "MiB")
        .against("live bytes", stats.live_bytes as f64 / MIB))
}

/// A store of `sizes.partitions` partitions, two of every three rewritten:
/// its older segments are two-thirds garbage.
fn garbage_store(sizes: &Sizes, root: &Path) -> Result<(tempfile::TempDir, Store)> {
    let dir = tempfile::tempdir_in(root)?;
    let store = open(dir.path(), sizes, false)?;
    let asset = bench_asset()?;
    let payload = raw_bytes(sizes.partition_bytes);
    let write = |index: usize| -> Result<()> {
        let key = PartitionKey::new(format!("p{index:07}"))?;
        store.put(&asset, &key, Payload::raw(payload.as_slice()))?;
        Ok(())
    };
    (0..sizes.partitions).try_for_each(write)?;
    (0..sizes.partitions)
        .filter(|i| i % 3 != 0)
        .try_for_each(write)?;
    store.flush()?;
    Ok((dir, store))
}

/// Payload bytes copied per second by `compact()` against the sequential
/// write of as many bytes.
fn throughput(plan: &Plan, sizes: &Sizes, root: &Path, system: &str) -> Result<Row> {
    let mut rates = Vec::new();
    let mut limits_seen = Vec::new();
    for run in 0..plan.runs {
        eprintln!("compaction: throughput run {}", run + 1);
        let (_dir, store) = garbage_store(sizes, root)?;
        let report = store.compact()?;
        if report.moved_bytes == 0 {
            return Err("compaction copied nothing: the store has no reclaimable segment".into());
        }
        let moved = report.moved_bytes as f64 / MIB;
        rates.push(moved / report.duration.as_secs_f64());
        let chunk = raw_bytes(sizes.partition_bytes);
        let count = usize::try_from(report.moved_bytes)? / sizes.partition_bytes;
        let limit_dir = tempfile::tempdir_in(root)?;
        let secs =
            limits::sequential_write(limit_dir.path(), &chunk, count.max(1), Durability::Buffered)?;
        limits_seen.push((count.max(1) * sizes.partition_bytes) as f64 / MIB / secs);
    }
    let row = Row::new(
        system,
        "compaction: live bytes copied",
        median(&rates),
        "MiB/s",
    )
    .against(SEQ_LIMIT, median(&limits_seen));
    let met = row.ratio.is_some_and(|r| r >= 0.5);
    Ok(row.target(">= 0.5x seq write", met))
}

/// Read and write latencies in microseconds, sorted.
#[derive(Default)]
struct Latencies {
    reads: Vec<f64>,
    writes: Vec<f64>,
}

/// p50 and p99 of reads and writes while `compact()` runs, against the same
/// operations with none running.
fn latency(plan: &Plan, sizes: &Sizes, root: &Path, system: &str) -> Result<Vec<Row>> {
    let mut idle = Latencies::default();
    let mut busy = Latencies::default();
    for run in 0..plan.runs {
        eprintln!("compaction: latency run {}", run + 1);
        let (_dir, store) = garbage_store(sizes, root)?;
        let (window, busy_run) = under_compaction(&store, sizes)?;
        let idle_run = operations(&store, sizes, &|started: Instant| {
            started.elapsed() < window
        })?;
        busy.reads.extend(busy_run.reads);
        busy.writes.extend(busy_run.writes);
        idle.reads.extend(idle_run.reads);
        idle.writes.extend(idle_run.writes);
    }
    for samples in [
        &mut idle.reads,
        &mut idle.writes,
        &mut busy.reads,
        &mut busy.writes,
    ] {
        samples.sort_by(f64::total_cmp);
    }
    let mut rows = Vec::new();
    for (kind, idle, busy) in [
        ("64 KiB read", &idle.reads, &busy.reads),
        ("4 KiB Buffered write", &idle.writes, &busy.writes),
    ] {
        for p in [50.0, 99.0] {
            let row = Row::new(
                system,
                format!("{kind} p{p} during compaction"),
                percentile(busy, p),
                "µs",
            )
            .against("no compaction", percentile(idle, p));
            rows.push(if p >= 99.0 {
                let met = row.ratio.is_some_and(|r| r <= 2.0);
                row.target("<= 2x", met)
            } else {
                row
            });
        }
    }
    Ok(rows)
}

/// Runs `compact()` on one thread and the operations on another until it
/// ends; returns how long it ran and the latencies.
fn under_compaction(store: &Store, sizes: &Sizes) -> Result<(Duration, Latencies)> {
    let done = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let compactor = scope.spawn(|| {
            let started = Instant::now();
            let report = store.compact();
            done.store(true, Ordering::Release);
            report.map(|report| (started.elapsed(), report.moved_bytes))
        });
        let latencies = operations(store, sizes, &|_| !done.load(Ordering::Acquire));
        let (window, moved) = compactor
            .join()
            .map_err(|_| BenchError::from("the compaction thread panicked"))??;
        if moved == 0 {
            return Err("compaction copied nothing: nothing ran under it".into());
        }
        Ok((window, latencies?))
    })
}

/// Alternates a point read of a live partition and a 4 KiB write to another
/// asset while `go` says so (at least one of each).
fn operations(store: &Store, sizes: &Sizes, go: &dyn Fn(Instant) -> bool) -> Result<Latencies> {
    let asset = bench_asset()?;
    let writes = AssetKey::new(["bench", "compaction_writes"])?;
    let payload = raw_bytes(WRITE_SIZE);
    let order = shuffled(sizes.partitions, 17);
    let mut latencies = Latencies::default();
    let started = Instant::now();
    let mut step = 0;
    while step == 0 || go(started) {
        let key = PartitionKey::new(format!("p{:07}", order[step % order.len()]))?;
        let begun = Instant::now();
        let blob = store
            .get(&asset, &key)?
            .ok_or("a live partition is missing")?;
        std::hint::black_box(blob.len());
        latencies.reads.push(begun.elapsed().as_secs_f64() * 1e6);
        let key = PartitionKey::new(format!("w{step:08}"))?;
        let begun = Instant::now();
        let mut batch = WriteBatch::new().durability(Durability::Buffered);
        batch.put(&writes, &key, Payload::raw(payload.as_slice()));
        store.write(batch)?;
        latencies.writes.push(begun.elapsed().as_secs_f64() * 1e6);
        step += 1;
    }
    Ok(latencies)
}
