//! The Python exceptions: one base class, one subclass per kind of failure a
//! caller may want to catch. Each carries the Rust error's text.

use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::{PyErr, create_exception};
use tessera_engine::Error;

create_exception!(
    _native,
    TesseraError,
    PyException,
    "Base class of every error the Tessera store raises."
);
create_exception!(
    _native,
    StoreClosedError,
    TesseraError,
    "The store was used after `close()`."
);
create_exception!(
    _native,
    LockedError,
    TesseraError,
    "Another handle held the store's directory for longer than the lock timeout."
);
create_exception!(
    _native,
    CorruptedError,
    TesseraError,
    "Stored data or an index entry failed its checksum or could not be decoded."
);
create_exception!(
    _native,
    InvalidKeyError,
    TesseraError,
    "An asset key or partition key that the store cannot hold."
);
create_exception!(
    _native,
    ReadOnlyError,
    TesseraError,
    "A write to a store opened read-only."
);
create_exception!(
    _native,
    NotAStoreError,
    TesseraError,
    "A read-only open of a directory or bucket prefix that holds no store (it never creates one)."
);
create_exception!(
    _native,
    ObjectStoreError,
    TesseraError,
    "A call to the object store failed (after its retries where retrying was safe): an \
     unreachable endpoint, a missing bucket, refused credentials, a client that cannot be \
     configured."
);
create_exception!(
    _native,
    UnsupportedError,
    TesseraError,
    "An operation this store's backend (or this build) does not offer."
);

/// The Python exception for an engine error, with the engine's message.
pub(crate) fn to_py(error: &Error) -> PyErr {
    let message = error.to_string();
    match error {
        Error::Locked { .. } => LockedError::new_err(message),
        Error::Corrupted { .. }
        | Error::CorruptIndex { .. }
        | Error::InvalidArchive { .. }
        | Error::ArrowDecode { .. }
        | Error::CorruptObject { .. } => CorruptedError::new_err(message),
        Error::InvalidAssetKey { .. }
        | Error::InvalidPartitionKey { .. }
        | Error::KeyTooLarge { .. } => InvalidKeyError::new_err(message),
        Error::ReadOnly { .. } => ReadOnlyError::new_err(message),
        Error::NotAStore { .. } => NotAStoreError::new_err(message),
        Error::ObjectStore { .. } => ObjectStoreError::new_err(message),
        Error::Unsupported { .. } => UnsupportedError::new_err(message),
        _ => TesseraError::new_err(message),
    }
}

/// Converts an engine result for Python.
pub(crate) fn py_result<T>(result: tessera_engine::Result<T>) -> PyResult<T> {
    result.map_err(|error| to_py(&error))
}

/// Registers the exception classes on the module.
pub(crate) fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = module.py();
    module.add("TesseraError", py.get_type::<TesseraError>())?;
    module.add("StoreClosedError", py.get_type::<StoreClosedError>())?;
    module.add("LockedError", py.get_type::<LockedError>())?;
    module.add("CorruptedError", py.get_type::<CorruptedError>())?;
    module.add("InvalidKeyError", py.get_type::<InvalidKeyError>())?;
    module.add("ReadOnlyError", py.get_type::<ReadOnlyError>())?;
    module.add("NotAStoreError", py.get_type::<NotAStoreError>())?;
    module.add("ObjectStoreError", py.get_type::<ObjectStoreError>())?;
    module.add("UnsupportedError", py.get_type::<UnsupportedError>())?;
    Ok(())
}
