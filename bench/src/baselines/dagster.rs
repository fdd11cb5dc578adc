//! Baseline: Dagster's own `FilesystemIOManager`, timed in the same run as
//! Tessera. `bench/dagster/bench_dagster.py` runs as a child process in a
//! virtual environment (made, with dagster, pandas and pyarrow installed from
//! the package index, when missing and allowed); the I/O workload sends it one
//! case at a time, between its own Rust cases, once with Python's logging as a
//! default Dagster run has it and once with logging off.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::measure::median;

const MIB: usize = 1 << 20;

/// Whether Dagster's logging is left as in a default run or turned off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Logging {
    /// As a default Dagster run has it: the I/O manager logs every store and
    /// load at DEBUG level (to a file here).
    Default,
    /// Python's logging disabled for the case.
    Off,
}

impl Logging {
    /// The system name of Dagster's rows with this logging.
    #[must_use]
    pub fn system_name(self) -> &'static str {
        match self {
            Self::Default => "dagster FilesystemIOManager",
            Self::Off => "dagster FilesystemIOManager (logging off)",
        }
    }
}

/// Everything Dagster measured in a run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DagsterResults {
    /// Dagster's version.
    pub dagster_version: String,
    /// Python's version.
    pub python_version: String,
    /// One entry per (size, logging).
    pub cases: Vec<DagsterCase>,
}

/// One (partition size, logging) case of pandas DataFrames, timed over several
/// runs.
#[derive(Debug, Clone, Serialize)]
pub struct DagsterCase {
    /// Nominal partition size in bytes.
    pub size: usize,
    /// Dagster's logging during the case.
    pub logging: Logging,
    /// Partitions written and read per run.
    pub count: usize,
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
    /// The case at `size` with `logging`, if it was run.
    #[must_use]
    pub fn case(&self, size: usize, logging: Logging) -> Option<&DagsterCase> {
        self.cases
            .iter()
            .find(|c| c.size == size && c.logging == logging)
    }

    /// The faster of Dagster's two figures (with and without logging) at
    /// `size`, by `rate`.
    #[must_use]
    pub fn fastest(&self, size: usize, rate: fn(&DagsterCase) -> f64) -> Option<f64> {
        [Logging::Default, Logging::Off]
            .into_iter()
            .filter_map(|l| self.case(size, l).map(rate))
            .reduce(f64::max)
    }

    fn record(&mut self, size: usize, logging: Logging, count: usize, secs: (f64, f64)) {
        let index = match self
            .cases
            .iter()
            .position(|c| c.size == size && c.logging == logging)
        {
            Some(index) => index,
            None => {
                self.cases.push(DagsterCase {
                    size,
                    logging,
                    count,
                    write_secs: Vec::new(),
                    read_secs: Vec::new(),
                });
                self.cases.len() - 1
            }
        };
        self.cases[index].write_secs.push(secs.0);
        self.cases[index].read_secs.push(secs.1);
    }
}

/// Partitions per Dagster case: building a context costs Dagster about half a
/// second, so contexts are built once and reused by every case; rates are per
/// partition, so counts need not match the Rust cases'.
#[must_use]
pub fn count_for(size: usize, quick: bool) -> usize {
    let (budget, low, high) = if quick {
        (24 * MIB, 2, 20)
    } else {
        (256 * MIB, 3, 60)
    };
    (budget / size).clamp(low, high)
}

/// Where the script and its virtual environment are.
#[derive(Debug, Clone)]
pub struct Setup {
    /// The virtual environment (`bench/.venv` by default).
    pub venv: PathBuf,
    /// Whether a missing environment may be created (with `pip install`).
    pub may_create: bool,
    /// The directory that receives Dagster's log (its stderr).
    pub log_dir: PathBuf,
}

/// The running script.
#[derive(Debug)]
pub struct Dagster {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
    /// What it measured so far.
    pub results: DagsterResults,
}

#[derive(Deserialize)]
struct Hello {
    dagster_version: String,
    python_version: String,
}

#[derive(Deserialize)]
struct Answer {
    write_secs: Option<f64>,
    read_secs: Option<f64>,
    error: Option<String>,
}

impl Dagster {
    /// Starts the script with contexts for up to `max_count` partitions and
    /// waits until it has built them.
    ///
    /// # Errors
    /// If the environment is missing (and may not be created) or cannot be
    /// made, or the script does not start.
    pub fn start(setup: &Setup, max_count: usize) -> Result<Self> {
        let python = setup.venv.join("bin/python");
        if !python.exists() {
            if !setup.may_create {
                return Err(format!("no virtual environment at {}", setup.venv.display()).into());
            }
            create_venv(&setup.venv)?;
        }
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("dagster/bench_dagster.py");
        std::fs::create_dir_all(&setup.log_dir)?;
        let log = std::fs::File::create(setup.log_dir.join("dagster.log"))?;
        let mut child = Command::new(python)
            .arg(script)
            .arg("--serve")
            .arg("--max-count")
            .arg(max_count.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            return Err("the Dagster script's pipes were not opened".into());
        };
        let mut dagster = Self {
            child,
            stdin: Some(stdin),
            stdout: BufReader::new(stdout),
            results: DagsterResults::default(),
        };
        let hello: Hello = serde_json::from_str(&dagster.answer_line()?)?;
        dagster.results.dagster_version = hello.dagster_version;
        dagster.results.python_version = hello.python_version;
        Ok(dagster)
    }

    /// Times one run of the case (`count` partitions of `size` bytes, read in
    /// the order `seed` gives) with `logging`, and records it.
    ///
    /// # Errors
    /// If the script fails the case or has stopped.
    pub fn run(&mut self, size: usize, count: usize, seed: u64, logging: Logging) -> Result<()> {
        let case = serde_json::json!({
            "size": size, "count": count, "seed": seed, "logging": logging,
        });
        let stdin = self.stdin.as_mut().ok_or("the Dagster script is closed")?;
        writeln!(stdin, "{case}")?;
        stdin.flush()?;
        let answer: Answer = serde_json::from_str(&self.answer_line()?)?;
        match (answer.write_secs, answer.read_secs, answer.error) {
            (Some(write), Some(read), None) => {
                self.results.record(size, logging, count, (write, read));
                Ok(())
            }
            (_, _, error) => Err(format!(
                "the Dagster script failed a case: {}",
                error.unwrap_or_else(|| "no figures".into())
            )
            .into()),
        }
    }

    fn answer_line(&mut self) -> Result<String> {
        let mut line = String::new();
        if self.stdout.read_line(&mut line)? == 0 {
            return Err("the Dagster script stopped (its log is dagster.log)".into());
        }
        Ok(line)
    }
}

impl Drop for Dagster {
    fn drop(&mut self) {
        // Closing stdin ends the script's loop.
        self.stdin = None;
        let _ = self.child.wait();
    }
}

/// Makes a virtual environment at `venv` with dagster, pandas and pyarrow.
fn create_venv(venv: &Path) -> Result<()> {
    eprintln!(
        "dagster: creating {} (pip install dagster pandas pyarrow)",
        venv.display()
    );
    let python = std::env::var_os("PYTHON").unwrap_or_else(|| "python3".into());
    let status = Command::new(python)
        .arg("-m")
        .arg("venv")
        .arg(venv)
        .status()?;
    if !status.success() {
        return Err(format!("python3 -m venv failed: {status}").into());
    }
    let status = Command::new(venv.join("bin/pip"))
        .args(["install", "--quiet", "dagster", "pandas", "pyarrow"])
        .status()?;
    if !status.success() {
        let _ = std::fs::remove_dir_all(venv);
        return Err(format!("pip install failed: {status}").into());
    }
    Ok(())
}
