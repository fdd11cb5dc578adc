//! Tessera's storage engine: an embedded store of zero-copy blobs addressed by
//! `(asset key path, partition key)`.
//!
//! The segment files are the log and the source of truth: every change is a
//! frame, appended, memory-mapped, every payload 64-byte aligned. An ordered
//! index (redb by default, sled beside it) is a checkpointed cache of the log,
//! checked at open and rebuilt from the segments when damaged. A read returns
//! a [`Blob`] that borrows the mapped bytes:
//! rkyv archives are validated and used in place ([`Blob::rkyv`]), Arrow record
//! batches are decoded with every buffer pointing into the mapping
//! ([`Blob::arrow`]). Every payload carries a crc32; a damaged one is reported
//! as [`Error::Corrupted`], never returned.
//!
//! ```
//! use tessera_engine::{AssetKey, Durability, PartitionKey, Payload, Store, WriteBatch};
//!
//! # fn main() -> tessera_engine::Result<()> {
//! let dir = tempfile::tempdir().expect("temporary directory");
//! let store = Store::open(dir.path())?;
//! let asset = AssetKey::new(["public", "weather_obs"])?;
//! let day = PartitionKey::new("2022-07-23")?;
//!
//! store.put(&asset, &day, Payload::raw(&b"21.5,22.0,19.8"[..]).with_data_version("v1"))?;
//! let blob = store.get(&asset, &day)?.expect("stored above");
//! assert_eq!(&*blob, b"21.5,22.0,19.8");
//! assert_eq!(blob.meta().data_version.as_deref(), Some("v1"));
//!
//! // Many partitions, atomically, made durable by one flush.
//! let mut batch = WriteBatch::new().durability(Durability::Buffered);
//! for d in 24..=26 {
//!     batch.put(&asset, &PartitionKey::new(format!("2022-07-{d}"))?, &b"..."[..]);
//! }
//! store.write(batch)?;
//! store.flush()?;
//! assert_eq!(store.list_partitions(&asset)?.len(), 4);
//! # Ok(())
//! # }
//! ```
#![deny(unsafe_code)]

mod batch;
mod blob;
pub mod codec;
mod durability;
mod error;
mod format;
mod fsutil;
mod index;
pub mod io;
mod key;
mod lock;
mod log;
mod poison;
mod record;
#[cfg(feature = "object-store")]
mod remote;
mod retention;
mod segment;
mod store;

pub use batch::{Payload, WriteBatch};
pub use blob::Blob;
pub use codec::Codec;
#[cfg(feature = "arrow")]
pub use codec::arrow::{ArrowPartition, ArrowPayload};
#[cfg(feature = "rkyv")]
pub use codec::rkyv::{ArchivedBlob, RkyvCheck, RkyvSerialize};
pub use durability::Durability;
pub use error::{Error, Result};
pub use format::FORMAT_VERSION;
pub use index::IndexKind;
pub use key::{AssetKey, MAX_COMPONENT_LEN, MAX_COMPONENTS, MAX_PARTITION_KEY_LEN, PartitionKey};
/// The `object_store` crate the object-store backend is built on (its
/// [`ObjectStore`](object_store::ObjectStore) goes to
/// [`StoreBuilder::object_store`]).
#[cfg(feature = "object-store")]
pub use object_store;
pub use record::{Checksum, RecordMeta};
pub use retention::{Clock, Retention};
pub use segment::QuarantinedSegment;
pub use store::{
    BrokenOrdering, CompactionOptions, CompactionProgress, CompactionReport, CutTail,
    DEFAULT_CHECKPOINT_EVERY, DEFAULT_SEGMENT_CAPACITY, DamagedPartition, IndexMismatch,
    IndexRebuild, MAX_KEY_LEN, MAX_METADATA_LEN, MAX_PAYLOAD_LEN, RecoveryReport, Refresh, Store,
    StoreBuilder, StoreStats, VerifyReport, VersionInfo, is_object_store_address,
};
#[cfg(feature = "object-store")]
pub use store::{
    DEFAULT_CACHE_LIMIT, DEFAULT_CHECKPOINT_GRACE, DEFAULT_GC_GRACE, DEFAULT_LARGE_VALUE_THRESHOLD,
    DEFAULT_REMOTE_CHECKPOINT_EVERY,
};
