//! A description of the machine a run measured: cores, memory, kernel, disk.

use std::process::Command;

use serde::Serialize;

/// What the JSON records about the machine.
#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    /// Logical CPUs available to the process.
    pub cores: usize,
    /// The CPU's model name from `/proc/cpuinfo`.
    pub cpu: String,
    /// Total memory from `/proc/meminfo`, in bytes.
    pub memory_bytes: u64,
    /// The kernel release from `/proc/sys/kernel/osrelease`.
    pub kernel: String,
    /// `df -h` of the directory the stores were written to.
    pub disk: String,
}

impl Machine {
    /// Describes this machine; `data_dir` is where the benchmark writes.
    #[must_use]
    pub fn describe(data_dir: &std::path::Path) -> Self {
        let read = |path: &str| std::fs::read_to_string(path).unwrap_or_default();
        let cpu = read("/proc/cpuinfo")
            .lines()
            .find_map(|l| l.strip_prefix("model name"))
            .map(|l| l.trim_start_matches([' ', '\t', ':']).to_owned())
            .unwrap_or_default();
        let memory_kib = read("/proc/meminfo")
            .lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|l| l.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .unwrap_or(0);
        let disk = Command::new("df")
            .arg("-h")
            .arg(data_dir)
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_default();
        Self {
            cores: std::thread::available_parallelism().map_or(1, usize::from),
            cpu,
            memory_bytes: memory_kib * 1024,
            kernel: read("/proc/sys/kernel/osrelease").trim().to_owned(),
            disk,
        }
    }

    /// A one-line summary for the table's header.
    #[must_use]
    pub fn summary(&self) -> String {
        format!(
            "{} cores ({}), {:.1} GiB RAM, Linux {}",
            self.cores,
            self.cpu,
            self.memory_bytes as f64 / f64::from(1u32 << 30),
            self.kernel
        )
    }
}
