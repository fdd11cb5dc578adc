//! What a run did, per partition.

use std::time::Duration;

use tessera_engine::AssetKey;

use crate::metadata::Metadata;

/// What happened to one task (one partition, or the partitions of a single-run backfill).
#[derive(Debug, Clone, PartialEq)]
pub enum TaskStatus {
    /// Computed and stored.
    Materialized {
        /// Compute and storage time.
        duration: Duration,
        /// The output metadata recorded.
        metadata: Metadata,
        /// The data version recorded.
        data_version: String,
        /// The lines the compute function logged.
        log: Vec<String>,
    },
    /// The compute, a load or the store failed.
    Failed {
        /// The error.
        error: String,
    },
    /// Not run because an upstream partition failed.
    Skipped {
        /// Which upstream failed.
        reason: String,
    },
    /// Not run because the run was cancelled.
    Cancelled,
}

/// The outcome of one partition of one asset.
#[derive(Debug, Clone, PartialEq)]
pub struct PartitionOutcome {
    /// The asset.
    pub asset: AssetKey,
    /// The partition (`None` when unpartitioned).
    pub partition: Option<String>,
    /// What happened.
    pub status: TaskStatus,
}

/// Every outcome of a run, in plan order (upstream first).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MaterializeResult {
    /// The outcomes.
    pub outcomes: Vec<PartitionOutcome>,
    /// The run's id.
    pub run_id: String,
    /// Wall time of the run.
    pub elapsed: Duration,
    /// What the run could not read and worked around (a damaged record
    /// counted as missing, a damaged value materialized again).
    pub warnings: Vec<String>,
}

impl MaterializeResult {
    /// How many partitions were materialized.
    pub fn materialized(&self) -> usize {
        self.count(|s| matches!(s, TaskStatus::Materialized { .. }))
    }

    /// The failed partitions.
    pub fn failed(&self) -> impl Iterator<Item = &PartitionOutcome> {
        self.outcomes
            .iter()
            .filter(|o| matches!(o.status, TaskStatus::Failed { .. }))
    }

    /// How many partitions were skipped (an upstream failed).
    pub fn skipped(&self) -> usize {
        self.count(|s| matches!(s, TaskStatus::Skipped { .. }))
    }

    /// How many partitions were cancelled.
    pub fn cancelled(&self) -> usize {
        self.count(|s| matches!(s, TaskStatus::Cancelled))
    }

    /// Whether every partition was materialized.
    pub fn is_success(&self) -> bool {
        self.materialized() == self.outcomes.len()
    }

    /// The outcome of `(asset, partition)`.
    pub fn outcome(&self, asset: &AssetKey, partition: Option<&str>) -> Option<&PartitionOutcome> {
        self.outcomes
            .iter()
            .find(|o| &o.asset == asset && o.partition.as_deref() == partition)
    }

    fn count(&self, predicate: impl Fn(&TaskStatus) -> bool) -> usize {
        self.outcomes
            .iter()
            .filter(|o| predicate(&o.status))
            .count()
    }
}
