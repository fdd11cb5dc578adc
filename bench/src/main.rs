//! `tessera-bench`: Tessera's partition I/O against every baseline a user would
//! pick instead, measured side by side in one run (issue 6).
//!
//! ```text
//! cargo run --release -p tessera-bench -- [--quick] [--out bench/results] [--only io,costs] [--no-dagster]
//! ```
//!
//! Prints one table of medians and ratios, writes the same figures with a
//! description of the machine to `<out>/<date>.json`, and draws
//! `<out>/throughput.svg`.
#![deny(unsafe_code)]

mod baselines;
mod counting;
mod data;
mod error;
mod machine;
mod measure;
mod plan;
mod report;
mod system;
mod tessera;
mod workloads;

use std::path::{Path, PathBuf};

use clap::Parser;

use crate::baselines::dagster::{self, Dagster};
use crate::error::Result;
use crate::machine::Machine;
use crate::plan::Plan;
use crate::report::{Row, chart, json, table};

/// The workloads `--only` can name, in the order they run.
const WORKLOADS: [&str; 11] = [
    "io",
    "arrow",
    "costs",
    "scale",
    "concurrency",
    "recovery",
    "memory",
    "partitions",
    "staleness",
    "executor",
    "compaction",
];

/// Workloads run only when `--only` names them.
const ON_REQUEST: [&str; 1] = ["arrow-writes"];

/// Command-line options.
#[derive(Debug, Parser)]
#[command(version, about = "Tessera against its baselines, in one run")]
struct Args {
    /// Small counts and sizes (a smoke test of under two minutes).
    #[arg(long)]
    quick: bool,
    /// Where the JSON and the SVG chart go.
    #[arg(long, default_value = "bench/results")]
    out: PathBuf,
    /// Skips Dagster's `FilesystemIOManager` (otherwise timed in the same
    /// run, between the Rust cases of the I/O workload).
    #[arg(long)]
    no_dagster: bool,
    /// The Python virtual environment Dagster runs in; a full run creates it
    /// (`pip install dagster pandas pyarrow`) when missing, `--quick` only
    /// uses an existing one.
    #[arg(long, default_value_os_t = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv"))]
    dagster_venv: PathBuf,
    /// Runs only these workloads (comma-separated: io, arrow, costs, scale,
    /// concurrency, recovery, memory, partitions, staleness, executor,
    /// compaction; and, run only when named, arrow-writes); the files
    /// written get an `-only-<names>` suffix.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Where stores are created (a fresh temporary directory inside it).
    #[arg(long, default_value_os_t = std::env::temp_dir())]
    data_dir: PathBuf,
}

fn main() -> Result<()> {
    let argv: Vec<String> = std::env::args().collect();
    if let [_, probe, system, dir] = argv.as_slice()
        && probe == workloads::memory::PROBE
    {
        return workloads::memory::probe(system, std::path::Path::new(dir));
    }
    if argv.get(1).map(String::as_str) == Some(workloads::recovery::PROBE) {
        return workloads::recovery::probe(&argv[2..]);
    }
    let args = Args::parse();
    let plan = Plan::new(args.quick);
    let started = chrono::Utc::now();
    let root = tempfile::Builder::new()
        .prefix("tessera-bench-")
        .tempdir_in(&args.data_dir)?;
    let machine = Machine::describe(root.path());

    for name in &args.only {
        if !WORKLOADS.contains(&name.as_str()) && !ON_REQUEST.contains(&name.as_str()) {
            return Err(format!(
                "unknown workload {name:?} (known: {WORKLOADS:?}, on request: {ON_REQUEST:?})"
            )
            .into());
        }
    }
    let wanted = |name: &str| args.only.is_empty() || args.only.iter().any(|o| o == name);
    let mut rows = Vec::new();
    let mut targets = Vec::new();
    let mut dagster_results = None;
    let mut dagster_status = "Dagster baseline not run (the io workload was not selected)".into();
    if wanted("io") {
        let mut dagster = start_dagster(&args, &plan, root.path(), &mut dagster_status);
        let (io_rows, figures) = workloads::io::run(&plan, root.path(), dagster.as_mut())?;
        rows = io_rows;
        dagster_results = dagster.map(|d| d.results.clone());
        if let Some(results) = &dagster_results {
            rows.extend(workloads::io_targets::dagster_rows(results));
        }
        targets = workloads::io_targets::rows(&figures, &plan.sizes, dagster_results.as_ref());
    }
    if wanted("arrow") {
        rows.extend(workloads::arrow_reads::run(&plan, root.path())?);
    }
    if wanted("costs") {
        rows.extend(workloads::costs::run(&plan, root.path())?);
    }
    if wanted("scale") {
        rows.extend(workloads::scale::run(&plan, root.path())?);
    }
    if wanted("concurrency") {
        rows.extend(workloads::concurrency::run(&plan, root.path())?);
    }
    if wanted("recovery") {
        rows.extend(workloads::recovery::run(&plan, root.path())?);
    }
    if wanted("memory") {
        rows.extend(workloads::memory::run(&plan, root.path())?);
    }
    if wanted("partitions") {
        rows.extend(workloads::partitions::run(&plan)?);
    }
    if wanted("staleness") {
        rows.extend(workloads::staleness::run(&plan, root.path())?);
    }
    if wanted("executor") {
        rows.extend(workloads::executor::run(&plan, root.path())?);
    }
    if wanted("compaction") {
        rows.extend(workloads::compaction::run(&plan, root.path())?);
    }
    if args.only.iter().any(|o| o == "arrow-writes") {
        rows.extend(workloads::arrow_writes::run(&plan, root.path())?);
    }
    rows.append(&mut targets);
    let leaders = workloads::recovery::leaders(&rows);
    rows.extend(leaders);

    eprintln!("{dagster_status}");
    print_summary(&machine, &plan, &dagster_status, &rows);
    let stem = started.format("%Y-%m-%d").to_string();
    let stem = if plan.quick {
        format!("{stem}-quick")
    } else {
        stem
    };
    let suffix = if args.only.is_empty() {
        String::new()
    } else {
        format!("-only-{}", args.only.join("-"))
    };
    let stem = format!("{stem}{suffix}");
    let report = json::RunReport {
        date: started.to_rfc3339(),
        command: std::env::args().collect::<Vec<_>>().join(" "),
        quick: plan.quick,
        runs: plan.runs,
        machine: &machine,
        dagster: dagster_status,
        dagster_runs: dagster_results.as_ref(),
        rows: &rows,
    };
    let path = json::write(&args.out, &stem, &report)?;
    let svg = args.out.join(format!(
        "throughput{}{suffix}.svg",
        if plan.quick { "-quick" } else { "" }
    ));
    chart::draw(&rows, &svg)?;
    std::fs::write(args.out.join(format!("{stem}.md")), table::markdown(&rows))?;
    println!("\nwrote {} and {}", path.display(), svg.display());
    Ok(())
}

/// Starts Dagster's script unless `--no-dagster`; sets `status` to a
/// sentence saying whether it runs.
fn start_dagster(args: &Args, plan: &Plan, root: &Path, status: &mut String) -> Option<Dagster> {
    if args.no_dagster {
        *status = "Dagster baseline not run (--no-dagster)".into();
        return None;
    }
    let setup = dagster::Setup {
        venv: args.dagster_venv.clone(),
        may_create: !plan.quick,
        log_dir: root.to_path_buf(),
    };
    let max_count = plan
        .sizes
        .iter()
        .map(|&size| dagster::count_for(size, plan.quick))
        .max()
        .unwrap_or(1);
    eprintln!("dagster: starting (building {max_count} contexts)");
    match Dagster::start(&setup, max_count) {
        Ok(dagster) => {
            *status = format!(
                "Dagster baseline: dagster {} on Python {}, in the same run",
                dagster.results.dagster_version, dagster.results.python_version
            );
            Some(dagster)
        }
        Err(e) => {
            *status = format!("Dagster baseline not run: {e}");
            None
        }
    }
}

fn print_summary(machine: &Machine, plan: &Plan, dagster_status: &str, rows: &[Row]) {
    println!(
        "tessera-bench ({}), {}",
        if plan.quick { "quick" } else { "full" },
        machine.summary()
    );
    println!(
        "every figure is the median of {} runs; {dagster_status}\n",
        plan.runs
    );
    print!("{}", table::render(rows));
    let met = rows.iter().filter(|r| r.met == Some(true)).count();
    let total = rows.iter().filter(|r| r.met.is_some()).count();
    println!("\ntargets met: {met} of {total}");
}
