//! `StaticPartitionMapping`: an explicit many-to-many map between static keys.

use std::collections::BTreeMap;

use super::UpstreamPartitions;
use super::order::in_definition_order;
use crate::partitions::context::PartitionContext;
use crate::partitions::definition::PartitionsDefinition;
use crate::partitions::error::{PartitionsError, Result};
use crate::partitions::static_def::StaticPartitionsDefinition;

const NAME: &str = "StaticPartitionMapping";

/// Checks that both sides are static and every key of the map exists.
fn check<'d>(
    map: &BTreeMap<String, Vec<String>>,
    upstream: &'d PartitionsDefinition,
    downstream: &'d PartitionsDefinition,
) -> Result<()> {
    let (PartitionsDefinition::Static(up), PartitionsDefinition::Static(down)) =
        (upstream, downstream)
    else {
        return Err(PartitionsError::IncompatibleMapping {
            mapping: NAME,
            reason: format!(
                "both sides must be static; upstream is a {} and downstream a {}",
                upstream.kind(),
                downstream.kind()
            ),
        });
    };
    let sources = missing(up, map.keys());
    let targets = missing(down, map.values().flatten());
    let (side, keys) = match (sources.is_empty(), targets.is_empty()) {
        (false, _) => ("source partitions not in the upstream", sources),
        (true, false) => ("target partitions not in the downstream", targets),
        (true, true) => return Ok(()),
    };
    Err(PartitionsError::IncompatibleMapping {
        mapping: NAME,
        reason: format!("mapping {side} partitions definition: {keys:?}"),
    })
}

fn missing<'k>(
    def: &StaticPartitionsDefinition,
    keys: impl Iterator<Item = &'k String>,
) -> Vec<&'k String> {
    keys.filter(|k| def.position(k).is_none()).collect()
}

/// The upstream keys mapped to any of the downstream keys, in upstream order.
pub(super) fn upstream(
    map: &BTreeMap<String, Vec<String>>,
    downstream_keys: &[String],
    downstream_def: &PartitionsDefinition,
    upstream_def: &PartitionsDefinition,
    ctx: &PartitionContext<'_>,
) -> Result<UpstreamPartitions> {
    check(map, upstream_def, downstream_def)?;
    let keys = map
        .iter()
        .filter(|(_, targets)| targets.iter().any(|t| downstream_keys.contains(t)))
        .map(|(source, _)| source.clone());
    Ok(UpstreamPartitions {
        keys: in_definition_order(upstream_def, keys, ctx)?,
        required_but_nonexistent: Vec::new(),
    })
}

/// The downstream keys the upstream keys map to, in downstream order.
pub(super) fn downstream(
    map: &BTreeMap<String, Vec<String>>,
    upstream_keys: &[String],
    upstream_def: &PartitionsDefinition,
    downstream_def: &PartitionsDefinition,
    ctx: &PartitionContext<'_>,
) -> Result<Vec<String>> {
    check(map, upstream_def, downstream_def)?;
    let keys = upstream_keys
        .iter()
        .filter_map(|k| map.get(k))
        .flatten()
        .cloned();
    in_definition_order(downstream_def, keys, ctx)
}
