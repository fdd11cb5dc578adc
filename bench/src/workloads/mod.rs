//! The workloads of issue 6, one per file. Each returns table rows whose ratios
//! are against baselines measured in the same run.
//!

pub mod arrow_reads;
pub mod arrow_writes;
pub mod compaction;
pub mod concurrency;
pub mod costs;
pub mod executor;
pub mod io;
pub mod io_targets;
pub mod memory;
pub mod partitions;
pub mod recovery;
pub mod scale;
pub mod staleness;
