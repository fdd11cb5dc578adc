//! Baseline: LMDB through the `heed` crate, each partition's encoded bytes
//! stored as the value of one key (a B+tree in one memory-mapped file, values
//! read in place). `Immediate` writes commit with LMDB's own `fdatasync`;
//! `Buffered` writes open the environment with `NO_SYNC` (each commit reaches
//! the OS, so a process crash loses nothing) and one `force_sync` ends the run.
#![expect(
    unsafe_code,
    reason = "heed marks opening a memory-mapped LMDB environment, and its NO_SYNC flag, unsafe"
)]

use std::path::Path;

use heed::types::{Bytes, Str};
use heed::{CommitOrAbort, Database, Env, EnvFlags, EnvOpenOptions};
use tessera_engine::Durability;

use crate::data::{Format, Value, read_len, stored_bytes};
use crate::error::Result;
use crate::system::PartitionSystem;

/// The map size: LMDB reserves address space, not disk, for it; one I/O case
/// writes about 1 GiB.
const MAP_SIZE: usize = 16 << 30;

/// An LMDB environment of `partition -> encoded value`.
#[derive(Debug)]
pub struct Lmdb {
    env: Env,
    db: Database<'static, Str, Bytes>,
    durability: Durability,
}

impl Lmdb {
    /// A new environment in `dir`.
    ///
    /// # Errors
    /// If LMDB cannot open it or create its database.
    pub fn new(dir: &Path, durability: Durability) -> Result<Self> {
        let mut options = EnvOpenOptions::new();
        options.map_size(MAP_SIZE);
        if durability == Durability::Buffered {
            // SAFETY: with NO_SYNC a commit reaches the OS but not the disk; a
            // system crash may lose or corrupt the last commits. The benchmark
            // ends every `Buffered` run with `force_sync` and never reopens
            // after a crash, so nothing depends on more.
            unsafe { options.flags(EnvFlags::NO_SYNC) };
        }
        // SAFETY: `dir` is a fresh temporary directory that nothing else maps
        // or opens, and the environment is opened once in this process.
        let env = unsafe { options.open(dir)? };
        let txn = env.write_txn()?;
        let created = env.create_databases_and_commit(txn, |opener, txn| {
            let db = opener.create_database::<Str, Bytes>(txn, None)?;
            Ok::<_, heed::Error>(CommitOrAbort::<_, ()>::Commit(db))
        })?;
        let CommitOrAbort::Commit(db) = created else {
            return Err("LMDB aborted the transaction creating its database".into());
        };
        Ok(Self {
            env,
            db,
            durability,
        })
    }
}

impl PartitionSystem for Lmdb {
    fn name(&self) -> String {
        "lmdb (heed)".into()
    }

    fn write(&mut self, partition: &str, value: &Value) -> Result<()> {
        let bytes = stored_bytes(value)?;
        let mut txn = self.env.write_txn()?;
        self.db.put(&mut txn, partition, &bytes[..])?;
        txn.commit()?;
        Ok(())
    }

    fn finish_writes(&mut self) -> Result<()> {
        if self.durability == Durability::Buffered {
            self.env.force_sync()?;
        }
        Ok(())
    }

    fn read(&mut self, partition: &str, format: Format) -> Result<usize> {
        let txn = self.env.read_txn()?;
        let bytes = self
            .db
            .get(&txn, partition)?
            .ok_or_else(|| format!("partition {partition} is missing"))?;
        read_len(bytes, format)
    }
}
