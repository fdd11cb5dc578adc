//! The I/O managers' error type.

use std::path::PathBuf;

use tessera_engine::AssetKey;

/// Everything that can go wrong in an I/O manager, a context or the executor.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The storage engine failed (I/O, corruption, a codec mismatch, …).
    #[error(transparent)]
    Engine(#[from] tessera_engine::Error),
    /// Arrow could not encode, decode or project a table.
    #[error("arrow: {0}")]
    Arrow(#[from] arrow_schema::ArrowError),
    /// A file-system operation of the filesystem I/O manager failed.
    #[error("{op} {}: {source}", path.display())]
    Io {
        /// What was being done.
        op: &'static str,
        /// The file or directory concerned.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The stored value for an (asset, partition) does not exist: the store's own
    /// "not found", never a guess from an I/O error.
    #[error("asset {asset}{} has no stored value", partition.as_ref().map(|p| format!(" partition {p:?}")).unwrap_or_default())]
    Missing {
        /// The asset asked for.
        asset: AssetKey,
        /// The partition asked for (`None` for an unpartitioned asset).
        partition: Option<String>,
    },
    /// A file-backed manager found no file for an (asset, partition): the
    /// key asked for and the file looked at (Dagster's `FileNotFoundError`
    /// names the file). Like [`Error::Missing`], it is the manager's own
    /// "not found" and is what `allow_missing_partitions` skips.
    #[error("asset {asset}{} has no stored value: no file at {}", partition.as_ref().map(|p| format!(" partition {p:?}")).unwrap_or_default(), path.display())]
    MissingFile {
        /// The asset asked for.
        asset: AssetKey,
        /// The partition asked for (`None` for an unpartitioned asset).
        partition: Option<String>,
        /// The file that does not exist (for a multi-partition key, the
        /// current layout's; the legacy `a|b` file was tried too).
        path: PathBuf,
    },
    /// A value was handed to, or asked of, a manager as a type it does not handle.
    #[error("I/O manager {manager:?} handles {expected}, not {found}")]
    WrongType {
        /// The manager's name in the registry (or its type).
        manager: String,
        /// The type the manager stores or loads.
        expected: &'static str,
        /// The type that was given or asked for.
        found: &'static str,
    },
    /// A stored rkyv value was asked for as another type than the one it was
    /// stored as (the manager records the type and its archived layout).
    #[error(transparent)]
    WrongStoredType(Box<StoredTypeMismatch>),
    /// An input asked for an earlier version or time from a manager that
    /// keeps only the newest value.
    #[error(
        "the {manager} I/O manager keeps no versions: asset {asset} cannot be loaded as of {as_of}"
    )]
    VersionsUnsupported {
        /// The manager's kind.
        manager: &'static str,
        /// The upstream asset asked for.
        asset: AssetKey,
        /// The version or time asked for.
        as_of: crate::context::AsOf,
    },
    /// No manager is registered under this key.
    #[error("no I/O manager or input manager is registered as {0:?}")]
    UnknownManager(String),
    /// `partition_key` was asked of a context that does not have exactly one key.
    #[error("the context for {asset} has {count} partition keys, not exactly one")]
    NotSinglePartition {
        /// The asset of the context.
        asset: AssetKey,
        /// How many partition keys it has.
        count: usize,
    },
    /// A partition accessor was used on an unpartitioned context.
    #[error("the context for {0} is not partitioned")]
    NotPartitioned(AssetKey),
    /// The time window was asked of a context whose partitions are not time windows.
    #[error("the partitions of {0} have no time window")]
    NoTimeWindow(AssetKey),
    /// Output metadata was added twice under one key (Dagster raises the same).
    #[error("output metadata {0:?} was already added")]
    DuplicateMetadata(String),
    /// A partition key that cannot be turned into a path under the base directory.
    #[error("partition key {key:?} cannot be stored as a file: {reason}")]
    UnsafePath {
        /// The offending key.
        key: String,
        /// Why it is refused.
        reason: &'static str,
    },
    /// The values of a range output do not match the context's partition keys.
    #[error(
        "a range output for {asset} has values for {given:?}, the context expects {expected:?}"
    )]
    RangeMismatch {
        /// The asset of the output.
        asset: AssetKey,
        /// The partition keys the context expects.
        expected: Vec<String>,
        /// The partition keys the values were given for.
        given: Vec<String>,
    },
    /// A column asked for by an input manager or a projection.
    #[error("column {column:?}: {reason}")]
    Column {
        /// The column's name.
        column: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A partitions definition or mapping rejected its input.
    #[error(transparent)]
    Partitions(#[from] crate::partitions::PartitionsError),
    /// A compute function asked for an input it does not have.
    #[error("no input named {0:?} (or it was already taken)")]
    UnknownInput(String),
    /// Two assets share a key.
    #[error("asset {0} is defined twice")]
    DuplicateAsset(AssetKey),
    /// An asset key under Tessera's reserved prefix.
    #[error("asset {0}: keys starting with \"__tessera__\" are reserved")]
    ReservedAsset(AssetKey),
    /// An input names an asset that is not defined.
    #[error("asset {asset} reads {upstream}, which is not defined")]
    UnknownUpstream {
        /// The downstream asset.
        asset: AssetKey,
        /// The missing upstream.
        upstream: AssetKey,
    },
    /// The assets depend on each other in a cycle.
    #[error("the assets form a cycle through {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "))]
    Cycle(Vec<AssetKey>),
    /// An asset or input names a manager that is not registered.
    #[error("asset {asset} uses the manager {key:?}, which is not registered")]
    MissingManager {
        /// The asset.
        asset: AssetKey,
        /// The manager key.
        key: String,
    },
    /// A partition mapping that does not fit the two definitions.
    #[error("asset {asset}, input {input:?}: {reason}")]
    IncompatibleMapping {
        /// The downstream asset.
        asset: AssetKey,
        /// The input.
        input: String,
        /// Why it does not fit.
        reason: String,
    },
    /// An asset that is not in the definitions.
    #[error("asset {0} is not defined")]
    UnknownAsset(AssetKey),
    /// A selection of partitions that does not apply.
    #[error("invalid selection: {0}")]
    InvalidSelection(String),
    /// A partition depends on upstream partitions that do not exist.
    #[error(
        "asset {asset} partition {partition:?} depends on invalid partitions of {upstream}: {keys:?}"
    )]
    InvalidUpstreamPartitions {
        /// The downstream asset.
        asset: AssetKey,
        /// The downstream partition.
        partition: String,
        /// The upstream asset.
        upstream: AssetKey,
        /// The upstream keys that do not exist.
        keys: Vec<String>,
    },
    /// A compute function failed or panicked.
    #[error("asset {asset}: compute failed: {message}")]
    Compute {
        /// The asset.
        asset: AssetKey,
        /// What it reported.
        message: String,
    },
}

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What [`Error::WrongStoredType`] reports: the value, the type it was stored
/// as and the type asked for, each with its archived layout.
#[derive(Debug, thiserror::Error)]
#[error("asset {asset}{} holds a {stored} ({stored_layout}), not a {requested} ({requested_layout})", partition.as_ref().map(|p| format!(" partition {p:?}")).unwrap_or_default())]
pub struct StoredTypeMismatch {
    /// The asset read.
    pub asset: AssetKey,
    /// The partition read (`None` for an unpartitioned asset).
    pub partition: Option<String>,
    /// The type the value was stored as.
    pub stored: String,
    /// Its archived layout.
    pub stored_layout: String,
    /// The type asked for.
    pub requested: &'static str,
    /// Its archived layout.
    pub requested_layout: String,
}
