//! Stores on object storage. An `s3://bucket/prefix` address opens the
//! engine's object-store backend on an S3 client configured from the
//! standard `AWS_*` environment (as `object_store` reads it) with explicit
//! options on top, and with the client's retries bounded as asked. The
//! engine's other addresses (`gs://`, `az://`, `file://`...) go to the
//! engine as they are, configured from the environment only.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use tessera_engine::StoreBuilder;
use tessera_engine::object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use tessera_engine::object_store::{ObjectStore, RetryConfig};

use crate::errors::ObjectStoreError;

/// The address schemes of a store on S3-compatible object storage.
const S3_SCHEMES: [&str; 2] = ["s3://", "s3a://"];

/// How a store on object storage is reached and cached (the keyword
/// arguments of `Store(...)` that only such a store uses).
#[derive(Debug, Default)]
pub(crate) struct RemoteOptions {
    /// Where fetched log objects are cached (default: `tessera-cache` in
    /// the system's temporary directory).
    pub cache_dir: Option<PathBuf>,
    /// The most bytes the cache keeps.
    pub cache_limit: Option<u64>,
    /// `object_store` S3 configuration keys and values, applied over the
    /// environment (`endpoint`, `region`, `allow_http`, `timeout`, ...).
    pub storage_options: BTreeMap<String, String>,
    /// How many times the client retries a failed request.
    pub max_retries: Option<usize>,
    /// Seconds after a request's first try past which it is not retried.
    pub retry_timeout: Option<f64>,
}

impl RemoteOptions {
    /// Whether any option was given.
    pub(crate) fn is_set(&self) -> bool {
        self.cache_dir.is_some() || self.cache_limit.is_some() || self.configures_s3()
    }

    /// Whether an option of the S3 client was given.
    fn configures_s3(&self) -> bool {
        !self.storage_options.is_empty()
            || self.max_retries.is_some()
            || self.retry_timeout.is_some()
    }
}

/// Whether `address` names a store on object storage (`s3://`, `gs://`,
/// `az://`, `file://`...) rather than a directory.
#[pyfunction]
#[pyo3(name = "is_object_store_address")]
pub(crate) fn is_remote(address: &str) -> bool {
    tessera_engine::is_object_store_address(address)
}

fn is_s3(address: &str) -> bool {
    S3_SCHEMES.iter().any(|scheme| address.starts_with(scheme))
}

/// The builder of the store at `address`, on object storage.
pub(crate) fn remote_builder(address: &str, options: &RemoteOptions) -> PyResult<StoreBuilder> {
    let mut builder = if is_s3(address) {
        let (bucket, prefix) = bucket_and_prefix(address)?;
        let store = s3_store(address, bucket, options)?;
        let cache = options
            .cache_dir
            .clone()
            .unwrap_or_else(|| std::env::temp_dir().join("tessera-cache"));
        tessera_engine::Store::builder(cache).object_store(store, prefix)
    } else if options.configures_s3() {
        return Err(PyValueError::new_err(format!(
            "{address}: storage_options, max_retries and retry_timeout apply to s3:// addresses \
             only (other object stores are configured from the environment)"
        )));
    } else {
        let builder = tessera_engine::Store::builder(address);
        match &options.cache_dir {
            Some(dir) => builder.cache_dir(dir),
            None => builder,
        }
    };
    if let Some(limit) = options.cache_limit {
        builder = builder.cache_limit(limit);
    }
    Ok(builder)
}

/// The bucket and the prefix (no leading or trailing `/`) of `address`.
fn bucket_and_prefix(address: &str) -> PyResult<(&str, &str)> {
    let rest = S3_SCHEMES
        .iter()
        .find_map(|scheme| address.strip_prefix(scheme))
        .unwrap_or(address);
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    if bucket.is_empty() {
        return Err(PyValueError::new_err(format!(
            "{address}: the address names no bucket (expected s3://bucket/prefix)"
        )));
    }
    Ok((bucket, prefix.trim_matches('/')))
}

/// The S3 client of `bucket`: the `AWS_*` environment, then the explicit
/// options, then the retry bounds.
fn s3_store(
    address: &str,
    bucket: &str,
    options: &RemoteOptions,
) -> PyResult<Arc<dyn ObjectStore>> {
    // A process has one TLS crypto provider; one installed before stays.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut builder = AmazonS3Builder::from_env().with_bucket_name(bucket);
    for (key, value) in &options.storage_options {
        let parsed: AmazonS3ConfigKey = key.to_ascii_lowercase().parse().map_err(|_| {
            PyValueError::new_err(format!(
                "storage option {key:?} is not an S3 setting of object_store \
                 (e.g. endpoint, region, allow_http, timeout, connect_timeout)"
            ))
        })?;
        builder = builder.with_config(parsed, value);
    }
    builder = builder.with_retry(retry_config(options)?);
    let store = builder.build().map_err(|e| {
        ObjectStoreError::new_err(format!(
            "{address}: the S3 client cannot be configured: {e}"
        ))
    })?;
    Ok(Arc::new(store))
}

/// `object_store`'s retry settings with the explicit bounds applied.
fn retry_config(options: &RemoteOptions) -> PyResult<RetryConfig> {
    let mut retry = RetryConfig::default();
    if let Some(retries) = options.max_retries {
        retry.max_retries = retries;
    }
    if let Some(seconds) = options.retry_timeout {
        retry.retry_timeout = Duration::try_from_secs_f64(seconds)
            .map_err(|e| PyValueError::new_err(format!("retry_timeout {seconds}: {e}")))?;
    }
    Ok(retry)
}
