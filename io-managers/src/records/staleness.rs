//! Staleness, as Dagster's `CachingStaleStatusResolver` defines it, without
//! its threshold: every upstream partition a partition reads is compared,
//! however many there are (Dagster stops at 100,
//! `SKIP_PARTITION_DATA_VERSION_DEPENDENCY_THRESHOLD`).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use tessera_engine::AssetKey;

use super::record::MaterializationRecord;
use super::version::{NULL_DATA_VERSION, partitioned_input_data_version};
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
    /// Its dependencies changed: an input was added or removed since it was
    /// materialized. (A stale upstream does not make it stale: only a new
    /// upstream data version does, as in Dagster.)
    Dependencies,
    /// An upstream partition it reads (or, for a missing partition, would
    /// read) has no materialization: a Tessera addition to Dagster's three.
    MissingUpstream,
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

/// Resolves staleness with a cache of the statuses found.
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
        for recorded in &record.inputs {
            if !asset
                .inputs
                .iter()
                .any(|i| i.upstream.components() == recorded.asset.as_slice())
            {
                let removed = AssetKey::new(recorded.asset.iter().cloned())?;
                causes.push(StaleCause {
                    category: StaleCauseCategory::Dependencies,
                    reason: format!("removed dependency on {removed}"),
                    dependency: Some((removed, None)),
                });
            }
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

    /// The upstream partitions a missing partition would read that are
    /// missing too.
    pub(crate) fn missing_upstream(
        &self,
        key: &AssetKey,
        partition: Option<&str>,
    ) -> Result<Vec<StaleCause>> {
        let definitions = self.definitions;
        let asset = definitions.asset(key)?;
        let mut causes = Vec::new();
        for input in &asset.inputs {
            let upstream = definitions.asset(&input.upstream)?;
            if upstream.key == asset.key {
                continue;
            }
            let current = self.current_versions(asset, input, partition)?;
            for (upstream_partition, version) in current {
                if version.is_none() {
                    causes.push(missing_cause(&upstream.key, upstream_partition));
                }
            }
        }
        Ok(causes)
    }

    fn input_causes(
        &self,
        asset: &AssetDefinition,
        input: &AssetInput,
        partition: Option<&str>,
        record: &MaterializationRecord,
        causes: &mut Vec<StaleCause>,
    ) -> Result<()> {
        let upstream_key = self.definitions.asset(&input.upstream)?.key.clone();
        let current = self.current_versions(asset, input, partition)?;
        let Some(recorded) = record
            .inputs
            .iter()
            .find(|p| p.asset.as_slice() == upstream_key.components())
        else {
            causes.push(StaleCause {
                category: StaleCauseCategory::Dependencies,
                reason: format!("has a new dependency on {upstream_key}"),
                dependency: Some((upstream_key, None)),
            });
            return Ok(());
        };
        if recorded.partitions.is_empty() && !current.is_empty() {
            // Written when only a combined version was kept: compare that.
            if combined(&current) != recorded.data_version {
                causes.push(data_cause(&upstream_key, None));
            }
            return Ok(());
        }
        let seen: HashMap<&str, &str> = recorded
            .partitions
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        for (upstream_partition, version) in current {
            let was = seen
                .get(upstream_partition.as_deref().unwrap_or_default())
                .copied();
            let now = version.as_deref().unwrap_or(NULL_DATA_VERSION);
            if was == Some(now) {
                continue;
            }
            if version.is_none() {
                causes.push(missing_cause(&upstream_key, upstream_partition));
            } else {
                causes.push(data_cause(&upstream_key, upstream_partition));
            }
        }
        Ok(())
    }

    /// The upstream partitions `partition` reads now (`None` for an
    /// unpartitioned upstream), each with its current data version (`None`:
    /// never materialized), in the upstream's order. The versions come from
    /// one range scan of the upstream's records, whatever their number.
    fn current_versions(
        &self,
        asset: &AssetDefinition,
        input: &AssetInput,
        partition: Option<&str>,
    ) -> Result<Vec<(Option<String>, Option<String>)>> {
        let definitions = self.definitions;
        let upstream = definitions.asset(&input.upstream)?;
        let Some(upstream_def) = &upstream.partitions else {
            let version = definitions.records.data_version(&upstream.key, None)?;
            return Ok(vec![(None, version)]);
        };
        let ctx = PartitionContext::at(self.now).with_dynamic(&definitions.dynamic);
        let mapping = definitions.input_mapping(asset, input)?;
        let downstream_keys: Vec<String> = partition.map(str::to_owned).into_iter().collect();
        let mapped = mapping
            .upstream_for_downstream(
                &downstream_keys,
                asset.partitions.as_ref(),
                upstream_def,
                &ctx,
            )?
            .keys;
        let mut versions = definitions.records.data_versions(&upstream.key, &mapped)?;
        Ok(mapped
            .into_iter()
            .map(|key| {
                let version = versions.remove(&key);
                (Some(key), version)
            })
            .collect())
    }
}

/// The combined version of an input (Dagster's rule), from current versions.
fn combined(current: &[(Option<String>, Option<String>)]) -> String {
    partitioned_input_data_version(current.iter().map(|(k, v)| {
        (
            k.as_deref().unwrap_or_default(),
            v.as_deref().unwrap_or(NULL_DATA_VERSION),
        )
    }))
}

fn data_cause(upstream: &AssetKey, partition: Option<String>) -> StaleCause {
    StaleCause {
        category: StaleCauseCategory::Data,
        reason: "has a new dependency data version".to_owned(),
        dependency: Some((upstream.clone(), partition)),
    }
}

fn missing_cause(upstream: &AssetKey, partition: Option<String>) -> StaleCause {
    StaleCause {
        category: StaleCauseCategory::MissingUpstream,
        reason: "has a missing dependency".to_owned(),
        dependency: Some((upstream.clone(), partition)),
    }
}

/// A partition that is not fresh, and why: an entry of
/// [`Definitions::stale_partitions`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StalePartition {
    /// The partition (`None` for an unpartitioned asset).
    pub partition: Option<String>,
    /// Never materialized (otherwise it is stale).
    pub missing: bool,
    /// For a stale partition, why (code version, the upstream partitions whose
    /// data version changed or that went missing, added or removed inputs);
    /// for a missing one, the upstream partitions it would read that are
    /// missing too.
    pub causes: Vec<StaleCause>,
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

    /// Every partition of `asset` that is missing or stale now, in the
    /// definition's order, with its causes; see
    /// [`Definitions::stale_partitions_at`].
    ///
    /// # Errors
    /// As [`Definitions::stale_partitions_at`].
    pub fn stale_partitions(&self, asset: &AssetKey) -> Result<Vec<StalePartition>> {
        self.stale_partitions_at(asset, Utc::now())
    }

    /// Every partition of `asset` that is missing or stale at `now` (which
    /// decides the time-window partitions that exist), in the definition's
    /// order, with its causes. An unpartitioned asset gives at most one entry,
    /// with no partition.
    ///
    /// Staleness has no threshold: a partition reading 744 hourly partitions,
    /// or ten years of days, is stale exactly when one of them changed, and
    /// the causes name each.
    ///
    /// # Errors
    /// [`crate::Error::UnknownAsset`], the store's errors, or a mapping's.
    pub fn stale_partitions_at(
        &self,
        asset: &AssetKey,
        now: DateTime<Utc>,
    ) -> Result<Vec<StalePartition>> {
        let target = self.asset(asset)?;
        let mut resolver = StalenessResolver::new(self, now);
        let mut stale = Vec::new();
        for partition in self.partitions_or_none(target, now)? {
            let (missing, causes) = match resolver.status(asset, partition.as_deref())? {
                StaleStatus::Fresh => continue,
                StaleStatus::Missing => (
                    true,
                    resolver.missing_upstream(asset, partition.as_deref())?,
                ),
                StaleStatus::Stale(causes) => (false, causes),
            };
            stale.push(StalePartition {
                partition,
                missing,
                causes,
            });
        }
        Ok(stale)
    }

    /// The keys of `asset` at `now`, or the one "no partition".
    fn partitions_or_none(
        &self,
        asset: &AssetDefinition,
        now: DateTime<Utc>,
    ) -> Result<Vec<Option<String>>> {
        Ok(match self.partition_keys(asset, now)? {
            Some(keys) => keys.into_iter().map(Some).collect(),
            None => vec![None],
        })
    }
}
