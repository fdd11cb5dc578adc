//! Where a test's store lives: a local directory on one of the index
//! backends, or (with the `object-store` feature) object storage, so the
//! engine's model and behaviour tests run unchanged on every backend.

use std::fmt;
use std::path::Path;
#[cfg(feature = "object-store")]
use std::sync::Arc;

#[cfg(feature = "object-store")]
use tessera_engine::object_store::memory::InMemory;
use tessera_engine::{IndexKind, Store, StoreBuilder};

/// The prefix a test's objects go under on object storage.
#[cfg(feature = "object-store")]
const PREFIX: &str = "tessera-test";

/// One place a store can live.
#[derive(Clone)]
pub enum Backend {
    /// A local directory, its index on this backend.
    Local(IndexKind),
    /// `object_store`'s in-memory store, shared by every handle a test
    /// opens through this value (each with its directory as its cache),
    /// which collects unreferenced log objects at once (no grace period),
    /// so every compaction deletes what it can. Its payloads all stay in
    /// the log objects: a writer refuses to commit a separately uploaded
    /// large value once half the grace period has passed since its upload
    /// began, which a zero grace makes always (large values have their own
    /// tests, with a grace).
    #[cfg(feature = "object-store")]
    Memory(Arc<InMemory>),
}

impl Backend {
    /// A builder for the store at `dir` (for object storage: the cache
    /// directory of this handle), with `checkpoint_every` changes (local) or
    /// commits (object storage) between two checkpoints.
    pub fn builder(&self, dir: &Path, checkpoint_every: usize) -> StoreBuilder {
        match self {
            Self::Local(kind) => Store::builder(dir)
                .index(*kind)
                .checkpoint_every(checkpoint_every),
            #[cfg(feature = "object-store")]
            Self::Memory(memory) => Store::builder(dir)
                .object_store(Arc::clone(memory) as _, PREFIX)
                .remote_checkpoint_every(checkpoint_every as u64)
                .remote_gc_grace(std::time::Duration::ZERO)
                .remote_large_value_threshold(u64::MAX),
        }
    }

    /// Opens the store at `dir` as [`Backend::builder`] configures it.
    ///
    /// # Panics
    /// If the store does not open.
    #[must_use]
    pub fn open(&self, dir: &Path, checkpoint_every: usize) -> Store {
        self.builder(dir, checkpoint_every)
            .open()
            .unwrap_or_else(|e| panic!("open on {self:?}: {e}"))
    }

    /// Whether the store is on object storage (it has no local index to
    /// rebuild, and no segment files of its own).
    #[must_use]
    pub fn is_remote(&self) -> bool {
        !matches!(self, Self::Local(_))
    }
}

impl fmt::Debug for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Local(kind) => write!(f, "local {kind:?}"),
            #[cfg(feature = "object-store")]
            Self::Memory(_) => f.write_str("object storage (in memory)"),
        }
    }
}

/// Every place this build can put a store: each index backend, and a fresh
/// in-memory object store.
#[must_use]
pub fn store_backends() -> Vec<Backend> {
    let mut all: Vec<Backend> = crate::backends().into_iter().map(Backend::Local).collect();
    #[cfg(feature = "object-store")]
    all.push(Backend::Memory(Arc::new(InMemory::new())));
    all
}
