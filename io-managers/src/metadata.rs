//! Typed metadata values, as Dagster's `MetadataValue`.

use std::collections::BTreeMap;
use std::fmt;

/// Metadata keyed by name, in name order.
pub type Metadata = BTreeMap<String, MetadataValue>;

/// The key Dagster uses for a table's row count.
pub const ROW_COUNT: &str = "dagster/row_count";
/// The key Tessera uses for a stored value's size in bytes.
pub const BYTE_SIZE: &str = "tessera/byte_size";
/// The key of the path of a file written by the filesystem I/O manager.
pub const PATH: &str = "path";
/// The Rust type of an rkyv value, recorded by [`crate::RkyvIoManager`].
pub const RKYV_TYPE: &str = "tessera/rkyv_type";
/// The layout of an rkyv value's archived form (`size=…,align=…`), recorded
/// by [`crate::RkyvIoManager`].
pub const RKYV_LAYOUT: &str = "tessera/rkyv_layout";

/// One metadata value.
#[derive(Debug, Clone, PartialEq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
pub enum MetadataValue {
    /// An integer (counts, sizes).
    Int(i64),
    /// A floating-point number.
    Float(f64),
    /// Free text.
    Text(String),
    /// A boolean.
    Bool(bool),
    /// A file-system path.
    Path(String),
}

impl MetadataValue {
    /// The value as an integer, if it is one.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Self::Int(value) => Some(*value),
            _ => None,
        }
    }
}

impl fmt::Display for MetadataValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Int(value) => write!(f, "{value}"),
            Self::Float(value) => write!(f, "{value}"),
            Self::Text(value) | Self::Path(value) => f.write_str(value),
            Self::Bool(value) => write!(f, "{value}"),
        }
    }
}

impl From<i64> for MetadataValue {
    fn from(value: i64) -> Self {
        Self::Int(value)
    }
}

impl From<usize> for MetadataValue {
    fn from(value: usize) -> Self {
        Self::Int(i64::try_from(value).unwrap_or(i64::MAX))
    }
}

impl From<f64> for MetadataValue {
    fn from(value: f64) -> Self {
        Self::Float(value)
    }
}

impl From<bool> for MetadataValue {
    fn from(value: bool) -> Self {
        Self::Bool(value)
    }
}

impl From<&str> for MetadataValue {
    fn from(value: &str) -> Self {
        Self::Text(value.to_owned())
    }
}

impl From<String> for MetadataValue {
    fn from(value: String) -> Self {
        Self::Text(value)
    }
}
