//! Scale: 10^3 to 10^6 partitions of 1 KiB in one asset. Write rate (batches of
//! 1000, Buffered, one flush), point-read latency (p50, p99), listing every
//! partition, a range of 30 partitions, and the time to open the store.

use std::path::Path;
use std::time::Instant;

use tessera_engine::{AssetKey, Durability, IndexKind, PartitionKey, Payload, Store, WriteBatch};

use crate::data::raw_bytes;
use crate::error::Result;
use crate::measure::{median, percentile, shuffled, timed};
use crate::plan::Plan;
use crate::report::Row;
use crate::tessera::{bench_asset, open, system_name};

/// Partitions per write batch.
const BATCH: usize = 1000;

fn key(i: usize) -> Result<PartitionKey> {
    Ok(PartitionKey::new(format!("{i:08}"))?)
}

/// Runs the scale workload on both backends; returns its rows and targets.
///
/// # Errors
/// The first failing store operation.
pub fn run(plan: &Plan, root: &Path) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    for index in [IndexKind::Sled, IndexKind::Redb] {
        let mut p50s = Vec::new();
        for &n in &plan.scale_levels {
            eprintln!("scale: {} {n}", index.name());
            let dir = tempfile::tempdir_in(root)?;
            let level = Level {
                index,
                n,
                dir: dir.path(),
                plan,
            };
            let figures = level.measure(&mut rows)?;
            p50s.push((n, figures));
        }
        rows.extend(targets(&system_name(index), &p50s));
    }
    Ok(rows)
}

/// Figures of one level that the targets use.
struct LevelFigures {
    p50_us: f64,
    list_keys_per_sec: f64,
    open_secs: f64,
}

struct Level<'a> {
    index: IndexKind,
    n: usize,
    dir: &'a Path,
    plan: &'a Plan,
}

impl Level<'_> {
    fn label(&self, what: &str) -> String {
        format!("{what} @ {}", self.n)
    }

    fn measure(&self, rows: &mut Vec<Row>) -> Result<LevelFigures> {
        let system = system_name(self.index);
        let asset = bench_asset()?;
        let store = open(self.dir, self.index, Durability::Buffered, true)?;
        let ((), secs) = timed(|| self.fill(&store, &asset))?;
        rows.push(Row::new(
            &system,
            self.label("scale write (batches of 1000)"),
            self.n as f64 / secs,
            "part/s",
        ));
        let mut latencies = self.point_reads(&store, &asset)?;
        latencies.sort_by(f64::total_cmp);
        let p50_us = percentile(&latencies, 50.0) * 1e6;
        rows.push(Row::new(
            &system,
            self.label("point read p50"),
            p50_us,
            "µs",
        ));
        rows.push(Row::new(
            &system,
            self.label("point read p99"),
            percentile(&latencies, 99.0) * 1e6,
            "µs",
        ));
        let list_secs = self.repeat(3, || Ok(store.list_partitions(&asset)?.len()))?;
        let list_keys_per_sec = self.n as f64 / list_secs;
        rows.push(Row::new(
            &system,
            self.label("list all"),
            list_keys_per_sec,
            "keys/s",
        ));
        let range_secs = self.ranges(&store, &asset)?;
        rows.push(Row::new(
            &system,
            self.label("range of 30"),
            range_secs * 1e6,
            "µs",
        ));
        // Closed, not dropped: a drop leaves the directory locked while the
        // background compactor still runs a compaction of the store.
        store.close()?;
        let open_secs =
            self.repeat(3, || open(self.dir, self.index, Durability::Buffered, true))?;
        rows.push(Row::new(
            &system,
            self.label("open store"),
            open_secs * 1e3,
            "ms",
        ));
        Ok(LevelFigures {
            p50_us,
            list_keys_per_sec,
            open_secs,
        })
    }

    fn fill(&self, store: &Store, asset: &AssetKey) -> Result<()> {
        let bytes = raw_bytes(1024);
        for start in (0..self.n).step_by(BATCH) {
            let mut batch = WriteBatch::new();
            for i in start..(start + BATCH).min(self.n) {
                batch.put(asset, &key(i)?, Payload::raw(&bytes[..]));
            }
            store.write(batch)?;
        }
        Ok(store.flush()?)
    }

    fn point_reads(&self, store: &Store, asset: &AssetKey) -> Result<Vec<f64>> {
        let order = shuffled(self.n, 42);
        let mut latencies = Vec::with_capacity(self.plan.point_reads);
        for &i in order.iter().cycle().take(self.plan.point_reads) {
            let partition = key(i)?;
            let start = Instant::now();
            let blob = store.get(asset, &partition)?;
            latencies.push(start.elapsed().as_secs_f64());
            std::hint::black_box(blob.map(|b| b.len()));
        }
        Ok(latencies)
    }

    /// Median seconds to list 30 consecutive partitions from a random start.
    fn ranges(&self, store: &Store, asset: &AssetKey) -> Result<f64> {
        let starts = shuffled(self.n.saturating_sub(30).max(1), 7);
        let mut secs = Vec::new();
        for &start in starts.iter().cycle().take(200) {
            let (from, to) = (key(start)?, key(start + 30)?);
            let (found, s) = timed(|| Ok(store.list_partitions_in(asset, from..to)?.len()))?;
            if found != 30.min(self.n) {
                return Err(format!("a range of 30 partitions listed {found}").into());
            }
            secs.push(s);
        }
        Ok(median(&secs))
    }

    /// Median seconds of `times` calls of `f` (its value dropped between calls).
    fn repeat<T>(&self, times: usize, mut f: impl FnMut() -> Result<T>) -> Result<f64> {
        let mut secs = Vec::new();
        for _ in 0..times {
            let (value, s) = timed(&mut f)?;
            drop(value);
            secs.push(s);
        }
        Ok(median(&secs))
    }
}

fn targets(system: &str, levels: &[(usize, LevelFigures)]) -> Vec<Row> {
    let (Some((_, first)), Some((n, last))) = (levels.first(), levels.last()) else {
        return Vec::new();
    };
    let p50 = Row::new(system, format!("target: p50 read @ {n}"), last.p50_us, "µs")
        .against(format!("p50 @ {}", levels[0].0), first.p50_us);
    let p50_met = p50.ratio.is_some_and(|r| r <= 2.0);
    let list = Row::new(
        system,
        format!("target: list all @ {n}"),
        last.list_keys_per_sec,
        "keys/s",
    )
    .against("10^6 keys/s", 1e6);
    let list_met = list.ratio.is_some_and(|r| r >= 1.0);
    let open =
        Row::new(system, format!("target: open @ {n}"), last.open_secs, "s").against("1 s", 1.0);
    let open_met = open.ratio.is_some_and(|r| r <= 1.0);
    vec![
        p50.target("<= 2x p50 at the smallest level", p50_met),
        list.target(">= 10^6 keys/s", list_met),
        open.target("<= 1 s", open_met),
    ]
}
