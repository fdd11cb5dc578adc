//! Garbage collection of data objects (the payloads of large values, see
//! [`super::remote_large`]).
//!
//! With `g` the grace period, the anchor `A` and the log objects the
//! checkpoints from `A` on reference as in [`super::remote_gc`], data object
//! `d` is deleted when
//!
//! - it was uploaded at least `g` ago (the object store's `last_modified`),
//! - no checkpoint from `A` on references it (a record of a version in a
//!   data object points into the data object itself), and
//! - no log object after `A` names it in an external put (these are listed
//!   after the data objects, and each is checked whole before it counts).
//!
//! Readers keep what they need for the grace period by the argument of
//! [`super::remote_gc`]: a view at or after `A` references only data objects
//! that `A`, a later checkpoint or a log object after `A` names. A commit
//! keeps its data object because a writer never creates a log object naming
//! a data object uploaded more than `g / 2` ago, so the log object exists by
//! the time the data object is `g` old, and the listing made after that
//! finds it. A data object that no commit names (its writer died or failed
//! between the upload and the commit: an orphan) is therefore deleted once
//! it is `g` old.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};

use super::Inner;
use super::remote::{RemoteBackend, check_whole};
use crate::error::Result;
use crate::remote::{data_object_id, data_object_name, frames_of, referenced_data};

impl RemoteBackend {
    /// Deletes the data objects the rule in the module documentation allows,
    /// `referenced` being what the checkpoints from `anchor` on reference;
    /// returns how many it deleted.
    ///
    /// # Errors
    /// [`Error::ObjectStore`](crate::Error::ObjectStore) if a listing, a read
    /// or a delete fails (what was deleted stays deleted, the rest waits for
    /// the next collection).
    pub(super) fn collect_data(
        &self,
        inner: &Inner,
        anchor: u64,
        referenced: &BTreeSet<u64>,
        old_enough: &dyn Fn(DateTime<Utc>) -> bool,
    ) -> Result<u64> {
        let candidates = self.unreferenced_data(referenced, old_enough)?;
        if candidates.is_empty() {
            return Ok(0);
        }
        let Some(named) = self.data_named_after(inner, anchor)? else {
            return Ok(0);
        };
        let mut deleted = 0;
        for id in candidates.difference(&named) {
            self.client.delete(&data_object_name(*id))?;
            deleted += 1;
        }
        if deleted > 0 {
            log::info!(
                "{}: deleted {deleted} data objects nothing since checkpoint {anchor} names",
                self.client.describe()
            );
        }
        Ok(deleted)
    }

    /// The sizes of the data objects in the store (one `LIST`).
    ///
    /// # Errors
    /// [`Error::ObjectStore`](crate::Error::ObjectStore) if the listing fails.
    pub(super) fn data_object_sizes(&self) -> Result<Vec<u64>> {
        Ok(self
            .client
            .list("data")?
            .into_iter()
            .filter(|listed| data_object_id(&listed.name).is_some())
            .map(|listed| listed.size)
            .collect())
    }

    /// The data objects old enough that no checkpoint from the anchor on
    /// references (one `LIST`).
    pub(super) fn unreferenced_data(
        &self,
        referenced: &BTreeSet<u64>,
        old_enough: &dyn Fn(DateTime<Utc>) -> bool,
    ) -> Result<BTreeSet<u64>> {
        Ok(self
            .client
            .list("data")?
            .into_iter()
            .filter(|listed| old_enough(listed.modified))
            .filter_map(|listed| data_object_id(&listed.name))
            .filter(|id| !referenced.contains(id))
            .collect())
    }

    /// The data objects the log objects after `anchor` name (listed now,
    /// read through the cache); `None` if one of them is missing or fails
    /// its checks (collect another time).
    fn data_named_after(&self, inner: &Inner, anchor: u64) -> Result<Option<BTreeSet<u64>>> {
        let mut named = BTreeSet::new();
        for &id in self.log_objects()?.keys().filter(|&&id| id > anchor) {
            let Some(segment) = self.fetch(inner, id)? else {
                return Ok(None);
            };
            if let Err(reason) = check_whole(&segment, None) {
                log::warn!("not collecting data objects: log object {id} is damaged: {reason}");
                return Ok(None);
            }
            named.extend(referenced_data(frames_of(&segment)));
        }
        Ok(Some(named))
    }
}
