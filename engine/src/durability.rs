//! Durability levels and the group commit that lets concurrent durable writers
//! share one `fdatasync`.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

use crate::error::Result;
use crate::index::panic_message;
use crate::poison::Poison;

/// When a write may return.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// The write returns once it survives power loss: its frames have been
    /// `fdatasync`ed (one sync shared with concurrent writers).
    #[default]
    Immediate,
    /// The write returns once its frames are written to the OS:
    /// [`Store::flush`](crate::Store::flush) makes every write before it
    /// durable. A process crash loses nothing; power loss may lose buffered
    /// writes (whole batches, never part of one).
    Buffered,
}

#[derive(Default)]
struct State {
    requested: u64,
    durable: u64,
    syncing: bool,
}

/// Shares one sync among every caller that arrives while it is pending.
///
/// A caller takes a ticket after its write is complete; a leader syncs for every
/// ticket issued before it started, so no caller returns before a sync that
/// began after its write. A failed or panicking sync poisons the store: the
/// leader gets its error, every waiting and later caller an I/O error of the
/// same kind, and no sync is tried again.
#[derive(Default)]
pub(crate) struct GroupCommit {
    state: Mutex<State>,
    done: Condvar,
}

impl GroupCommit {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Returns once a `sync` that started after this call has succeeded.
    pub(crate) fn commit(
        &self,
        poison: &Poison,
        what: &Path,
        sync: impl Fn() -> Result<()>,
    ) -> Result<()> {
        let mut state = self.lock();
        state.requested += 1;
        let ticket = state.requested;
        loop {
            if let Some(failure) = poison.failure() {
                return Err(failure.to_io_error());
            }
            if state.durable >= ticket {
                return Ok(());
            }
            if state.syncing {
                state = self
                    .done
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
                continue;
            }
            state.syncing = true;
            let target = state.requested;
            drop(state);
            let outcome = catch_unwind(AssertUnwindSafe(&sync)).unwrap_or_else(|panic| {
                Err(poison.other_failed(
                    "sync",
                    what,
                    format!("sync panicked: {}", panic_message(&*panic)),
                ))
            });
            state = self.lock();
            state.syncing = false;
            if outcome.is_ok() {
                state.durable = state.durable.max(target);
            }
            self.done.notify_all();
            outcome?;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};

    use super::*;

    #[test]
    fn concurrent_callers_share_syncs_and_each_sees_one_after_its_call() {
        let group = Arc::new(GroupCommit::default());
        let syncs = Arc::new(AtomicU64::new(0));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (group, syncs) = (Arc::clone(&group), Arc::clone(&syncs));
                std::thread::spawn(move || {
                    for _ in 0..50 {
                        let before = syncs.load(Ordering::SeqCst);
                        group
                            .commit(&Poison::default(), Path::new("test"), || {
                                std::thread::sleep(std::time::Duration::from_micros(200));
                                syncs.fetch_add(1, Ordering::SeqCst);
                                Ok(())
                            })
                            .expect("sync");
                        assert!(syncs.load(Ordering::SeqCst) > before);
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().expect("thread");
        }
        let total = syncs.load(Ordering::SeqCst);
        assert!(
            total < 400,
            "{total} syncs for 400 commits: none was shared"
        );
    }

    fn waiters_of(
        group: &Arc<GroupCommit>,
        poison: &Arc<Poison>,
        n: usize,
    ) -> Vec<std::thread::JoinHandle<Result<()>>> {
        (0..n)
            .map(|_| {
                let (group, poison) = (Arc::clone(group), Arc::clone(poison));
                std::thread::spawn(move || group.commit(&poison, Path::new("seg"), || Ok(())))
            })
            .collect()
    }

    #[test]
    fn a_failed_sync_poisons_and_every_waiter_gets_its_error_kind() {
        let group = Arc::new(GroupCommit::default());
        let poison = Arc::new(Poison::default());
        let started = Arc::new(std::sync::Barrier::new(2));
        let leader = {
            let (group, poison, started) = (group.clone(), poison.clone(), started.clone());
            std::thread::spawn(move || {
                group.commit(&poison, Path::new("seg"), || {
                    started.wait();
                    std::thread::sleep(std::time::Duration::from_millis(50));
                    Err(poison.sync_failed(
                        "fdatasync",
                        Path::new("seg"),
                        std::io::Error::from_raw_os_error(5),
                    ))
                })
            })
        };
        started.wait();
        let followers = waiters_of(&group, &poison, 4);
        let leader_error = leader.join().expect("leader").expect_err("sync failed");
        assert!(
            matches!(leader_error, crate::Error::Io { ref source, .. } if source.raw_os_error() == Some(5))
        );
        for follower in followers {
            let error = follower.join().expect("follower").expect_err("poisoned");
            let crate::Error::Io { source, .. } = error else {
                panic!("followers get an Io error, got {error}")
            };
            assert_eq!(source.kind(), std::io::Error::from_raw_os_error(5).kind());
        }
        let syncs = AtomicU64::new(0);
        let later = group.commit(&poison, Path::new("seg"), || {
            syncs.fetch_add(1, Ordering::SeqCst);
            Ok(())
        });
        assert!(later.is_err());
        assert_eq!(syncs.load(Ordering::SeqCst), 0, "no sync is retried");
        assert!(matches!(poison.check(), Err(crate::Error::Poisoned { .. })));
    }

    #[test]
    fn a_panicking_sync_fails_its_group_and_releases_every_waiter() {
        let group = Arc::new(GroupCommit::default());
        let poison = Arc::new(Poison::default());
        let outcome = group.commit(&poison, Path::new("seg"), || panic!("damaged page"));
        let error = outcome.expect_err("a panic is an error");
        assert!(error.to_string().contains("damaged page"), "{error}");
        for waiter in waiters_of(&group, &poison, 4) {
            assert!(waiter.join().expect("no waiter hangs or panics").is_err());
        }
    }
}
