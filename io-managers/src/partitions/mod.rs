//! Partitions definitions and partition mappings, with Dagster's semantics.

mod window;

pub use window::TimeWindow;
