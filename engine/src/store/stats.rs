//! [`StoreStats`]: counts and space.

use std::collections::BTreeSet;

use super::Store;
use crate::error::Result;
use crate::segment::SEGMENT_HEADER_LEN;

/// Counts and space of a store, from one pass over its keys' versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct StoreStats {
    /// Assets with at least one partition.
    pub assets: u64,
    /// Stored `(asset, partition)` values (newest versions).
    pub partitions: u64,
    /// Retained versions older than the newest (see [`Retention`](crate::Retention)).
    pub old_versions: u64,
    /// Bytes of the newest versions' payloads.
    pub payload_bytes: u64,
    /// Bytes of the frames of every retained version (payloads plus their
    /// headers and alignment).
    pub live_bytes: u64,
    /// Bytes the segment files occupy on disk.
    pub segment_bytes: u64,
    /// Segment bytes no retained version uses (overwritten, expired and
    /// deleted versions, commit frames, torn or unused preallocation).
    pub garbage_bytes: u64,
    /// The garbage in sealed segments: what [`Store::compact`] can reclaim
    /// now (the segment taking appends is reclaimed once it is sealed).
    pub reclaimable_bytes: u64,
    /// Segment files.
    pub segments: u64,
}

impl Store {
    /// Counts assets, partitions and versions and measures live, garbage and
    /// reclaimable bytes. Costs one pass over every key's versions (no
    /// payload is read).
    ///
    /// # Errors
    /// [`Error::Index`](crate::Error::Index), or an I/O error reading a segment's size;
    /// [`Error::Unsupported`](crate::Error::Unsupported) on a store on
    /// object storage (its segments are not all local).
    pub fn stats(&self) -> Result<StoreStats> {
        let inner = &*self.inner;
        inner.check_local("stats")?;
        let map = {
            let _checkpoints = inner.lock_checkpoint();
            inner.space_map(&BTreeSet::new())?
        };
        let segments = inner.segments.all();
        let active = inner.segments.active_id();
        let mut stats = StoreStats {
            assets: map.assets,
            partitions: map.partitions,
            old_versions: map.old_versions,
            payload_bytes: map.payload_bytes,
            live_bytes: map.live_bytes,
            segments: segments.len() as u64,
            segment_bytes: inner.segments.disk_bytes()?,
            ..StoreStats::default()
        };
        let headers = stats.segments * SEGMENT_HEADER_LEN;
        stats.garbage_bytes = stats
            .segment_bytes
            .saturating_sub(stats.live_bytes + headers);
        stats.reclaimable_bytes = segments
            .iter()
            .filter(|s| Some(s.id()) != active)
            .map(|s| {
                let live = map.segments.get(&s.id()).map_or(0, |u| u.live_bytes);
                s.mapped_len().saturating_sub(SEGMENT_HEADER_LEN + live)
            })
            .sum();
        Ok(stats)
    }
}
