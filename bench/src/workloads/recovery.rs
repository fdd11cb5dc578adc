//! Recovery and the write path of the log-structured engine, on both index
//! backends in the same run:
//!
//! - `Buffered` 1 KiB writes (raw bytes, then one `flush`), against sled
//!   storing the same bytes inline and the sequential-write limit, the three
//!   systems interleaved run by run;
//! - the open of a store whose last checkpoint is followed by
//!   [`Plan::crash_log_bytes`] of log (1 GiB in the full run). A child process
//!   writes 64 KiB `Buffered` puts with `checkpoint_every(usize::MAX)` and then
//!   ends with `std::process::exit`, which runs no destructor: the store is
//!   never closed, as after a crash, so its index holds only the empty
//!   checkpoint it was created with. Each timed open runs in a fresh child
//!   process that exits the same way, so every open replays the whole log
//!   (checked: every batch replayed, no index rebuild). The log is in the page
//!   cache (it was just written), so this is a warm open: the replay's CPU
//!   cost (frame parsing, every payload's crc32), against crc32fast over the
//!   same payload bytes in memory; and the open of the same store once closed
//!   (checkpointed);
//! - `Store::rebuild_index` at [`Plan::rebuild_partitions`] (10^6 in the full
//!   run) 100-byte partitions written `Buffered` in batches of 1000 with one
//!   flush, against the time of that write; then the open of the closed store
//!   (one scan of the whole index against its checkpoint's digest).
//!
//! [`leaders`] then names the faster backend on each of these rows and on the
//! concurrency workload's `Immediate` 1 KiB writes.

use std::path::Path;

use tessera_engine::{Durability, IndexKind, PartitionKey, Payload, Store, WriteBatch};

use crate::baselines::{limits, sled_inline::SledInline};
use crate::data::{Value, raw_bytes};
use crate::error::Result;
use crate::measure::{median, timed};
use crate::plan::Plan;
use crate::report::Row;
use crate::system::PartitionSystem;
use crate::tessera::{Tessera, bench_asset, system_name};
use crate::workloads::io::SEQ_WRITE;

/// The hidden subcommand of the crash-open case (see the module docs).
pub const PROBE: &str = "log-probe";

const MIB: f64 = 1_048_576.0;
/// Payload size of the crash-open case's puts.
const LOG_PUT: usize = 64 << 10;
/// Payload size of the rebuild case's partitions.
const SMALL: usize = 100;
/// Partitions per write batch in the rebuild case.
const BATCH: usize = 1000;
const SLED_INLINE: &str = "sled inline";
/// The crash open's baseline: crc32fast over the log's payload bytes in
/// memory, the least an open that verifies every payload must compute.
const CRC_LIMIT: &str = "limit: crc32fast of the log's payloads";

/// Workload names of the rows [`leaders`] compares.
const BUFFERED: &str = "Buffered 1 KiB writes + flush";
const CRASH_OPEN: &str = "open after crash, log past checkpoint";
const REBUILD: &str = "rebuild_index";
const OPEN_AFTER_REBUILD: &str = "open (index digest scan)";

fn index_named(name: &str) -> Result<IndexKind> {
    match name {
        "sled" => Ok(IndexKind::Sled),
        "redb" => Ok(IndexKind::Redb),
        other => Err(format!("unknown index backend {other:?}").into()),
    }
}

fn builder(dir: &Path, index: IndexKind) -> tessera_engine::StoreBuilder {
    Store::builder(dir)
        .index(index)
        .durability(Durability::Buffered)
        .checkpoint_every(usize::MAX)
}

/// Runs one step of the crash-open case in this (child) process and exits
/// without closing the store:
/// `log-probe write <sled|redb> <dir> <puts>` writes `puts` 64 KiB puts;
/// `log-probe open <sled|redb> <dir>` opens the store and prints
/// `<seconds> <replayed batches> <rebuilt 0|1>`.
///
/// # Errors
/// A malformed command line or a failing store operation.
pub fn probe(args: &[String]) -> Result<()> {
    let (mode, index, dir) = match args {
        [mode, index, dir, ..] => (mode.as_str(), index_named(index)?, Path::new(dir)),
        _ => return Err("usage: log-probe <write|open> <sled|redb> <dir> [puts]".into()),
    };
    match mode {
        "write" => {
            let puts: usize = args
                .get(3)
                .ok_or("log-probe write needs a count")?
                .parse()?;
            let store = builder(dir, index).open()?;
            let asset = bench_asset()?;
            let bytes = raw_bytes(LOG_PUT);
            for i in 0..puts {
                let partition = PartitionKey::new(format!("log-{i:08}"))?;
                store.put(&asset, &partition, Payload::raw(&bytes[..]))?;
            }
            // No close, no drop: the process ends as a crash would end it
            // (Buffered writes are in the OS, so a process crash loses none).
            std::process::exit(0);
        }
        "open" => {
            let (store, secs) = timed(|| Ok(builder(dir, index).open()?))?;
            let recovery = store.recovery();
            println!(
                "{secs} {} {}",
                recovery.replayed_batches,
                u8::from(recovery.index_rebuilt.is_some())
            );
            // Exiting without a close keeps the log un-checkpointed for the
            // next open.
            std::process::exit(0);
        }
        other => Err(format!("unknown log-probe mode {other:?}").into()),
    }
}

fn run_probe(args: &[&std::ffi::OsStr]) -> Result<String> {
    let output = std::process::Command::new(std::env::current_exe()?)
        .arg(PROBE)
        .args(args)
        .output()?;
    if !output.status.success() {
        return Err(format!(
            "log probe failed: {}",
            String::from_utf8_lossy(&output.stderr)
        )
        .into());
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Runs the recovery workload on both backends.
///
/// # Errors
/// The first failing store operation or probe.
pub fn run(plan: &Plan, root: &Path) -> Result<Vec<Row>> {
    let mut rows = buffered(plan, root)?;
    for index in [IndexKind::Sled, IndexKind::Redb] {
        rows.extend(crash_open(plan, root, index)?);
    }
    for index in [IndexKind::Sled, IndexKind::Redb] {
        rows.extend(rebuild(plan, root, index)?);
    }
    Ok(rows)
}

type Maker = fn(&Path) -> Result<Box<dyn PartitionSystem>>;

fn tessera_sled(dir: &Path) -> Result<Box<dyn PartitionSystem>> {
    Ok(Box::new(Tessera::new(
        dir,
        IndexKind::Sled,
        Durability::Buffered,
    )?))
}
fn tessera_redb(dir: &Path) -> Result<Box<dyn PartitionSystem>> {
    Ok(Box::new(Tessera::new(
        dir,
        IndexKind::Redb,
        Durability::Buffered,
    )?))
}
fn sled_inline(dir: &Path) -> Result<Box<dyn PartitionSystem>> {
    Ok(Box::new(SledInline::new(dir, Durability::Buffered)?))
}

/// `Buffered` 1 KiB raw writes and one flush, Tessera (both backends), sled
/// inline and the sequential-write limit, interleaved run by run.
fn buffered(plan: &Plan, root: &Path) -> Result<Vec<Row>> {
    let count = plan.buffered_1k_count;
    eprintln!("recovery: Buffered 1 KiB writes x {count}");
    let bytes = raw_bytes(1024);
    let value = Value::Raw(bytes.clone());
    let keys: Vec<String> = (0..count).map(|i| format!("2022-07-23-{i:06}")).collect();
    let mut secs: std::collections::BTreeMap<String, Vec<f64>> = Default::default();
    for _ in 0..plan.runs {
        for make in [tessera_sled as Maker, tessera_redb, sled_inline] {
            let dir = tempfile::tempdir_in(root)?;
            let mut system = make(dir.path())?;
            let ((), s) = timed(|| {
                for key in &keys {
                    system.write(key, &value)?;
                }
                system.finish_writes()
            })?;
            secs.entry(system.name()).or_default().push(s);
        }
        let dir = tempfile::tempdir_in(root)?;
        let s = limits::sequential_write(dir.path(), &bytes, count, Durability::Buffered)?;
        secs.entry(SEQ_WRITE.into()).or_default().push(s);
    }
    let mib = (count * 1024) as f64 / MIB;
    let rate = |name: &str| secs.get(name).map_or(f64::NAN, |s| mib / median(s));
    let (inline, seq) = (rate(SLED_INLINE), rate(SEQ_WRITE));
    let row = |system: &str| Row::new(system, BUFFERED, rate(system), "MiB/s").size(1024);
    let mut rows = vec![row(SEQ_WRITE), row(SLED_INLINE).against(SEQ_WRITE, seq)];
    for index in [IndexKind::Sled, IndexKind::Redb] {
        let system = system_name(index);
        rows.push(row(&system).against(SLED_INLINE, inline));
        rows.push(
            Row::new(
                &system,
                format!("{BUFFERED} (vs limit)"),
                rate(&system),
                "MiB/s",
            )
            .size(1024)
            .against(SEQ_WRITE, seq),
        );
    }
    Ok(rows)
}

/// The open of a store with the plan's log after its last checkpoint.
fn crash_open(plan: &Plan, root: &Path, index: IndexKind) -> Result<Vec<Row>> {
    let puts = (plan.crash_log_bytes / LOG_PUT).max(1);
    let bytes = (puts * LOG_PUT) as u64;
    eprintln!(
        "recovery: {} open after {} of log",
        index.name(),
        crate::report::human_size(bytes)
    );
    let tmp = tempfile::tempdir_in(root)?;
    let dir = tmp.path().join("store");
    let name = std::ffi::OsStr::new(index.name());
    run_probe(&[
        "write".as_ref(),
        name,
        dir.as_os_str(),
        puts.to_string().as_ref(),
    ])?;
    let payload = raw_bytes(LOG_PUT);
    let (mut opens, mut limit) = (Vec::new(), Vec::new());
    for _ in 0..plan.runs {
        let text = run_probe(&["open".as_ref(), name, dir.as_os_str()])?;
        let fields: Vec<&str> = text.split_whitespace().collect();
        let [secs, replayed, rebuilt] = fields.as_slice() else {
            return Err(format!("log probe printed {text:?}").into());
        };
        if replayed.parse::<usize>()? != puts || *rebuilt != "0" {
            return Err(format!(
                "the crash open replayed {replayed} of {puts} batches (rebuilt: {rebuilt})"
            )
            .into());
        }
        opens.push(secs.parse::<f64>()?);
        limit.push(limits::crc32(&payload, puts)?);
    }
    // The same store once checkpointed (closed cleanly): the open then replays
    // nothing.
    builder(&dir, index).open()?.close()?;
    let mut clean = Vec::new();
    for _ in 0..plan.runs {
        let (store, secs) = timed(|| Ok(builder(&dir, index).open()?))?;
        clean.push(secs);
        drop(store);
    }
    let system = system_name(index);
    let (open, limit, clean) = (
        median(&opens) * 1e3,
        median(&limit) * 1e3,
        median(&clean) * 1e3,
    );
    Ok(vec![
        Row::new(CRC_LIMIT, format!("{CRASH_OPEN} ({})", system), limit, "ms").size(bytes),
        Row::new(&system, CRASH_OPEN, open, "ms")
            .size(bytes)
            .against(CRC_LIMIT, limit),
        Row::new(&system, "open, same store checkpointed", clean, "ms")
            .size(bytes)
            .against(CRASH_OPEN, open),
    ])
}

/// `rebuild_index` and the open of the closed store at the plan's count.
fn rebuild(plan: &Plan, root: &Path, index: IndexKind) -> Result<Vec<Row>> {
    let n = plan.rebuild_partitions;
    eprintln!("recovery: {} rebuild_index @ {n}", index.name());
    let tmp = tempfile::tempdir_in(root)?;
    let asset = bench_asset()?;
    let bytes = raw_bytes(SMALL);
    let open = || -> Result<Store> {
        Ok(Store::builder(tmp.path())
            .index(index)
            .durability(Durability::Buffered)
            .open()?)
    };
    let store = open()?;
    let ((), write_secs) = timed(|| {
        for start in (0..n).step_by(BATCH) {
            let mut batch = WriteBatch::new();
            for i in start..(start + BATCH).min(n) {
                batch.put(
                    &asset,
                    &PartitionKey::new(format!("{i:08}"))?,
                    Payload::raw(&bytes[..]),
                );
            }
            store.write(batch)?;
        }
        Ok(store.flush()?)
    })?;
    let mut rebuilds = Vec::new();
    for _ in 0..plan.runs {
        let (entries, secs) = timed(|| Ok(store.rebuild_index()?))?;
        if entries != n as u64 {
            return Err(format!("rebuild_index found {entries} of {n} entries").into());
        }
        rebuilds.push(secs);
    }
    store.close()?;
    let mut opens = Vec::new();
    for _ in 0..plan.runs {
        let (store, secs) = timed(open)?;
        if store.recovery().index_rebuilt.is_some() {
            return Err("the open after rebuild_index rebuilt the index".into());
        }
        opens.push(secs);
        drop(store);
    }
    let system = system_name(index);
    let label = |what: &str| format!("{what} @ {n}");
    let rebuild = median(&rebuilds);
    Ok(vec![
        Row::new(
            &system,
            label("write 100 B + flush (batches of 1000)"),
            write_secs,
            "s",
        ),
        Row::new(&system, label(REBUILD), rebuild, "s").against("write + flush", write_secs),
        Row::new(
            &system,
            label(OPEN_AFTER_REBUILD),
            median(&opens) * 1e3,
            "ms",
        )
        .against("1 s", 1e3),
    ])
}

/// For each crash-relevant workload measured on both backends, the faster
/// one against the other (`value` the leader's, `ratio` leader / other).
#[must_use]
pub fn leaders(rows: &[Row]) -> Vec<Row> {
    let (sled, redb) = (system_name(IndexKind::Sled), system_name(IndexKind::Redb));
    let mut workloads: Vec<String> = vec![
        "Immediate 1 KiB writes, 1 thr".into(),
        "Immediate 1 KiB writes, 8 thr".into(),
        "write Buffered arrow".into(),
        BUFFERED.into(),
        CRASH_OPEN.into(),
    ];
    for r in rows {
        let rebuild_row =
            r.workload.starts_with(REBUILD) || r.workload.starts_with(OPEN_AFTER_REBUILD);
        if r.system == sled && rebuild_row && !workloads.contains(&r.workload) {
            workloads.push(r.workload.clone());
        }
    }
    let mut out = Vec::new();
    for workload in workloads {
        // The io workload has one row per size: only 1 KiB is compared.
        let pick = |system: &str| {
            rows.iter().find(|r| {
                r.system == system
                    && r.workload == workload
                    && r.size.is_none_or(|s| s == 1024 || workload == CRASH_OPEN)
            })
        };
        let (Some(s), Some(r)) = (pick(&sled), pick(&redb)) else {
            continue;
        };
        let higher_is_better = !matches!(s.unit, "s" | "ms" | "µs");
        let redb_leads = (r.value > s.value) == higher_is_better;
        let (lead, other) = if redb_leads { (r, s) } else { (s, r) };
        let mut row = Row::new(
            format!("leader: {}", lead.system),
            workload,
            lead.value,
            lead.unit,
        )
        .against(other.system.clone(), other.value);
        row.size = lead.size;
        out.push(row);
    }
    out
}
