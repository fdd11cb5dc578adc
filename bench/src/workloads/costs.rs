//! Costs per operation besides time, which explain the I/O workload's ratios:
//! heap allocations and bytes allocated (the counting allocator), `read`/`write`
//! system calls and the bytes the kernel copied for them (`/proc/self/io`),
//! and, for Tessera, the calls made through its file-system seam (`pwrite`,
//! `fdatasync`, the rest) with the bytes written. For 1 KiB and 16 MiB raw and
//! Arrow values: `Buffered` writes (with the final flush amortized over them)
//! and random reads on every key-value system, and `Immediate` writes on
//! Tessera.

use std::path::Path;
use std::sync::Arc;

use tessera_engine::{Durability, IndexKind};

use crate::baselines::{
    fjall_blobs::FjallBlobs, lmdb::Lmdb, redb_inline::RedbInline, sled_inline::SledInline,
};
use crate::counting::{CountingIo, PerOp, SeamCounts, per_op};
use crate::data::{Format, Value};
use crate::error::Result;
use crate::measure::shuffled;
use crate::plan::Plan;
use crate::report::Row;
use crate::system::PartitionSystem;
use crate::tessera::Tessera;

const KIB: usize = 1 << 10;
const MIB: usize = 1 << 20;

/// The sizes measured.
const SIZES: [usize; 2] = [KIB, 16 * MIB];

/// Runs the workload; returns one row per (system, operation, size, counter).
///
/// # Errors
/// The first failing write or read.
pub fn run(plan: &Plan, root: &Path) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    for format in [Format::Raw, Format::Arrow] {
        for size in SIZES {
            eprintln!(
                "costs: {} {}",
                format.name(),
                crate::report::human_size(size as u64)
            );
            let value = Value::of_size(format, size)?;
            let ops = ops(plan, size);
            for durability in [Durability::Buffered, Durability::Immediate] {
                let io = Arc::new(CountingIo::default());
                let dir = tempfile::tempdir_in(root)?;
                let mut tessera =
                    Tessera::with_io(dir.path(), IndexKind::Redb, durability, io.clone())?;
                let case = Case {
                    format,
                    size,
                    ops,
                    value: &value,
                };
                case.measure(&mut tessera, durability, Some(&io), &mut rows)?;
            }
            for make in BASELINES {
                let dir = tempfile::tempdir_in(root)?;
                let mut system = make(dir.path())?;
                let case = Case {
                    format,
                    size,
                    ops,
                    value: &value,
                };
                case.measure(system.as_mut(), Durability::Buffered, None, &mut rows)?;
            }
        }
    }
    Ok(rows)
}

/// Operations counted per case: enough for the per-op figures to settle.
fn ops(plan: &Plan, size: usize) -> usize {
    match (plan.quick, size >= MIB) {
        (true, true) => 2,
        (true, false) => 200,
        (false, true) => 8,
        (false, false) => 2_000,
    }
}

type Maker = fn(&Path) -> Result<Box<dyn PartitionSystem>>;

/// The key-value baselines, each with `Buffered` writes.
const BASELINES: [Maker; 4] = [
    |dir| Ok(Box::new(SledInline::new(dir, Durability::Buffered)?)),
    |dir| Ok(Box::new(Lmdb::new(dir, Durability::Buffered)?)),
    |dir| Ok(Box::new(RedbInline::new(dir, Durability::Buffered)?)),
    |dir| Ok(Box::new(FjallBlobs::new(dir, Durability::Buffered)?)),
];

/// One (format, size) case on one system.
struct Case<'a> {
    format: Format,
    size: usize,
    ops: usize,
    value: &'a Value,
}

impl Case<'_> {
    fn measure(
        &self,
        system: &mut dyn PartitionSystem,
        durability: Durability,
        io: Option<&CountingIo>,
        rows: &mut Vec<Row>,
    ) -> Result<()> {
        let keys: Vec<String> = (0..self.ops)
            .map(|i| format!("2022-07-23-{i:06}"))
            .collect();
        let name = system.name();
        let seam_before = io.map(CountingIo::counts);
        let write = per_op(self.ops, || {
            for key in &keys {
                system.write(key, self.value)?;
            }
            system.finish_writes()
        })?;
        let workload = format!("cost: write {durability:?} {}", self.format.name());
        self.push(rows, &name, &workload, write);
        if let (Some(io), Some(before)) = (io, seam_before) {
            self.push_seam(rows, &name, &workload, before, io.counts());
        }
        if durability == Durability::Immediate {
            return Ok(());
        }
        let order = shuffled(self.ops, 1);
        let seam_before = io.map(CountingIo::counts);
        let read = per_op(self.ops, || {
            for &i in &order {
                std::hint::black_box(system.read(&keys[i], self.format)?);
            }
            Ok(())
        })?;
        let workload = format!("cost: read {}", self.format.name());
        self.push(rows, &name, &workload, read);
        if let (Some(io), Some(before)) = (io, seam_before) {
            self.push_seam(rows, &name, &workload, before, io.counts());
        }
        Ok(())
    }

    fn push(&self, rows: &mut Vec<Row>, system: &str, workload: &str, cost: PerOp) {
        let size = self.size as u64;
        for (value, unit) in [
            (cost.allocations, "allocs/op"),
            (cost.heap_bytes, "heap B/op"),
            (cost.syscalls, "rw syscalls/op"),
            (cost.kernel_copied, "kernel-copied B/op"),
        ] {
            rows.push(Row::new(system, workload, value, unit).size(size));
        }
    }

    fn push_seam(
        &self,
        rows: &mut Vec<Row>,
        system: &str,
        workload: &str,
        before: SeamCounts,
        after: SeamCounts,
    ) {
        let n = self.ops as f64;
        let size = self.size as u64;
        let system = format!("{system} (seam)");
        for (value, unit) in [
            (after.writes - before.writes, "pwrite/op"),
            (after.syncs - before.syncs, "fsync/op"),
            (after.other - before.other, "other seam calls/op"),
            (after.written_bytes - before.written_bytes, "written B/op"),
        ] {
            rows.push(Row::new(&system, workload, value as f64 / n, unit).size(size));
        }
    }
}
