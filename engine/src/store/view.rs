//! The store's view of its keys: the overlay's changes over the index.

use std::collections::VecDeque;
use std::ops::Bound;
use std::sync::PoisonError;

use super::Inner;
use super::overlay::OverlayEntry;
use crate::error::Result;
use crate::index::Visit;

/// Overlay entries fetched per step of a merged scan.
const CURSOR_CHUNK: usize = 256;

impl Inner {
    /// The index value (an encoded record) under `key`, if any.
    pub(super) fn lookup(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        if let Some(entry) = self.overlay.get(key) {
            return Ok(entry.value);
        }
        self.index
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(key)
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
                going = emit(&overlay_key, &entry, visit)?;
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
            going = emit(&key, &entry, visit)?;
        }
        Ok(())
    }
}

/// Visits an overlay entry unless it is a delete; `Ok(true)` to go on.
fn emit(key: &[u8], entry: &OverlayEntry, visit: Visit<'_>) -> Result<bool> {
    match &entry.value {
        Some(value) => visit(key, value),
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
        self.buffer.pop_front().unwrap_or_else(|| {
            (
                Vec::new(),
                OverlayEntry {
                    seq: 0,
                    value: None,
                },
            )
        })
    }
}
