//! The context of `load_input`.

use std::sync::{Arc, Mutex, PoisonError};

use tessera_engine::AssetKey;

use super::as_of::{AsOf, LoadedVersion};
use super::output::OutputContext;
use super::scope::{PartitionKeyRange, PartitionScope, keys, partitioned, time_window};
use crate::error::{Error, Result};
use crate::metadata::{Metadata, MetadataValue};
use crate::partitions::TimeWindow;

/// How several upstream partitions are handed to the downstream compute.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LoadMode {
    /// Dagster's contract: no mapped key gives nothing, one key the bare
    /// value, two or more a map keyed by partition key.
    #[default]
    DagsterContract,
    /// Always a map keyed by partition key, even for zero or one key.
    AlwaysMap,
}

/// What `load_input` knows about the input it loads: Dagster's
/// `InputContext`.
///
/// `asset_key` and `asset_partition_keys` are the **upstream** asset and the
/// upstream keys the downstream partition maps to; `partition_key` is the
/// run's (downstream) partition.
///
/// Clones share the list of [`InputContext::loaded_versions`].
#[derive(Debug, Clone)]
pub struct InputContext {
    name: String,
    asset_key: AssetKey,
    partition_key: Option<String>,
    scope: Option<PartitionScope>,
    definition_metadata: Metadata,
    upstream_output: Option<Arc<OutputContext>>,
    allow_missing_partitions: bool,
    load_mode: LoadMode,
    columns: Option<Vec<String>>,
    as_of: Option<AsOf>,
    loaded: Arc<Mutex<Vec<LoadedVersion>>>,
}

impl InputContext {
    /// A builder, the equivalent of Dagster's `build_input_context`.
    pub fn builder(asset_key: AssetKey) -> InputContextBuilder {
        InputContextBuilder {
            context: Self {
                name: asset_key.name().to_owned(),
                asset_key,
                partition_key: None,
                scope: None,
                definition_metadata: Metadata::new(),
                upstream_output: None,
                allow_missing_partitions: false,
                load_mode: LoadMode::default(),
                columns: None,
                as_of: None,
                loaded: Arc::default(),
            },
        }
    }

    /// The input's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The upstream asset.
    pub fn asset_key(&self) -> &AssetKey {
        &self.asset_key
    }

    /// Whether the run is for exactly one (downstream) partition.
    pub fn has_partition_key(&self) -> bool {
        self.partition_key.is_some()
    }

    /// The run's (downstream) partition key.
    ///
    /// # Errors
    /// [`Error::NotPartitioned`] when the run is not for one partition.
    pub fn partition_key(&self) -> Result<&str> {
        self.partition_key
            .as_deref()
            .ok_or_else(|| Error::NotPartitioned(self.asset_key.clone()))
    }

    /// Whether the upstream asset is partitioned.
    pub fn has_asset_partitions(&self) -> bool {
        self.scope.is_some()
    }

    /// The one upstream partition key the input maps to.
    ///
    /// # Errors
    /// [`Error::NotPartitioned`], or [`Error::NotSinglePartition`].
    pub fn asset_partition_key(&self) -> Result<&str> {
        partitioned(self.scope.as_ref(), &self.asset_key)?.single_key(&self.asset_key)
    }

    /// The upstream partition keys the input maps to, in the upstream
    /// definition's order (empty when unpartitioned).
    pub fn asset_partition_keys(&self) -> &[String] {
        keys(self.scope.as_ref())
    }

    /// The first and last mapped upstream keys.
    ///
    /// # Errors
    /// [`Error::NotPartitioned`], or [`Error::NotSinglePartition`] when no key is mapped.
    pub fn asset_partition_key_range(&self) -> Result<PartitionKeyRange> {
        partitioned(self.scope.as_ref(), &self.asset_key)?.range(&self.asset_key)
    }

    /// The time window the mapped upstream partitions span.
    ///
    /// # Errors
    /// [`Error::NoTimeWindow`] unless the upstream partitions are time windows.
    pub fn asset_partitions_time_window(&self) -> Result<TimeWindow> {
        time_window(self.scope.as_ref(), &self.asset_key)
    }

    /// The input's own definition metadata (the upstream's is on
    /// [`InputContext::upstream_output`]).
    pub fn definition_metadata(&self) -> &Metadata {
        &self.definition_metadata
    }

    /// The context of the upstream output, when there is one.
    pub fn upstream_output(&self) -> Option<&OutputContext> {
        self.upstream_output.as_deref()
    }

    /// Whether a missing upstream partition is skipped rather than an error.
    pub fn allow_missing_partitions(&self) -> bool {
        self.allow_missing_partitions
    }

    /// How several partitions are handed over.
    pub fn load_mode(&self) -> LoadMode {
        self.load_mode
    }

    /// The columns to load (a projection), for table managers.
    pub fn columns(&self) -> Option<&[String]> {
        self.columns.as_deref()
    }

    /// The earlier version or time to load instead of the newest, if any.
    pub fn as_of(&self) -> Option<AsOf> {
        self.as_of
    }

    /// Notes that a load read stored `version` of `partition` (`None` for an
    /// unpartitioned asset); versioned managers call it for every partition
    /// they return, and the executor records the list with the run.
    pub fn record_loaded_version(
        &self,
        partition: Option<&str>,
        version: u64,
        data_version: Option<String>,
    ) {
        self.loaded_list().push(LoadedVersion {
            partition: partition.unwrap_or_default().to_owned(),
            version,
            data_version,
        });
    }

    /// The stored versions loads through this context (or a clone) read, in
    /// the order they were read; empty for managers without versions.
    pub fn loaded_versions(&self) -> Vec<LoadedVersion> {
        self.loaded_list().clone()
    }

    fn loaded_list(&self) -> std::sync::MutexGuard<'_, Vec<LoadedVersion>> {
        self.loaded.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Builds an [`InputContext`]; see [`InputContext::builder`].
#[derive(Debug, Clone)]
#[must_use]
pub struct InputContextBuilder {
    context: InputContext,
}

impl InputContextBuilder {
    /// The input's name (the upstream asset's name unless set).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.context.name = name.into();
        self
    }

    /// The run's (downstream) partition key.
    pub fn partition_key(mut self, key: impl Into<String>) -> Self {
        self.context.partition_key = Some(key.into());
        self
    }

    /// The upstream partition keys the input maps to; marks the upstream as
    /// partitioned even when the list is empty.
    pub fn asset_partition_keys<I, S>(mut self, keys: I) -> Self
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

    /// The time window the mapped upstream partitions span.
    pub fn time_window(mut self, window: TimeWindow) -> Self {
        self.context
            .scope
            .get_or_insert_with(PartitionScope::default)
            .time_window = Some(window);
        self
    }

    /// One entry of the input's definition metadata.
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

    /// The upstream output's context.
    pub fn upstream_output(mut self, output: Arc<OutputContext>) -> Self {
        self.context.upstream_output = Some(output);
        self
    }

    /// Skip missing upstream partitions instead of failing.
    pub fn allow_missing_partitions(mut self, allow: bool) -> Self {
        self.context.allow_missing_partitions = allow;
        self
    }

    /// How several partitions are handed over.
    pub fn load_mode(mut self, mode: LoadMode) -> Self {
        self.context.load_mode = mode;
        self
    }

    /// Load only these columns.
    pub fn columns<I, S>(mut self, columns: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.context.columns = Some(columns.into_iter().map(Into::into).collect());
        self
    }

    /// Loads the upstream as of an earlier version or time (see [`AsOf`]).
    pub fn as_of(mut self, as_of: AsOf) -> Self {
        self.context.as_of = Some(as_of);
        self
    }

    /// The context.
    pub fn build(self) -> InputContext {
        self.context
    }
}
