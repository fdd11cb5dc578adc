//! Concurrency: `Immediate` 1 KiB writes from 1, 2, 4 and 8 threads (group
//! commit shares each `fdatasync`), and reads from 1 and 2 threads while a
//! writer runs.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tessera_engine::{AssetKey, Durability, IndexKind, PartitionKey, Payload, Store, WriteBatch};

use crate::data::raw_bytes;
use crate::error::{BenchError, Result};
use crate::measure::{median, splitmix};
use crate::plan::Plan;
use crate::report::Row;
use crate::tessera::{bench_asset, open, system_name};

/// Partitions written before the read cases.
const READ_SET: usize = 2000;

/// Runs the concurrency workload on both backends.
///
/// # Errors
/// The first failing store operation.
pub fn run(plan: &Plan, root: &Path) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    for index in [IndexKind::Sled, IndexKind::Redb] {
        let system = system_name(index);
        let mut single = f64::NAN;
        for threads in [1, 2, 4, 8] {
            eprintln!("concurrency: {} {threads} writers", index.name());
            let rate = median_of(plan, || writes(plan, root, index, threads))?;
            if threads == 1 {
                single = rate;
            }
            let row = Row::new(
                &system,
                format!("Immediate 1 KiB writes, {threads} thr"),
                rate,
                "part/s",
            )
            .against("1 thread", single);
            rows.push(if threads == 8 {
                let met = row.ratio.is_some_and(|r| r >= 4.0);
                row.target(">= 4x 1 thread", met)
            } else {
                row
            });
        }
        let mut one_reader = f64::NAN;
        for readers in [1, 2] {
            eprintln!("concurrency: {} {readers} readers + writer", index.name());
            let rate = median_of(plan, || reads_under_writer(plan, root, index, readers))?;
            if readers == 1 {
                one_reader = rate;
            }
            rows.push(
                Row::new(
                    &system,
                    format!("1 KiB reads, {readers} thr + 1 writer"),
                    rate,
                    "part/s",
                )
                .against("1 reader", one_reader),
            );
        }
    }
    Ok(rows)
}

fn median_of(plan: &Plan, mut f: impl FnMut() -> Result<f64>) -> Result<f64> {
    let rates = (0..plan.runs).map(|_| f()).collect::<Result<Vec<_>>>()?;
    Ok(median(&rates))
}

fn join<T>(handle: std::thread::ScopedJoinHandle<'_, Result<T>>) -> Result<T> {
    handle
        .join()
        .map_err(|_| BenchError::from("a benchmark thread panicked"))?
}

/// Writes 1 KiB partitions from `threads` threads for the plan's duration;
/// returns partitions per second.
fn writes(plan: &Plan, root: &Path, index: IndexKind, threads: usize) -> Result<f64> {
    let dir = tempfile::tempdir_in(root)?;
    let store = open(dir.path(), index, Durability::Immediate, true)?;
    let asset = bench_asset()?;
    let deadline = Instant::now() + Duration::from_secs_f64(plan.concurrency_secs);
    let start = Instant::now();
    let total = std::thread::scope(|scope| -> Result<usize> {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (store, asset) = (&store, &asset);
                scope.spawn(move || write_until(store, asset, &format!("w{t}"), deadline))
            })
            .collect();
        handles.into_iter().map(join).sum()
    })?;
    Ok(total as f64 / start.elapsed().as_secs_f64())
}

fn write_until(store: &Store, asset: &AssetKey, prefix: &str, deadline: Instant) -> Result<usize> {
    let bytes = raw_bytes(1024);
    let mut written = 0;
    while Instant::now() < deadline {
        let partition = PartitionKey::new(format!("{prefix}-{written:08}"))?;
        store.put(asset, &partition, Payload::raw(&bytes[..]))?;
        written += 1;
    }
    Ok(written)
}

/// Reads random 1 KiB partitions from `readers` threads while one thread
/// writes `Immediate`; returns reads per second.
fn reads_under_writer(plan: &Plan, root: &Path, index: IndexKind, readers: usize) -> Result<f64> {
    let dir = tempfile::tempdir_in(root)?;
    let store = open(dir.path(), index, Durability::Immediate, true)?;
    let asset = bench_asset()?;
    let bytes = raw_bytes(1024);
    let mut batch = WriteBatch::new().durability(Durability::Buffered);
    for i in 0..READ_SET {
        batch.put(
            &asset,
            &PartitionKey::new(format!("r-{i:08}"))?,
            Payload::raw(&bytes[..]),
        );
    }
    store.write(batch)?;
    store.flush()?;
    let deadline = Instant::now() + Duration::from_secs_f64(plan.concurrency_secs);
    let stop = AtomicBool::new(false);
    let start = Instant::now();
    let total = std::thread::scope(|scope| -> Result<usize> {
        let (store, asset, stop) = (&store, &asset, &stop);
        let writer = scope.spawn(move || {
            let written = write_until(store, asset, "w", deadline);
            stop.store(true, Ordering::Relaxed);
            written
        });
        let handles: Vec<_> = (0..readers)
            .map(|r| scope.spawn(move || read_until(store, asset, r as u64, stop)))
            .collect();
        let reads = handles.into_iter().map(join).sum::<Result<usize>>()?;
        join(writer)?;
        Ok(reads)
    })?;
    Ok(total as f64 / start.elapsed().as_secs_f64())
}

fn read_until(store: &Store, asset: &AssetKey, seed: u64, stop: &AtomicBool) -> Result<usize> {
    let mut state = seed;
    let mut read = 0;
    while !stop.load(Ordering::Relaxed) {
        let i = splitmix(&mut state) % READ_SET as u64;
        let blob = store.get(asset, &PartitionKey::new(format!("r-{i:08}"))?)?;
        std::hint::black_box(blob.ok_or("a written partition is missing")?.len());
        read += 1;
    }
    Ok(read)
}
