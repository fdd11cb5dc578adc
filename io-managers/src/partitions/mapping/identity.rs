//! `IdentityPartitionMapping`: a partition depends on the same key upstream.

use super::UpstreamPartitions;
use super::order::in_definition_order;
use crate::partitions::context::PartitionContext;
use crate::partitions::definition::PartitionsDefinition;
use crate::partitions::error::{PartitionsError, Result};

const NAME: &str = "IdentityPartitionMapping";

/// Checks that both definitions are of the same kind (Dagster's validation).
fn check_kinds(a: &PartitionsDefinition, b: &PartitionsDefinition) -> Result<()> {
    if a.kind() == b.kind() {
        Ok(())
    } else {
        Err(PartitionsError::IncompatibleMapping {
            mapping: NAME,
            reason: format!("upstream is a {} and downstream a {}", a.kind(), b.kind()),
        })
    }
}

/// The downstream keys the upstream holds; the others are required but
/// nonexistent.
pub(super) fn upstream(
    downstream_keys: &[String],
    downstream_def: &PartitionsDefinition,
    upstream_def: &PartitionsDefinition,
    ctx: &PartitionContext<'_>,
) -> Result<UpstreamPartitions> {
    check_kinds(upstream_def, downstream_def)?;
    let mut keys = Vec::new();
    let mut missing = Vec::new();
    for key in downstream_keys {
        if upstream_def.contains(key, ctx)? {
            keys.push(key.clone());
        } else {
            missing.push(key.clone());
        }
    }
    Ok(UpstreamPartitions {
        keys: in_definition_order(upstream_def, keys, ctx)?,
        required_but_nonexistent: missing,
    })
}

/// The upstream keys the downstream holds.
pub(super) fn downstream(
    upstream_keys: &[String],
    upstream_def: &PartitionsDefinition,
    downstream_def: &PartitionsDefinition,
    ctx: &PartitionContext<'_>,
) -> Result<Vec<String>> {
    check_kinds(upstream_def, downstream_def)?;
    let mut keys = Vec::new();
    for key in upstream_keys {
        if downstream_def.contains(key, ctx)? {
            keys.push(key.clone());
        }
    }
    in_definition_order(downstream_def, keys, ctx)
}
