//! The engine's one error type.

use std::io;
use std::path::PathBuf;

use crate::codec::Codec;
use crate::key::{AssetKey, PartitionKey};

/// Result alias for every fallible engine operation.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in the engine, naming what failed and where.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An asset key was rejected at construction.
    #[error("invalid asset key {key:?}: {reason}")]
    InvalidAssetKey {
        /// The rejected components.
        key: Vec<String>,
        /// Why it was rejected.
        reason: &'static str,
    },
    /// A partition key was rejected at construction.
    #[error("invalid partition key {key:?}: {reason}")]
    InvalidPartitionKey {
        /// The rejected key.
        key: String,
        /// Why it was rejected.
        reason: &'static str,
    },
    /// Another `Store` (in this process or another one) holds the directory.
    #[error("store directory {path} is locked by another process or handle")]
    Locked {
        /// The store directory.
        path: PathBuf,
    },
    /// An operating-system I/O call failed.
    #[error("{op} failed on {path}: {source}")]
    Io {
        /// What was being done.
        op: &'static str,
        /// The file or directory involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// The index backend (sled or redb) reported an error.
    #[error("index backend {backend} failed: {message}")]
    Index {
        /// `sled` or `redb`.
        backend: &'static str,
        /// The backend's own message.
        message: String,
    },
    /// A sync failed earlier (fail-stop): the store refuses every write and
    /// flush until it is reopened, which recovers from what is on disk.
    #[error("store is poisoned: {op} failed on {path} ({kind}: {message}); reopen it to recover")]
    Poisoned {
        /// The call that failed.
        op: &'static str,
        /// The file it failed on.
        path: PathBuf,
        /// The kind of the original error.
        kind: io::ErrorKind,
        /// The original error's message.
        message: String,
    },
    /// The store was opened read-only.
    #[error("store at {path} is open read-only")]
    ReadOnly {
        /// The store directory.
        path: PathBuf,
    },
    /// The directory holds store data but its `FORMAT` file is missing: it is
    /// not made into a new, empty store over the old data.
    #[error(
        "{path} holds store data (segments or index) but no FORMAT file; refusing to treat it as a new store"
    )]
    MissingFormat {
        /// The store directory.
        path: PathBuf,
    },
    /// The directory is not a store (a read-only open never creates one).
    #[error("{path} is not a Tessera store (no FORMAT file)")]
    NotAStore {
        /// The directory.
        path: PathBuf,
    },
    /// An encoded `(asset, partition)` key exceeds [`MAX_KEY_LEN`](crate::MAX_KEY_LEN).
    #[error("encoded key of {len} bytes exceeds the maximum of {max} bytes")]
    KeyTooLarge {
        /// The encoded key's length.
        len: usize,
        /// The largest encoded key the store accepts.
        max: usize,
    },
    /// A payload's data version and metadata exceed
    /// [`MAX_METADATA_LEN`](crate::MAX_METADATA_LEN) once encoded.
    #[error("data version and metadata of {len} bytes exceed the maximum of {max} bytes")]
    MetadataTooLarge {
        /// The encoded length.
        len: usize,
        /// The largest the store accepts.
        max: usize,
    },
    /// A stored partition failed an integrity check; its bytes are never returned.
    #[error("partition {partition} of asset {asset} is corrupted: {reason}")]
    Corrupted {
        /// The asset whose partition is damaged.
        asset: AssetKey,
        /// The damaged partition.
        partition: PartitionKey,
        /// What check failed.
        reason: String,
    },
    /// An index entry could not be decoded into a key (the index file is damaged).
    #[error("index entry is corrupted: {reason}")]
    CorruptIndex {
        /// What check failed.
        reason: String,
    },
    /// The payload was stored with another codec than the one asked for.
    #[error("partition {partition} of asset {asset} holds {found} data, not {expected}")]
    CodecMismatch {
        /// The asset.
        asset: AssetKey,
        /// The partition.
        partition: PartitionKey,
        /// The codec the caller asked for.
        expected: Codec,
        /// The codec the payload was written with.
        found: Codec,
    },
    /// An rkyv payload passed its checksum but not validation as the requested type.
    #[error(
        "partition {partition} of asset {asset} is not a valid archive of the requested type: {reason}"
    )]
    InvalidArchive {
        /// The asset.
        asset: AssetKey,
        /// The partition.
        partition: PartitionKey,
        /// The validator's message.
        reason: String,
    },
    /// Encoding a value (rkyv or Arrow IPC) failed before anything was written.
    #[error("encoding a {codec} payload failed: {reason}")]
    Encode {
        /// The codec being encoded.
        codec: Codec,
        /// The encoder's message.
        reason: String,
    },
    /// An Arrow IPC payload passed its checksum but could not be decoded.
    #[error("partition {partition} of asset {asset} holds undecodable Arrow IPC data: {reason}")]
    ArrowDecode {
        /// The asset.
        asset: AssetKey,
        /// The partition.
        partition: PartitionKey,
        /// The decoder's message.
        reason: String,
    },
    /// The store was written by an incompatible format version.
    #[error("store at {path} has format version {found}; this build reads version {supported}")]
    UnsupportedFormat {
        /// The format file.
        path: PathBuf,
        /// The version found on disk.
        found: u32,
        /// The version this build reads and writes.
        supported: u32,
    },
    /// The store was created with another index backend than the one requested.
    #[error("store at {path} uses the {found} index, not {requested}")]
    BackendMismatch {
        /// The store directory.
        path: PathBuf,
        /// The backend recorded in the store.
        found: String,
        /// The backend this open asked for.
        requested: &'static str,
    },
    /// A file in the store directory is not one Tessera wrote.
    #[error("foreign or damaged file in the store directory: {path}: {reason}")]
    ForeignFile {
        /// The offending file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A single payload exceeds what the format can address.
    #[error("payload of {len} bytes exceeds the maximum of {max} bytes")]
    PayloadTooLarge {
        /// The payload length.
        len: u64,
        /// The largest payload the store accepts.
        max: u64,
    },
    /// The operation is not available on this store (its backend, or this
    /// build, lacks it).
    #[error("{operation} is not supported: {reason}")]
    Unsupported {
        /// What was asked.
        operation: &'static str,
        /// Why it is not available.
        reason: &'static str,
    },
    /// A call to the object store failed: at once, or after its retries where
    /// retrying was safe.
    #[error("object store: {operation} of {object} failed: {reason}")]
    ObjectStore {
        /// What was being done (`get`, `create`, `commit`, `configure`).
        operation: &'static str,
        /// The object (or store) involved.
        object: String,
        /// The object store's own message.
        reason: String,
    },
    /// An object of a store on object storage is damaged or not Tessera's.
    #[error("object {object} is damaged or foreign: {reason}")]
    CorruptObject {
        /// The object.
        object: String,
        /// What is wrong with it.
        reason: String,
    },
}

impl Error {
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        Self::Io {
            op,
            path: path.into(),
            source,
        }
    }

    pub(crate) fn corrupted(
        asset: &AssetKey,
        partition: &PartitionKey,
        reason: impl Into<String>,
    ) -> Self {
        Self::Corrupted {
            asset: asset.clone(),
            partition: partition.clone(),
            reason: reason.into(),
        }
    }
}
