//! The workloads of issue 6, one per file. Each returns table rows whose ratios
//! are against baselines measured in the same run.
//!
//! The partitions-definition workload (enumerating a 10-year hourly definition,
//! mapping a daily downstream onto it) and the executor workloads (no-op
//! pipeline overhead, the rolling 7-day job) need the `partitions` and
//! `executor` modules of `tessera-io-managers`; they will be `partitions.rs` and
//! `executor.rs` here, next to the engine workloads, once those modules exist.

pub mod concurrency;
pub mod io;
pub mod io_targets;
pub mod memory;
pub mod scale;
