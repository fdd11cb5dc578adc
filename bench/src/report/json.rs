//! The JSON file of a run: date, command, machine, every figure.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::Row;
use crate::baselines::dagster::DagsterResults;
use crate::error::Result;
use crate::machine::Machine;

/// Everything a run measured, as written to `bench/results/<date>.json`.
#[derive(Debug, Serialize)]
pub struct RunReport<'a> {
    /// When the run started (UTC, RFC 3339).
    pub date: String,
    /// The command line that produced it.
    pub command: String,
    /// Whether this was a `--quick` run.
    pub quick: bool,
    /// Runs per figure (each figure is their median).
    pub runs: usize,
    /// The machine.
    pub machine: &'a Machine,
    /// Whether and how the Dagster baseline ran.
    pub dagster: String,
    /// Dagster's timings of every run, when it ran.
    pub dagster_runs: Option<&'a DagsterResults>,
    /// Every figure.
    pub rows: &'a [Row],
}

/// Writes `report` to `<dir>/<date>.json` and returns the path.
///
/// # Errors
/// If the directory or the file cannot be written.
pub fn write(dir: &Path, file_stem: &str, report: &RunReport<'_>) -> Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join(format!("{file_stem}.json"));
    std::fs::write(&path, serde_json::to_string_pretty(report)? + "\n")?;
    Ok(path)
}
