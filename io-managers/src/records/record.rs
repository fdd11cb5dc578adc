//! The records themselves.

use chrono::{DateTime, Utc};

use crate::metadata::Metadata;

/// One successful materialization of an (asset, partition).
#[derive(Debug, Clone, PartialEq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
pub struct MaterializationRecord {
    /// The run that produced it.
    pub run_id: String,
    /// When the compute started, in microseconds since the Unix epoch (UTC).
    pub started_at_micros: i64,
    /// How long compute and storage took, in microseconds.
    pub duration_micros: u64,
    /// The code version it was computed with (the run id when the asset has none, as Dagster).
    pub code_version: String,
    /// Its data version.
    pub data_version: String,
    /// Whether the compute supplied the data version.
    pub data_version_user_provided: bool,
    /// Output metadata: the I/O manager's (row count, byte size, path) and the user's.
    pub metadata: Metadata,
    /// The upstream partitions it read, with their data versions at the time.
    pub inputs: Vec<InputProvenance>,
    /// The store version its value was written as (`None` when its manager
    /// keeps no versions, or it stored nothing).
    pub stored_version: Option<u64>,
}

impl MaterializationRecord {
    /// When the compute started.
    pub fn started_at(&self) -> DateTime<Utc> {
        DateTime::from_timestamp_micros(self.started_at_micros).unwrap_or_default()
    }

    /// How long it took.
    pub fn duration(&self) -> std::time::Duration {
        std::time::Duration::from_micros(self.duration_micros)
    }
}

/// What one input read: the upstream asset, and for each upstream partition
/// (`""` for an unpartitioned one) the data version it had.
#[derive(Debug, Clone, PartialEq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
pub struct InputProvenance {
    /// The upstream asset's key path.
    pub asset: Vec<String>,
    /// `(partition key, data version)` of each partition read, in upstream order.
    pub partitions: Vec<(String, String)>,
    /// The input's data version (Dagster's `dagster/input_data_version/<asset>`).
    pub data_version: String,
    /// `(partition key, store version)` of each partition the load read, in
    /// the order read (empty when the loading manager keeps no versions).
    pub stored_versions: Vec<(String, u64)>,
    /// The earlier version or time the input was loaded as of, as written
    /// by [`AsOf`](crate::AsOf)'s `Display` (`None`: the newest versions).
    pub as_of: Option<String>,
}

/// The last failed materialization attempt of an (asset, partition).
#[derive(Debug, Clone, PartialEq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
pub struct FailureRecord {
    /// The run that failed.
    pub run_id: String,
    /// When it failed, in microseconds since the Unix epoch (UTC).
    pub failed_at_micros: i64,
    /// The error.
    pub error: String,
}

/// The status of one partition, as Dagster's `AssetPartitionStatus` (plus missing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartitionStatus {
    /// Never materialized.
    Missing,
    /// Its latest attempt succeeded.
    Materialized,
    /// Its latest attempt failed.
    Failed,
}

impl std::fmt::Display for PartitionStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Missing => "missing",
            Self::Materialized => "materialized",
            Self::Failed => "failed",
        })
    }
}
