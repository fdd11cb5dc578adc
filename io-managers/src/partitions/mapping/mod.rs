//! [`PartitionMapping`]: which upstream partitions a downstream partition reads.

mod identity;
mod infer;
mod multi;
mod multi_to_single;
mod order;
mod static_map;
mod time_window;
mod whole;

use std::collections::BTreeMap;

pub use infer::infer_partition_mapping;

use self::time_window::Offsets;
use super::context::PartitionContext;
use super::definition::PartitionsDefinition;
use super::error::{PartitionsError, Result};
use super::subset::TimeWindowPartitionsSubset;
use super::time::TimeWindowPartitionsDefinition;

/// How the partitions of a downstream asset depend on those of an upstream
/// asset, as Dagster's built-in `PartitionMapping`s.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PartitionMapping {
    /// `IdentityPartitionMapping`: the same key upstream. Both sides must be
    /// of the same kind; downstream keys the upstream lacks are required but
    /// nonexistent.
    Identity,
    /// `TimeWindowPartitionMapping`: the upstream windows overlapping the
    /// downstream window, its start and end moved by the offsets (counted in
    /// downstream partitions). Both sides must be time windows in one timezone.
    TimeWindow {
        /// Downstream partitions to move the start by (`-1`: also the previous one).
        start_offset: i64,
        /// Downstream partitions to move the end by.
        end_offset: i64,
        /// Drop upstream partitions that do not exist instead of reporting them.
        allow_nonexistent_upstream_partitions: bool,
    },
    /// `AllPartitionMapping`: every upstream partition.
    AllPartitions,
    /// `LastPartitionMapping`: the upstream's last partition.
    LastPartition,
    /// `StaticPartitionMapping(downstream_partition_keys_by_upstream_partition_key)`:
    /// upstream key → the downstream keys that read it, between static definitions.
    StaticPartitions(BTreeMap<String, Vec<String>>),
    /// `SpecificPartitionsPartitionMapping`: these upstream keys, always.
    SpecificPartitions(Vec<String>),
    /// `MultiToSingleDimensionPartitionMapping`: between a multi definition
    /// and one partitioned like one of its dimensions, found automatically or
    /// named.
    MultiToSingleDimension {
        /// The dimension of the multi side, when several would match.
        partition_dimension_name: Option<String>,
    },
    /// `MultiPartitionMapping`: keyed by upstream dimension name; dimensions
    /// not mentioned (on either side) depend on all partitions.
    MultiPartitions(BTreeMap<String, DimensionPartitionMapping>),
}

/// The downstream dimension an upstream dimension maps to, and how
/// (Dagster's `DimensionPartitionMapping`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DimensionPartitionMapping {
    /// The downstream dimension's name.
    pub dimension_name: String,
    /// The mapping between the two dimensions.
    pub partition_mapping: PartitionMapping,
}

/// The upstream partitions a set of downstream partitions reads (Dagster's
/// `UpstreamPartitionsResult`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UpstreamPartitions {
    /// Upstream keys that exist, in the upstream definition's order.
    pub keys: Vec<String>,
    /// Keys the mapping requires that the upstream does not have (yet); a run
    /// of the downstream partitions should fail on them. For multi mappings
    /// these are per-dimension keys, as Dagster reports them.
    pub required_but_nonexistent: Vec<String>,
}

/// [`UpstreamPartitions`] of a time-window mapping, as merged windows.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UpstreamTimeSubsets {
    /// Upstream partitions that exist.
    pub subset: TimeWindowPartitionsSubset,
    /// Upstream partitions required but nonexistent.
    pub required_but_nonexistent: TimeWindowPartitionsSubset,
}

impl PartitionMapping {
    /// The upstream partitions that `downstream_keys` read. `downstream_def`
    /// is `None` for an unpartitioned downstream asset.
    ///
    /// # Errors
    /// [`PartitionsError::IncompatibleMapping`] when the mapping cannot relate
    /// the definitions, [`PartitionsError::KeyNotFound`] (or
    /// [`PartitionsError::MalformedKey`]) for a downstream key the downstream
    /// definition lacks, and evaluation errors.
    pub fn upstream_for_downstream(
        &self,
        downstream_keys: &[String],
        downstream_def: Option<&PartitionsDefinition>,
        upstream_def: &PartitionsDefinition,
        ctx: &PartitionContext<'_>,
    ) -> Result<UpstreamPartitions> {
        if let Some(def) = downstream_def {
            require_keys(def, downstream_keys, ctx)?;
        }
        match (self, downstream_def) {
            (Self::AllPartitions, _) => whole::all_upstream(upstream_def, ctx),
            (Self::LastPartition, _) => whole::last_upstream(upstream_def, ctx),
            (Self::SpecificPartitions(keys), _) => {
                whole::specific_upstream(keys, upstream_def, ctx)
            }
            (_, None) => Err(PartitionsError::IncompatibleMapping {
                mapping: self.name(),
                reason: "the downstream asset is unpartitioned".to_owned(),
            }),
            (Self::Identity, Some(down)) => {
                identity::upstream(downstream_keys, down, upstream_def, ctx)
            }
            (Self::TimeWindow { .. }, Some(down)) => {
                time_window::upstream_keys(self.offsets(), downstream_keys, down, upstream_def, ctx)
            }
            (Self::StaticPartitions(map), Some(down)) => {
                static_map::upstream(map, downstream_keys, down, upstream_def, ctx)
            }
            (
                Self::MultiToSingleDimension {
                    partition_dimension_name,
                },
                Some(down),
            ) => multi_to_single::upstream(
                partition_dimension_name.as_deref(),
                downstream_keys,
                down,
                upstream_def,
                ctx,
            ),
            (Self::MultiPartitions(map), Some(down)) => {
                multi::upstream(map, downstream_keys, down, upstream_def, ctx)
            }
        }
    }

    /// The downstream partitions that read any of `upstream_keys` (what goes
    /// stale when they change), in the downstream definition's order.
    ///
    /// # Errors
    /// As [`PartitionMapping::upstream_for_downstream`], for upstream keys.
    pub fn downstream_for_upstream(
        &self,
        upstream_keys: &[String],
        upstream_def: &PartitionsDefinition,
        downstream_def: &PartitionsDefinition,
        ctx: &PartitionContext<'_>,
    ) -> Result<Vec<String>> {
        require_keys(upstream_def, upstream_keys, ctx)?;
        match self {
            Self::Identity => {
                identity::downstream(upstream_keys, upstream_def, downstream_def, ctx)
            }
            Self::TimeWindow { .. } => time_window::downstream_keys(
                self.offsets(),
                upstream_keys,
                upstream_def,
                downstream_def,
                ctx,
            ),
            Self::AllPartitions => {
                whole::all_downstream_if(!upstream_keys.is_empty(), downstream_def, ctx)
            }
            Self::LastPartition => {
                let last = upstream_def.last_key(ctx)?;
                let affected = last.is_some_and(|l| upstream_keys.contains(&l));
                whole::all_downstream_if(affected, downstream_def, ctx)
            }
            Self::SpecificPartitions(keys) => {
                let affected = keys.iter().any(|k| upstream_keys.contains(k));
                whole::all_downstream_if(affected, downstream_def, ctx)
            }
            Self::StaticPartitions(map) => {
                static_map::downstream(map, upstream_keys, upstream_def, downstream_def, ctx)
            }
            Self::MultiToSingleDimension {
                partition_dimension_name,
            } => multi_to_single::downstream(
                partition_dimension_name.as_deref(),
                upstream_keys,
                upstream_def,
                downstream_def,
                ctx,
            ),
            Self::MultiPartitions(map) => {
                multi::downstream(map, upstream_keys, upstream_def, downstream_def, ctx)
            }
        }
    }

    /// A time-window mapping applied to merged windows, without formatting a
    /// key: mapping a daily downstream subset onto ten years of hourly
    /// partitions costs a few schedule computations per window.
    ///
    /// # Errors
    /// [`PartitionsError::IncompatibleMapping`] unless this is a
    /// [`PartitionMapping::TimeWindow`] between definitions in one timezone.
    pub fn upstream_time_subsets(
        &self,
        downstream: &TimeWindowPartitionsSubset,
        downstream_def: &TimeWindowPartitionsDefinition,
        upstream_def: &TimeWindowPartitionsDefinition,
        ctx: &PartitionContext<'_>,
    ) -> Result<UpstreamTimeSubsets> {
        self.check_time_window(downstream_def, upstream_def)?;
        time_window::upstream(
            self.offsets(),
            downstream_def,
            upstream_def,
            downstream,
            ctx.now,
        )
    }

    /// The downstream partitions of an upstream subset of a time-window
    /// mapping, as merged windows.
    ///
    /// # Errors
    /// As [`PartitionMapping::upstream_time_subsets`].
    pub fn downstream_time_subset(
        &self,
        upstream: &TimeWindowPartitionsSubset,
        upstream_def: &TimeWindowPartitionsDefinition,
        downstream_def: &TimeWindowPartitionsDefinition,
        ctx: &PartitionContext<'_>,
    ) -> Result<TimeWindowPartitionsSubset> {
        self.check_time_window(downstream_def, upstream_def)?;
        time_window::downstream(self.offsets(), downstream_def, upstream, ctx.now)
    }

    fn check_time_window(
        &self,
        downstream_def: &TimeWindowPartitionsDefinition,
        upstream_def: &TimeWindowPartitionsDefinition,
    ) -> Result<()> {
        if !matches!(self, Self::TimeWindow { .. }) {
            return Err(PartitionsError::IncompatibleMapping {
                mapping: self.name(),
                reason: "only a time-window mapping maps time subsets".to_owned(),
            });
        }
        if downstream_def.timezone() != upstream_def.timezone() {
            return Err(PartitionsError::IncompatibleMapping {
                mapping: self.name(),
                reason: format!(
                    "timezones {} and {} don't match",
                    upstream_def.timezone(),
                    downstream_def.timezone()
                ),
            });
        }
        Ok(())
    }

    fn offsets(&self) -> Offsets {
        match self {
            Self::TimeWindow {
                start_offset,
                end_offset,
                allow_nonexistent_upstream_partitions,
            } => Offsets {
                start: *start_offset,
                end: *end_offset,
                allow_nonexistent: *allow_nonexistent_upstream_partitions,
            },
            _ => Offsets {
                start: 0,
                end: 0,
                allow_nonexistent: false,
            },
        }
    }

    /// Dagster's class name of the mapping.
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            Self::Identity => "IdentityPartitionMapping",
            Self::TimeWindow { .. } => "TimeWindowPartitionMapping",
            Self::AllPartitions => "AllPartitionMapping",
            Self::LastPartition => "LastPartitionMapping",
            Self::StaticPartitions(_) => "StaticPartitionMapping",
            Self::SpecificPartitions(_) => "SpecificPartitionsPartitionMapping",
            Self::MultiToSingleDimension { .. } => "MultiToSingleDimensionPartitionMapping",
            Self::MultiPartitions(_) => "MultiPartitionMapping",
        }
    }
}

/// Checks that every key is one of `def`'s.
fn require_keys(
    def: &PartitionsDefinition,
    keys: &[String],
    ctx: &PartitionContext<'_>,
) -> Result<()> {
    match def {
        PartitionsDefinition::TimeWindow(time) => keys
            .iter()
            .try_for_each(|k| time.existing_tick(k, ctx.now).map(drop)),
        _ => {
            let all: std::collections::HashSet<String> = def.keys(ctx)?.into_iter().collect();
            match keys.iter().find(|k| !all.contains(*k)) {
                Some(key) => Err(PartitionsError::KeyNotFound {
                    key: key.clone(),
                    definition: def.kind().to_owned(),
                }),
                None => Ok(()),
            }
        }
    }
}
