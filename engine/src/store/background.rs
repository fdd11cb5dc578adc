//! The background compaction thread.
//!
//! It holds only a weak handle on the store, wakes every interval, and runs
//! a compaction when the log has grown, since the last one, by a quarter
//! segment or an eighth of the store, whichever is more (or, the first time,
//! when there is a sealed segment at all). A compaction starts with a pass
//! over every key's versions, so on a large store it runs in proportion to
//! the writes, not to the clock.

use std::sync::{Arc, Condvar, Mutex, PoisonError, Weak};
use std::thread::{JoinHandle, ThreadId};
use std::time::Duration;

use super::{Inner, Store};

/// The background compactor of one store.
#[derive(Default)]
pub(super) struct Background {
    stop: Arc<(Mutex<bool>, Condvar)>,
    thread: Mutex<Option<(JoinHandle<()>, ThreadId)>>,
}

impl Background {
    /// Starts the thread for `inner`.
    pub(super) fn start(&self, inner: Weak<Inner>, interval: Duration) {
        let stop = Arc::clone(&self.stop);
        let spawned = std::thread::Builder::new()
            .name("tessera-compactor".into())
            .spawn(move || run(&inner, &stop, interval));
        match spawned {
            Ok(handle) => {
                let id = handle.thread().id();
                *self.thread.lock().unwrap_or_else(PoisonError::into_inner) = Some((handle, id));
            }
            Err(error) => log::warn!("background compaction did not start: {error}"),
        }
    }

    /// Stops the thread and waits for it (unless called from it).
    pub(super) fn stop(&self) {
        let (flag, wake) = &*self.stop;
        *flag.lock().unwrap_or_else(PoisonError::into_inner) = true;
        wake.notify_all();
        let thread = self
            .thread
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some((handle, id)) = thread
            && id != std::thread::current().id()
        {
            let _ = handle.join();
        }
    }
}

/// Waits `interval` or until stopped; `true` if stopped.
fn wait(stop: &(Mutex<bool>, Condvar), interval: Duration) -> bool {
    let (flag, wake) = stop;
    let stopped = flag.lock().unwrap_or_else(PoisonError::into_inner);
    let (stopped, _) = wake
        .wait_timeout_while(stopped, interval, |stopped| !*stopped)
        .unwrap_or_else(PoisonError::into_inner);
    *stopped
}

/// Whether the store asked the thread to stop.
fn is_stopped(stop: &(Mutex<bool>, Condvar)) -> bool {
    *stop.0.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Compacts when due. A compaction in progress stops after its current
/// segment once the store is closed or only this thread still holds it, so
/// that dropping a store releases its directory soon rather than after a
/// long compaction.
fn run(inner: &Weak<Inner>, stop: &(Mutex<bool>, Condvar), interval: Duration) {
    let mut compacted_at: Option<u64> = None;
    while !wait(stop, interval) {
        let Some(inner) = inner.upgrade() else {
            return;
        };
        if inner.poison.is_set() {
            return;
        }
        let appended = inner.segments.appended_bytes();
        let due = match compacted_at {
            Some(at) => {
                let store_bytes = inner.segments.disk_bytes().unwrap_or(0);
                appended.saturating_sub(at) >= (inner.segment_capacity / 4).max(store_bytes / 8)
            }
            None => inner.segments.all().len() > 1,
        };
        if !due {
            continue;
        }
        compacted_at = Some(appended);
        let store = Store { inner };
        let wanted = || !is_stopped(stop) && Arc::strong_count(&store.inner) > 1;
        if let Err(error) = store.compact_while(&mut |_| {}, &wanted) {
            log::warn!(
                "{}: background compaction failed: {error}",
                store.path().display()
            );
        }
    }
}
