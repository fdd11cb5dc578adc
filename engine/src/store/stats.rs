//! [`StoreStats`]: counts and space.

use std::ops::Bound;

use super::Store;
use crate::error::Result;
use crate::key::encoding;
use crate::record::Record;
use crate::segment::{align64, payload_offset};

/// Counts and space of a store, from one scan of its index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct StoreStats {
    /// Assets with at least one partition.
    pub assets: u64,
    /// Stored `(asset, partition)` values.
    pub partitions: u64,
    /// Bytes of live payloads.
    pub payload_bytes: u64,
    /// Bytes of live frames (payloads plus their headers and alignment).
    pub live_bytes: u64,
    /// Bytes the segment files occupy on disk.
    pub segment_bytes: u64,
    /// Segment bytes that no live value uses (overwritten, deleted, torn or
    /// unused preallocation): what compaction can reclaim.
    pub garbage_bytes: u64,
    /// Segment files.
    pub segments: u64,
}

impl Store {
    /// Counts assets and partitions and measures live and garbage bytes.
    /// Costs one scan of the index (no payload is read).
    ///
    /// # Errors
    /// [`Error::Index`](crate::Error::Index), or an I/O error reading a segment's size.
    pub fn stats(&self) -> Result<StoreStats> {
        let mut stats = StoreStats::default();
        let mut last_asset: Option<Vec<u8>> = None;
        self.inner
            .index
            .scan(Bound::Unbounded, Bound::Unbounded, &mut |key, value| {
                if let Some((asset, _)) = encoding::decode(key) {
                    let prefix = encoding::asset_prefix(&asset);
                    if last_asset.as_ref() != Some(&prefix) {
                        stats.assets += 1;
                        last_asset = Some(prefix);
                    }
                }
                stats.partitions += 1;
                if let Ok(record) = Record::decode(value) {
                    stats.payload_bytes += record.meta.len;
                    stats.live_bytes += payload_offset(key.len()) + align64(record.meta.len);
                }
                Ok(true)
            })?;
        let segments = self.inner.segments.all();
        stats.segments = segments.len() as u64;
        stats.segment_bytes = self.inner.segments.disk_bytes()?;
        let headers = stats.segments * crate::segment::SEGMENT_HEADER_LEN;
        stats.garbage_bytes = stats
            .segment_bytes
            .saturating_sub(stats.live_bytes + headers);
        Ok(stats)
    }
}
