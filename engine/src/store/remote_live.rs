//! What a store on object storage's view keeps alive: the versions the
//! retention policy retains, and the log objects their records point into.
//!
//! Checkpoint objects hold the retained versions only, so the log objects a
//! checkpoint references are exactly those a reader of it may need; garbage
//! collection ([`super::remote_gc`]) keeps every object a young enough
//! checkpoint references.

use std::collections::BTreeSet;

use super::Inner;
use super::overlay::OverlayEntry;
use crate::key::encoding;
use crate::record::Record;
use crate::retention::Retention;

impl Inner {
    /// The view's entries, each holding only the versions the retention
    /// policy keeps now (entries of keys that are not `(asset, partition)`
    /// keys are kept whole).
    ///
    /// Retention only ever lets go of a version (a later put raises every
    /// older version's rank; time only ages them), so a version left out
    /// here is never read again through any view at or after this one.
    pub(super) fn retained_view(&self) -> Vec<(Vec<u8>, OverlayEntry)> {
        let now = (self.clock)();
        let mut entries = self.overlay.up_to(u64::MAX);
        for (key, entry) in &mut entries {
            if let Some((asset, _)) = encoding::decode(key) {
                keep_retained(entry, self.retention.for_asset(&asset), now);
            }
        }
        entries
    }
}

/// Removes from `entry` the stored versions `retention` does not keep (and
/// the markers of dropped ones: the view has no index under it).
fn keep_retained(
    entry: &mut OverlayEntry,
    retention: Retention,
    now: chrono::DateTime<chrono::Utc>,
) {
    let mut rank = 0;
    let mut kept = Vec::new();
    for (&version, record) in entry.versions.iter().rev() {
        let Some(record) = record else { continue };
        let retained = Record::decode(record).map_or(true, |decoded| {
            retention.keeps(rank, decoded.meta.created_at, now)
        });
        if retained {
            kept.push(version);
        }
        rank += 1;
    }
    entry
        .versions
        .retain(|version, record| record.is_some() && kept.contains(version));
}

/// The log objects the stored versions of `entries` point into.
pub(super) fn referenced_objects<'a>(
    entries: impl IntoIterator<Item = &'a OverlayEntry>,
) -> BTreeSet<u64> {
    entries
        .into_iter()
        .flat_map(|entry| entry.versions.values().flatten())
        .filter_map(|record| Record::decode(record).ok())
        .map(|record| record.location.segment)
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::codec::Codec;
    use crate::record::{Checksum, Described, Location};

    fn record(seq: u64, segment: u64, hour: u32) -> Vec<u8> {
        let described = Described {
            created_at: Utc
                .with_ymd_and_hms(2026, 1, 1, hour, 0, 0)
                .single()
                .expect("time"),
            data_version: None,
            metadata: BTreeMap::new(),
        };
        let location = Location {
            segment,
            frame_offset: 64,
        };
        Record::new(seq, location, Codec::Raw, 3, Checksum(7), described).encode()
    }

    #[test]
    fn only_retained_versions_stay_and_reference_their_objects() {
        let mut entry = OverlayEntry {
            seq: 30,
            cleared_below: None,
            has_new_put: true,
            versions: BTreeMap::from([
                (10, Some(record(10, 1, 1))),
                (20, Some(record(20, 2, 2))),
                (25, None),
                (30, Some(record(30, 3, 3))),
            ]),
        };
        let now = Utc
            .with_ymd_and_hms(2026, 1, 2, 0, 0, 0)
            .single()
            .expect("now");
        keep_retained(&mut entry, Retention::keep_last(2), now);
        assert_eq!(entry.versions.keys().copied().collect::<Vec<_>>(), [20, 30]);
        assert_eq!(
            referenced_objects([&entry]),
            BTreeSet::from([2, 3]),
            "object 1 holds only a version the retention lets go"
        );
    }
}
