//! Deleting many partitions at once: a range of an asset's partitions, or
//! the whole asset (Dagster's "wipe"), in one atomic batch.

use std::ops::RangeBounds;

use super::Store;
use crate::batch::WriteBatch;
use crate::error::Result;
use crate::key::{AssetKey, PartitionKey};

impl Store {
    /// Deletes every partition of `asset` whose key lies in `range`, in one
    /// atomic batch; every version of each becomes garbage. Returns how many
    /// partitions were deleted.
    ///
    /// # Errors
    /// As [`Store::write`].
    pub fn delete_partitions_in(
        &self,
        asset: &AssetKey,
        range: impl RangeBounds<PartitionKey>,
    ) -> Result<u64> {
        let partitions = self.list_partitions_in(asset, range)?;
        let mut batch = WriteBatch::new();
        for partition in &partitions {
            batch.delete(asset, partition);
        }
        self.write(batch)?;
        Ok(partitions.len() as u64)
    }

    /// Deletes every partition of `asset` (Dagster's "wipe"), atomically.
    /// Returns how many partitions were deleted.
    ///
    /// # Errors
    /// As [`Store::write`].
    pub fn wipe_asset(&self, asset: &AssetKey) -> Result<u64> {
        self.delete_partitions_in(asset, ..)
    }
}
