//! [`StoreStats`]: counts and space.

use std::ops::Bound;

use super::Store;
use crate::error::Result;
use crate::key::encoding;
use crate::log::{FRAME_HEADER_LEN, align64};
use crate::record::{Described, Record};

/// Counts and space of a store, from one scan of its keys.
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
    /// Segment bytes that no live value uses (overwritten, deleted, commit
    /// frames, torn or unused preallocation): what compaction can reclaim.
    pub garbage_bytes: u64,
    /// Segment files.
    pub segments: u64,
}

/// Bytes a live put frame occupies.
fn frame_bytes(key: &[u8], record: &Record) -> u64 {
    let described = Described {
        created_at: record.meta.created_at,
        data_version: record.meta.data_version.clone(),
        metadata: record.meta.metadata.clone(),
    }
    .encode();
    FRAME_HEADER_LEN + align64((key.len() + described.len()) as u64) + align64(record.meta.len)
}

impl Store {
    /// Counts assets and partitions and measures live and garbage bytes.
    /// Costs one scan of the keys (no payload is read).
    ///
    /// # Errors
    /// [`Error::Index`](crate::Error::Index), or an I/O error reading a segment's size.
    pub fn stats(&self) -> Result<StoreStats> {
        let mut stats = StoreStats::default();
        let mut last_asset: Option<Vec<u8>> = None;
        let (start, end) = encoding::data_range();
        self.inner.scan(
            Bound::Included(&start),
            Bound::Excluded(&end),
            &mut |key, value| {
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
                    stats.live_bytes += frame_bytes(key, &record);
                }
                Ok(true)
            },
        )?;
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
