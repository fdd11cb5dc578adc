//! Partition I/O: write N partitions of one asset, then read them back in
//! random order, for every partition size, format and durability, on Tessera
//! (both index backends) and the baselines, with the machine's limits on the
//! same bytes.

use std::collections::BTreeMap;
use std::path::Path;

use tessera_engine::{Durability, IndexKind};

use crate::baselines::dagster::{Dagster, Logging, count_for};
use crate::baselines::{
    files::Files, fjall_blobs::FjallBlobs, limits, lmdb::Lmdb, redb_inline::RedbInline,
    sled_inline::SledInline,
};
use crate::data::{Format, Value, arrow_ipc};
use crate::error::Result;
use crate::measure::{median, shuffled, timed};
use crate::plan::Plan;
use crate::report::Row;
use crate::system::PartitionSystem;
use crate::tessera::Tessera;

/// The limit rows' system names.
pub const SEQ_WRITE: &str = "limit: seq write+fdatasync";
/// See [`SEQ_WRITE`].
pub const MEMCPY: &str = "limit: memcpy";
/// See [`SEQ_WRITE`].
pub const CRC32: &str = "limit: crc32fast";
/// The files baseline's name.
pub const FILES: &str = "files (Arrow IPC)";

const MIB: f64 = 1_048_576.0;

/// Median throughputs (MiB/s of nominal partition size) by
/// (workload, system, size), and per-read latencies in seconds by (system, size).
#[derive(Debug, Default)]
pub struct Figures {
    /// MiB/s by (workload, system, size).
    pub rates: BTreeMap<(String, String, usize), f64>,
    /// Median seconds per read by (system, size), Arrow reads only.
    pub read_latency: BTreeMap<(String, usize), f64>,
}

impl Figures {
    /// The rate of `system` in `workload` at `size`, if measured.
    #[must_use]
    pub fn rate(&self, workload: &str, system: &str, size: usize) -> Option<f64> {
        self.rates
            .get(&(workload.to_owned(), system.to_owned(), size))
            .copied()
    }
}

/// The name of a write workload row.
#[must_use]
pub fn write_workload(durability: Durability, format: Format) -> String {
    format!("write {durability:?} {}", format.name())
}

/// The name of a read workload row.
#[must_use]
pub fn read_workload(format: Format) -> String {
    format!("read {}", format.name())
}

type Maker = fn(&Path, Durability) -> Result<Box<dyn PartitionSystem>>;

fn tessera_sled(dir: &Path, d: Durability) -> Result<Box<dyn PartitionSystem>> {
    Ok(Box::new(Tessera::new(dir, IndexKind::Sled, d)?))
}
fn tessera_redb(dir: &Path, d: Durability) -> Result<Box<dyn PartitionSystem>> {
    Ok(Box::new(Tessera::new(dir, IndexKind::Redb, d)?))
}
fn files(dir: &Path, d: Durability) -> Result<Box<dyn PartitionSystem>> {
    Ok(Box::new(Files::new(dir, d)?))
}
fn sled_inline(dir: &Path, d: Durability) -> Result<Box<dyn PartitionSystem>> {
    Ok(Box::new(SledInline::new(dir, d)?))
}
fn lmdb(dir: &Path, d: Durability) -> Result<Box<dyn PartitionSystem>> {
    Ok(Box::new(Lmdb::new(dir, d)?))
}
fn redb_inline(dir: &Path, d: Durability) -> Result<Box<dyn PartitionSystem>> {
    Ok(Box::new(RedbInline::new(dir, d)?))
}
fn fjall_blobs(dir: &Path, d: Durability) -> Result<Box<dyn PartitionSystem>> {
    Ok(Box::new(FjallBlobs::new(dir, d)?))
}

/// Which systems run each format: every system on Arrow (the comparison the
/// targets are about), Tessera's default backend (redb) and every key-value
/// store on raw bytes, Tessera on rkyv.
fn makers(format: Format) -> Vec<Maker> {
    match format {
        Format::Arrow => vec![
            tessera_sled,
            tessera_redb,
            files,
            sled_inline,
            lmdb,
            redb_inline,
            fjall_blobs,
        ],
        Format::Raw => vec![tessera_redb, sled_inline, lmdb, redb_inline, fjall_blobs],
        Format::Rkyv => vec![tessera_redb],
    }
}

/// Seconds per run, by system name.
type Timings = BTreeMap<String, Vec<f64>>;

/// Runs the I/O workload; returns its rows and the figures the targets need.
///
/// # Errors
/// The first failing write or read.
pub fn run(
    plan: &Plan,
    root: &Path,
    mut dagster: Option<&mut Dagster>,
) -> Result<(Vec<Row>, Figures)> {
    let mut rows = Vec::new();
    let mut figures = Figures::default();
    for format in [Format::Arrow, Format::Raw, Format::Rkyv] {
        for durability in [Durability::Immediate, Durability::Buffered] {
            for &size in &plan.sizes {
                eprintln!(
                    "io: {} {durability:?} {}",
                    format.name(),
                    crate::report::human_size(size as u64)
                );
                let case = Case {
                    plan,
                    root,
                    format,
                    durability,
                    size,
                };
                case.measure(&mut rows, &mut figures, dagster.as_deref_mut())?;
            }
        }
    }
    Ok((rows, figures))
}

/// One (format, durability, size) case.
struct Case<'a> {
    plan: &'a Plan,
    root: &'a Path,
    format: Format,
    durability: Durability,
    size: usize,
}

impl Case<'_> {
    fn reads(&self) -> bool {
        // Reads do not depend on how the data was made durable: measured once.
        self.durability == Durability::Buffered
    }

    fn measure(
        &self,
        rows: &mut Vec<Row>,
        figures: &mut Figures,
        mut dagster: Option<&mut Dagster>,
    ) -> Result<()> {
        let value = Value::of_size(self.format, self.size)?;
        let count = self.plan.io_count(self.size, self.durability);
        let encoded = match &value {
            Value::Arrow(batch) => arrow_ipc(batch)?,
            _ => crate::data::raw_bytes(self.size),
        };
        let (mut writes, mut reads) = (Timings::new(), Timings::new());
        for run in 0..self.plan.runs {
            for make in makers(self.format) {
                self.run_system(make, &value, count, run, &mut writes, &mut reads)?;
            }
            self.run_limits(&encoded, count, &mut writes, &mut reads)?;
            if let Some(dagster) = dagster.as_deref_mut()
                && self.format == Format::Arrow
                && self.reads()
            {
                self.run_dagster(dagster, run)?;
            }
        }
        let mib = (self.size * count) as f64 / MIB;
        let write_name = write_workload(self.durability, self.format);
        let seq = mib / median(&writes[SEQ_WRITE]);
        for (system, secs) in &writes {
            let rate = mib / median(secs);
            figures
                .rates
                .insert((write_name.clone(), system.clone(), self.size), rate);
            rows.push(self.row(system, &write_name, rate).against(SEQ_WRITE, seq));
        }
        if !self.reads() {
            return Ok(());
        }
        let read_name = read_workload(self.format);
        let base_name = if self.format == Format::Arrow {
            FILES
        } else {
            MEMCPY
        };
        let base = mib / median(&reads[base_name]);
        for (system, secs) in &reads {
            let rate = mib / median(secs);
            figures
                .rates
                .insert((read_name.clone(), system.clone(), self.size), rate);
            if self.format == Format::Arrow {
                figures
                    .read_latency
                    .insert((system.clone(), self.size), median(secs) / count as f64);
            }
            rows.push(self.row(system, &read_name, rate).against(base_name, base));
        }
        Ok(())
    }

    fn row(&self, system: &str, workload: &str, rate: f64) -> Row {
        Row::new(system, workload, rate, "MiB/s").size(self.size as u64)
    }

    fn run_system(
        &self,
        make: Maker,
        value: &Value,
        count: usize,
        run: usize,
        writes: &mut Timings,
        reads: &mut Timings,
    ) -> Result<()> {
        let dir = tempfile::tempdir_in(self.root)?;
        let mut system = make(dir.path(), self.durability)?;
        let keys: Vec<String> = (0..count).map(|i| format!("2022-07-23-{i:06}")).collect();
        let ((), secs) = timed(|| {
            for key in &keys {
                system.write(key, value)?;
            }
            system.finish_writes()
        })?;
        writes.entry(system.name()).or_default().push(secs);
        if !self.reads() {
            return Ok(());
        }
        let order = shuffled(count, run as u64 + 1);
        let mut read_all = |system: &mut Box<dyn PartitionSystem>| -> Result<()> {
            let ((), secs) = timed(|| {
                for &i in &order {
                    std::hint::black_box(system.read(&keys[i], self.format)?);
                }
                Ok(())
            })?;
            reads.entry(system.name()).or_default().push(secs);
            Ok(())
        };
        read_all(&mut system)?;
        if system.skip_verification()? {
            read_all(&mut system)?;
        }
        Ok(())
    }

    /// One run of Dagster on this case's size, with its logging as in a
    /// default run and off.
    fn run_dagster(&self, dagster: &mut Dagster, run: usize) -> Result<()> {
        let count = count_for(self.size, self.plan.quick);
        for logging in [Logging::Default, Logging::Off] {
            dagster.run(self.size, count, run as u64 + 1, logging)?;
        }
        Ok(())
    }

    fn run_limits(
        &self,
        encoded: &[u8],
        count: usize,
        writes: &mut Timings,
        reads: &mut Timings,
    ) -> Result<()> {
        let dir = tempfile::tempdir_in(self.root)?;
        let secs = limits::sequential_write(dir.path(), encoded, count, self.durability)?;
        writes.entry(SEQ_WRITE.into()).or_default().push(secs);
        if self.reads() {
            reads
                .entry(MEMCPY.into())
                .or_default()
                .push(limits::memcpy(encoded, count)?);
            reads
                .entry(CRC32.into())
                .or_default()
                .push(limits::crc32(encoded, count)?);
        }
        Ok(())
    }
}
