//! Dagster-style I/O managers, partitions definitions, partition mappings and
//! an executor over the Tessera engine.
#![forbid(unsafe_code)]

pub mod partitions;
