//! Calls to the object store: blocking (the engine's API is synchronous, the
//! store owns a small runtime), retried with backoff where that is safe.
//!
//! - A `GET` is idempotent: transient failures (the store's `Generic`
//!   errors: timeouts, throttling, 5xx after the store's own retries) are
//!   retried, up to [`RetryPolicy::attempts`].
//! - A conditional create that failed transiently may or may not have
//!   landed: it is never simply sent again. The object is read back: absent,
//!   the create is retried; present with our bytes, it landed; present with
//!   other bytes, another writer took the name.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use object_store::path::Path as ObjectPath;
use object_store::{
    GetOptions, ObjectStore, PutMode, PutMultipartOptions, PutOptions, PutPayload, WriteMultipart,
};

use crate::error::{Error, Result};

/// How often, and how patiently, failed calls are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RetryPolicy {
    /// Tries of one call, the first included (at least 1).
    pub attempts: u32,
    /// The wait after the first failure; it doubles after each.
    pub first_backoff: Duration,
    /// The longest wait between two tries.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 6,
            first_backoff: Duration::from_millis(20),
            max_backoff: Duration::from_secs(2),
        }
    }
}

impl RetryPolicy {
    fn backoff(&self, failures: u32) -> Duration {
        let factor = 1u32
            .checked_shl(failures.saturating_sub(1))
            .unwrap_or(u32::MAX);
        self.first_backoff
            .saturating_mul(factor)
            .min(self.max_backoff)
    }
}

/// The size of one part of a multipart upload (S3's smallest but for the
/// last part is 5 MiB).
pub(crate) const PART_SIZE: usize = 5 << 20;

/// How many parts of one upload are in flight at once.
const PARTS_IN_FLIGHT: usize = 2;

/// What a conditional create found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Created {
    /// Our object is in place.
    Ours,
    /// Another writer's object holds the name: its bytes.
    Taken(Bytes),
}

/// One object a listing found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Listed {
    /// Its full name (the prefix included).
    pub name: String,
    /// When it was last written, by the object store's clock.
    pub modified: DateTime<Utc>,
    /// Its size in bytes.
    pub size: u64,
}

/// An object store, the prefix the store's objects live under, and the
/// runtime its calls run on.
pub(crate) struct Client {
    store: Arc<dyn ObjectStore>,
    prefix: String,
    runtime: tokio::runtime::Runtime,
    retry: RetryPolicy,
}

/// Whether a failure may pass if the call is tried again.
fn is_transient(error: &object_store::Error) -> bool {
    matches!(
        error,
        object_store::Error::Generic { .. } | object_store::Error::JoinError { .. }
    )
}

impl Client {
    /// A client of `store` for the objects under `prefix` (no leading or
    /// trailing `/`; empty for the store's root).
    pub(crate) fn new(
        store: Arc<dyn ObjectStore>,
        prefix: &str,
        retry: RetryPolicy,
    ) -> Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::io("start the object-store runtime", prefix, e))?;
        Ok(Self {
            store,
            prefix: prefix.trim_matches('/').to_owned(),
            runtime,
            retry,
        })
    }

    /// The full path of the object named `name` under the prefix.
    pub(crate) fn path(&self, name: &str) -> ObjectPath {
        if self.prefix.is_empty() {
            ObjectPath::from(name)
        } else {
            ObjectPath::from(format!("{}/{name}", self.prefix))
        }
    }

    /// A description of the store and prefix, for messages.
    pub(crate) fn describe(&self) -> String {
        format!("{}/{}", self.store, self.prefix)
    }

    fn error(&self, operation: &'static str, name: &str, error: &object_store::Error) -> Error {
        Error::ObjectStore {
            operation,
            object: self.path(name).to_string(),
            reason: error.to_string(),
        }
    }

    /// The bytes of object `name`, or `None` if there is none.
    ///
    /// # Errors
    /// [`Error::ObjectStore`] once the retries are spent, or at once for a
    /// failure retrying cannot cure (permissions, configuration).
    pub(crate) fn get(&self, name: &str) -> Result<Option<Bytes>> {
        let path = self.path(name);
        let mut failures = 0;
        loop {
            let fetched = self.runtime.block_on(async {
                let result = self.store.get_opts(&path, GetOptions::default()).await?;
                result.bytes().await
            });
            match fetched {
                Ok(bytes) => return Ok(Some(bytes)),
                Err(object_store::Error::NotFound { .. }) => return Ok(None),
                Err(error) => {
                    failures += 1;
                    if !is_transient(&error) || failures >= self.retry.attempts {
                        return Err(self.error("get", name, &error));
                    }
                    log::debug!("get {path} failed, retrying: {error}");
                    std::thread::sleep(self.retry.backoff(failures));
                }
            }
        }
    }

    /// The objects whose names start with `name/`; retried like a `GET`.
    ///
    /// # Errors
    /// As [`Client::get`].
    pub(crate) fn list(&self, name: &str) -> Result<Vec<Listed>> {
        use futures::TryStreamExt;
        let path = self.path(name);
        let mut failures = 0;
        loop {
            let listed = self
                .runtime
                .block_on(self.store.list(Some(&path)).try_collect::<Vec<_>>());
            match listed {
                Ok(objects) => {
                    return Ok(objects
                        .into_iter()
                        .map(|meta| Listed {
                            name: meta.location.to_string(),
                            modified: meta.last_modified,
                            size: meta.size,
                        })
                        .collect());
                }
                Err(error) => {
                    failures += 1;
                    if !is_transient(&error) || failures >= self.retry.attempts {
                        return Err(self.error("list", name, &error));
                    }
                    std::thread::sleep(self.retry.backoff(failures));
                }
            }
        }
    }

    /// Deletes object `name` (absent already counts as done), retried like a
    /// `GET`.
    ///
    /// # Errors
    /// As [`Client::get`].
    pub(crate) fn delete(&self, name: &str) -> Result<()> {
        use futures::StreamExt;
        let path = self.path(name);
        let mut failures = 0;
        loop {
            let single = futures::stream::iter([Ok(path.clone())]).boxed();
            let deleted = self.runtime.block_on(async {
                let mut results = self.store.delete_stream(single);
                results.next().await.unwrap_or(Ok(path.clone()))
            });
            match deleted {
                Ok(_) | Err(object_store::Error::NotFound { .. }) => return Ok(()),
                Err(error) => {
                    failures += 1;
                    if !is_transient(&error) || failures >= self.retry.attempts {
                        return Err(self.error("delete", name, &error));
                    }
                    std::thread::sleep(self.retry.backoff(failures));
                }
            }
        }
    }

    /// Uploads object `name` as `head`, `payload`, `tail` through a multipart
    /// upload in parts of [`PART_SIZE`] bytes, at most [`PARTS_IN_FLIGHT`]
    /// at a time (each part copied once into its own buffer, never the whole
    /// object). An upload that fails is aborted (its parts discarded) and,
    /// if the failure was transient, sent again whole under the same name:
    /// the name is new and nothing refers to it before the upload returns,
    /// so a second upload can only replace identical bytes.
    ///
    /// # Errors
    /// [`Error::ObjectStore`] (operation `"upload"`) once the retries are
    /// spent, or at once for a failure retrying cannot cure.
    pub(crate) fn upload(
        &self,
        name: &str,
        head: &[u8],
        payload: &[u8],
        tail: &[u8],
    ) -> Result<()> {
        let path = self.path(name);
        let mut failures = 0;
        loop {
            let uploaded = self
                .runtime
                .block_on(self.upload_once(&path, [head, payload, tail]));
            match uploaded {
                Ok(()) => return Ok(()),
                Err(error) => {
                    failures += 1;
                    if !is_transient(&error) || failures >= self.retry.attempts {
                        return Err(self.error("upload", name, &error));
                    }
                    log::debug!("upload of {path} failed, sending it again: {error}");
                    std::thread::sleep(self.retry.backoff(failures));
                }
            }
        }
    }

    /// One multipart upload of `pieces`, one after the other, aborted if it
    /// fails (by `WriteMultipart::finish`, or here if a part fails before).
    async fn upload_once(&self, path: &ObjectPath, pieces: [&[u8]; 3]) -> object_store::Result<()> {
        let options = PutMultipartOptions::default();
        let upload = self.store.put_multipart_opts(path, options).await?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
        for piece in pieces {
            for chunk in piece.chunks(PART_SIZE) {
                if let Err(error) = writer.wait_for_capacity(PARTS_IN_FLIGHT).await {
                    if let Err(abort) = writer.abort().await {
                        log::warn!("aborting the upload of {path} failed: {abort}");
                    }
                    return Err(error);
                }
                writer.write(chunk);
            }
        }
        writer.finish().await.map(drop)
    }

    /// Creates object `name` with `bytes` unless it exists (one conditional
    /// `PUT`), and says whose object is then in place. A failure that leaves
    /// it unknown whether the create landed is resolved by reading the
    /// object back, never by sending it blindly again.
    ///
    /// # Errors
    /// [`Error::ObjectStore`] once the retries are spent, or at once for a
    /// failure retrying cannot cure (permissions, a store without
    /// conditional creates).
    pub(crate) fn create(&self, name: &str, bytes: &Bytes) -> Result<Created> {
        let path = self.path(name);
        let mut failures = 0;
        loop {
            let options = PutOptions {
                mode: PutMode::Create,
                ..PutOptions::default()
            };
            let payload = PutPayload::from_bytes(bytes.clone());
            let put = self
                .runtime
                .block_on(self.store.put_opts(&path, payload, options));
            let error = match put {
                Ok(_) => return Ok(Created::Ours),
                Err(object_store::Error::AlreadyExists { .. }) => {
                    return self
                        .resolve(name, bytes)?
                        .ok_or_else(|| Error::ObjectStore {
                            operation: "create",
                            object: path.to_string(),
                            reason: "the store reported the object as existing, yet it is absent"
                                .into(),
                        });
                }
                Err(error) if is_transient(&error) => error,
                Err(error) => return Err(self.error("create", name, &error)),
            };
            failures += 1;
            log::debug!("create {path} failed, reading it back: {error}");
            if let Some(created) = self.resolve(name, bytes)? {
                return Ok(created);
            }
            if failures >= self.retry.attempts {
                return Err(self.error("create", name, &error));
            }
            std::thread::sleep(self.retry.backoff(failures));
        }
    }

    /// Whose object holds `name`: ours if its bytes are `bytes`, another
    /// writer's if not, `None` if there is none.
    fn resolve(&self, name: &str, bytes: &Bytes) -> Result<Option<Created>> {
        Ok(self.get(name)?.map(|found| {
            if found == *bytes {
                Created::Ours
            } else {
                Created::Taken(found)
            }
        }))
    }
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("store", &self.describe())
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}
