//! [`AsOf`]: loading an input as it was at an earlier version or time, and
//! [`LoadedVersion`]: which stored version a load read.

use std::fmt;

use chrono::{DateTime, Utc};

/// Which stored version of each upstream partition an input loads, instead
/// of the newest.
///
/// Versions are the store's log positions ([`tessera_engine::RecordMeta::version`],
/// what `tessera history` lists), so one `AsOf::Version` is a consistent
/// point of the whole store: for every partition it selects the version that
/// was newest when the log reached that position. A version number taken
/// from a partition's history therefore loads exactly that version.
///
/// Only versions the store's retention policy still keeps can be loaded; a
/// partition with no retained version at or before the point is missing.
/// Managers without versions (the filesystem and in-memory managers) refuse
/// an `AsOf` with [`Error::VersionsUnsupported`](crate::Error::VersionsUnsupported).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AsOf {
    /// The newest version whose number is at most this one.
    Version(u64),
    /// The newest version written at or before this time.
    Time(DateTime<Utc>),
}

impl fmt::Display for AsOf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Version(version) => write!(f, "version {version}"),
            Self::Time(time) => write!(f, "{}", time.to_rfc3339()),
        }
    }
}

/// Refuses an [`AsOf`] for a manager that keeps only the newest value.
pub(crate) fn refuse_as_of(
    manager: &'static str,
    context: &crate::InputContext,
) -> crate::Result<()> {
    match context.as_of() {
        None => Ok(()),
        Some(as_of) => Err(crate::Error::VersionsUnsupported {
            manager,
            asset: context.asset_key().clone(),
            as_of,
        }),
    }
}

/// The stored version one load read of one upstream partition, as a
/// versioned manager reports it to [`InputContext::record_loaded_version`](crate::InputContext::record_loaded_version).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadedVersion {
    /// The upstream partition (`""` for an unpartitioned asset).
    pub partition: String,
    /// The store version read.
    pub version: u64,
    /// The data version stored with it, if any.
    pub data_version: Option<String>,
}
