//! `tessera-bench`: Tessera's partition I/O against every baseline a user would
//! pick instead, measured side by side in one run (issue 6).
//!
//! ```text
//! cargo run --release -p tessera-bench -- [--quick] [--out bench/results] [--dagster-json PATH]
//! ```
//!
//! Prints one table of medians and ratios, writes the same figures with a
//! description of the machine to `<out>/<date>.json`, and draws
//! `<out>/throughput.svg`.
#![forbid(unsafe_code)]

mod baselines;
mod data;
mod error;
mod machine;
mod measure;
mod plan;
mod report;
mod system;
mod tessera;
mod workloads;

use std::path::PathBuf;

use clap::Parser;

use crate::baselines::dagster::DagsterResults;
use crate::error::Result;
use crate::machine::Machine;
use crate::plan::Plan;
use crate::report::{Row, chart, json, table};

/// The workloads `--only` can name, in the order they run.
const WORKLOADS: [&str; 8] = [
    "io",
    "scale",
    "concurrency",
    "recovery",
    "memory",
    "partitions",
    "staleness",
    "executor",
];

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
    /// The JSON written by `bench/dagster/run.sh` (Dagster's own figures).
    #[arg(long)]
    dagster_json: Option<PathBuf>,
    /// Runs only these workloads (comma-separated: io, scale, concurrency,
    /// recovery, memory, partitions, staleness, executor); the files written get an
    /// `-only-<names>` suffix.
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
    let (dagster, dagster_status) = load_dagster(args.dagster_json.as_deref());
    eprintln!("{dagster_status}");

    for name in &args.only {
        if !WORKLOADS.contains(&name.as_str()) {
            return Err(format!("unknown workload {name:?} (known: {WORKLOADS:?})").into());
        }
    }
    let wanted = |name: &str| args.only.is_empty() || args.only.iter().any(|o| o == name);
    let mut rows = Vec::new();
    let mut targets = Vec::new();
    if wanted("io") {
        let (io_rows, figures) = workloads::io::run(&plan, root.path())?;
        rows = io_rows;
        if let Some(d) = &dagster {
            rows.extend(workloads::io_targets::dagster_rows(d, &plan.sizes));
        }
        targets = workloads::io_targets::rows(&figures, &plan.sizes, dagster.as_ref());
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
    rows.append(&mut targets);
    let leaders = workloads::recovery::leaders(&rows);
    rows.extend(leaders);

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

/// The Dagster figures, if a JSON was given and parses, and a sentence saying
/// whether the baseline ran.
fn load_dagster(path: Option<&std::path::Path>) -> (Option<DagsterResults>, String) {
    match path.map(DagsterResults::load) {
        None => (
            None,
            "Dagster baseline not run (no --dagster-json; run bench/dagster/run.sh first)".into(),
        ),
        Some(Err(e)) => (
            None,
            format!("Dagster baseline not run: cannot read its JSON: {e}"),
        ),
        Some(Ok(d)) => {
            let status = format!(
                "Dagster baseline: dagster {} on Python {}",
                d.dagster_version, d.python_version
            );
            (Some(d), status)
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
