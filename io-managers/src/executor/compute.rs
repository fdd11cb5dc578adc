//! What a compute function receives and returns.

use std::sync::{Mutex, PoisonError};

use tessera_engine::AssetKey;

use crate::context::PartitionKeyRange;
use crate::manager::{AnyValue, PartitionMap};
use crate::metadata::{Metadata, MetadataValue};
use crate::partitions::TimeWindow;

/// The error a compute function returns.
pub type ComputeError = Box<dyn std::error::Error + Send + Sync>;

/// What a compute function knows about the run: Dagster's
/// `AssetExecutionContext`.
#[derive(Debug)]
pub struct AssetContext {
    pub(crate) asset_key: AssetKey,
    pub(crate) run_id: String,
    pub(crate) partition_keys: Option<Vec<String>>,
    pub(crate) time_window: Option<TimeWindow>,
    pub(crate) definition_metadata: Metadata,
    pub(crate) log: Mutex<Vec<String>>,
}

impl AssetContext {
    /// The asset being materialized.
    pub fn asset_key(&self) -> &AssetKey {
        &self.asset_key
    }

    /// The run's id.
    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    /// The partition key, when the call is for exactly one partition.
    pub fn partition_key(&self) -> Option<&str> {
        match self.partition_keys.as_deref() {
            Some([key]) => Some(key),
            _ => None,
        }
    }

    /// The partition keys of the call (several for a single-run backfill;
    /// empty for an unpartitioned asset).
    pub fn partition_keys(&self) -> &[String] {
        self.partition_keys.as_deref().unwrap_or(&[])
    }

    /// The first and last partition keys of the call.
    pub fn partition_key_range(&self) -> Option<PartitionKeyRange> {
        let keys = self.partition_keys();
        Some(PartitionKeyRange::new(keys.first()?, keys.last()?))
    }

    /// The time window of the call's partitions.
    pub fn partition_time_window(&self) -> Option<TimeWindow> {
        self.time_window
    }

    /// The asset's definition metadata.
    pub fn definition_metadata(&self) -> &Metadata {
        &self.definition_metadata
    }

    /// Logs a line, kept with the run's result.
    pub fn log(&self, line: impl Into<String>) {
        self.log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(line.into());
    }

    pub(crate) fn take_log(&self) -> Vec<String> {
        std::mem::take(&mut *self.log.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

/// What a compute function returns: Dagster's `Output` / `MaterializeResult`.
#[derive(Debug)]
pub struct Output {
    pub(crate) value: OutputValue,
    pub(crate) data_version: Option<String>,
    pub(crate) metadata: Metadata,
}

#[derive(Debug)]
pub(crate) enum OutputValue {
    Nothing,
    One(AnyValue),
    Partitions(PartitionMap<AnyValue>),
}

impl Output {
    /// A value for the I/O manager to store.
    pub fn new<T: Send + 'static>(value: T) -> Self {
        Self::with(OutputValue::One(AnyValue::new(value)))
    }

    /// No value: the I/O manager is not called, but the materialization is
    /// recorded (Dagster's `MaterializeResult`).
    pub fn none() -> Self {
        Self::with(OutputValue::Nothing)
    }

    /// One value per partition of a single-run backfill, in the call's
    /// partition order.
    pub fn partitions<T: Send + 'static>(values: PartitionMap<T>) -> Self {
        let values = values
            .into_iter()
            .map(|(key, value)| (key, AnyValue::new(value)))
            .collect();
        Self::with(OutputValue::Partitions(values))
    }

    /// A user-supplied data version.
    #[must_use]
    pub fn with_data_version(mut self, version: impl Into<String>) -> Self {
        self.data_version = Some(version.into());
        self
    }

    /// One entry of output metadata.
    #[must_use]
    pub fn with_metadata(
        mut self,
        key: impl Into<String>,
        value: impl Into<MetadataValue>,
    ) -> Self {
        self.metadata.insert(key.into(), value.into());
        self
    }

    fn with(value: OutputValue) -> Self {
        Self {
            value,
            data_version: None,
            metadata: Metadata::new(),
        }
    }
}
