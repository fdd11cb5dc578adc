//! Dagster's default partition mapping between two assets.

use super::PartitionMapping;
use crate::partitions::definition::PartitionsDefinition;
use crate::partitions::error::Result;

/// The mapping Dagster uses when a dependency declares none
/// (`infer_partition_mapping`): `AllPartitions` when either side is
/// unpartitioned (`None`); `MultiToSingleDimension` when exactly one side is
/// multi and the other equals one of its dimensions (or is a time window and
/// the multi side has exactly one time dimension); `TimeWindow(0, 0)` between
/// time windows; `Identity` otherwise. Like Dagster, it does not check that
/// the chosen mapping can relate the two definitions; using it reports
/// [`PartitionsError::IncompatibleMapping`](crate::partitions::PartitionsError::IncompatibleMapping).
///
/// # Errors
/// None today; the `Result` leaves room for definitions that cannot be related at all.
pub fn infer_partition_mapping(
    upstream: Option<&PartitionsDefinition>,
    downstream: Option<&PartitionsDefinition>,
) -> Result<PartitionMapping> {
    let (Some(up), Some(down)) = (upstream, downstream) else {
        return Ok(PartitionMapping::AllPartitions);
    };
    Ok(if multi_to_single(up, down) || multi_to_single(down, up) {
        PartitionMapping::MultiToSingleDimension {
            partition_dimension_name: None,
        }
    } else if up.is_time_window() && down.is_time_window() {
        PartitionMapping::TimeWindow {
            start_offset: 0,
            end_offset: 0,
            allow_nonexistent_upstream_partitions: false,
        }
    } else {
        PartitionMapping::Identity
    })
}

fn multi_to_single(multi: &PartitionsDefinition, single: &PartitionsDefinition) -> bool {
    let (PartitionsDefinition::Multi(m), false) =
        (multi, matches!(single, PartitionsDefinition::Multi(_)))
    else {
        return false;
    };
    m.dimensions().iter().any(|d| &d.definition == single)
        || (single.is_time_window() && m.time_dimension().is_some())
}
