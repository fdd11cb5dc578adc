//! A validated set of assets and managers: Dagster's `Definitions`.

use std::collections::HashMap;
use std::sync::Arc;

use tessera_engine::{AssetKey, Store};

use super::asset::{AssetDefinition, AssetInput};
use super::validate::validate;
use crate::error::{Error, Result};
use crate::manager::IoManagers;
use crate::partitions::{
    PartitionContext, PartitionMapping, StoreDynamicPartitions, infer_partition_mapping,
};
use crate::records::RecordStore;

/// Assets, their managers and the store that keeps their records, validated
/// when built: unknown upstreams, cycles, missing managers and mappings that do
/// not fit are errors before anything runs.
#[derive(Debug)]
pub struct Definitions {
    pub(crate) assets: Vec<AssetDefinition>,
    pub(crate) index: HashMap<AssetKey, usize>,
    pub(crate) order: Vec<usize>,
    pub(crate) managers: IoManagers,
    pub(crate) records: RecordStore,
    pub(crate) dynamic: StoreDynamicPartitions,
}

impl Definitions {
    /// A builder whose records (and dynamic partitions) live in `store`.
    pub fn builder(store: Arc<Store>) -> DefinitionsBuilder {
        DefinitionsBuilder {
            store,
            assets: Vec::new(),
            managers: IoManagers::new(),
        }
    }

    /// The asset of `key`.
    ///
    /// # Errors
    /// [`Error::UnknownAsset`].
    pub fn asset(&self, key: &AssetKey) -> Result<&AssetDefinition> {
        self.index
            .get(key)
            .map(|&at| &self.assets[at])
            .ok_or_else(|| Error::UnknownAsset(key.clone()))
    }

    /// Every asset, upstream before downstream.
    pub fn assets(&self) -> impl Iterator<Item = &AssetDefinition> {
        self.order.iter().map(|&at| &self.assets[at])
    }

    /// The managers.
    pub fn managers(&self) -> &IoManagers {
        &self.managers
    }

    /// The materialization records.
    pub fn records(&self) -> &RecordStore {
        &self.records
    }

    /// The dynamic partitions (kept in the store).
    pub fn dynamic_partitions(&self) -> &StoreDynamicPartitions {
        &self.dynamic
    }

    /// The partition mapping of an input: its own, or Dagster's inference.
    ///
    /// # Errors
    /// [`Error::UnknownAsset`], or a mapping that cannot be inferred.
    pub fn input_mapping(
        &self,
        asset: &AssetDefinition,
        input: &AssetInput,
    ) -> Result<PartitionMapping> {
        if let Some(mapping) = &input.mapping {
            return Ok(mapping.clone());
        }
        let upstream = self.asset(&input.upstream)?;
        Ok(infer_partition_mapping(
            upstream.partitions.as_ref(),
            asset.partitions.as_ref(),
        )?)
    }

    /// The partition keys of `asset` at `now` (`None` if unpartitioned).
    ///
    /// # Errors
    /// The partitions definition's errors.
    pub fn partition_keys(
        &self,
        asset: &AssetDefinition,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Option<Vec<String>>> {
        let ctx = PartitionContext::at(now).with_dynamic(&self.dynamic);
        asset
            .partitions
            .as_ref()
            .map(|def| def.keys(&ctx))
            .transpose()
            .map_err(Error::from)
    }
}

/// Builds [`Definitions`]; see [`Definitions::builder`].
#[derive(Debug)]
#[must_use]
pub struct DefinitionsBuilder {
    store: Arc<Store>,
    assets: Vec<AssetDefinition>,
    managers: IoManagers,
}

impl DefinitionsBuilder {
    /// Adds an asset.
    pub fn asset(mut self, asset: AssetDefinition) -> Self {
        self.assets.push(asset);
        self
    }

    /// The named I/O managers and input managers.
    pub fn managers(mut self, managers: IoManagers) -> Self {
        self.managers = managers;
        self
    }

    /// Validates and builds.
    ///
    /// # Errors
    /// [`Error::DuplicateAsset`], [`Error::ReservedAsset`],
    /// [`Error::UnknownUpstream`], [`Error::Cycle`], [`Error::MissingManager`],
    /// [`Error::IncompatibleMapping`].
    pub fn build(self) -> Result<Definitions> {
        let mut index = HashMap::new();
        for (at, asset) in self.assets.iter().enumerate() {
            if index.insert(asset.key.clone(), at).is_some() {
                return Err(Error::DuplicateAsset(asset.key.clone()));
            }
        }
        let mut definitions = Definitions {
            assets: self.assets,
            index,
            order: Vec::new(),
            managers: self.managers,
            records: RecordStore::new(self.store.clone()),
            dynamic: StoreDynamicPartitions::new(self.store),
        };
        definitions.order = validate(&definitions)?;
        Ok(definitions)
    }
}
