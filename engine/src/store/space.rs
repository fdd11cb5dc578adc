//! Where the live bytes are: one pass over every key's versions, judged by
//! the retention policy, per segment.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;

use super::Inner;
use crate::error::Result;
use crate::key::encoding;
use crate::log::{FRAME_HEADER_LEN, align64, decode_frame};
use crate::record::{Described, Record};

/// A version the retention policy keeps, in a segment being reclaimed.
pub(super) struct LiveVersion {
    pub key: Vec<u8>,
    pub record: Record,
    /// The record as the index holds it.
    pub encoded: Vec<u8>,
}

/// How one segment's bytes are used.
#[derive(Default)]
pub(super) struct SegmentUse {
    /// Bytes of the frames of retained versions.
    pub live_bytes: u64,
    /// The retained versions (listed only for the segments asked for).
    pub live: Vec<LiveVersion>,
    /// Versions outside the retention policy: `(key, version)` (listed only
    /// for the segments asked for).
    pub dropped: Vec<(Vec<u8>, u64)>,
}

/// Every segment's use, and counts over the whole store.
#[derive(Default)]
pub(super) struct SpaceMap {
    pub segments: BTreeMap<u64, SegmentUse>,
    pub assets: u64,
    pub partitions: u64,
    /// Payload bytes of the newest versions.
    pub payload_bytes: u64,
    /// Bytes of the frames of every retained version.
    pub live_bytes: u64,
    /// Retained versions older than the newest.
    pub old_versions: u64,
}

impl Inner {
    /// Maps the store's space; lists versions for the segments in `detail`.
    pub(super) fn space_map(&self, detail: &BTreeSet<u64>) -> Result<SpaceMap> {
        let mut keys = Vec::new();
        let (start, end) = encoding::data_range();
        self.scan(
            Bound::Included(&start),
            Bound::Excluded(&end),
            &mut |key, _| {
                keys.push(key.to_vec());
                Ok(true)
            },
        )?;
        let now = (self.clock)();
        let mut map = SpaceMap::default();
        let mut last_asset = None;
        for key in keys {
            let Some((asset, _)) = encoding::decode(&key) else {
                continue;
            };
            if last_asset.as_ref() != Some(&asset) {
                map.assets += 1;
                last_asset = Some(asset.clone());
            }
            let retention = self.retention.for_asset(&asset);
            for (rank, (version, encoded)) in self.versions(&key)?.into_iter().rev().enumerate() {
                let Ok(record) = Record::decode(&encoded) else {
                    continue;
                };
                let segment = record.location.segment;
                let listed = detail.contains(&segment);
                if !retention.keeps(rank, record.meta.created_at, now) {
                    if listed {
                        map.segments
                            .entry(segment)
                            .or_default()
                            .dropped
                            .push((key.clone(), version));
                    }
                    continue;
                }
                if rank == 0 {
                    map.partitions += 1;
                    map.payload_bytes += record.meta.len;
                } else {
                    map.old_versions += 1;
                }
                let frame_len = self.frame_len(&key, &record);
                map.live_bytes += frame_len;
                let used = map.segments.entry(segment).or_default();
                used.live_bytes += frame_len;
                if listed {
                    used.live.push(LiveVersion {
                        key: key.clone(),
                        record,
                        encoded,
                    });
                }
            }
        }
        Ok(map)
    }

    /// Bytes the frame of `record` takes in its segment (0 if unreadable).
    /// On object storage, a log object that is not mapped is not fetched:
    /// the frame's length is computed from the record instead.
    fn frame_len(&self, key: &[u8], record: &Record) -> u64 {
        let location = record.location;
        let mapped = self.segments.get(location.segment);
        if mapped.is_none() && self.is_remote() {
            return computed_frame_len(key, record);
        }
        mapped
            .and_then(|segment| {
                decode_frame(segment.tail(location.frame_offset))
                    .ok()
                    .map(|frame| frame.header.frame_len())
            })
            .unwrap_or(0)
    }
}

/// The length of a new put's frame holding `record` under `key` (a moved
/// put's described bytes are 8 longer, which padding often absorbs).
fn computed_frame_len(key: &[u8], record: &Record) -> u64 {
    let meta = &record.meta;
    let described = Described {
        created_at: meta.created_at,
        data_version: meta.data_version.clone(),
        metadata: meta.metadata.clone(),
    }
    .encode();
    FRAME_HEADER_LEN + align64((key.len() + described.len()) as u64) + align64(meta.len)
}
