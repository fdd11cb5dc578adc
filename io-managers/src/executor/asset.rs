//! An asset definition: key, partitions, inputs, manager and compute function.

use std::sync::Arc;

use tessera_engine::AssetKey;

use super::compute::{AssetContext, ComputeError, Output};
use super::inputs::Inputs;
use crate::context::{AsOf, LoadMode};
use crate::metadata::{Metadata, MetadataValue};
use crate::partitions::{PartitionMapping, PartitionsDefinition};

/// The I/O manager key an asset uses unless it names another (Dagster's `"io_manager"`).
pub const DEFAULT_IO_MANAGER_KEY: &str = "io_manager";

/// The compute function of an asset.
pub(crate) type ComputeFn =
    dyn Fn(&AssetContext, &mut Inputs) -> Result<Output, ComputeError> + Send + Sync;

/// How a backfill over many partitions runs the compute function.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum BackfillPolicy {
    /// One compute call per partition (Dagster's `multi_run(1)`).
    #[default]
    PerPartition,
    /// One compute call for every selected partition, returning one value per
    /// partition ([`Output::partitions`]), stored atomically (Dagster's
    /// `single_run()`, which its file managers refuse).
    SingleRun,
}

/// One input of an asset: Dagster's `AssetIn`.
#[derive(Debug, Clone)]
pub struct AssetInput {
    pub(crate) name: String,
    pub(crate) upstream: AssetKey,
    pub(crate) mapping: Option<PartitionMapping>,
    pub(crate) input_manager_key: Option<String>,
    pub(crate) allow_missing_partitions: bool,
    pub(crate) load_mode: LoadMode,
    pub(crate) columns: Option<Vec<String>>,
    pub(crate) metadata: Metadata,
    pub(crate) as_of: Option<AsOf>,
}

impl AssetInput {
    /// An input named `name` reading the asset `upstream`.
    pub fn new(name: impl Into<String>, upstream: AssetKey) -> Self {
        Self {
            name: name.into(),
            upstream,
            mapping: None,
            input_manager_key: None,
            allow_missing_partitions: false,
            load_mode: LoadMode::default(),
            columns: None,
            metadata: Metadata::new(),
            as_of: None,
        }
    }

    /// Loads the upstream as of an earlier version or time instead of its
    /// newest version (see [`AsOf`]); the run's record names the versions
    /// read.
    #[must_use]
    pub fn as_of(mut self, as_of: AsOf) -> Self {
        self.as_of = Some(as_of);
        self
    }

    /// The partition mapping (Dagster's inference when not set).
    #[must_use]
    pub fn mapping(mut self, mapping: PartitionMapping) -> Self {
        self.mapping = Some(mapping);
        self
    }

    /// Loads through this input manager instead of the upstream's I/O manager.
    #[must_use]
    pub fn input_manager(mut self, key: impl Into<String>) -> Self {
        self.input_manager_key = Some(key.into());
        self
    }

    /// Skips missing upstream partitions instead of failing.
    #[must_use]
    pub fn allow_missing_partitions(mut self, allow: bool) -> Self {
        self.allow_missing_partitions = allow;
        self
    }

    /// How several partitions are handed over.
    #[must_use]
    pub fn load_mode(mut self, mode: LoadMode) -> Self {
        self.load_mode = mode;
        self
    }

    /// Loads only these columns (table managers).
    #[must_use]
    pub fn columns<I, S>(mut self, columns: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.columns = Some(columns.into_iter().map(Into::into).collect());
        self
    }

    /// One entry of the input's definition metadata.
    #[must_use]
    pub fn metadata(mut self, key: impl Into<String>, value: impl Into<MetadataValue>) -> Self {
        self.metadata.insert(key.into(), value.into());
        self
    }

    /// The input's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The upstream asset.
    pub fn upstream(&self) -> &AssetKey {
        &self.upstream
    }
}

/// An asset: Dagster's `@asset`.
#[derive(Clone)]
pub struct AssetDefinition {
    pub(crate) key: AssetKey,
    pub(crate) partitions: Option<PartitionsDefinition>,
    pub(crate) code_version: Option<String>,
    pub(crate) inputs: Vec<AssetInput>,
    pub(crate) io_manager_key: String,
    pub(crate) metadata: Metadata,
    pub(crate) backfill_policy: BackfillPolicy,
    pub(crate) compute: Arc<ComputeFn>,
}

impl AssetDefinition {
    /// An unpartitioned asset with no inputs, computed by `compute`.
    pub fn new<F>(key: AssetKey, compute: F) -> Self
    where
        F: Fn(&AssetContext, &mut Inputs) -> Result<Output, ComputeError> + Send + Sync + 'static,
    {
        Self {
            key,
            partitions: None,
            code_version: None,
            inputs: Vec::new(),
            io_manager_key: DEFAULT_IO_MANAGER_KEY.to_owned(),
            metadata: Metadata::new(),
            backfill_policy: BackfillPolicy::default(),
            compute: Arc::new(compute),
        }
    }

    /// Puts the key under `prefix` (Dagster's `key_prefix`).
    ///
    /// # Errors
    /// An invalid prefix component.
    pub fn key_prefix<I, S>(mut self, prefix: I) -> crate::Result<Self>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.key = self.key.with_prefix(prefix)?;
        Ok(self)
    }

    /// Partitions the asset.
    #[must_use]
    pub fn partitions(mut self, partitions: impl Into<PartitionsDefinition>) -> Self {
        self.partitions = Some(partitions.into());
        self
    }

    /// The code version.
    #[must_use]
    pub fn code_version(mut self, version: impl Into<String>) -> Self {
        self.code_version = Some(version.into());
        self
    }

    /// Adds an input.
    #[must_use]
    pub fn input(mut self, input: AssetInput) -> Self {
        self.inputs.push(input);
        self
    }

    /// Stores the output through this I/O manager.
    #[must_use]
    pub fn io_manager(mut self, key: impl Into<String>) -> Self {
        self.io_manager_key = key.into();
        self
    }

    /// One entry of definition metadata.
    #[must_use]
    pub fn metadata(mut self, key: impl Into<String>, value: impl Into<MetadataValue>) -> Self {
        self.metadata.insert(key.into(), value.into());
        self
    }

    /// How backfills call the compute function.
    #[must_use]
    pub fn backfill_policy(mut self, policy: BackfillPolicy) -> Self {
        self.backfill_policy = policy;
        self
    }

    /// The asset's key.
    pub fn key(&self) -> &AssetKey {
        &self.key
    }

    /// Its partitions definition.
    pub fn partitions_def(&self) -> Option<&PartitionsDefinition> {
        self.partitions.as_ref()
    }

    /// Its code version.
    pub fn code_version_str(&self) -> Option<&str> {
        self.code_version.as_deref()
    }

    /// Its inputs.
    pub fn inputs(&self) -> &[AssetInput] {
        &self.inputs
    }

    /// Its I/O manager key.
    pub fn io_manager_key(&self) -> &str {
        &self.io_manager_key
    }

    /// Its definition metadata.
    pub fn definition_metadata(&self) -> &Metadata {
        &self.metadata
    }
}

impl std::fmt::Debug for AssetDefinition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AssetDefinition")
            .field("key", &self.key)
            .field("partitions", &self.partitions)
            .field("code_version", &self.code_version)
            .field("inputs", &self.inputs)
            .field("io_manager_key", &self.io_manager_key)
            .finish_non_exhaustive()
    }
}
