//! Garbage collection of a store on object storage: deleting the log
//! objects no reader can need any more.
//!
//! # The rule
//!
//! With `g` the grace period (`remote_gc_grace`) and times read from the
//! object store's `last_modified`, log object `j` is deleted when
//!
//! - some checkpoint `A` (the *anchor*: the newest checkpoint at least `g`
//!   old) stands at or after `j`,
//! - neither `A` nor any checkpoint newer than `A` references `j` (a
//!   checkpoint holds the retained versions only, and references the log
//!   objects their records point into), and
//! - `j` itself is at least `g` old.
//!
//! # Why no reader loses an object it needs within the grace period
//!
//! The view at log position `p` references `j` only through versions
//! written or moved into `j` that no later move re-pointed and no delete or
//! retention removed; later commits never point into an old object. So once
//! the view at `A` does not reference `j`, no view at or after `A` does
//! (retention only ever lets versions go). Take a handle whose view is at
//! position `p` and was current at time `t` (it opened, committed, or found
//! the log's end then).
//!
//! - If `p >= A`, its view does not reference `j`.
//! - If `p < A`, object `A` did not exist at `t`, so checkpoint `A` was
//!   written after `t`, and `j` is deleted no sooner than `t + g`.
//!
//! So every object a handle's view needs stays for the grace period after
//! the handle was last current (less the clock skew between the object
//! store and the collecting machine). A handle that falls further behind
//! finds the object gone; its read then catches up
//! ([`super::remote_fresh`] makes sure it does not mistake a deleted object
//! for the end of the log) and reads the current value.
//!
//! No object beyond the anchor is ever deleted, so the newest log object
//! (the one the next commit follows) always stays. A log object that no
//! checkpoint references and that lies before the anchor (one a writer
//! created by mistake at a deleted number, say) is an orphan and goes the
//! same way. Deletes are idempotent: one that fails leaves the object for
//! the next collection.

use std::collections::BTreeSet;

use chrono::{DateTime, TimeDelta, Utc};

use super::Inner;
use super::remote::{RemoteBackend, decode_checkpoint};
use super::remote_checkpoint::{checkpoint_id, checkpoint_name};
use super::remote_live::referenced_objects;
use crate::error::Result;
use crate::remote::log_object_name;

impl RemoteBackend {
    /// Deletes the log objects the rule in the module documentation allows,
    /// then the data objects [`super::remote_gc_data`]'s rule allows; returns
    /// how many objects it deleted.
    ///
    /// # Errors
    /// [`Error::ObjectStore`](crate::Error::ObjectStore) if a listing, a read
    /// or a delete fails (the objects deleted before it stay deleted, the
    /// rest stay for the next collection);
    /// [`Error::CorruptObject`](crate::Error::CorruptObject) for a damaged
    /// checkpoint (nothing is deleted then).
    pub(super) fn collect_log(&self, inner: &Inner) -> Result<u64> {
        let now = Utc::now();
        let grace = TimeDelta::from_std(self.gc_grace).unwrap_or(TimeDelta::MAX);
        let old_enough = |modified: DateTime<Utc>| {
            modified
                .checked_add_signed(grace)
                .is_some_and(|due| due <= now)
        };
        let mut checkpoints: Vec<(u64, DateTime<Utc>)> = self
            .client
            .list("checkpoint")?
            .into_iter()
            .filter_map(|listed| checkpoint_id(&listed.name).map(|id| (id, listed.modified)))
            .collect();
        checkpoints.sort_unstable();
        let Some(anchor) = checkpoints
            .iter()
            .rev()
            .find(|(_, modified)| old_enough(*modified))
            .map(|&(id, _)| id)
        else {
            return Ok(0);
        };
        let Some(referenced) = self.referenced_since(&checkpoints, anchor)? else {
            return Ok(0);
        };
        let mut deleted = 0;
        for (id, listed) in self.log_objects()? {
            if id <= anchor && !referenced.contains(&id) && old_enough(listed.modified) {
                self.client.delete(&log_object_name(id))?;
                deleted += 1;
            }
        }
        if deleted > 0 {
            log::info!(
                "{}: deleted {deleted} log objects no checkpoint since {anchor} needs",
                self.client.describe()
            );
        }
        Ok(deleted + self.collect_data(inner, anchor, &referenced, &old_enough)?)
    }

    /// The log objects the checkpoints from `anchor` on reference; `None` if
    /// one of them is gone since it was listed (collect another time).
    fn referenced_since(
        &self,
        checkpoints: &[(u64, DateTime<Utc>)],
        anchor: u64,
    ) -> Result<Option<BTreeSet<u64>>> {
        let mut referenced = BTreeSet::new();
        for &(id, _) in checkpoints.iter().filter(|(id, _)| *id >= anchor) {
            let Some(bytes) = self.client.get(&checkpoint_name(id))? else {
                return Ok(None);
            };
            let (_, checkpoint) = decode_checkpoint(&self.client, id, &bytes)?;
            referenced.extend(referenced_objects(checkpoint.entries.values()));
        }
        Ok(Some(referenced))
    }
}
