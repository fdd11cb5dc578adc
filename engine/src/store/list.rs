//! Listing: assets, and an asset's partitions in key order.

use std::ops::{Bound, RangeBounds};

use super::Store;
use crate::error::{Error, Result};
use crate::key::{AssetKey, PartitionKey, encoding};

fn undecodable(key: &[u8]) -> Error {
    Error::CorruptIndex {
        reason: format!("index key {key:02x?} is not a valid (asset, partition) key"),
    }
}

impl Store {
    /// Every asset with at least one stored partition, in key order.
    ///
    /// Costs one index seek per asset, however many partitions each has.
    ///
    /// # Errors
    /// [`Error::CorruptIndex`] for an undecodable index key; [`Error::Index`].
    pub fn list_assets(&self) -> Result<Vec<AssetKey>> {
        let mut assets = Vec::new();
        let mut start = vec![encoding::DATA_TAG];
        let end = [encoding::DATA_TAG + 1];
        loop {
            let mut next = None;
            self.inner.scan(
                Bound::Included(&start),
                Bound::Excluded(&end),
                &mut |key, _| {
                    next = Some(encoding::decode(key).ok_or_else(|| undecodable(key))?.0);
                    Ok(false)
                },
            )?;
            let Some(asset) = next else {
                return Ok(assets);
            };
            start = encoding::asset_end(&encoding::asset_prefix(&asset));
            assets.push(asset);
        }
    }

    /// Every partition of `asset`, in key (byte) order; the unpartitioned key,
    /// if stored, comes first.
    ///
    /// # Errors
    /// As [`Store::list_assets`].
    pub fn list_partitions(&self, asset: &AssetKey) -> Result<Vec<PartitionKey>> {
        self.list_partitions_in(asset, ..)
    }

    /// The partitions of `asset` whose keys lie in `range`, in key order.
    ///
    /// # Errors
    /// As [`Store::list_assets`].
    pub fn list_partitions_in(
        &self,
        asset: &AssetKey,
        range: impl RangeBounds<PartitionKey>,
    ) -> Result<Vec<PartitionKey>> {
        let mut partitions = Vec::new();
        self.scan_partitions(asset, range, &mut |partition, _| {
            partitions.push(partition);
            Ok(true)
        })?;
        Ok(partitions)
    }

    /// Visits `(partition, index value)` of `asset` within `range` while `visit`
    /// returns `true`.
    pub(super) fn scan_partitions(
        &self,
        asset: &AssetKey,
        range: impl RangeBounds<PartitionKey>,
        visit: &mut dyn FnMut(PartitionKey, &[u8]) -> Result<bool>,
    ) -> Result<()> {
        let prefix = encoding::asset_prefix(asset);
        let bound = |bound: Bound<&PartitionKey>, unbounded: Bound<Vec<u8>>| match bound {
            Bound::Included(p) => Bound::Included(with_partition(&prefix, p)),
            Bound::Excluded(p) => Bound::Excluded(with_partition(&prefix, p)),
            Bound::Unbounded => unbounded,
        };
        let start = bound(range.start_bound(), Bound::Included(prefix.clone()));
        let end = bound(
            range.end_bound(),
            Bound::Excluded(encoding::asset_end(&prefix)),
        );
        self.inner
            .scan(as_slice(&start), as_slice(&end), &mut |key, value| {
                let partition = encoding::decode_partition_after(&prefix, key)
                    .ok_or_else(|| undecodable(key))?;
                visit(partition, value)
            })
    }
}

fn with_partition(prefix: &[u8], partition: &PartitionKey) -> Vec<u8> {
    let mut key = prefix.to_vec();
    encoding::push_partition(&mut key, partition);
    key
}

fn as_slice(bound: &Bound<Vec<u8>>) -> Bound<&[u8]> {
    match bound {
        Bound::Included(key) => Bound::Included(key),
        Bound::Excluded(key) => Bound::Excluded(key),
        Bound::Unbounded => Bound::Unbounded,
    }
}
