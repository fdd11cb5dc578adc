//! [`History`]: a frozen copy of the event log, to build crash images from.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::event::{Event, EventOp};
use super::tree::TreeSnapshot;

/// The event log up to the moment it was taken, with the root's contents when
/// recording started. Cheap to clone and to share between threads.
#[derive(Debug, Clone)]
pub struct History {
    pub(crate) initial: Arc<TreeSnapshot>,
    pub(crate) events: Arc<[Event]>,
    /// Every directory an index checkpoint was reported for.
    pub(crate) index_dirs: Arc<BTreeSet<PathBuf>>,
}

impl History {
    /// A history of `events` on top of `initial`.
    pub(crate) fn new(initial: Arc<TreeSnapshot>, events: Vec<Event>) -> Self {
        let index_dirs = events
            .iter()
            .filter_map(|e| match &e.op {
                EventOp::IndexCheckpoint { dir, .. } => Some(dir.clone()),
                _ => None,
            })
            .collect();
        Self {
            initial,
            events: events.into(),
            index_dirs: Arc::new(index_dirs),
        }
    }

    /// The number of events; crash points run from 0 (nothing happened) to
    /// this (everything did).
    #[must_use]
    pub fn len(&self) -> u64 {
        self.events.len() as u64
    }

    /// Whether no event was recorded.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// The events, numbered by position.
    #[must_use]
    pub fn events(&self) -> &[Event] {
        &self.events
    }

    /// Event number `n`.
    #[must_use]
    pub fn event(&self, n: u64) -> Option<&Event> {
        usize::try_from(n).ok().and_then(|i| self.events.get(i))
    }

    /// The numbers of the sync events.
    #[must_use]
    pub fn sync_points(&self) -> Vec<u64> {
        self.numbered()
            .filter(|(_, e)| e.is_sync_point())
            .map(|(n, _)| n)
            .collect()
    }

    /// The test's marks: number and label.
    #[must_use]
    pub fn marks(&self) -> Vec<(u64, &str)> {
        self.numbered()
            .filter_map(|(n, e)| e.mark_label().map(|label| (n, label)))
            .collect()
    }

    /// The directories index checkpoints were reported for, relative to the
    /// root.
    #[must_use]
    pub fn index_dirs(&self) -> Vec<&Path> {
        self.index_dirs.iter().map(PathBuf::as_path).collect()
    }

    /// The events before `at_event`, one per line, for failure messages.
    #[must_use]
    pub fn describe(&self, at_event: u64) -> String {
        self.numbered()
            .take_while(|(n, _)| *n < at_event)
            .map(|(n, e)| format!("{n:>6} {e}\n"))
            .collect()
    }

    fn numbered(&self) -> impl Iterator<Item = (u64, &Event)> {
        (0u64..).zip(self.events.iter())
    }
}
