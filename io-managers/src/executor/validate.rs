//! Build-time checks of a set of definitions.

use std::collections::VecDeque;

use super::asset::{AssetDefinition, AssetInput};
use super::definitions::Definitions;
use crate::error::{Error, Result};
use crate::partitions::{PartitionContext, PartitionMapping};
use crate::records::RESERVED_PREFIX;

/// Checks every asset and returns the assets' indices, upstream first.
pub(crate) fn validate(definitions: &Definitions) -> Result<Vec<usize>> {
    for asset in &definitions.assets {
        check_asset(definitions, asset)?;
    }
    topological_order(definitions)
}

fn check_asset(definitions: &Definitions, asset: &AssetDefinition) -> Result<()> {
    if asset.key.components().first().map(String::as_str) == Some(RESERVED_PREFIX) {
        return Err(Error::ReservedAsset(asset.key.clone()));
    }
    if !definitions.managers.has_io_manager(&asset.io_manager_key) {
        return Err(missing_manager(asset, &asset.io_manager_key));
    }
    for input in &asset.inputs {
        let upstream = definitions
            .asset(&input.upstream)
            .map_err(|_| Error::UnknownUpstream {
                asset: asset.key.clone(),
                upstream: input.upstream.clone(),
            })?;
        let loader = input
            .input_manager_key
            .as_deref()
            .unwrap_or(&upstream.io_manager_key);
        if !definitions.managers.has_input_manager(loader) {
            return Err(missing_manager(asset, loader));
        }
        check_mapping(definitions, asset, upstream, input)?;
    }
    Ok(())
}

fn missing_manager(asset: &AssetDefinition, key: &str) -> Error {
    Error::MissingManager {
        asset: asset.key.clone(),
        key: key.to_owned(),
    }
}

/// The mapping must be inferable or fit both definitions; a self-dependency
/// must read strictly earlier time partitions.
fn check_mapping(
    definitions: &Definitions,
    asset: &AssetDefinition,
    upstream: &AssetDefinition,
    input: &AssetInput,
) -> Result<()> {
    let incompatible = |reason: String| Error::IncompatibleMapping {
        asset: asset.key.clone(),
        input: input.name.clone(),
        reason,
    };
    let mapping = definitions
        .input_mapping(asset, input)
        .map_err(|e| incompatible(e.to_string()))?;
    if upstream.key == asset.key && !reads_earlier_partitions(&mapping) {
        return Err(incompatible(
            "a self-dependency needs a time window mapping with a negative end offset".to_owned(),
        ));
    }
    let (Some(downstream_def), Some(upstream_def)) = (&asset.partitions, &upstream.partitions)
    else {
        return Ok(());
    };
    let ctx = PartitionContext::at(chrono::Utc::now()).with_dynamic(&definitions.dynamic);
    let Some(first) = downstream_def.keys(&ctx)?.into_iter().next() else {
        return Ok(());
    };
    mapping
        .upstream_for_downstream(&[first], Some(downstream_def), upstream_def, &ctx)
        .map(|_| ())
        .map_err(|e| incompatible(e.to_string()))
}

fn reads_earlier_partitions(mapping: &PartitionMapping) -> bool {
    matches!(mapping, PartitionMapping::TimeWindow { end_offset, .. } if *end_offset < 0)
}

/// Kahn's algorithm over the asset graph without self-edges.
fn topological_order(definitions: &Definitions) -> Result<Vec<usize>> {
    let count = definitions.assets.len();
    let mut pending = vec![0usize; count];
    let mut dependents = vec![Vec::new(); count];
    for (at, asset) in definitions.assets.iter().enumerate() {
        for input in asset.inputs.iter().filter(|i| i.upstream != asset.key) {
            let upstream = definitions.index[&input.upstream];
            pending[at] += 1;
            dependents[upstream].push(at);
        }
    }
    let mut ready: VecDeque<usize> = (0..count).filter(|&at| pending[at] == 0).collect();
    let mut order = Vec::with_capacity(count);
    while let Some(at) = ready.pop_front() {
        order.push(at);
        for &dependent in &dependents[at] {
            pending[dependent] -= 1;
            if pending[dependent] == 0 {
                ready.push_back(dependent);
            }
        }
    }
    if order.len() < count {
        let cycle = (0..count)
            .filter(|&at| pending[at] > 0)
            .map(|at| definitions.assets[at].key.clone())
            .collect();
        return Err(Error::Cycle(cycle));
    }
    Ok(order)
}
