//! [`PyStore`]: the engine's `Store` for Python.

use std::collections::BTreeMap;
use std::sync::RwLock;
use std::time::Duration;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use tessera_engine::{Payload, RecordMeta, Refresh, Retention, Store, StoreBuilder, WriteBatch};

use crate::blob::PyBlob;
use crate::errors::{StoreClosedError, py_result};
use crate::keys::{asset_key, codec, codec_name, index_kind, partition_key, partition_text};
use crate::remote::{RemoteOptions, is_remote, remote_builder};
use crate::verify::verify_summary;

/// One put of [`PyStore::put_many`]: asset path, partition (`None`:
/// unpartitioned), payload, codec name, data version, user metadata.
type PutEntry<'py> = (
    Vec<String>,
    Option<String>,
    Bound<'py, PyBytes>,
    String,
    Option<String>,
    Option<BTreeMap<String, String>>,
);

/// A Tessera store directory, opened for reading and writing.
///
/// Every call releases the GIL while the engine works, so threads may share
/// one store. `close()` (or leaving a `with` block) flushes it and releases
/// the directory; any later call raises `StoreClosedError`. Blobs read before
/// the close stay valid.
#[pyclass(name = "Store", module = "tessera_dagster._native", frozen)]
pub(crate) struct PyStore {
    store: RwLock<Option<Store>>,
    /// The process that opened the store.
    opened_by: u32,
}

impl Drop for PyStore {
    /// A forked child's copy is forgotten, never dropped: see
    /// [`forget_in_forked_child`].
    fn drop(&mut self) {
        if let Ok(slot) = self.store.get_mut() {
            forget_in_forked_child(self.opened_by, slot);
        }
    }
}

/// In a process forked from `opened_by`, takes the store out of `slot` and
/// leaks it (the child's copy of memory, freed when the child exits) so that
/// the child never runs its drop. A store on object storage owns a runtime
/// whose threads (the DNS lookups' blocking pool) are the parent's and do not
/// exist in the child: dropping it there waits for them forever. Returns
/// whether it did.
fn forget_in_forked_child(opened_by: u32, slot: &mut Option<Store>) -> bool {
    if std::process::id() == opened_by {
        return false;
    }
    if let Some(store) = slot.take() {
        std::mem::forget(store);
    }
    true
}

impl PyStore {
    /// A handle on the open store (a cheap clone), or `StoreClosedError`.
    fn handle(&self) -> PyResult<Store> {
        let guard = self
            .store
            .read()
            .map_err(|_| StoreClosedError::new_err("store lock poisoned by a panic"))?;
        guard
            .clone()
            .ok_or_else(|| StoreClosedError::new_err("the store is closed"))
    }
}

/// The builder of the store at `path`: on object storage for an `s3://`
/// address, else in the directory (which takes none of `remote`'s options).
fn store_builder(path: &std::path::Path, remote: &RemoteOptions) -> PyResult<StoreBuilder> {
    match path.to_str() {
        Some(address) if is_remote(address) => remote_builder(address, remote),
        _ if remote.is_set() => Err(PyValueError::new_err(format!(
            "{}: cache_dir, cache_limit, storage_options, max_retries and retry_timeout \
             apply to object-store addresses (s3://...) only",
            path.display()
        ))),
        _ => Ok(Store::builder(path)),
    }
}

/// Adds one put to `batch`.
fn add_put<'a>(batch: &mut WriteBatch<'a>, entry: &'a PutEntry<'_>) -> PyResult<()> {
    let (asset, partition, bytes, codec_text, data_version, metadata) = entry;
    let asset = asset_key(asset.clone())?;
    let partition = partition_key(partition.clone())?;
    let mut payload = Payload::encoded(codec(codec_text)?, bytes.as_bytes());
    if let Some(version) = data_version {
        payload = payload.with_data_version(version.clone());
    }
    for (key, value) in metadata.iter().flatten() {
        payload = payload.with_metadata(key.clone(), value.clone());
    }
    batch.put(&asset, &partition, payload);
    Ok(())
}

/// A record's metadata as a dict: `codec`, `size`, `checksum`, `created_at`,
/// `data_version`, `metadata`.
fn meta_dict(py: Python<'_>, meta: RecordMeta) -> PyResult<Bound<'_, pyo3::types::PyDict>> {
    let dict = pyo3::types::PyDict::new(py);
    dict.set_item("codec", codec_name(meta.codec))?;
    dict.set_item("size", meta.len)?;
    dict.set_item("checksum", meta.checksum.0)?;
    dict.set_item("created_at", meta.created_at.to_rfc3339())?;
    dict.set_item("data_version", meta.data_version)?;
    dict.set_item("metadata", meta.metadata)?;
    Ok(dict)
}

#[pymethods]
impl PyStore {
    /// Opens (or creates) the store in `path`: a directory, or an address on
    /// object storage: `s3://bucket/prefix` (S3 and S3-compatible servers),
    /// or the engine's other addresses (`gs://`, `az://`, `file:///dir`),
    /// configured from the environment.
    ///
    /// `durability`: `"immediate"` (a write returns once it survives power
    /// loss) or `"buffered"` (once the OS has it; `flush()` makes it durable).
    /// `index`: `"redb"` or `"sled"` (default: the store's own, redb when new).
    /// `lock_timeout`: seconds to wait while another handle or process holds
    /// the directory (default 0.25). `read_only`: no lock, no writes.
    ///
    /// Only for addresses on object storage: `cache_dir`, where fetched log
    /// objects are cached (default `tessera-cache` in the temporary
    /// directory); `cache_limit`, its size in bytes. Only for `s3://`
    /// addresses (configured from the `AWS_*` environment first):
    /// `storage_options`, `object_store` S3 settings over the
    /// environment (`endpoint`, `region`, `allow_http`, `timeout`, ...);
    /// `max_retries` and `retry_timeout` (seconds), how the S3 client retries
    /// a failed request (default 10 and 180).
    #[new]
    #[pyo3(signature = (
        path, durability="immediate", index=None, lock_timeout=None, read_only=false,
        verify_checksums=true, keep_versions=None, *, cache_dir=None, cache_limit=None,
        storage_options=None, max_retries=None, retry_timeout=None,
    ))]
    #[expect(
        clippy::too_many_arguments,
        reason = "mirrors the Python constructor's keyword arguments"
    )]
    fn open(
        py: Python<'_>,
        path: std::path::PathBuf,
        durability: &str,
        index: Option<&str>,
        lock_timeout: Option<f64>,
        read_only: bool,
        verify_checksums: bool,
        keep_versions: Option<u32>,
        cache_dir: Option<std::path::PathBuf>,
        cache_limit: Option<u64>,
        storage_options: Option<BTreeMap<String, String>>,
        max_retries: Option<usize>,
        retry_timeout: Option<f64>,
    ) -> PyResult<Self> {
        let remote = RemoteOptions {
            cache_dir,
            cache_limit,
            storage_options: storage_options.unwrap_or_default(),
            max_retries,
            retry_timeout,
        };
        let mut builder = store_builder(&path, &remote)?
            .durability(crate::keys::durability(durability)?)
            .verify_checksums(verify_checksums);
        if let Some(name) = index {
            builder = builder.index(index_kind(name)?);
        }
        if let Some(seconds) = lock_timeout {
            let wait = Duration::try_from_secs_f64(seconds)
                .map_err(|e| PyValueError::new_err(format!("lock_timeout {seconds}: {e}")))?;
            builder = builder.wait_for_lock(wait);
        }
        if read_only {
            builder = builder.read_only();
        }
        if let Some(versions) = keep_versions {
            builder = builder.retention(Retention::keep_last(versions));
        }
        let store = py_result(py.detach(|| builder.open()))?;
        Ok(Self {
            store: RwLock::new(Some(store)),
            opened_by: std::process::id(),
        })
    }

    /// Stores `data` under `(asset, partition)` as one atomic write.
    #[pyo3(signature = (asset, partition, data, codec="raw", data_version=None, metadata=None))]
    #[expect(
        clippy::too_many_arguments,
        reason = "mirrors the Python method's keyword arguments"
    )]
    fn put(
        &self,
        py: Python<'_>,
        asset: Vec<String>,
        partition: Option<String>,
        data: Bound<'_, PyBytes>,
        codec: &str,
        data_version: Option<String>,
        metadata: Option<BTreeMap<String, String>>,
    ) -> PyResult<()> {
        let entry = (
            asset,
            partition,
            data,
            codec.to_owned(),
            data_version,
            metadata,
        );
        self.put_many(py, vec![entry], None)
    }

    /// Stores every entry `(asset, partition, data, codec, data_version,
    /// metadata)` in one atomic batch: after a crash, all of them or none.
    #[pyo3(signature = (entries, durability=None))]
    fn put_many(
        &self,
        py: Python<'_>,
        entries: Vec<PutEntry<'_>>,
        durability: Option<&str>,
    ) -> PyResult<()> {
        let store = self.handle()?;
        let mut batch = WriteBatch::new();
        if let Some(name) = durability {
            batch = batch.durability(crate::keys::durability(name)?);
        }
        for entry in &entries {
            add_put(&mut batch, entry)?;
        }
        py_result(py.detach(|| store.write(batch)))
    }

    /// The payload under `(asset, partition)`, or `None`.
    fn get(
        &self,
        py: Python<'_>,
        asset: Vec<String>,
        partition: Option<String>,
    ) -> PyResult<Option<PyBlob>> {
        let store = self.handle()?;
        let (asset, partition) = (asset_key(asset)?, partition_key(partition)?);
        let blob = py_result(py.detach(|| store.get(&asset, &partition)))?;
        Ok(blob.map(PyBlob::new))
    }

    /// The metadata under `(asset, partition)` without reading the payload:
    /// a dict with `codec`, `size`, `checksum`, `created_at`, `data_version`
    /// and `metadata`, or `None`.
    fn meta<'py>(
        &self,
        py: Python<'py>,
        asset: Vec<String>,
        partition: Option<String>,
    ) -> PyResult<Option<Bound<'py, pyo3::types::PyDict>>> {
        let store = self.handle()?;
        let (asset, partition) = (asset_key(asset)?, partition_key(partition)?);
        let Some(meta) = py_result(py.detach(|| store.meta(&asset, &partition)))? else {
            return Ok(None);
        };
        meta_dict(py, meta).map(Some)
    }

    /// The retained versions of `(asset, partition)`, newest first: dicts with
    /// `version` and the fields of [`meta`](PyStore::meta). How many are kept
    /// is the open's `keep_versions` (default: the latest only).
    fn history<'py>(
        &self,
        py: Python<'py>,
        asset: Vec<String>,
        partition: Option<String>,
    ) -> PyResult<Vec<Bound<'py, pyo3::types::PyDict>>> {
        let store = self.handle()?;
        let (asset, partition) = (asset_key(asset)?, partition_key(partition)?);
        let versions = py_result(py.detach(|| store.history(&asset, &partition)))?;
        versions
            .into_iter()
            .map(|info| {
                let dict = meta_dict(py, info.meta)?;
                dict.set_item("version", info.version)?;
                Ok(dict)
            })
            .collect()
    }

    /// Version `version` of `(asset, partition)` (a number from
    /// [`history`](PyStore::history)), or `None` if it is not retained.
    fn get_version(
        &self,
        py: Python<'_>,
        asset: Vec<String>,
        partition: Option<String>,
        version: u64,
    ) -> PyResult<Option<PyBlob>> {
        let store = self.handle()?;
        let (asset, partition) = (asset_key(asset)?, partition_key(partition)?);
        let blob = py_result(py.detach(|| store.get_version(&asset, &partition, version)))?;
        Ok(blob.map(PyBlob::new))
    }

    /// Whether `(asset, partition)` holds a payload.
    fn contains(
        &self,
        py: Python<'_>,
        asset: Vec<String>,
        partition: Option<String>,
    ) -> PyResult<bool> {
        let store = self.handle()?;
        let (asset, partition) = (asset_key(asset)?, partition_key(partition)?);
        py_result(py.detach(|| store.contains(&asset, &partition)))
    }

    /// Deletes `(asset, partition)`; whether it existed.
    fn delete(
        &self,
        py: Python<'_>,
        asset: Vec<String>,
        partition: Option<String>,
    ) -> PyResult<bool> {
        let store = self.handle()?;
        let (asset, partition) = (asset_key(asset)?, partition_key(partition)?);
        py_result(py.detach(|| store.delete(&asset, &partition)))
    }

    /// Every asset with a stored partition, as path lists, in key order.
    fn list_assets(&self, py: Python<'_>) -> PyResult<Vec<Vec<String>>> {
        let store = self.handle()?;
        let assets = py_result(py.detach(|| store.list_assets()))?;
        Ok(assets.iter().map(|a| a.components().to_vec()).collect())
    }

    /// The partitions of `asset`, in key order (`None`: the unpartitioned value).
    fn list_partitions(&self, py: Python<'_>, asset: Vec<String>) -> PyResult<Vec<Option<String>>> {
        let store = self.handle()?;
        let asset = asset_key(asset)?;
        let partitions = py_result(py.detach(|| store.list_partitions(&asset)))?;
        Ok(partitions.iter().map(partition_text).collect())
    }

    /// Checks every payload's checksum and the index against the log; a dict
    /// with `ok`, `checked`, `bytes` and `damaged` (a list of messages).
    fn verify<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, pyo3::types::PyDict>> {
        let store = self.handle()?;
        let report = py_result(py.detach(|| store.verify()))?;
        verify_summary(py, &report)
    }

    /// Catches a read-only store up with what writers committed since it was
    /// opened or last refreshed; returns `"unchanged"`, `"caught_up"` or
    /// `"reloaded"` (rebuilt from every segment after a compaction retired
    /// one it had read). Blobs read before stay valid. A writable store has
    /// nothing to catch up with: `"unchanged"`.
    fn refresh(&self, py: Python<'_>) -> PyResult<&'static str> {
        let store = self.handle()?;
        let refreshed = py_result(py.detach(|| store.refresh()))?;
        Ok(match refreshed {
            Refresh::Unchanged => "unchanged",
            Refresh::CaughtUp { .. } => "caught_up",
            Refresh::Reloaded { .. } => "reloaded",
            // `Refresh` may gain variants: any other outcome is a change.
            _ => "refreshed",
        })
    }

    /// Makes every write that returned before this call durable.
    fn flush(&self, py: Python<'_>) -> PyResult<()> {
        let store = self.handle()?;
        py_result(py.detach(|| store.flush()))
    }

    /// Flushes and closes the store, releasing its directory. Closing twice is
    /// allowed; any other call after it raises `StoreClosedError`. In a
    /// process forked from the one that opened it, only this process's copy
    /// is let go of (nothing flushed, nothing released: the store is the
    /// parent's).
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        let mut slot = self
            .store
            .write()
            .map_err(|_| StoreClosedError::new_err("store lock poisoned by a panic"))?;
        if forget_in_forked_child(self.opened_by, &mut slot) {
            return Ok(());
        }
        let taken = slot.take();
        drop(slot);
        match taken {
            Some(store) => py_result(py.detach(|| store.close())),
            None => Ok(()),
        }
    }

    /// Whether `close()` was called.
    #[getter]
    fn closed(&self) -> bool {
        self.store.read().map(|s| s.is_none()).unwrap_or(true)
    }

    /// The store's directory (for a store on object storage, its local
    /// cache directory).
    #[getter]
    fn path(&self) -> PyResult<std::path::PathBuf> {
        Ok(self.handle()?.path().to_path_buf())
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_exc))]
    fn __exit__(&self, py: Python<'_>, _exc: &Bound<'_, pyo3::types::PyTuple>) -> PyResult<bool> {
        self.close(py)?;
        Ok(false)
    }
}
