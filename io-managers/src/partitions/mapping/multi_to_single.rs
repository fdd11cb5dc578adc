//! `MultiToSingleDimensionPartitionMapping`: a multi-partitioned asset (of
//! any number of dimensions) and an asset partitioned like one of its
//! dimensions.

use super::order::dedup;
use super::{PartitionMapping, UpstreamPartitions};
use crate::partitions::context::PartitionContext;
use crate::partitions::definition::PartitionsDefinition;
use crate::partitions::error::{PartitionsError, Result};
use crate::partitions::multi::MultiPartitionsDefinition;

const NAME: &str = "MultiToSingleDimensionPartitionMapping";

/// Which side is multi, the matched dimension and the mapping between that
/// dimension and the single side.
struct Matched<'d> {
    multi: &'d MultiPartitionsDefinition,
    index: usize,
    single: &'d PartitionsDefinition,
    inner: PartitionMapping,
}

impl Matched<'_> {
    fn dimension(&self) -> &PartitionsDefinition {
        &self.multi.dimensions()[self.index].definition
    }

    /// Every multi key whose matched dimension is one of `keys`, in the multi
    /// definition's order (`keys` in the dimension's order): every other
    /// dimension takes all its keys.
    fn expand(&self, keys: &[String], ctx: &PartitionContext<'_>) -> Result<Vec<String>> {
        let per_dimension = self
            .multi
            .dimensions()
            .iter()
            .enumerate()
            .map(|(i, d)| {
                if i == self.index {
                    Ok(keys.to_vec())
                } else {
                    d.definition.keys(ctx)
                }
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(MultiPartitionsDefinition::product(&per_dimension))
    }

    /// The matched dimension's keys of multi keys, first occurrence kept.
    fn project(&self, keys: &[String]) -> Result<Vec<String>> {
        let parts = keys
            .iter()
            .map(|k| Ok(self.multi.split_key(k)?[self.index].to_owned()))
            .collect::<Result<Vec<_>>>()?;
        Ok(dedup(parts))
    }
}

fn incompatible(reason: String) -> PartitionsError {
    PartitionsError::IncompatibleMapping {
        mapping: NAME,
        reason,
    }
}

/// Whether `dimension` can stand for `single`: equal, or both time windows
/// when the multi definition has exactly one time dimension.
fn matches(
    multi: &MultiPartitionsDefinition,
    dimension: &PartitionsDefinition,
    single: &PartitionsDefinition,
) -> bool {
    dimension == single
        || (single.is_time_window()
            && dimension.is_time_window()
            && multi.time_dimension().is_some())
}

/// Finds the dimension of the multi side matching the single side. The
/// dimension name, when given, is honoured (Dagster ignores it, so two
/// matching dimensions are an error there whatever the name).
fn resolve<'d>(
    name: Option<&str>,
    upstream: &'d PartitionsDefinition,
    downstream: &'d PartitionsDefinition,
) -> Result<Matched<'d>> {
    let (multi, single) = match (upstream, downstream) {
        (PartitionsDefinition::Multi(m), single) | (single, PartitionsDefinition::Multi(m))
            if !matches!(single, PartitionsDefinition::Multi(_)) =>
        {
            (m, single)
        }
        _ => {
            return Err(incompatible(
                "exactly one side must be a multi-partitions definition".to_owned(),
            ));
        }
    };
    let candidates: Vec<usize> = (0..multi.dimensions().len())
        .filter(|i| matches(multi, &multi.dimensions()[*i].definition, single))
        .collect();
    let index = match (name, candidates.as_slice()) {
        (Some(name), _) => {
            let index = multi.dimension_index(name)?;
            if !candidates.contains(&index) {
                return Err(incompatible(format!(
                    "dimension {name:?} does not match the single definition"
                )));
            }
            index
        }
        (None, [only]) => *only,
        (None, []) => {
            return Err(incompatible(
                "no dimension matches the single definition".to_owned(),
            ));
        }
        (None, _) => {
            return Err(incompatible(
                "partition dimension name must be specified when multiple dimensions match"
                    .to_owned(),
            ));
        }
    };
    let dimension = &multi.dimensions()[index].definition;
    let inner = if dimension == single {
        PartitionMapping::Identity
    } else {
        PartitionMapping::TimeWindow {
            start_offset: 0,
            end_offset: 0,
            allow_nonexistent_upstream_partitions: false,
        }
    };
    Ok(Matched {
        multi,
        index,
        single,
        inner,
    })
}

/// Upstream partitions of downstream keys.
pub(super) fn upstream(
    name: Option<&str>,
    downstream_keys: &[String],
    downstream_def: &PartitionsDefinition,
    upstream_def: &PartitionsDefinition,
    ctx: &PartitionContext<'_>,
) -> Result<UpstreamPartitions> {
    let m = resolve(name, upstream_def, downstream_def)?;
    if matches!(upstream_def, PartitionsDefinition::Multi(_)) {
        let mapped =
            m.inner
                .upstream_for_downstream(downstream_keys, Some(m.single), m.dimension(), ctx)?;
        Ok(UpstreamPartitions {
            keys: m.expand(&mapped.keys, ctx)?,
            required_but_nonexistent: mapped.required_but_nonexistent,
        })
    } else {
        let projected = m.project(downstream_keys)?;
        m.inner
            .upstream_for_downstream(&projected, Some(m.dimension()), m.single, ctx)
    }
}

/// Downstream partitions of upstream keys.
pub(super) fn downstream(
    name: Option<&str>,
    upstream_keys: &[String],
    upstream_def: &PartitionsDefinition,
    downstream_def: &PartitionsDefinition,
    ctx: &PartitionContext<'_>,
) -> Result<Vec<String>> {
    let m = resolve(name, upstream_def, downstream_def)?;
    if matches!(upstream_def, PartitionsDefinition::Multi(_)) {
        let projected = m.project(upstream_keys)?;
        m.inner
            .downstream_for_upstream(&projected, m.dimension(), m.single, ctx)
    } else {
        let mapped =
            m.inner
                .downstream_for_upstream(upstream_keys, m.single, m.dimension(), ctx)?;
        m.expand(&mapped, ctx)
    }
}
