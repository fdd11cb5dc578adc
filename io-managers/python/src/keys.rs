//! Conversions between Python values and the engine's keys, codecs and options.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use tessera_engine::{AssetKey, Codec, Durability, IndexKind, PartitionKey};

use crate::errors::py_result;

/// An asset key from its path components (`["public", "weather_obs"]`).
pub(crate) fn asset_key(path: Vec<String>) -> PyResult<AssetKey> {
    py_result(AssetKey::new(path))
}

/// A partition key; `None` is the key of an unpartitioned asset.
pub(crate) fn partition_key(key: Option<String>) -> PyResult<PartitionKey> {
    match key {
        Some(text) => py_result(PartitionKey::new(text)),
        None => Ok(PartitionKey::unpartitioned()),
    }
}

/// The Python form of a partition key: its text, or `None` for unpartitioned.
pub(crate) fn partition_text(key: &PartitionKey) -> Option<String> {
    key.as_str().map(str::to_owned)
}

/// The codec named `name`: `"raw"`, `"arrow"` or `"rkyv"`.
pub(crate) fn codec(name: &str) -> PyResult<Codec> {
    match name {
        "raw" => Ok(Codec::Raw),
        "arrow" => Ok(Codec::ArrowIpc),
        "rkyv" => Ok(Codec::Rkyv),
        other => Err(PyValueError::new_err(format!(
            "unknown codec {other:?}: expected \"raw\", \"arrow\" or \"rkyv\""
        ))),
    }
}

/// The name [`codec`] accepts for `codec` (`"unknown"` for a codec added to
/// the engine after this binding).
pub(crate) fn codec_name(codec: Codec) -> &'static str {
    match codec {
        Codec::Raw => "raw",
        Codec::ArrowIpc => "arrow",
        Codec::Rkyv => "rkyv",
        _ => "unknown",
    }
}

/// The durability named `name`: `"immediate"` or `"buffered"`.
pub(crate) fn durability(name: &str) -> PyResult<Durability> {
    match name {
        "immediate" => Ok(Durability::Immediate),
        "buffered" => Ok(Durability::Buffered),
        other => Err(PyValueError::new_err(format!(
            "unknown durability {other:?}: expected \"immediate\" or \"buffered\""
        ))),
    }
}

/// The index backend named `name`: `"redb"` or `"sled"`.
pub(crate) fn index_kind(name: &str) -> PyResult<IndexKind> {
    match name {
        "redb" => Ok(IndexKind::Redb),
        "sled" => Ok(IndexKind::Sled),
        other => Err(PyValueError::new_err(format!(
            "unknown index backend {other:?}: expected \"redb\" or \"sled\""
        ))),
    }
}
