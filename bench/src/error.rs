//! The error type every measurement returns.

/// Any failure of a workload or a baseline: an I/O error, an engine error, a
/// decode error. A benchmark only needs to report it and stop.
pub type BenchError = Box<dyn std::error::Error + Send + Sync>;

/// The result of a measurement.
pub type Result<T> = std::result::Result<T, BenchError>;
