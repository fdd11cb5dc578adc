//! Running a plan on a pool of threads: a task starts once the tasks it
//! waits for are done; a failure skips its dependents and nothing else.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::{Condvar, Mutex, PoisonError};
use std::time::Instant;

use super::definitions::Definitions;
use super::observer::RunObserver;
use super::plan::{Plan, build_plan};
use super::request::MaterializeRequest;
use super::result::{MaterializeResult, PartitionOutcome, TaskStatus};
use super::task::{TaskRun, run_task};
use crate::error::Result;

struct Progress {
    ready: VecDeque<usize>,
    waiting_on: Vec<usize>,
    statuses: Vec<Option<TaskStatus>>,
    finished: usize,
}

struct Scheduler<'a> {
    plan: &'a Plan,
    progress: Mutex<Progress>,
    wake: Condvar,
}

impl Definitions {
    /// Materializes the request's assets and partitions, upstream first,
    /// partitions in parallel; `observer` is told the number of planned
    /// partitions, then sees each partition's outcome as it happens.
    ///
    /// A failing partition fails alone: its dependents are skipped, everything
    /// else completes. When the system refuses threads, the run goes on with
    /// those it got (at least the caller's). Setting the request's cancel flag stops new partitions
    /// from starting.
    ///
    /// # Errors
    /// Only for a request that cannot be planned (an unknown asset, a
    /// selection that does not apply); failures of partitions are in the result.
    pub fn materialize_with(
        &self,
        request: &MaterializeRequest,
        observer: &dyn RunObserver,
    ) -> Result<MaterializeResult> {
        let started = Instant::now();
        let now = request.now.unwrap_or_else(chrono::Utc::now);
        let plan = build_plan(self, request, now)?;
        observer.planned(plan.partition_count());
        let run = TaskRun::new(self, now);
        let scheduler = Scheduler::new(&plan);
        std::thread::scope(|scope| {
            let wanted = request.threads.min(plan.tasks.len().max(1));
            let started = (0..wanted)
                .map_while(|_| {
                    std::thread::Builder::new()
                        .spawn_scoped(scope, || scheduler.work(&run, request, observer))
                        .ok()
                })
                .count();
            if started == 0 {
                // The system would not give one more thread: run on this one.
                scheduler.work(&run, request, observer);
            }
        });
        let statuses = scheduler.into_statuses();
        let outcomes = plan
            .tasks
            .iter()
            .zip(statuses)
            .flat_map(|(task, status)| {
                let asset = self.assets[task.asset].key.clone();
                let partitions: Vec<Option<String>> = match &task.partitions {
                    None => vec![None],
                    Some(keys) => keys.iter().cloned().map(Some).collect(),
                };
                partitions
                    .into_iter()
                    .map(move |partition| PartitionOutcome {
                        asset: asset.clone(),
                        partition,
                        status: status.clone(),
                    })
            })
            .collect();
        Ok(MaterializeResult {
            outcomes,
            run_id: run.run_id().to_owned(),
            elapsed: started.elapsed(),
            warnings: plan.warnings,
        })
    }

    /// [`Definitions::materialize_with`] without progress reporting.
    ///
    /// # Errors
    /// As [`Definitions::materialize_with`].
    pub fn materialize(&self, request: &MaterializeRequest) -> Result<MaterializeResult> {
        self.materialize_with(request, &|_: &PartitionOutcome| {})
    }
}

impl<'a> Scheduler<'a> {
    fn new(plan: &'a Plan) -> Self {
        let waiting_on: Vec<usize> = plan.tasks.iter().map(|t| t.deps.len()).collect();
        let ready = (0..plan.tasks.len())
            .filter(|&at| waiting_on[at] == 0)
            .collect();
        Self {
            plan,
            progress: Mutex::new(Progress {
                ready,
                waiting_on,
                statuses: vec![None; plan.tasks.len()],
                finished: 0,
            }),
            wake: Condvar::new(),
        }
    }

    fn work(&self, run: &TaskRun<'_>, request: &MaterializeRequest, observer: &dyn RunObserver) {
        while let Some(at) = self.next_task() {
            let status = if request.cancel.load(Ordering::SeqCst) {
                TaskStatus::Cancelled
            } else {
                run_task(run, &self.plan.tasks[at])
            };
            for outcome in run.outcomes(&self.plan.tasks[at], &status) {
                observer.outcome(&outcome);
            }
            self.finish(at, status, run, observer);
        }
    }

    fn next_task(&self) -> Option<usize> {
        let mut progress = self.lock();
        loop {
            if let Some(at) = progress.ready.pop_front() {
                return Some(at);
            }
            if progress.finished == self.plan.tasks.len() {
                return None;
            }
            progress = self
                .wake
                .wait(progress)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    fn finish(&self, at: usize, status: TaskStatus, run: &TaskRun<'_>, observer: &dyn RunObserver) {
        let mut progress = self.lock();
        let succeeded = matches!(status, TaskStatus::Materialized { .. });
        progress.statuses[at] = Some(status);
        progress.finished += 1;
        if succeeded {
            for &dependent in &self.plan.dependents[at] {
                progress.waiting_on[dependent] -= 1;
                if progress.waiting_on[dependent] == 0 && progress.statuses[dependent].is_none() {
                    progress.ready.push_back(dependent);
                }
            }
        } else {
            self.skip_dependents(&mut progress, at, run, observer);
        }
        drop(progress);
        self.wake.notify_all();
    }

    fn skip_dependents(
        &self,
        progress: &mut Progress,
        failed: usize,
        run: &TaskRun<'_>,
        observer: &dyn RunObserver,
    ) {
        let cancelled = matches!(progress.statuses[failed], Some(TaskStatus::Cancelled));
        let reason = run.describe(&self.plan.tasks[failed]);
        let mut pending = vec![failed];
        while let Some(at) = pending.pop() {
            for &dependent in &self.plan.dependents[at] {
                if progress.statuses[dependent].is_some() {
                    continue;
                }
                let status = if cancelled {
                    TaskStatus::Cancelled
                } else {
                    TaskStatus::Skipped {
                        reason: format!("upstream {reason} did not materialize"),
                    }
                };
                for outcome in run.outcomes(&self.plan.tasks[dependent], &status) {
                    observer.outcome(&outcome);
                }
                progress.statuses[dependent] = Some(status);
                progress.finished += 1;
                pending.push(dependent);
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Progress> {
        self.progress.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn into_statuses(self) -> Vec<TaskStatus> {
        self.progress
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner)
            .statuses
            .into_iter()
            .map(|status| status.unwrap_or(TaskStatus::Cancelled))
            .collect()
    }
}
