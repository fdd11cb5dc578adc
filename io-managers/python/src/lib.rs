//! Python bindings of the Tessera store (`tessera_dagster._native`): open a
//! store (a directory, or `s3://bucket/prefix` on object storage), put and
//! get bytes and Arrow IPC payloads, list, delete, verify.
//! Reads hand Python a `Blob` that borrows the memory-mapped segment; the
//! Python side wraps it in a `pyarrow.Buffer` without copying.
#![forbid(unsafe_code)]

mod blob;
mod errors;
mod keys;
mod remote;
mod store;
mod verify;

use pyo3::prelude::*;
use pyo3::types::PyBytes;
use tessera_engine::Checksum;

/// The crc32 the store records for a payload of these bytes.
#[pyfunction]
fn checksum(py: Python<'_>, data: Bound<'_, PyBytes>) -> u32 {
    let bytes = data.as_bytes();
    py.detach(|| Checksum::of(bytes).0)
}

/// The native module.
#[pymodule]
fn _native(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<store::PyStore>()?;
    module.add_class::<blob::PyBlob>()?;
    module.add_function(wrap_pyfunction!(checksum, module)?)?;
    module.add_function(wrap_pyfunction!(remote::is_remote, module)?)?;
    errors::register(module)?;
    Ok(())
}
