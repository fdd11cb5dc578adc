//! Staleness, as Dagster's `CachingStaleStatusResolver` defines it.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use tessera_engine::AssetKey;

use super::record::MaterializationRecord;
use super::version::{NULL_DATA_VERSION, SKIP_PARTITION_DATA_VERSION_DEPENDENCY_THRESHOLD};
use crate::error::Result;
use crate::executor::{AssetDefinition, AssetInput, Definitions};
use crate::partitions::PartitionContext;

/// Why a partition is stale (Dagster's `StaleCauseCategory`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StaleCauseCategory {
    /// Its code version changed since it was materialized.
    Code,
    /// An upstream partition it read has a new data version.
    Data,
    /// An upstream partition it reads is itself stale.
    Dependencies,
}

/// One cause of staleness.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaleCause {
    /// The category.
    pub category: StaleCauseCategory,
    /// Dagster's wording: "has a new code version", …
    pub reason: String,
    /// The upstream (asset, partition) concerned, for data and dependency causes.
    pub dependency: Option<(AssetKey, Option<String>)>,
}

/// Whether a partition is up to date (Dagster's `StaleStatus`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StaleStatus {
    /// Never materialized.
    Missing,
    /// Materialized and up to date.
    Fresh,
    /// Materialized, but out of date for these causes.
    Stale(Vec<StaleCause>),
}

impl StaleStatus {
    /// Whether it is [`StaleStatus::Fresh`].
    pub fn is_fresh(&self) -> bool {
        matches!(self, Self::Fresh)
    }
}

/// Resolves staleness with a cache, so a chain of self-dependent partitions
/// is walked once.
pub(crate) struct StalenessResolver<'a> {
    definitions: &'a Definitions,
    now: DateTime<Utc>,
    cache: HashMap<(AssetKey, Option<String>), StaleStatus>,
}

impl<'a> StalenessResolver<'a> {
    pub(crate) fn new(definitions: &'a Definitions, now: DateTime<Utc>) -> Self {
        Self {
            definitions,
            now,
            cache: HashMap::new(),
        }
    }

    pub(crate) fn status(
        &mut self,
        asset: &AssetKey,
        partition: Option<&str>,
    ) -> Result<StaleStatus> {
        let cache_key = (asset.clone(), partition.map(str::to_owned));
        if let Some(status) = self.cache.get(&cache_key) {
            return Ok(status.clone());
        }
        let status = self.resolve(asset, partition)?;
        self.cache.insert(cache_key, status.clone());
        Ok(status)
    }

    fn resolve(&mut self, key: &AssetKey, partition: Option<&str>) -> Result<StaleStatus> {
        let definitions = self.definitions;
        let asset = definitions.asset(key)?;
        let Some(record) = definitions.records.materialization(key, partition)? else {
            return Ok(StaleStatus::Missing);
        };
        let mut causes = Vec::new();
        if asset
            .code_version
            .as_deref()
            .is_some_and(|v| v != record.code_version)
        {
            causes.push(StaleCause {
                category: StaleCauseCategory::Code,
                reason: "has a new code version".to_owned(),
                dependency: None,
            });
        }
        for input in &asset.inputs {
            self.input_causes(asset, input, partition, &record, &mut causes)?;
        }
        Ok(if causes.is_empty() {
            StaleStatus::Fresh
        } else {
            StaleStatus::Stale(causes)
        })
    }

    fn input_causes(
        &mut self,
        asset: &AssetDefinition,
        input: &AssetInput,
        partition: Option<&str>,
        record: &MaterializationRecord,
        causes: &mut Vec<StaleCause>,
    ) -> Result<()> {
        let definitions = self.definitions;
        let upstream = definitions.asset(&input.upstream)?;
        let mapped = self.mapped_partitions(asset, input, partition)?;
        if mapped.len() >= SKIP_PARTITION_DATA_VERSION_DEPENDENCY_THRESHOLD {
            return Ok(());
        }
        let recorded = record
            .inputs
            .iter()
            .find(|p| p.asset.as_slice() == upstream.key.components());
        for upstream_partition in mapped {
            let current = definitions
                .records
                .data_version(&upstream.key, upstream_partition.as_deref())?
                .unwrap_or_else(|| NULL_DATA_VERSION.to_owned());
            let seen = recorded.and_then(|p| {
                p.partitions
                    .iter()
                    .find(|(k, _)| k.as_str() == upstream_partition.as_deref().unwrap_or_default())
                    .map(|(_, v)| v.as_str())
            });
            let dependency = Some((upstream.key.clone(), upstream_partition.clone()));
            if seen != Some(current.as_str()) {
                causes.push(StaleCause {
                    category: StaleCauseCategory::Data,
                    reason: "has a new dependency data version".to_owned(),
                    dependency,
                });
            } else if let StaleStatus::Stale(_) =
                self.status(&upstream.key, upstream_partition.as_deref())?
            {
                causes.push(StaleCause {
                    category: StaleCauseCategory::Dependencies,
                    reason: "has stale dependencies".to_owned(),
                    dependency,
                });
            }
        }
        Ok(())
    }

    /// The upstream partitions `partition` reads now (`[None]` for an
    /// unpartitioned upstream).
    fn mapped_partitions(
        &self,
        asset: &AssetDefinition,
        input: &AssetInput,
        partition: Option<&str>,
    ) -> Result<Vec<Option<String>>> {
        let definitions = self.definitions;
        let upstream = definitions.asset(&input.upstream)?;
        let Some(upstream_def) = &upstream.partitions else {
            return Ok(vec![None]);
        };
        let ctx = PartitionContext::at(self.now).with_dynamic(&definitions.dynamic);
        let mapping = definitions.input_mapping(asset, input)?;
        let downstream_keys: Vec<String> = partition.map(str::to_owned).into_iter().collect();
        let mapped = mapping.upstream_for_downstream(
            &downstream_keys,
            asset.partitions.as_ref(),
            upstream_def,
            &ctx,
        )?;
        Ok(mapped.keys.into_iter().map(Some).collect())
    }
}

impl Definitions {
    /// Whether `(asset, partition)` is missing, fresh or stale, and why.
    ///
    /// # Errors
    /// [`crate::Error::UnknownAsset`], the store's errors, or a mapping's.
    pub fn stale_status(
        &self,
        asset: &AssetKey,
        partition: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<StaleStatus> {
        StalenessResolver::new(self, now).status(asset, partition)
    }
}
