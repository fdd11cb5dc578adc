//! How much each workload does: the full run (the README's figures, about ten
//! minutes on two cores) or `--quick` (a CI smoke test, well under two minutes).

use tessera_engine::Durability;

/// KiB, MiB, GiB in bytes.
const KIB: usize = 1 << 10;
const MIB: usize = 1 << 20;
const GIB: usize = 1 << 30;

/// The sizes and counts of one run.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Whether this is the `--quick` plan.
    pub quick: bool,
    /// Runs per figure; every figure is the median.
    pub runs: usize,
    /// Partition sizes of the I/O workload.
    pub sizes: Vec<usize>,
    /// Partition counts of the scale workload.
    pub scale_levels: Vec<usize>,
    /// Point reads timed per scale level.
    pub point_reads: usize,
    /// Seconds each concurrency case runs.
    pub concurrency_secs: f64,
    /// Size of the Arrow partition read by the memory workload.
    pub memory_bytes: usize,
    /// 1 KiB partitions per run of the recovery workload's `Buffered` writes.
    pub buffered_1k_count: usize,
    /// Bytes of log (64 KiB puts) left after the last checkpoint before the
    /// recovery workload's timed open.
    pub crash_log_bytes: usize,
    /// Partitions (100-byte payloads) of the recovery workload's index rebuild.
    pub rebuild_partitions: usize,
}

impl Plan {
    /// The plan for `quick` or the full run.
    #[must_use]
    pub fn new(quick: bool) -> Self {
        if quick {
            Self {
                quick,
                runs: 3,
                sizes: vec![KIB, 64 * KIB, MIB, 16 * MIB],
                scale_levels: vec![1_000, 10_000],
                point_reads: 1_000,
                concurrency_secs: 0.3,
                memory_bytes: 64 * MIB,
                buffered_1k_count: 8 * 1024,
                crash_log_bytes: 64 * MIB,
                rebuild_partitions: 10_000,
            }
        } else {
            Self {
                quick,
                runs: 3,
                sizes: vec![KIB, 64 * KIB, MIB, 16 * MIB, 64 * MIB],
                scale_levels: vec![1_000, 10_000, 100_000, 1_000_000],
                point_reads: 10_000,
                concurrency_secs: 1.0,
                memory_bytes: 1 << 30,
                buffered_1k_count: 64 * 1024,
                crash_log_bytes: GIB,
                rebuild_partitions: 1_000_000,
            }
        }
    }

    /// Partitions written per run of one I/O case: about 1 GiB in the full run,
    /// with the count capped (10,000 `Buffered`, 1,000 `Immediate`) where every
    /// partition costs the baselines a file or an `fdatasync`, so the smallest
    /// sizes move less; the bytes moved are recorded.
    #[must_use]
    pub fn io_count(&self, size: usize, durability: Durability) -> usize {
        let (bytes, min_count, max_count) = match (self.quick, durability) {
            (false, Durability::Buffered) => (GIB, 4, 10_000),
            (false, Durability::Immediate) => (GIB, 3, 1_000),
            (true, Durability::Buffered) => (24 * MIB, 2, 300),
            (true, Durability::Immediate) => (8 * MIB, 1, 20),
        };
        (bytes / size).clamp(min_count, max_count)
    }
}
