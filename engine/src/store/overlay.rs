//! The overlay: committed changes the index does not hold yet.
//!
//! Every published batch lands here first; reads look here before the index.
//! A checkpoint copies entries into the index and then retires them, unless a
//! newer change to the same key arrived meanwhile. Entries are ordered by
//! the log's sequence numbers: an older change never replaces a newer one,
//! whatever order writers publish in.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::{PoisonError, RwLock};

/// One key's newest change: its sequence number and its index value (an
/// encoded record), or `None` for a delete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OverlayEntry {
    pub seq: u64,
    pub value: Option<Vec<u8>>,
}

/// Changes not yet checkpointed, by encoded key.
#[derive(Default)]
pub(crate) struct Overlay {
    entries: RwLock<BTreeMap<Vec<u8>, OverlayEntry>>,
}

impl Overlay {
    /// The newest change to `key`, if the overlay has one.
    pub(crate) fn get(&self, key: &[u8]) -> Option<OverlayEntry> {
        let entries = self.entries.read().unwrap_or_else(PoisonError::into_inner);
        entries.get(key).cloned()
    }

    /// Publishes changes, keeping for each key the one with the larger
    /// sequence number.
    pub(crate) fn publish(&self, changes: impl IntoIterator<Item = (Vec<u8>, OverlayEntry)>) {
        let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        for (key, entry) in changes {
            match entries.get_mut(&key) {
                Some(existing) if existing.seq >= entry.seq => {}
                Some(existing) => *existing = entry,
                None => {
                    entries.insert(key, entry);
                }
            }
        }
    }

    /// How many keys have changes.
    pub(crate) fn len(&self) -> usize {
        self.entries
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Every entry with a sequence number up to `max_seq`, in key order.
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

    /// Removes the checkpointed entries that no newer change replaced.
    pub(crate) fn retire(&self, checkpointed: &[(Vec<u8>, OverlayEntry)]) {
        let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        for (key, entry) in checkpointed {
            if entries.get(key).is_some_and(|e| e.seq == entry.seq) {
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

    fn put(seq: u64, value: u8) -> OverlayEntry {
        OverlayEntry {
            seq,
            value: Some(vec![value]),
        }
    }

    #[test]
    fn newer_sequence_numbers_win_whatever_the_publish_order() {
        let overlay = Overlay::default();
        overlay.publish([(b"k".to_vec(), put(5, 5))]);
        overlay.publish([(b"k".to_vec(), put(3, 3))]);
        assert_eq!(overlay.get(b"k"), Some(put(5, 5)));
        overlay.publish([(
            b"k".to_vec(),
            OverlayEntry {
                seq: 6,
                value: None,
            },
        )]);
        assert_eq!(overlay.get(b"k").map(|e| e.value), Some(None));
    }

    #[test]
    fn retire_keeps_entries_replaced_after_the_snapshot() {
        let overlay = Overlay::default();
        overlay.publish([(b"a".to_vec(), put(1, 1)), (b"b".to_vec(), put(2, 2))]);
        let snapshot = overlay.up_to(2);
        assert_eq!(snapshot.len(), 2);
        overlay.publish([(b"b".to_vec(), put(3, 3))]);
        overlay.retire(&snapshot);
        assert_eq!(overlay.get(b"a"), None);
        assert_eq!(overlay.get(b"b"), Some(put(3, 3)));
        assert_eq!(overlay.up_to(2), Vec::new());
        overlay.retire_up_to(3);
        assert_eq!(overlay.len(), 0);
    }
}
