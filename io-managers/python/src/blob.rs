//! [`PyBlob`]: a stored payload, handed to Python without copying it.

use std::collections::BTreeMap;

use pyo3::prelude::*;
use pyo3::types::PyBytes;
use tessera_engine::Blob;

use crate::keys::{codec_name, partition_text};

/// A stored payload, borrowed from the store's memory-mapped segment.
///
/// `address` and `size` locate the bytes; the mapping stays valid for as long
/// as this object lives, even after the store is closed or the partition is
/// overwritten. `tessera_dagster.arrow.table_from_blob` wraps it in a
/// `pyarrow.Buffer` whose base is this object, so a loaded table keeps it alive.
#[pyclass(name = "Blob", module = "tessera_dagster._native", frozen)]
pub(crate) struct PyBlob {
    blob: Blob,
}

impl PyBlob {
    pub(crate) fn new(blob: Blob) -> Self {
        Self { blob }
    }
}

#[pymethods]
impl PyBlob {
    /// The address of the first payload byte in the mapping.
    #[getter]
    fn address(&self) -> usize {
        self.blob.as_ptr() as usize
    }

    /// The payload's length in bytes.
    #[getter]
    fn size(&self) -> usize {
        self.blob.len()
    }

    fn __len__(&self) -> usize {
        self.blob.len()
    }

    /// The codec: `"raw"`, `"arrow"` or `"rkyv"`.
    #[getter]
    fn codec(&self) -> &'static str {
        codec_name(self.blob.codec())
    }

    /// The asset key's path components.
    #[getter]
    fn asset(&self) -> Vec<String> {
        self.blob.asset().components().to_vec()
    }

    /// The partition key, `None` for an unpartitioned asset.
    #[getter]
    fn partition(&self) -> Option<String> {
        partition_text(self.blob.partition())
    }

    /// The data version stored with the payload, if any.
    #[getter]
    fn data_version(&self) -> Option<String> {
        self.blob.meta().data_version.clone()
    }

    /// The user metadata stored with the payload.
    #[getter]
    fn metadata(&self) -> BTreeMap<String, String> {
        self.blob.meta().metadata.clone()
    }

    /// When the payload was written, as an RFC 3339 UTC timestamp.
    #[getter]
    fn created_at(&self) -> String {
        self.blob.meta().created_at.to_rfc3339()
    }

    /// The payload's crc32.
    #[getter]
    fn checksum(&self) -> u32 {
        self.blob.meta().checksum.0
    }

    /// A copy of the payload as `bytes`.
    fn to_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.blob)
    }

    /// Whether `address` lies inside the segment mapping this payload borrows
    /// from: proves that a decoded view points into the store, not a copy.
    fn is_in_mapping(&self, address: usize) -> bool {
        self.blob.is_in_mapping(address as *const u8)
    }

    fn __repr__(&self) -> String {
        format!(
            "Blob(asset={:?}, partition={:?}, codec={}, size={})",
            self.blob.asset().components(),
            partition_text(self.blob.partition()),
            codec_name(self.blob.codec()),
            self.blob.len()
        )
    }
}
