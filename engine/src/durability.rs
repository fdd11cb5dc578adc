//! Durability levels and the group commit that lets concurrent durable writers
//! share one `fdatasync`.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

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

/// The longest a leader waits for writers to join its sync.
const GATHER_WAIT: Duration = Duration::from_micros(100);

#[derive(Default)]
struct State {
    requested: u64,
    durable: u64,
    syncing: bool,
    /// Announced writers still writing (not yet waiting for a sync).
    writing: u64,
    /// How many tickets the last successful sync made durable.
    last_group: u64,
}

/// Shares one sync among every caller that arrives while it is pending.
///
/// A caller takes a ticket after its write is complete; a leader syncs for every
/// ticket issued before it started, so no caller returns before a sync that
/// began after its write. Before it syncs, a leader waits, at most
/// [`GATHER_WAIT`], for the writers it expects: those announced
/// ([`GroupCommit::announce`]) and still writing, and as many tickets as the
/// last sync made durable (the writers it released are usually about to
/// write again, and on few cores most are not yet running when the next
/// leader looks). Concurrent writers then share one sync instead of
/// alternating between two; a lone writer, whose last group was itself,
/// never waits. A failed or panicking sync poisons the store: the leader gets
/// its error, every waiting and later caller an I/O error of the same kind,
/// and no sync is tried again.
pub(crate) struct GroupCommit {
    state: Mutex<State>,
    /// The longest a leader gathers ([`GATHER_WAIT`]; longer in tests).
    gather_wait: Duration,
    /// Signalled when a sync ends.
    done: Condvar,
    /// Signalled when a writer takes its ticket or withdraws (wakes only a
    /// gathering leader, not every writer waiting for the sync).
    arrived: Condvar,
}

impl Default for GroupCommit {
    fn default() -> Self {
        Self::gathering_for(GATHER_WAIT)
    }
}

impl GroupCommit {
    /// A group whose leaders gather for at most `gather_wait`.
    fn gathering_for(gather_wait: Duration) -> Self {
        Self {
            state: Mutex::default(),
            gather_wait,
            done: Condvar::new(),
            arrived: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Announces a writer that will call [`Announced::commit`] once its
    /// write is complete (dropping the announcement withdraws it).
    pub(crate) fn announce(&self) -> Announced<'_> {
        self.lock().writing += 1;
        Announced { group: self }
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
        self.arrived.notify_all();
        self.wait_or_lead(state, ticket, poison, what, &sync)
    }

    /// Waits while a sync runs, leads the next one when none does, until
    /// `ticket` is durable.
    fn wait_or_lead<'a>(
        &'a self,
        mut state: MutexGuard<'a, State>,
        ticket: u64,
        poison: &Poison,
        what: &Path,
        sync: &dyn Fn() -> Result<()>,
    ) -> Result<()> {
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
            state = self.gather(state);
            let target = state.requested;
            drop(state);
            let outcome = catch_unwind(AssertUnwindSafe(sync)).unwrap_or_else(|panic| {
                Err(poison.other_failed(
                    "sync",
                    what,
                    format!("sync panicked: {}", panic_message(&*panic)),
                ))
            });
            state = self.lock();
            state.syncing = false;
            if outcome.is_ok() {
                state.last_group = target.saturating_sub(state.durable);
                state.durable = state.durable.max(target);
            }
            self.done.notify_all();
            outcome?;
        }
    }

    /// Lets the expected writers take their tickets before a sync starts:
    /// waits until no announced writer is still writing and as many tickets
    /// wait as the last sync made durable, or the gathering time has passed.
    fn gather<'a>(&'a self, mut state: MutexGuard<'a, State>) -> MutexGuard<'a, State> {
        let deadline = Instant::now() + self.gather_wait;
        while state.writing > 0 || state.requested - state.durable < state.last_group {
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                break;
            };
            state = self
                .arrived
                .wait_timeout(state, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        state
    }
}

/// A writer announced to a [`GroupCommit`]: a leader about to sync waits for
/// it (briefly) to take its ticket.
pub(crate) struct Announced<'a> {
    group: &'a GroupCommit,
}

impl Announced<'_> {
    /// Takes this writer's ticket and returns once a `sync` that started
    /// after this call has succeeded (as [`GroupCommit::commit`]).
    pub(crate) fn commit(
        self,
        poison: &Poison,
        what: &Path,
        sync: impl Fn() -> Result<()>,
    ) -> Result<()> {
        let group = self.group;
        std::mem::forget(self);
        let mut state = group.lock();
        state.writing -= 1;
        state.requested += 1;
        let ticket = state.requested;
        group.arrived.notify_all();
        group.wait_or_lead(state, ticket, poison, what, &sync)
    }
}

impl Drop for Announced<'_> {
    /// Withdraws the announcement (the write failed before its commit).
    fn drop(&mut self) {
        self.group.lock().writing -= 1;
        self.group.arrived.notify_all();
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

    #[test]
    fn announced_writers_each_see_a_sync_that_began_after_their_write() {
        let group = Arc::new(GroupCommit::default());
        let syncs = Arc::new(AtomicU64::new(0));
        let written = Arc::new(AtomicU64::new(0));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (group, syncs, written) =
                    (Arc::clone(&group), Arc::clone(&syncs), Arc::clone(&written));
                std::thread::spawn(move || {
                    for _ in 0..50 {
                        let announced = group.announce();
                        let mine = written.fetch_add(1, Ordering::SeqCst) + 1;
                        announced
                            .commit(&Poison::default(), Path::new("test"), || {
                                let seen = written.load(Ordering::SeqCst);
                                std::thread::sleep(std::time::Duration::from_micros(100));
                                syncs.fetch_max(seen, Ordering::SeqCst);
                                Ok(())
                            })
                            .expect("sync");
                        assert!(
                            syncs.load(Ordering::SeqCst) >= mine,
                            "returned before a sync saw its write"
                        );
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().expect("thread");
        }
    }

    #[test]
    fn a_withdrawn_or_stalled_announcement_never_blocks_a_commit() {
        let group = GroupCommit::default();
        drop(group.announce());
        let stalled = group.announce();
        let syncs = AtomicU64::new(0);
        for _ in 0..3 {
            group
                .commit(&Poison::default(), Path::new("test"), || {
                    syncs.fetch_add(1, Ordering::SeqCst);
                    Ok(())
                })
                .expect("sync");
        }
        assert_eq!(syncs.load(Ordering::SeqCst), 3);
        stalled
            .commit(&Poison::default(), Path::new("test"), || Ok(()))
            .expect("the stalled writer commits too");
        assert_eq!(group.lock().writing, 0);
    }

    #[test]
    fn a_leader_waits_for_as_many_writers_as_the_last_sync_released() {
        let group = GroupCommit::gathering_for(Duration::from_secs(30));
        let syncs = AtomicU64::new(0);
        let sync = || {
            syncs.fetch_add(1, Ordering::SeqCst);
            Ok(())
        };
        let poison = Poison::default();
        let what = Path::new("test");
        let (first, second) = (group.announce(), group.announce());
        std::thread::scope(|scope| {
            scope.spawn(|| {
                second.commit(&poison, what, sync).expect("sync");
                // The next round: this writer comes late.
                std::thread::sleep(Duration::from_millis(50));
                group.commit(&poison, what, sync).expect("sync");
            });
            first.commit(&poison, what, sync).expect("sync");
            assert_eq!(
                group.lock().last_group,
                2,
                "one sync made both writes durable"
            );
            group.commit(&poison, what, sync).expect("sync");
        });
        assert_eq!(
            syncs.load(Ordering::SeqCst),
            2,
            "the leader of the second round synced without the late writer"
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
