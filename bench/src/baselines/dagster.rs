//! Baseline 4: Dagster's own `FilesystemIOManager`, timed by
//! `bench/dagster/bench_dagster.py` (run by `bench/dagster/run.sh`), whose JSON
//! this module reads.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::measure::median;

/// The JSON written by `bench_dagster.py`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DagsterResults {
    /// Dagster's version.
    pub dagster_version: String,
    /// Python's version.
    pub python_version: String,
    /// One entry per (value kind, size).
    pub cases: Vec<DagsterCase>,
}

/// One (value kind, partition size) case, timed over several runs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DagsterCase {
    /// `pandas` (a DataFrame of int64, float64 and str columns) or `bytes`.
    pub kind: String,
    /// Nominal partition size in bytes.
    pub size: u64,
    /// Partitions written and read per run.
    pub count: u64,
    /// Seconds of `handle_output` over all partitions, one entry per run.
    pub write_secs: Vec<f64>,
    /// Seconds of `load_input` over all partitions (random order), per run.
    pub read_secs: Vec<f64>,
}

impl DagsterCase {
    /// Median partitions per second written.
    #[must_use]
    pub fn write_rate(&self) -> f64 {
        self.count as f64 / median(&self.write_secs)
    }

    /// Median partitions per second read.
    #[must_use]
    pub fn read_rate(&self) -> f64 {
        self.count as f64 / median(&self.read_secs)
    }
}

impl DagsterResults {
    /// Reads the JSON at `path`.
    ///
    /// # Errors
    /// If the file cannot be read or parsed.
    pub fn load(path: &Path) -> Result<Self> {
        Ok(serde_json::from_str(&std::fs::read_to_string(path)?)?)
    }

    /// The case of `kind` at `size`, if it was run.
    #[must_use]
    pub fn case(&self, kind: &str, size: u64) -> Option<&DagsterCase> {
        self.cases.iter().find(|c| c.kind == kind && c.size == size)
    }
}
