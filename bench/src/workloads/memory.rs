//! Memory: peak resident memory while reading one large Arrow partition (1 GiB
//! in the full run) and summing its columns, against the partition's size.
//!
//! Each read runs in a fresh child process (see [`PROBE`]), where
//! `/proc/self/status` is sampled every millisecond on a second thread. Two
//! figures are reported above the baseline taken just before the read:
//! `RssAnon` (heap: what a read copies) and `VmRSS` (which also counts the
//! mapped segment's page-cache pages the read touches; the kernel can drop
//! those at any time). The target is about the heap. The engine accepts
//! payloads up to `MAX_PAYLOAD_LEN` (1 TiB), so 1 GiB is one payload in a
//! segment of its own. The files baseline reads the same table with arrow's
//! `FileReader`, which copies it into the heap.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use arrow_array::RecordBatch;
use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type};
use tessera_engine::{Durability, IndexKind, MAX_PAYLOAD_LEN, PartitionKey, Payload};

use crate::baselines::files::Files;
use crate::data::{ROW_BYTES, Value, table};
use crate::error::{BenchError, Result};
use crate::plan::Plan;
use crate::report::Row;
use crate::system::PartitionSystem;
use crate::tessera::{bench_asset, open, system_name};

const MIB: f64 = 1_048_576.0;
/// The bound on heap growth while reading.
const LIMIT_MIB: f64 = 64.0;
/// The partition read.
const PARTITION: &str = "2022-07-23";

/// Resident memory in bytes: (`VmRSS`, `RssAnon`).
fn resident() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map_or(0, |kib| kib * 1024)
    };
    (field("VmRSS:"), field("RssAnon:"))
}

/// Runs `read` while sampling memory; returns the peaks above the memory
/// before it, in MiB: (`VmRSS`, `RssAnon`).
fn peak_during(read: impl FnOnce() -> Result<()>) -> Result<(f64, f64)> {
    let (rss0, anon0) = resident();
    let stop = AtomicBool::new(false);
    let (rss, anon) = std::thread::scope(|scope| -> Result<(u64, u64)> {
        let sampler = scope.spawn(|| {
            let mut peak = resident();
            while !stop.load(Ordering::Relaxed) {
                let now = resident();
                peak = (peak.0.max(now.0), peak.1.max(now.1));
                std::thread::sleep(Duration::from_millis(1));
            }
            peak
        });
        let outcome = read();
        stop.store(true, Ordering::Relaxed);
        let peak = sampler
            .join()
            .map_err(|_| BenchError::from("the memory sampler panicked"))?;
        outcome.map(|()| peak)
    })?;
    let above = |peak: u64, base: u64| peak.saturating_sub(base) as f64 / MIB;
    Ok((above(rss, rss0), above(anon, anon0)))
}

/// The hidden subcommand that measures one read in a fresh process, so that
/// memory freed (but kept by the allocator) earlier in the run cannot hide the
/// read's own allocations. Prints `<VmRSS MiB> <RssAnon MiB>`.
pub const PROBE: &str = "memory-probe";

/// Runs one probe: reads the partition from the Tessera store (`system` =
/// `tessera`) or the files baseline (`files`) under `dir` and prints the peaks.
///
/// # Errors
/// If the read fails.
pub fn probe(system: &str, dir: &Path) -> Result<()> {
    let (rss, anon) = match system {
        "tessera" => {
            let store = open(dir, IndexKind::Sled, Durability::Buffered, true)?;
            let (asset, partition) = (bench_asset()?, PartitionKey::new(PARTITION)?);
            peak_during(|| {
                let arrow = store
                    .get_arrow(&asset, &partition)?
                    .ok_or("the partition is missing")?;
                std::hint::black_box(sum_columns(&arrow.batches)?);
                Ok(())
            })?
        }
        _ => {
            let file = std::io::BufReader::new(std::fs::File::open(
                dir.join("bench").join("observations").join(PARTITION),
            )?);
            peak_during(|| {
                let reader = arrow_ipc::reader::FileReader::try_new(file, None)?;
                let batches = reader.collect::<std::result::Result<Vec<_>, _>>()?;
                std::hint::black_box(sum_columns(&batches)?);
                Ok(())
            })?
        }
    };
    println!("{rss} {anon}");
    Ok(())
}

/// Runs [`probe`] in a child process; returns its (`VmRSS`, `RssAnon`) peaks.
fn run_probe(system: &str, dir: &Path) -> Result<(f64, f64)> {
    let output = std::process::Command::new(std::env::current_exe()?)
        .arg(PROBE)
        .arg(system)
        .arg(dir)
        .output()?;
    let text = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        return Err(format!(
            "memory probe failed: {}",
            String::from_utf8_lossy(&output.stderr)
        )
        .into());
    }
    let mut fields = text.split_whitespace().map(str::parse::<f64>);
    match (fields.next(), fields.next()) {
        (Some(Ok(rss)), Some(Ok(anon))) => Ok((rss, anon)),
        _ => Err(format!("memory probe printed {text:?}").into()),
    }
}

/// Touches every value of the batches' three columns.
fn sum_columns(batches: &[RecordBatch]) -> Result<f64> {
    let mut sum = 0.0;
    for batch in batches {
        let ids = batch
            .column(0)
            .as_primitive_opt::<Int64Type>()
            .ok_or("id is not int64")?;
        let values = batch
            .column(1)
            .as_primitive_opt::<Float64Type>()
            .ok_or("value is not float64")?;
        let labels = batch
            .column(2)
            .as_string_opt::<i32>()
            .ok_or("label is not utf8")?;
        sum += ids.values().iter().map(|&v| v as f64).sum::<f64>();
        sum += values.values().iter().sum::<f64>();
        sum += labels.iter().flatten().map(str::len).sum::<usize>() as f64;
    }
    Ok(sum)
}

/// Runs the memory workload on Tessera (sled index) and the files baseline.
///
/// # Errors
/// The first failing write or read.
pub fn run(plan: &Plan, root: &Path) -> Result<Vec<Row>> {
    eprintln!("memory: {} MiB Arrow partition", plan.memory_bytes >> 20);
    let size = plan.memory_bytes as u64;
    if size > MAX_PAYLOAD_LEN {
        return Err("the memory workload's partition exceeds MAX_PAYLOAD_LEN".into());
    }
    let dir = tempfile::tempdir_in(root)?;
    let files_dir = tempfile::tempdir_in(root)?;
    let asset = bench_asset()?;
    let partition = PartitionKey::new(PARTITION)?;
    let mut files = Files::new(files_dir.path(), Durability::Buffered)?;
    {
        let batch = table(plan.memory_bytes / ROW_BYTES)?;
        let store = open(dir.path(), IndexKind::Sled, Durability::Buffered, true)?;
        store.put(
            &asset,
            &partition,
            Payload::arrow(std::slice::from_ref(&batch))?,
        )?;
        store.flush()?;
        files.write(PARTITION, &Value::Arrow(batch))?;
        files.finish_writes()?;
    }
    let system = system_name(IndexKind::Sled);
    let (tessera_rss, tessera_anon) = run_probe("tessera", dir.path())?;
    let (files_rss, files_anon) = run_probe("files", files_dir.path())?;
    let workload = "peak heap (RssAnon) during read";
    let heap = Row::new(&system, workload, tessera_anon, "MiB")
        .size(size)
        .against("partition size", size as f64 / MIB);
    Ok(vec![
        heap.target(
            format!("<= {LIMIT_MIB} MiB above baseline"),
            tessera_anon <= LIMIT_MIB,
        ),
        Row::new(
            &system,
            "peak VmRSS (incl. mapped pages)",
            tessera_rss,
            "MiB",
        )
        .size(size)
        .against("partition size", size as f64 / MIB),
        Row::new(files.name(), workload, files_anon, "MiB")
            .size(size)
            .against("partition size", size as f64 / MIB),
        Row::new(
            files.name(),
            "peak VmRSS (incl. mapped pages)",
            files_rss,
            "MiB",
        )
        .size(size)
        .against("partition size", size as f64 / MIB),
    ])
}
