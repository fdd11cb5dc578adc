//! The multipart side of the fault-injecting double ([`super::faults`]):
//! part uploads that fail (from a chosen part on), completes that fail, and
//! counts of parts, completes and aborts. Every call it lets through goes
//! to the wrapped upload.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use object_store::{MultipartUpload, PutPayload, PutResult, UploadPart};

use super::faults::unavailable;

/// The multipart failures to inject, counted down as they happen.
#[derive(Debug, Default, Clone)]
pub(crate) struct MultipartPlan {
    /// This many part uploads pass before `failed_parts` start.
    pub parts_before_failures: u32,
    /// Then the next part uploads fail with a 503 (never reaching the store).
    pub failed_parts: u32,
    /// The next completes fail with a 503 (the upload is not completed).
    pub failed_completes: u32,
}

/// The plan and the counts, shared by a [`FaultyStore`](super::faults::FaultyStore)
/// and the uploads it starts.
#[derive(Debug, Default)]
pub(crate) struct MultipartFaults {
    plan: Mutex<MultipartPlan>,
    parts: AtomicU64,
    completes: AtomicU64,
    aborts: AtomicU64,
}

impl MultipartFaults {
    /// Replaces the plan.
    pub(crate) fn inject(&self, plan: MultipartPlan) {
        *self.plan.lock().unwrap_or_else(PoisonError::into_inner) = plan;
    }

    /// Part uploads received (failed ones included).
    pub(crate) fn parts(&self) -> u64 {
        self.parts.load(Ordering::SeqCst)
    }

    /// Uploads completed.
    pub(crate) fn completes(&self) -> u64 {
        self.completes.load(Ordering::SeqCst)
    }

    /// Uploads aborted.
    pub(crate) fn aborts(&self) -> u64 {
        self.aborts.load(Ordering::SeqCst)
    }

    fn part_fails(&self) -> bool {
        let mut plan = self.plan.lock().unwrap_or_else(PoisonError::into_inner);
        if plan.parts_before_failures > 0 {
            plan.parts_before_failures -= 1;
            return false;
        }
        let hit = plan.failed_parts > 0;
        plan.failed_parts = plan.failed_parts.saturating_sub(1);
        hit
    }

    fn complete_fails(&self) -> bool {
        let mut plan = self.plan.lock().unwrap_or_else(PoisonError::into_inner);
        let hit = plan.failed_completes > 0;
        plan.failed_completes = plan.failed_completes.saturating_sub(1);
        hit
    }
}

/// A multipart upload that injects the shared [`MultipartFaults`].
#[derive(Debug)]
pub(crate) struct FaultyUpload {
    pub(crate) inner: Box<dyn MultipartUpload>,
    pub(crate) faults: Arc<MultipartFaults>,
}

#[async_trait::async_trait]
impl MultipartUpload for FaultyUpload {
    fn put_part(&mut self, data: PutPayload) -> UploadPart {
        self.faults.parts.fetch_add(1, Ordering::SeqCst);
        if self.faults.part_fails() {
            return Box::pin(async { Err(unavailable("part upload")) });
        }
        self.inner.put_part(data)
    }

    async fn complete(&mut self) -> object_store::Result<PutResult> {
        if self.faults.complete_fails() {
            return Err(unavailable("complete"));
        }
        let completed = self.inner.complete().await?;
        self.faults.completes.fetch_add(1, Ordering::SeqCst);
        Ok(completed)
    }

    async fn abort(&mut self) -> object_store::Result<()> {
        self.faults.aborts.fetch_add(1, Ordering::SeqCst);
        self.inner.abort().await
    }
}
