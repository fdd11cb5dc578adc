//! A test double around any object store that injects the failures object
//! stores have: failed PUTs, PUTs that land but whose reply is lost, 503s
//! on GETs and DELETEs, slow GETs, stores without conditional creates, and
//! (in [`super::faults_multipart`]) failed part uploads and completes. It lies about
//! nothing else: every call it lets through goes to the wrapped store.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures::stream::BoxStream;
use object_store::path::Path;
use object_store::{
    CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore,
    PutMode, PutMultipartOptions, PutOptions, PutPayload, PutResult,
};

use super::faults_multipart::{FaultyUpload, MultipartFaults};

/// The failures to inject, counted down as they happen.
#[derive(Debug, Default, Clone)]
pub(crate) struct Faults {
    /// The next PUTs fail before they reach the store (a 503).
    pub failed_puts: u32,
    /// The next PUTs land, then report a 503 (the reply was lost).
    pub lost_put_replies: u32,
    /// The next GETs fail with a 503.
    pub failed_gets: u32,
    /// The next DELETEs fail with a 503 (the object stays).
    pub failed_deletes: u32,
    /// Every GET waits this long first.
    pub slow_gets: Option<Duration>,
    /// Every PUT waits this long first.
    pub slow_puts: Option<Duration>,
    /// Conditional creates are refused as not implemented.
    pub no_conditional_creates: bool,
}

/// An object store that injects [`Faults`] and counts calls.
pub(crate) struct FaultyStore {
    inner: Arc<dyn ObjectStore>,
    faults: Mutex<Faults>,
    puts: AtomicU64,
    gets: AtomicU64,
    /// Faults and counts of multipart uploads (see [`super::faults_multipart`]).
    multipart: Arc<MultipartFaults>,
}

pub(super) fn unavailable(what: &str) -> object_store::Error {
    object_store::Error::Generic {
        store: "faulty",
        source: format!("503 Slow Down (injected, {what})").into(),
    }
}

impl FaultyStore {
    pub(crate) fn new(inner: Arc<dyn ObjectStore>) -> Self {
        Self {
            inner,
            faults: Mutex::new(Faults::default()),
            puts: AtomicU64::new(0),
            gets: AtomicU64::new(0),
            multipart: Arc::default(),
        }
    }

    /// Replaces the faults to inject.
    pub(crate) fn inject(&self, faults: Faults) {
        *self.faults.lock().unwrap_or_else(PoisonError::into_inner) = faults;
    }

    /// PUT requests received (failed ones included).
    pub(crate) fn puts(&self) -> u64 {
        self.puts.load(Ordering::SeqCst)
    }

    /// GET requests received (failed ones included).
    pub(crate) fn gets(&self) -> u64 {
        self.gets.load(Ordering::SeqCst)
    }

    /// The multipart faults to inject and the multipart counts.
    pub(crate) fn multipart(&self) -> &MultipartFaults {
        &self.multipart
    }

    /// Takes one fault of the kind `pick` chooses, if one is left.
    fn take(&self, pick: impl FnOnce(&mut Faults) -> &mut u32) -> bool {
        let mut faults = self.faults.lock().unwrap_or_else(PoisonError::into_inner);
        let left = pick(&mut faults);
        let hit = *left > 0;
        *left = left.saturating_sub(1);
        hit
    }
}

impl fmt::Display for FaultyStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Faulty({})", self.inner)
    }
}

impl fmt::Debug for FaultyStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FaultyStore({})", self.inner)
    }
}

#[async_trait::async_trait]
impl ObjectStore for FaultyStore {
    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        opts: PutOptions,
    ) -> object_store::Result<PutResult> {
        self.puts.fetch_add(1, Ordering::SeqCst);
        let (refuse_create, slow) = {
            let faults = self.faults.lock().unwrap_or_else(PoisonError::into_inner);
            (faults.no_conditional_creates, faults.slow_puts)
        };
        if let Some(delay) = slow {
            tokio::time::sleep(delay).await;
        }
        if refuse_create && opts.mode == PutMode::Create {
            return Err(object_store::Error::NotImplemented {
                operation: "conditional create".into(),
                implementer: "faulty".into(),
            });
        }
        if self.take(|f| &mut f.failed_puts) {
            return Err(unavailable("PUT refused"));
        }
        let put = self.inner.put_opts(location, payload, opts).await?;
        if self.take(|f| &mut f.lost_put_replies) {
            return Err(unavailable("PUT landed, reply lost"));
        }
        Ok(put)
    }

    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: PutMultipartOptions,
    ) -> object_store::Result<Box<dyn MultipartUpload>> {
        let inner = self.inner.put_multipart_opts(location, opts).await?;
        Ok(Box::new(FaultyUpload {
            inner,
            faults: Arc::clone(&self.multipart),
        }))
    }

    async fn get_opts(
        &self,
        location: &Path,
        options: GetOptions,
    ) -> object_store::Result<GetResult> {
        self.gets.fetch_add(1, Ordering::SeqCst);
        let slow = self
            .faults
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .slow_gets;
        if let Some(delay) = slow {
            tokio::time::sleep(delay).await;
        }
        if self.take(|f| &mut f.failed_gets) {
            return Err(unavailable("GET"));
        }
        self.inner.get_opts(location, options).await
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, object_store::Result<Path>>,
    ) -> BoxStream<'static, object_store::Result<Path>> {
        use futures::StreamExt;
        if self.take(|f| &mut f.failed_deletes) {
            return futures::stream::iter([Err(unavailable("DELETE"))]).boxed();
        }
        self.inner.delete_stream(locations)
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
        self.inner.list(prefix)
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> object_store::Result<ListResult> {
        self.inner.list_with_delimiter(prefix).await
    }

    async fn copy_opts(
        &self,
        from: &Path,
        to: &Path,
        options: CopyOptions,
    ) -> object_store::Result<()> {
        self.inner.copy_opts(from, to, options).await
    }
}
