//! Group commit: batches that arrive while a commit is in flight wait in a
//! queue, and the next writer to take the log commits all of them in one log
//! object (one `PUT`), each still its own atomic batch.

use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::log::FrameKind;
use crate::segment::ChangeFrame;

/// One change of a waiting batch, its bytes owned (the writer that made it
/// is blocked until the batch is committed).
struct OwnedChange {
    kind: FrameKind,
    key: Vec<u8>,
    described: Vec<u8>,
    payload: Vec<u8>,
}

/// A waiting batch and the slot its outcome goes to.
pub(crate) struct Waiting {
    changes: Vec<OwnedChange>,
    outcome: Mutex<Option<Result<(), String>>>,
}

impl Waiting {
    /// A copy of `changes`, waiting to be committed.
    pub(crate) fn new(changes: &[ChangeFrame<'_>]) -> Self {
        let changes = changes
            .iter()
            .map(|change| OwnedChange {
                kind: change.kind,
                key: change.key.to_vec(),
                described: change.described.to_vec(),
                payload: change.payload.to_vec(),
            })
            .collect();
        Self {
            changes,
            outcome: Mutex::new(None),
        }
    }

    /// The batch's changes, as frames to encode.
    pub(crate) fn frames(&self) -> Vec<ChangeFrame<'_>> {
        self.changes
            .iter()
            .map(|change| ChangeFrame {
                kind: change.kind,
                key: &change.key,
                described: &change.described,
                payload: &change.payload,
            })
            .collect()
    }

    fn slot(&self) -> MutexGuard<'_, Option<Result<(), String>>> {
        self.outcome.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records how the commit that carried the batch ended (`Err`: why it failed).
    pub(crate) fn finish(&self, outcome: Result<(), String>) {
        *self.slot() = Some(outcome);
    }

    /// How the batch's commit ended, once it has.
    pub(crate) fn outcome(&self) -> Option<Result<(), String>> {
        self.slot().clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_waiting_batch_keeps_its_changes_and_outcome() {
        let payload = vec![3u8; 100];
        let changes = [ChangeFrame {
            kind: FrameKind::Delete { carried: false },
            key: b"key",
            described: b"meta",
            payload: &payload,
        }];
        let waiting = Waiting::new(&changes);
        drop(payload);
        let frames = waiting.frames();
        assert_eq!(frames.len(), 1);
        assert_eq!(frames[0].key, b"key");
        assert_eq!(frames[0].described, b"meta");
        assert_eq!(frames[0].payload, &[3u8; 100][..]);
        assert_eq!(waiting.outcome(), None);
        waiting.finish(Err("refused".into()));
        assert_eq!(waiting.outcome(), Some(Err("refused".into())));
    }
}
