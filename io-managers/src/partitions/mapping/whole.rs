//! `AllPartitionMapping`, `LastPartitionMapping` and
//! `SpecificPartitionsPartitionMapping`: mappings that ignore which
//! downstream partition asks.

use super::UpstreamPartitions;
use crate::partitions::context::PartitionContext;
use crate::partitions::definition::PartitionsDefinition;
use crate::partitions::error::Result;

/// Every upstream partition.
pub(super) fn all_upstream(
    upstream_def: &PartitionsDefinition,
    ctx: &PartitionContext<'_>,
) -> Result<UpstreamPartitions> {
    Ok(UpstreamPartitions {
        keys: upstream_def.keys(ctx)?,
        required_but_nonexistent: Vec::new(),
    })
}

/// The last upstream partition (none if the upstream has none).
pub(super) fn last_upstream(
    upstream_def: &PartitionsDefinition,
    ctx: &PartitionContext<'_>,
) -> Result<UpstreamPartitions> {
    Ok(UpstreamPartitions {
        keys: upstream_def.last_key(ctx)?.into_iter().collect(),
        required_but_nonexistent: Vec::new(),
    })
}

/// The given keys in the upstream definition's order (as Dagster returns
/// them: a subset of the upstream definition); those the upstream does not
/// hold are reported as required but nonexistent, in the order given
/// (Dagster returns them unchecked).
pub(super) fn specific_upstream(
    keys: &[String],
    upstream_def: &PartitionsDefinition,
    ctx: &PartitionContext<'_>,
) -> Result<UpstreamPartitions> {
    let mut existing = Vec::new();
    let mut result = UpstreamPartitions::default();
    for key in super::order::dedup(keys.iter().cloned()) {
        if upstream_def.contains(&key, ctx)? {
            existing.push(key);
        } else {
            result.required_but_nonexistent.push(key);
        }
    }
    result.keys = super::order::in_definition_order(upstream_def, existing, ctx)?;
    Ok(result)
}

/// Every downstream partition when `affected`, none otherwise.
pub(super) fn all_downstream_if(
    affected: bool,
    downstream_def: &PartitionsDefinition,
    ctx: &PartitionContext<'_>,
) -> Result<Vec<String>> {
    if affected {
        downstream_def.keys(ctx)
    } else {
        Ok(Vec::new())
    }
}
