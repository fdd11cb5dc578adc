//! The partitions a context covers: keys, their range and their time window.

use tessera_engine::AssetKey;

use crate::error::{Error, Result};
use crate::partitions::TimeWindow;

/// An inclusive range of partition keys, as Dagster's `PartitionKeyRange`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PartitionKeyRange {
    /// The first key of the range.
    pub start: String,
    /// The last key of the range (inclusive).
    pub end: String,
}

impl PartitionKeyRange {
    /// The range `start..=end`.
    pub fn new(start: impl Into<String>, end: impl Into<String>) -> Self {
        Self {
            start: start.into(),
            end: end.into(),
        }
    }
}

/// The partitions of a partitioned context, in their definition's order.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct PartitionScope {
    pub(crate) keys: Vec<String>,
    pub(crate) time_window: Option<TimeWindow>,
}

impl PartitionScope {
    pub(crate) fn single_key(&self, asset: &AssetKey) -> Result<&str> {
        match self.keys.as_slice() {
            [key] => Ok(key),
            keys => Err(Error::NotSinglePartition {
                asset: asset.clone(),
                count: keys.len(),
            }),
        }
    }

    pub(crate) fn range(&self, asset: &AssetKey) -> Result<PartitionKeyRange> {
        match (self.keys.first(), self.keys.last()) {
            (Some(first), Some(last)) => Ok(PartitionKeyRange::new(first, last)),
            _ => Err(Error::NotSinglePartition {
                asset: asset.clone(),
                count: 0,
            }),
        }
    }
}

/// The scope of an optional context: an error for an unpartitioned one.
pub(crate) fn partitioned<'a>(
    scope: Option<&'a PartitionScope>,
    asset: &AssetKey,
) -> Result<&'a PartitionScope> {
    scope.ok_or_else(|| Error::NotPartitioned(asset.clone()))
}

/// The keys of an optional scope (none when unpartitioned).
pub(crate) fn keys(scope: Option<&PartitionScope>) -> &[String] {
    scope.map_or(&[], |s| s.keys.as_slice())
}

/// The time window of an optional scope, or [`Error::NoTimeWindow`].
pub(crate) fn time_window(scope: Option<&PartitionScope>, asset: &AssetKey) -> Result<TimeWindow> {
    scope
        .and_then(|s| s.time_window)
        .ok_or_else(|| Error::NoTimeWindow(asset.clone()))
}
