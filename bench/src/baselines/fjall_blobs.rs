//! Baseline: fjall, an LSM tree, with key-value separation (large values go
//! to blob files, the tree keeps pointers), each partition's encoded bytes
//! stored as the value of one key. After every write the journal is
//! persisted: with `fdatasync` for `Immediate`, to the OS for `Buffered` (so
//! that a process crash loses nothing, as Tessera's `Buffered` promises); one
//! `fdatasync` ends a `Buffered` run.

use std::path::Path;

use fjall::{Database, Keyspace, KeyspaceCreateOptions, KvSeparationOptions, PersistMode};
use tessera_engine::Durability;

use crate::data::{Format, Value, read_len, stored_bytes};
use crate::error::Result;
use crate::system::PartitionSystem;

/// A fjall keyspace of `partition -> encoded value`, values separated.
pub struct FjallBlobs {
    db: Database,
    keyspace: Keyspace,
    persist: PersistMode,
}

impl std::fmt::Debug for FjallBlobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FjallBlobs")
            .field("persist", &self.persist)
            .finish_non_exhaustive()
    }
}

impl FjallBlobs {
    /// A new database in `dir`.
    ///
    /// # Errors
    /// If fjall cannot create it.
    pub fn new(dir: &Path, durability: Durability) -> Result<Self> {
        let db = Database::builder(dir).open()?;
        let keyspace = db.keyspace("partitions", || {
            KeyspaceCreateOptions::default()
                .with_kv_separation(Some(KvSeparationOptions::default()))
        })?;
        let persist = match durability {
            Durability::Immediate => PersistMode::SyncData,
            Durability::Buffered => PersistMode::Buffer,
        };
        Ok(Self {
            db,
            keyspace,
            persist,
        })
    }
}

impl PartitionSystem for FjallBlobs {
    fn name(&self) -> String {
        "fjall (kv separation)".into()
    }

    fn write(&mut self, partition: &str, value: &Value) -> Result<()> {
        self.keyspace.insert(partition, &*stored_bytes(value)?)?;
        self.db.persist(self.persist)?;
        Ok(())
    }

    fn finish_writes(&mut self) -> Result<()> {
        self.db.persist(PersistMode::SyncData)?;
        Ok(())
    }

    fn read(&mut self, partition: &str, format: Format) -> Result<usize> {
        let bytes = self
            .keyspace
            .get(partition)?
            .ok_or_else(|| format!("partition {partition} is missing"))?;
        read_len(&bytes, format)
    }
}
