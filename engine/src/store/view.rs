//! The store's view of its keys: the overlay's changes over the index.

use std::collections::{BTreeMap, VecDeque};
use std::ops::Bound;
use std::sync::{Arc, PoisonError};

use super::Inner;
use super::overlay::OverlayEntry;
use crate::error::Result;
use crate::index::{IndexBackend, Visit};
use crate::key::encoding;
use crate::record::Record;

/// Overlay entries fetched per step of a merged scan.
const CURSOR_CHUNK: usize = 256;

impl Inner {
    /// The newest version's record (encoded) under `key`, if any.
    pub(super) fn lookup(&self, key: &[u8]) -> Result<Option<Arc<[u8]>>> {
        let entry = match self.overlay.with(key, OverlaySays::of) {
            OverlaySays::Decided(record) => return Ok(record),
            OverlaySays::AskIndex(entry) => entry,
        };
        let index = self.index.read().unwrap_or_else(PoisonError::into_inner);
        let latest = index.get_shared(key)?;
        Ok(match entry {
            Some(entry) => latest_over(&entry, latest.as_deref()).map(Arc::from),
            None => latest,
        })
    }

    /// Every version the store holds for `key` (retained or not), oldest
    /// first: version → encoded record.
    pub(super) fn versions(&self, key: &[u8]) -> Result<BTreeMap<u64, Vec<u8>>> {
        let entry = self.overlay.get(key);
        let index = self.index.read().unwrap_or_else(PoisonError::into_inner);
        let mut versions = index_versions(&**index, key)?;
        drop(index);
        if let Some(entry) = entry {
            entry.merge_into(&mut versions);
        }
        Ok(versions)
    }

    /// Visits the entries in `(start, end)` in key order, the overlay's
    /// changes taking the place of the index's values, while `visit`
    /// returns `true`.
    pub(super) fn scan(
        &self,
        start: Bound<&[u8]>,
        end: Bound<&[u8]>,
        visit: Visit<'_>,
    ) -> Result<()> {
        let mut cursor = OverlayCursor::new(start, end);
        let mut going = true;
        let index = self.index.read().unwrap_or_else(PoisonError::into_inner);
        index.scan(start, end, &mut |key, value| {
            while let Some((overlay_key, _)) = cursor.peek(self) {
                if overlay_key.as_slice() > key {
                    break;
                }
                let same = overlay_key.as_slice() == key;
                let (overlay_key, entry) = cursor.pop();
                going = emit(&overlay_key, &entry, same.then_some(value), visit)?;
                if same {
                    return Ok(going);
                }
                if !going {
                    return Ok(false);
                }
            }
            going = visit(key, value)?;
            Ok(going)
        })?;
        drop(index);
        while going && cursor.peek(self).is_some() {
            let (key, entry) = cursor.pop();
            going = emit(&key, &entry, None, visit)?;
        }
        Ok(())
    }
}

/// What the overlay says of a key's newest version.
enum OverlaySays {
    /// The overlay alone decides it: this record, or none.
    Decided(Option<Arc<[u8]>>),
    /// The index must be asked; these changes (if any) apply over it.
    AskIndex(Option<OverlayEntry>),
}

impl OverlaySays {
    /// Copies out only what the read needs: the decided record, or (rarely:
    /// moves, drops or deletes since the last checkpoint) the whole entry.
    fn of(entry: Option<&OverlayEntry>) -> Self {
        match entry {
            Some(entry) if entry.decides_latest() => {
                Self::Decided(entry.newest().map(|(_, record)| Arc::from(record)))
            }
            entry => Self::AskIndex(entry.cloned()),
        }
    }
}

/// The versions of `key` the index holds: its newest under the key itself,
/// the older ones in version rows.
pub(super) fn index_versions(
    index: &dyn IndexBackend,
    key: &[u8],
) -> Result<BTreeMap<u64, Vec<u8>>> {
    index_versions_after(index, key, index.get(key)?)
}

/// [`index_versions`], given the record the index holds under `key` itself
/// (read by the caller, perhaps with other keys' in one transaction).
pub(super) fn index_versions_after(
    index: &dyn IndexBackend,
    key: &[u8],
    latest: Option<Vec<u8>>,
) -> Result<BTreeMap<u64, Vec<u8>>> {
    let mut versions = BTreeMap::new();
    let Some(latest) = latest else {
        return Ok(versions);
    };
    let prefix = encoding::version_prefix(key);
    let end = encoding::version_key(key, u64::MAX);
    index.scan(
        Bound::Included(&prefix),
        Bound::Included(&end),
        &mut |row, record| {
            if let Some(version) = encoding::version_after(&prefix, row) {
                versions.insert(version, record.to_vec());
            }
            Ok(true)
        },
    )?;
    if let Some(version) = Record::version_of(&latest) {
        versions.insert(version, latest);
    }
    Ok(versions)
}

/// The newest version's record given the overlay's changes and the index's
/// newest record.
fn latest_over(entry: &OverlayEntry, index_latest: Option<&[u8]>) -> Option<Vec<u8>> {
    let mut best = entry.newest().map(|(v, r)| (v, r.to_vec()));
    if entry.decides_latest() {
        return best.map(|(_, r)| r);
    }
    if let Some(record) = index_latest
        && let Some(version) = Record::version_of(record)
        && entry.cleared_below.is_none_or(|below| version >= below)
    {
        let record = match entry.versions.get(&version) {
            Some(changed) => changed.clone(),
            None => Some(record.to_vec()),
        };
        if let Some(record) = record
            && best.as_ref().is_none_or(|(newest, _)| version > *newest)
        {
            best = Some((version, record));
        }
    }
    best.map(|(_, r)| r)
}

/// Visits the key's newest version as the overlay and the index decide it;
/// `Ok(true)` to go on.
fn emit(
    key: &[u8],
    entry: &OverlayEntry,
    index_latest: Option<&[u8]>,
    visit: Visit<'_>,
) -> Result<bool> {
    match latest_over(entry, index_latest) {
        Some(value) => visit(key, &value),
        None => Ok(true),
    }
}

/// Walks the overlay's entries in a range a chunk at a time, so a scan holds
/// no lock on it between steps.
struct OverlayCursor {
    next: Bound<Vec<u8>>,
    end: Bound<Vec<u8>>,
    buffer: VecDeque<(Vec<u8>, OverlayEntry)>,
    exhausted: bool,
}

fn owned(bound: Bound<&[u8]>) -> Bound<Vec<u8>> {
    bound.map(<[u8]>::to_vec)
}

fn borrowed(bound: &Bound<Vec<u8>>) -> Bound<&[u8]> {
    bound.as_ref().map(Vec::as_slice)
}

impl OverlayCursor {
    fn new(start: Bound<&[u8]>, end: Bound<&[u8]>) -> Self {
        Self {
            next: owned(start),
            end: owned(end),
            buffer: VecDeque::new(),
            exhausted: false,
        }
    }

    fn peek(&mut self, inner: &Inner) -> Option<&(Vec<u8>, OverlayEntry)> {
        if self.buffer.is_empty() && !self.exhausted {
            let chunk =
                inner
                    .overlay
                    .range_chunk(borrowed(&self.next), borrowed(&self.end), CURSOR_CHUNK);
            self.exhausted = chunk.len() < CURSOR_CHUNK;
            if let Some((last, _)) = chunk.last() {
                self.next = Bound::Excluded(last.clone());
            }
            self.buffer.extend(chunk);
        }
        self.buffer.front()
    }

    /// Takes the entry [`peek`](Self::peek) returned.
    fn pop(&mut self) -> (Vec<u8>, OverlayEntry) {
        self.buffer.pop_front().unwrap_or_default()
    }
}
