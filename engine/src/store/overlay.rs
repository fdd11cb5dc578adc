//! The overlay: committed changes the index does not hold yet.
//!
//! Every published batch lands here first; reads look here before the index.
//! A checkpoint copies entries into the index and then retires them, unless a
//! newer change to the same key arrived meanwhile.
//!
//! A key's entry is what its changes since the last checkpoint did to its
//! versions: versions written or moved, versions compaction dropped, and the
//! bound below which a delete removed every version. Applying changes is
//! order-independent (a version below a delete's bound is never brought
//! back), so writers may publish in any order.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::{PoisonError, RwLock};

use crate::log::Change;

/// One change to a key's versions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum VersionChange {
    /// `version` is stored as `record` (an encoded index record): a new put,
    /// or (`moved`) a version compaction copied elsewhere.
    Put {
        version: u64,
        record: Vec<u8>,
        moved: bool,
    },
    /// Every version below `below` is gone.
    Delete { below: u64 },
    /// Compaction reclaimed `version` (outside the retention policy).
    Drop { version: u64 },
}

impl VersionChange {
    /// A replayed log change as `(key, frame sequence number, change)`.
    pub(crate) fn from_log(change: Change<'_>) -> (Vec<u8>, u64, Self) {
        match change {
            Change::Put {
                key,
                seq,
                record,
                moved,
            } => (
                key.to_vec(),
                seq,
                Self::Put {
                    version: record.seq,
                    record: record.encode(),
                    moved,
                },
            ),
            Change::Delete { key, seq, below } => (key.to_vec(), seq, Self::Delete { below }),
        }
    }
}

/// One key's changes since the last checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct OverlayEntry {
    /// The largest log sequence number among the changes.
    pub seq: u64,
    /// A delete's bound: every version below it, in the index or here, is gone.
    pub cleared_below: Option<u64>,
    /// Whether a new put (not a move) is among the changes: then the newest
    /// version here is newer than every version in the index.
    pub has_new_put: bool,
    /// Versions stored (`Some(record)`) or dropped (`None`).
    pub versions: BTreeMap<u64, Option<Vec<u8>>>,
}

impl OverlayEntry {
    /// Applies one change made by the log frame numbered `seq`.
    pub(crate) fn apply(&mut self, seq: u64, change: VersionChange) {
        self.seq = self.seq.max(seq);
        let below_delete = |version: u64| self.cleared_below.is_some_and(|b| version < b);
        match change {
            VersionChange::Put {
                version,
                record,
                moved,
            } => {
                if !below_delete(version) {
                    self.has_new_put |= !moved;
                    self.versions.insert(version, Some(record));
                }
            }
            VersionChange::Delete { below } => {
                let below = self.cleared_below.map_or(below, |b| b.max(below));
                self.cleared_below = Some(below);
                self.versions.retain(|&version, _| version >= below);
            }
            VersionChange::Drop { version } => {
                if !below_delete(version) {
                    self.versions.insert(version, None);
                }
            }
        }
    }

    /// Whether this entry alone decides the key's newest version (the index
    /// need not be consulted): a new put here is newer than anything the
    /// index holds. (A delete's bound alone does not decide it: a delete
    /// carried by compaction may lie below versions the index holds.)
    pub(crate) fn decides_latest(&self) -> bool {
        self.has_new_put
    }

    /// The newest stored version here, with its record.
    pub(crate) fn newest(&self) -> Option<(u64, &[u8])> {
        self.versions
            .iter()
            .rev()
            .find_map(|(&version, record)| record.as_deref().map(|r| (version, r)))
    }

    /// Applies this entry to the versions the index holds for the key.
    pub(crate) fn merge_into(&self, versions: &mut BTreeMap<u64, Vec<u8>>) {
        if let Some(below) = self.cleared_below {
            versions.retain(|&version, _| version >= below);
        }
        for (&version, record) in &self.versions {
            match record {
                Some(record) => versions.insert(version, record.clone()),
                None => versions.remove(&version),
            };
        }
    }
}

/// Changes not yet checkpointed, by encoded key.
#[derive(Default)]
pub(crate) struct Overlay {
    entries: RwLock<BTreeMap<Vec<u8>, OverlayEntry>>,
}

impl Overlay {
    /// The changes to `key`, if the overlay has any.
    pub(crate) fn get(&self, key: &[u8]) -> Option<OverlayEntry> {
        self.with(key, |entry| entry.cloned())
    }

    /// Runs `f` on the changes to `key` under the overlay's read lock,
    /// without copying them out.
    pub(crate) fn with<T>(&self, key: &[u8], f: impl FnOnce(Option<&OverlayEntry>) -> T) -> T {
        let entries = self.entries.read().unwrap_or_else(PoisonError::into_inner);
        f(entries.get(key))
    }

    /// Publishes changes: `(key, sequence number of the frame, change)`.
    pub(crate) fn publish(&self, changes: impl IntoIterator<Item = (Vec<u8>, u64, VersionChange)>) {
        let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        for (key, seq, change) in changes {
            entries.entry(key).or_default().apply(seq, change);
        }
    }

    /// Publishes changes where a moved version counts only if the version
    /// still exists: here, or in the index (`indexed(key, version)`, asked
    /// before the overlay is locked) and not deleted or dropped here since.
    /// A version deleted while compaction copied it stays deleted, whatever
    /// the index has checkpointed meanwhile.
    pub(crate) fn publish_moves(
        &self,
        changes: Vec<(Vec<u8>, u64, VersionChange)>,
        indexed: &dyn Fn(&[u8], u64) -> bool,
    ) {
        let in_index: Vec<bool> = changes
            .iter()
            .map(|(key, _, change)| match change {
                VersionChange::Put {
                    version,
                    moved: true,
                    ..
                } => indexed(key, *version),
                _ => false,
            })
            .collect();
        let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        for ((key, seq, change), in_index) in changes.into_iter().zip(in_index) {
            if let VersionChange::Put {
                version,
                moved: true,
                ..
            } = &change
            {
                let exists = match entries.get(&key) {
                    Some(entry) => match entry.versions.get(version) {
                        Some(record) => record.is_some(),
                        None => in_index && entry.cleared_below.is_none_or(|b| *version >= b),
                    },
                    None => in_index,
                };
                if !exists {
                    continue;
                }
            }
            entries.entry(key).or_default().apply(seq, change);
        }
    }

    /// An overlay holding `entries` (a store on object storage's view,
    /// loaded from a checkpoint object).
    #[cfg(feature = "object-store")]
    pub(crate) fn from_entries(entries: BTreeMap<Vec<u8>, OverlayEntry>) -> Self {
        Self {
            entries: RwLock::new(entries),
        }
    }

    /// Replaces every entry with `other`'s (a read-only store's view rebuilt
    /// from the log).
    pub(crate) fn replace_with(&self, other: Overlay) {
        let fresh = other
            .entries
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner);
        *self.entries.write().unwrap_or_else(PoisonError::into_inner) = fresh;
    }

    /// How many keys have changes.
    pub(crate) fn len(&self) -> usize {
        self.entries
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Every entry whose changes all lie at or below `max_seq`, in key order.
    pub(crate) fn up_to(&self, max_seq: u64) -> Vec<(Vec<u8>, OverlayEntry)> {
        let entries = self.entries.read().unwrap_or_else(PoisonError::into_inner);
        entries
            .iter()
            .filter(|(_, entry)| entry.seq <= max_seq)
            .map(|(key, entry)| (key.clone(), entry.clone()))
            .collect()
    }

    /// At most `limit` entries with keys in `(start, end)`, in key order.
    pub(crate) fn range_chunk(
        &self,
        start: Bound<&[u8]>,
        end: Bound<&[u8]>,
        limit: usize,
    ) -> Vec<(Vec<u8>, OverlayEntry)> {
        if is_empty_range(start, end) {
            return Vec::new();
        }
        let entries = self.entries.read().unwrap_or_else(PoisonError::into_inner);
        entries
            .range::<[u8], _>((start, end))
            .take(limit)
            .map(|(key, entry)| (key.clone(), entry.clone()))
            .collect()
    }

    /// Removes the checkpointed entries that no newer change touched.
    pub(crate) fn retire(&self, checkpointed: &[(Vec<u8>, OverlayEntry)]) {
        let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        for (key, entry) in checkpointed {
            if entries.get(key).is_some_and(|e| e == entry) {
                entries.remove(key);
            }
        }
    }

    /// Removes every entry up to `max_seq` (after a rebuild that holds them).
    pub(crate) fn retire_up_to(&self, max_seq: u64) {
        let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        entries.retain(|_, entry| entry.seq > max_seq);
    }
}

/// Whether no key lies in `(start, end)` (`BTreeMap::range` panics on an
/// inverted range).
fn is_empty_range(start: Bound<&[u8]>, end: Bound<&[u8]>) -> bool {
    match (start, end) {
        (Bound::Included(s), Bound::Included(e)) => s > e,
        (Bound::Included(s) | Bound::Excluded(s), Bound::Excluded(e))
        | (Bound::Excluded(s), Bound::Included(e)) => s >= e,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put(version: u64, value: u8) -> VersionChange {
        VersionChange::Put {
            version,
            record: vec![value],
            moved: false,
        }
    }

    #[test]
    fn changes_commute_whatever_the_publish_order() {
        let changes = [
            (b"k".to_vec(), 3, put(3, 3)),
            (b"k".to_vec(), 5, put(5, 5)),
            (b"k".to_vec(), 6, VersionChange::Delete { below: 6 }),
            (b"k".to_vec(), 7, put(7, 7)),
        ];
        let forward = Overlay::default();
        forward.publish(changes.clone());
        let backward = Overlay::default();
        backward.publish(changes.iter().rev().cloned());
        assert_eq!(forward.get(b"k"), backward.get(b"k"));
        let entry = forward.get(b"k").expect("entry");
        assert_eq!(entry.newest(), Some((7, &[7u8][..])));
        assert_eq!(entry.versions.len(), 1);
        assert_eq!(entry.seq, 7);
    }

    #[test]
    fn a_move_never_brings_back_a_deleted_version() {
        let overlay = Overlay::default();
        overlay.publish([(b"k".to_vec(), 9, VersionChange::Delete { below: 9 })]);
        let moved = VersionChange::Put {
            version: 4,
            record: vec![4],
            moved: true,
        };
        overlay.publish([(b"k".to_vec(), 8, moved)]);
        let entry = overlay.get(b"k").expect("entry");
        assert_eq!(entry.newest(), None);
        let mut index_versions = BTreeMap::from([(4, vec![4]), (10, vec![10])]);
        entry.merge_into(&mut index_versions);
        assert_eq!(index_versions, BTreeMap::from([(10, vec![10])]));
    }

    #[test]
    fn merging_applies_drops_moves_and_deletes_to_index_versions() {
        let mut entry = OverlayEntry::default();
        entry.apply(10, VersionChange::Drop { version: 1 });
        entry.apply(
            10,
            VersionChange::Put {
                version: 2,
                record: vec![20],
                moved: true,
            },
        );
        assert!(!entry.decides_latest());
        let mut versions = BTreeMap::from([(1, vec![1]), (2, vec![2]), (3, vec![3])]);
        entry.merge_into(&mut versions);
        assert_eq!(versions, BTreeMap::from([(2, vec![20]), (3, vec![3])]));
        entry.apply(11, VersionChange::Delete { below: 11 });
        entry.merge_into(&mut versions);
        assert!(versions.is_empty());
    }

    #[test]
    fn retire_keeps_entries_changed_after_the_snapshot() {
        let overlay = Overlay::default();
        overlay.publish([(b"a".to_vec(), 1, put(1, 1)), (b"b".to_vec(), 2, put(2, 2))]);
        let snapshot = overlay.up_to(2);
        assert_eq!(snapshot.len(), 2);
        overlay.publish([(b"b".to_vec(), 3, put(3, 3))]);
        overlay.retire(&snapshot);
        assert_eq!(overlay.get(b"a"), None);
        assert_eq!(
            overlay.get(b"b").and_then(|e| e.newest().map(|n| n.0)),
            Some(3)
        );
        assert_eq!(overlay.up_to(2), Vec::new());
        overlay.retire_up_to(3);
        assert_eq!(overlay.len(), 0);
    }
}
