//! `MultiPartitionMapping`: per-dimension mappings between two
//! multi-partitioned assets (of any number of dimensions); unmapped
//! dimensions depend on all partitions.

use std::collections::BTreeMap;

use super::order::{dedup, in_definition_order};
use super::{DimensionPartitionMapping, UpstreamPartitions};
use crate::partitions::context::PartitionContext;
use crate::partitions::definition::PartitionsDefinition;
use crate::partitions::error::{PartitionsError, Result};
use crate::partitions::multi::MultiPartitionsDefinition;

const NAME: &str = "MultiPartitionMapping";

/// Per upstream dimension index: the downstream dimension index and mapping.
type Links<'m> = Vec<Option<(usize, &'m DimensionPartitionMapping)>>;

fn resolve<'d, 'm>(
    map: &'m BTreeMap<String, DimensionPartitionMapping>,
    upstream: &'d PartitionsDefinition,
    downstream: &'d PartitionsDefinition,
) -> Result<(
    &'d MultiPartitionsDefinition,
    &'d MultiPartitionsDefinition,
    Links<'m>,
)> {
    let (PartitionsDefinition::Multi(up), PartitionsDefinition::Multi(down)) =
        (upstream, downstream)
    else {
        return Err(PartitionsError::IncompatibleMapping {
            mapping: NAME,
            reason: "both sides must be multi-partitions definitions".to_owned(),
        });
    };
    let mut links: Links<'m> = vec![None; up.dimensions().len()];
    for (upstream_dimension, mapping) in map {
        let from = up.dimension_index(upstream_dimension)?;
        let to = down.dimension_index(&mapping.dimension_name)?;
        if links.iter().flatten().any(|(t, _)| *t == to) {
            return Err(PartitionsError::IncompatibleMapping {
                mapping: NAME,
                reason: format!(
                    "two upstream dimensions map to {:?}",
                    mapping.dimension_name
                ),
            });
        }
        links[from] = Some((to, mapping));
    }
    Ok((up, down, links))
}

/// Upstream partitions of downstream keys: for each downstream key, the
/// product over upstream dimensions of the mapped keys (all keys for an
/// unmapped dimension). Nonexistent partitions are per-dimension keys.
pub(super) fn upstream(
    map: &BTreeMap<String, DimensionPartitionMapping>,
    downstream_keys: &[String],
    downstream_def: &PartitionsDefinition,
    upstream_def: &PartitionsDefinition,
    ctx: &PartitionContext<'_>,
) -> Result<UpstreamPartitions> {
    let (up, down, links) = resolve(map, upstream_def, downstream_def)?;
    let mut all: Vec<Option<Vec<String>>> = vec![None; up.dimensions().len()];
    let mut keys = Vec::new();
    let mut missing = Vec::new();
    for key in downstream_keys {
        let parts = down.split_key(key)?;
        let mut per_dimension = Vec::with_capacity(links.len());
        for (i, link) in links.iter().enumerate() {
            let dimension = &up.dimensions()[i].definition;
            per_dimension.push(match link {
                None => match &all[i] {
                    Some(keys) => keys.clone(),
                    None => all[i].insert(dimension.keys(ctx)?).clone(),
                },
                Some((to, mapping)) => {
                    let mapped = mapping.partition_mapping.upstream_for_downstream(
                        &[parts[*to].to_owned()],
                        Some(&down.dimensions()[*to].definition),
                        dimension,
                        ctx,
                    )?;
                    missing.extend(mapped.required_but_nonexistent);
                    mapped.keys
                }
            });
        }
        keys.extend(MultiPartitionsDefinition::product(&per_dimension));
    }
    Ok(UpstreamPartitions {
        keys: in_definition_order(upstream_def, keys, ctx)?,
        required_but_nonexistent: dedup(missing),
    })
}

/// Downstream partitions of upstream keys, the same product the other way.
pub(super) fn downstream(
    map: &BTreeMap<String, DimensionPartitionMapping>,
    upstream_keys: &[String],
    upstream_def: &PartitionsDefinition,
    downstream_def: &PartitionsDefinition,
    ctx: &PartitionContext<'_>,
) -> Result<Vec<String>> {
    let (up, down, links) = resolve(map, upstream_def, downstream_def)?;
    let mut keys = Vec::new();
    for key in upstream_keys {
        let parts = up.split_key(key)?;
        let mut per_dimension = Vec::with_capacity(down.dimensions().len());
        for (j, dimension) in down.dimensions().iter().enumerate() {
            let link = links
                .iter()
                .enumerate()
                .find_map(|(i, l)| l.filter(|(to, _)| *to == j).map(|(_, m)| (i, m)));
            per_dimension.push(match link {
                None => dimension.definition.keys(ctx)?,
                Some((i, mapping)) => mapping.partition_mapping.downstream_for_upstream(
                    &[parts[i].to_owned()],
                    &up.dimensions()[i].definition,
                    &dimension.definition,
                    ctx,
                )?,
            });
        }
        keys.extend(MultiPartitionsDefinition::product(&per_dimension));
    }
    in_definition_order(downstream_def, keys, ctx)
}
