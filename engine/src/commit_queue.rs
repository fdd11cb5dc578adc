//! Durable writes shared by concurrent writers.
//!
//! Each `Immediate` writer queues its index changes once its payload frames are
//! written. The first writer to find no commit in progress becomes the leader:
//! it takes everything queued and commits it at once (the store syncs the
//! segments, applies the changes as one index batch and syncs the index), then
//! every writer of that group returns with the group's outcome. Writers that
//! arrive during a commit queue up for the next one, so under load each commit
//! carries many writes, while a lone writer pays the same as without a queue.
//!
//! Writers released by a commit come back a few microseconds apart, so the
//! first of them would otherwise lead a commit of one. A leader therefore
//! waits, at most [`GATHER_WINDOW`], until as many writers are queued as the
//! previous commit carried: a lone writer never waits, and under steady load
//! each commit carries every writer.

use std::ops::RangeInclusive;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::index::IndexOp;

/// The longest a leader waits for the writers of the previous commit to queue
/// again; small against a commit's own cost (two `fdatasync`s).
const GATHER_WINDOW: Duration = Duration::from_micros(100);

/// A commit that failed, kept until every writer of its group has seen it.
struct FailedGroup {
    tickets: RangeInclusive<u64>,
    message: String,
    unread: u64,
}

#[derive(Default)]
struct QueueState {
    queued: Vec<IndexOp>,
    /// The newest ticket handed out.
    issued: u64,
    /// Every ticket up to this one has an outcome.
    settled: u64,
    committing: bool,
    /// How many writers the previous commit carried.
    previous_group: u64,
    failures: Vec<FailedGroup>,
}

impl QueueState {
    /// Writers queued and not yet settled, the caller included.
    fn waiting_writers(&self) -> u64 {
        self.issued - self.settled
    }

    /// The outcome of a settled follower's ticket.
    fn take_outcome(&mut self, ticket: u64) -> Result<()> {
        let Some(position) = self
            .failures
            .iter()
            .position(|group| group.tickets.contains(&ticket))
        else {
            return Ok(());
        };
        let group = &mut self.failures[position];
        group.unread -= 1;
        let message = if group.unread == 0 {
            self.failures.swap_remove(position).message
        } else {
            group.message.clone()
        };
        Err(Error::GroupCommit { message })
    }
}

/// Queues index changes and commits them in groups; see the module docs.
#[derive(Default)]
pub(crate) struct CommitQueue {
    state: Mutex<QueueState>,
    /// Signalled when a commit ends.
    done: Condvar,
    /// Signalled when a writer queues, for a leader gathering its group.
    arrived: Condvar,
}

impl CommitQueue {
    fn lock(&self) -> MutexGuard<'_, QueueState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits, at most [`GATHER_WINDOW`], until as many writers are queued as
    /// the previous commit carried.
    fn gather<'a>(&'a self, mut state: MutexGuard<'a, QueueState>) -> MutexGuard<'a, QueueState> {
        let deadline = Instant::now() + GATHER_WINDOW;
        while state.waiting_writers() < state.previous_group {
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

    /// Queues `ops` and returns once a commit that includes them has ended:
    /// `Ok` if `commit_durably` succeeded on them, its error otherwise.
    ///
    /// `commit_durably` receives every change queued since the last commit,
    /// in queue order (later changes to a key win), and must apply them
    /// atomically and durably.
    pub(crate) fn commit(
        &self,
        ops: Vec<IndexOp>,
        commit_durably: impl Fn(&[IndexOp]) -> Result<()>,
    ) -> Result<()> {
        let mut state = self.lock();
        state.issued += 1;
        let ticket = state.issued;
        state.queued.extend(ops);
        self.arrived.notify_one();
        while state.committing && state.settled < ticket {
            state = self
                .done
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
        if state.settled >= ticket {
            return state.take_outcome(ticket);
        }
        state.committing = true;
        let mut state = self.gather(state);
        let group = state.settled + 1..=state.issued;
        let ops = std::mem::take(&mut state.queued);
        drop(state);
        let outcome = commit_durably(&ops);
        let mut state = self.lock();
        state.committing = false;
        state.settled = *group.end();
        state.previous_group = group.end() - group.start() + 1;
        if let Err(error) = &outcome {
            let unread = group.end() - group.start();
            if unread > 0 {
                state.failures.push(FailedGroup {
                    tickets: group,
                    message: error.to_string(),
                    unread,
                });
            }
        }
        self.done.notify_all();
        outcome
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    use std::time::Duration;

    use super::*;

    fn put(writer: u8, n: u8) -> IndexOp {
        IndexOp::Put {
            key: vec![writer, n],
            value: vec![n],
        }
    }

    #[test]
    fn every_write_is_committed_before_its_writer_returns_and_commits_are_shared() {
        let queue = Arc::new(CommitQueue::default());
        let committed = Arc::new(Mutex::new(Vec::<Vec<u8>>::new()));
        let commits = Arc::new(AtomicU64::new(0));
        let writers: Vec<_> = (0..8u8)
            .map(|writer| {
                let (queue, committed, commits) =
                    (queue.clone(), committed.clone(), commits.clone());
                std::thread::spawn(move || {
                    for n in 0..40u8 {
                        queue
                            .commit(vec![put(writer, n)], |ops| {
                                std::thread::sleep(Duration::from_micros(300));
                                commits.fetch_add(1, Ordering::SeqCst);
                                let mut committed = committed.lock().expect("lock");
                                for op in ops {
                                    let IndexOp::Put { key, .. } = op else {
                                        panic!("only puts are queued")
                                    };
                                    committed.push(key.clone());
                                }
                                Ok(())
                            })
                            .expect("commit");
                        assert!(
                            committed.lock().expect("lock").contains(&vec![writer, n]),
                            "returned before its change was committed"
                        );
                    }
                })
            })
            .collect();
        for writer in writers {
            writer.join().expect("writer");
        }
        let mut keys = committed.lock().expect("lock").clone();
        assert_eq!(keys.len(), 320, "each change committed exactly once");
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), 320);
        let commits = commits.load(Ordering::SeqCst);
        assert!(
            commits < 320,
            "{commits} commits for 320 writes: none shared"
        );
    }

    #[test]
    fn a_failed_commit_does_not_fail_writers_queued_after_it_started() {
        let queue = Arc::new(CommitQueue::default());
        let entered = Arc::new(AtomicBool::new(false));
        let leader = {
            let (queue, entered) = (queue.clone(), entered.clone());
            std::thread::spawn(move || {
                queue.commit(vec![put(0, 0)], |_| {
                    entered.store(true, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(100));
                    Err(Error::GroupCommit {
                        message: "disk on fire".to_owned(),
                    })
                })
            })
        };
        while !entered.load(Ordering::SeqCst) {
            std::thread::yield_now();
        }
        let followers: Vec<_> = (1..4u8)
            .map(|writer| {
                let queue = queue.clone();
                std::thread::spawn(move || queue.commit(vec![put(writer, 0)], |_| Ok(())))
            })
            .collect();
        assert!(leader.join().expect("leader").is_err());
        for follower in followers {
            assert!(follower.join().expect("follower").is_ok());
        }
        assert!(queue.lock().failures.is_empty());
    }

    #[test]
    fn followers_of_a_failed_group_get_its_message() {
        let queue = Arc::new(CommitQueue::default());
        let release = Arc::new(AtomicBool::new(false));
        let first = {
            let (queue, release) = (queue.clone(), release.clone());
            std::thread::spawn(move || {
                queue.commit(vec![put(0, 0)], |_| {
                    while !release.load(Ordering::SeqCst) {
                        std::thread::yield_now();
                    }
                    Ok(())
                })
            })
        };
        while !queue.lock().committing {
            std::thread::yield_now();
        }
        let queued: Vec<_> = (1..4u8)
            .map(|writer| {
                let queue = queue.clone();
                std::thread::spawn(move || {
                    queue.commit(vec![put(writer, 0)], |_| {
                        Err(Error::GroupCommit {
                            message: "disk on fire".to_owned(),
                        })
                    })
                })
            })
            .collect();
        while queue.lock().issued < 4 {
            std::thread::yield_now();
        }
        release.store(true, Ordering::SeqCst);
        assert!(first.join().expect("first").is_ok());
        for writer in queued {
            let error = writer
                .join()
                .expect("writer")
                .expect_err("its group failed");
            assert!(error.to_string().contains("disk on fire"), "{error}");
        }
        assert!(queue.lock().failures.is_empty(), "every follower read it");
    }
}
