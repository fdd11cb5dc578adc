//! How a handle of a store on object storage knows that a log object it
//! finds missing is the end of the log, not one garbage collection deleted.
//!
//! Garbage collection deletes log object `q` only once a checkpoint
//! numbered `q` or more has existed for the grace period `g` (see
//! [`super::remote_gc`]). A handle that listed the checkpoints at time `t`,
//! found the newest to be `c`, and then stood after `c` (it loads that
//! checkpoint if it had not read so far) knows: until `t + g`, no object
//! after its position can have been deleted, since that would take a
//! checkpoint newer than `c` existing before `t`. So a missing object there
//! is the end of the log, and a conditional create there can never reuse the
//! number of a deleted object (which would succeed and be lost). The handle
//! trusts this until `t + g / 2`, the other half absorbing clock skew between
//! the object store and the collecting machine, then lists again: one `LIST`
//! per half grace period, only when the handle reads or commits.

use std::sync::atomic::Ordering;
use std::time::Instant;

use super::Inner;
use super::overlay::Overlay;
use super::remote::{LogState, RemoteBackend, latest_checkpoint};
use super::remote_checkpoint::{ViewCheckpoint, checkpoint_id};
use crate::error::Result;

impl RemoteBackend {
    /// Makes sure a log object missing at `state.next_id` or after is the
    /// end of the log: once the trust from the last check has run out, lists
    /// the checkpoints and, if the newest stands at or after the next object
    /// to read, loads it in place of the view (the objects before it may be
    /// gone). Returns the number of the checkpoint loaded, if one was.
    ///
    /// # Errors
    /// [`Error::ObjectStore`](crate::Error::ObjectStore) if the listing or
    /// the read fails; [`Error::CorruptObject`](crate::Error::CorruptObject)
    /// for a damaged checkpoint.
    pub(super) fn ensure_fresh(&self, inner: &Inner, state: &mut LogState) -> Result<Option<u64>> {
        let listed_at = Instant::now();
        if listed_at < state.fresh_until {
            return Ok(None);
        }
        let newest = self
            .client
            .list("checkpoint")?
            .iter()
            .filter_map(|listed| checkpoint_id(&listed.name))
            .max();
        let mut loaded = None;
        if newest.is_some_and(|id| id >= state.next_id)
            && let Some((id, checkpoint)) = latest_checkpoint(&self.client)?
            && id >= state.next_id
        {
            self.reload(inner, state, id, checkpoint);
            loaded = Some(id);
        }
        state.fresh_until = listed_at + self.gc_grace / 2;
        Ok(loaded)
    }

    /// Replaces the view with checkpoint `id`'s.
    fn reload(&self, inner: &Inner, state: &mut LogState, id: u64, checkpoint: ViewCheckpoint) {
        log::info!(
            "{}: the view fell behind the log's collected part; loading checkpoint {id}",
            self.client.describe()
        );
        inner
            .overlay
            .replace_with(Overlay::from_entries(checkpoint.entries));
        state.next_id = id + 1;
        state.after = Some(checkpoint.after);
        self.read_below.store(state.next_id, Ordering::Release);
    }
}
