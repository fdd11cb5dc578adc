//! [`StoreStats`]: counts and space.

use std::collections::BTreeSet;

use super::Store;
use super::space::SpaceMap;
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
    /// On a store on object storage, `segments` and `segment_bytes` count the
    /// log objects in the store (one `LIST`), every one of which compaction
    /// may rewrite (`reclaimable_bytes` is all the garbage); the frame bytes
    /// of versions in objects not in the local cache are computed from their
    /// records (a moved version's 8 extra bytes aside).
    ///
    /// # Errors
    /// [`Error::Index`](crate::Error::Index), or an I/O error reading a segment's size;
    /// on object storage, a failed listing
    /// ([`Error::ObjectStore`](crate::Error::ObjectStore)).
    pub fn stats(&self) -> Result<StoreStats> {
        let inner = &*self.inner;
        let map = {
            let _checkpoints = inner.lock_checkpoint();
            inner.space_map(&BTreeSet::new())?
        };
        #[cfg(feature = "object-store")]
        if let Some(remote) = &inner.remote {
            let objects = remote.log_objects()?;
            let data = remote.data_object_sizes()?;
            let mut stats = stats_of(&map, (objects.len() + data.len()) as u64);
            stats.segment_bytes =
                objects.values().map(|listed| listed.size).sum::<u64>() + data.iter().sum::<u64>();
            stats.garbage_bytes = garbage(&stats);
            stats.reclaimable_bytes = stats.garbage_bytes;
            return Ok(stats);
        }
        let segments = inner.segments.all();
        let active = inner.segments.active_id();
        let mut stats = stats_of(&map, segments.len() as u64);
        stats.segment_bytes = inner.segments.disk_bytes()?;
        stats.garbage_bytes = garbage(&stats);
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

/// The counts of `map`, over `segments` segments (sizes still to fill in).
fn stats_of(map: &SpaceMap, segments: u64) -> StoreStats {
    StoreStats {
        assets: map.assets,
        partitions: map.partitions,
        old_versions: map.old_versions,
        payload_bytes: map.payload_bytes,
        live_bytes: map.live_bytes,
        segments,
        ..StoreStats::default()
    }
}

/// The segment bytes that neither retained frames nor headers use.
fn garbage(stats: &StoreStats) -> u64 {
    let headers = stats.segments * SEGMENT_HEADER_LEN;
    stats
        .segment_bytes
        .saturating_sub(stats.live_bytes + headers)
}
