//! The figures of a run and the three ways they are shown: a table on stdout,
//! JSON in `bench/results/`, an SVG chart.

pub mod chart;
pub mod json;
pub mod table;

use serde::Serialize;

/// One figure: a system's throughput or latency in one workload, with its ratio
/// against a baseline measured in the same run and, where the issue sets one,
/// the target and whether it was met.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// The system measured (`tessera-sled`, `files (Arrow IPC)`, ...).
    pub system: String,
    /// The workload (`write Immediate arrow`, `point read p50 @ 10^6`, ...).
    pub workload: String,
    /// The partition size in bytes, where there is one.
    pub size: Option<u64>,
    /// The measured median.
    pub value: f64,
    /// The unit of `value` (`MiB/s`, `part/s`, `µs`, `s`, `MiB`, ...).
    pub unit: &'static str,
    /// What the ratio is against.
    pub baseline: Option<String>,
    /// `value` divided by the baseline's value (or the target's own quotient).
    pub ratio: Option<f64>,
    /// The target, in words.
    pub target: Option<String>,
    /// Whether the target was met.
    pub met: Option<bool>,
}

impl Row {
    /// A figure with no baseline and no target.
    #[must_use]
    pub fn new(
        system: impl Into<String>,
        workload: impl Into<String>,
        value: f64,
        unit: &'static str,
    ) -> Self {
        Self {
            system: system.into(),
            workload: workload.into(),
            size: None,
            value,
            unit,
            baseline: None,
            ratio: None,
            target: None,
            met: None,
        }
    }

    /// Sets the partition size.
    #[must_use]
    pub fn size(mut self, size: u64) -> Self {
        self.size = Some(size);
        self
    }

    /// Sets the ratio against `baseline`, whose value is `base`.
    #[must_use]
    pub fn against(mut self, baseline: impl Into<String>, base: f64) -> Self {
        self.baseline = Some(baseline.into());
        self.ratio = Some(self.value / base);
        self
    }

    /// Sets a target that the ratio must reach (`at_least`) or stay under.
    #[must_use]
    pub fn target(mut self, target: impl Into<String>, met: bool) -> Self {
        self.target = Some(target.into());
        self.met = Some(met);
        self
    }
}

/// Formats a byte count as the table shows it (`1 KiB`, `64 MiB`).
#[must_use]
pub fn human_size(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 30 && b % (1 << 30) == 0 => format!("{} GiB", b >> 30),
        b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b if b >= 1 << 10 && b % (1 << 10) == 0 => format!("{} KiB", b >> 10),
        b => format!("{b} B"),
    }
}
