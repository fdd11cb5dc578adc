//! The context of `handle_output`.

use std::collections::BTreeMap;
use std::sync::Mutex;

use tessera_engine::AssetKey;

use super::scope::{PartitionKeyRange, PartitionScope, keys, partitioned, time_window};
use crate::error::{Error, Result};
use crate::metadata::{Metadata, MetadataValue};
use crate::partitions::TimeWindow;

/// What `handle_output` knows about the output it stores: Dagster's
/// `OutputContext`.
///
/// Partitioned outputs cover one partition, or a range of them for a
/// single-run backfill ([`crate::IoManager::handle_range_output`]).
#[derive(Debug)]
pub struct OutputContext {
    asset_key: AssetKey,
    name: String,
    scope: Option<PartitionScope>,
    definition_metadata: Metadata,
    code_version: Option<String>,
    data_version: Option<String>,
    partition_data_versions: BTreeMap<String, String>,
    recorded: Mutex<RecordedMetadata>,
}

/// Metadata recorded while an output is handled: for the whole output and
/// per partition (a range output).
#[derive(Debug, Default)]
struct RecordedMetadata {
    shared: Metadata,
    by_partition: BTreeMap<String, Metadata>,
    stored_versions: BTreeMap<String, u64>,
}

fn insert_new(metadata: &mut Metadata, key: String, value: MetadataValue) -> Result<()> {
    if metadata.contains_key(&key) {
        return Err(Error::DuplicateMetadata(key));
    }
    metadata.insert(key, value);
    Ok(())
}

impl OutputContext {
    /// A builder, the equivalent of Dagster's `build_output_context`.
    pub fn builder(asset_key: AssetKey) -> OutputContextBuilder {
        OutputContextBuilder {
            context: Self {
                asset_key,
                name: "result".to_owned(),
                scope: None,
                definition_metadata: Metadata::new(),
                code_version: None,
                data_version: None,
                partition_data_versions: BTreeMap::new(),
                recorded: Mutex::new(RecordedMetadata::default()),
            },
        }
    }

    /// The asset this output materializes.
    pub fn asset_key(&self) -> &AssetKey {
        &self.asset_key
    }

    /// The output's name (`"result"` unless set).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether the output is partitioned at all.
    pub fn has_asset_partitions(&self) -> bool {
        self.scope.is_some()
    }

    /// Whether the output covers exactly one partition.
    pub fn has_partition_key(&self) -> bool {
        self.scope.as_ref().is_some_and(|s| s.keys.len() == 1)
    }

    /// The one partition key of the output.
    ///
    /// # Errors
    /// [`Error::NotPartitioned`], or [`Error::NotSinglePartition`] for a range.
    pub fn partition_key(&self) -> Result<&str> {
        partitioned(self.scope.as_ref(), &self.asset_key)?.single_key(&self.asset_key)
    }

    /// The partition keys of the output, in their definition's order (empty
    /// when unpartitioned).
    pub fn asset_partition_keys(&self) -> &[String] {
        keys(self.scope.as_ref())
    }

    /// The first and last partition keys of the output.
    ///
    /// # Errors
    /// [`Error::NotPartitioned`] for an unpartitioned output.
    pub fn asset_partition_key_range(&self) -> Result<PartitionKeyRange> {
        partitioned(self.scope.as_ref(), &self.asset_key)?.range(&self.asset_key)
    }

    /// The time window the output's partitions span.
    ///
    /// # Errors
    /// [`Error::NoTimeWindow`] unless the partitions are time windows.
    pub fn asset_partitions_time_window(&self) -> Result<TimeWindow> {
        time_window(self.scope.as_ref(), &self.asset_key)
    }

    /// The metadata of the asset's definition.
    pub fn definition_metadata(&self) -> &Metadata {
        &self.definition_metadata
    }

    /// The code version of the asset's definition.
    pub fn code_version(&self) -> Option<&str> {
        self.code_version.as_deref()
    }

    /// The data version the executor assigned to this output.
    pub fn data_version(&self) -> Option<&str> {
        self.data_version.as_deref()
    }

    /// The data version of one partition of the output: its own if a range
    /// output set one, else the output's.
    pub fn partition_data_version(&self, partition: &str) -> Option<&str> {
        self.partition_data_versions
            .get(partition)
            .map(String::as_str)
            .or(self.data_version.as_deref())
    }

    /// Records output metadata, stored with the materialization.
    ///
    /// # Errors
    /// [`Error::DuplicateMetadata`] if `key` was already added, as in Dagster.
    pub fn add_output_metadata(
        &self,
        key: impl Into<String>,
        value: impl Into<MetadataValue>,
    ) -> Result<()> {
        insert_new(&mut self.recorded().shared, key.into(), value.into())
    }

    /// Records metadata for one partition of a range output (Dagster's
    /// `add_asset_metadata(partition_key=…)`).
    ///
    /// # Errors
    /// [`Error::DuplicateMetadata`] if `key` was already added for `partition`.
    pub fn add_partition_metadata(
        &self,
        partition: &str,
        key: impl Into<String>,
        value: impl Into<MetadataValue>,
    ) -> Result<()> {
        let mut recorded = self.recorded();
        let metadata = recorded
            .by_partition
            .entry(partition.to_owned())
            .or_default();
        insert_new(metadata, key.into(), value.into())
    }

    /// The output metadata recorded for the whole output.
    pub fn output_metadata(&self) -> Metadata {
        self.recorded().shared.clone()
    }

    /// The metadata of one partition's materialization: the output's, plus
    /// what was recorded for that partition.
    pub fn metadata_for_partition(&self, partition: &str) -> Metadata {
        let recorded = self.recorded();
        let mut metadata = recorded.shared.clone();
        if let Some(own) = recorded.by_partition.get(partition) {
            metadata.extend(own.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        metadata
    }

    /// Notes that the output of `partition` (`None` for an unpartitioned
    /// asset) was stored as store version `version`; versioned managers call
    /// it after each write, and the executor records it with the run.
    pub fn record_stored_version(&self, partition: Option<&str>, version: u64) {
        self.recorded()
            .stored_versions
            .insert(partition.unwrap_or_default().to_owned(), version);
    }

    /// The store version the output of `partition` (`None` for an
    /// unpartitioned asset) was stored as, if its manager keeps versions.
    pub fn stored_version(&self, partition: Option<&str>) -> Option<u64> {
        self.recorded()
            .stored_versions
            .get(partition.unwrap_or_default())
            .copied()
    }

    /// A context for one partition of this (range) output, with the same
    /// asset, definition metadata and versions.
    pub(crate) fn for_partition(&self, partition: &str) -> Self {
        let mut single = Self::builder(self.asset_key.clone())
            .name(self.name.clone())
            .partition_key(partition)
            .build();
        single.definition_metadata = self.definition_metadata.clone();
        single.code_version = self.code_version.clone();
        single.data_version = self.partition_data_version(partition).map(str::to_owned);
        single
    }

    fn recorded(&self) -> std::sync::MutexGuard<'_, RecordedMetadata> {
        self.recorded
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Builds an [`OutputContext`]; see [`OutputContext::builder`].
#[derive(Debug)]
#[must_use]
pub struct OutputContextBuilder {
    context: OutputContext,
}

impl OutputContextBuilder {
    /// The output's name.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.context.name = name.into();
        self
    }

    /// One partition key.
    pub fn partition_key(self, key: impl Into<String>) -> Self {
        self.partition_keys([key.into()])
    }

    /// Several partition keys (a range output), in their definition's order.
    pub fn partition_keys<I, S>(mut self, keys: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let scope = self
            .context
            .scope
            .get_or_insert_with(PartitionScope::default);
        scope.keys = keys.into_iter().map(Into::into).collect();
        self
    }

    /// The time window the partitions span.
    pub fn time_window(mut self, window: TimeWindow) -> Self {
        self.context
            .scope
            .get_or_insert_with(PartitionScope::default)
            .time_window = Some(window);
        self
    }

    /// One entry of definition metadata.
    pub fn definition_metadata(
        mut self,
        key: impl Into<String>,
        value: impl Into<MetadataValue>,
    ) -> Self {
        self.context
            .definition_metadata
            .insert(key.into(), value.into());
        self
    }

    /// The code version of the asset.
    pub fn code_version(mut self, version: impl Into<String>) -> Self {
        self.context.code_version = Some(version.into());
        self
    }

    /// The data version of the output.
    pub fn data_version(mut self, version: impl Into<String>) -> Self {
        self.context.data_version = Some(version.into());
        self
    }

    /// The data version of one partition of a range output.
    pub fn partition_data_version(
        mut self,
        partition: impl Into<String>,
        version: impl Into<String>,
    ) -> Self {
        self.context
            .partition_data_versions
            .insert(partition.into(), version.into());
        self
    }

    /// The context.
    pub fn build(self) -> OutputContext {
        self.context
    }
}
