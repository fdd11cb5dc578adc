//! The redb index backend (cargo feature `redb`).
//!
//! Batches commit with `Durability::None`; [`RedbIndex::sync`] commits an empty
//! transaction with `Durability::Immediate`, which makes every earlier
//! non-durable commit durable too, so concurrent writers share one fsync.

use std::ops::Bound;
use std::path::Path;

use redb::{Database, Durability, ReadableDatabase, TableDefinition};

use super::{IndexBackend, IndexOp, Visit};
use crate::error::{Error, Result};

const BACKEND: &str = "redb";
const TABLE: TableDefinition<'static, &'static [u8], &'static [u8]> = TableDefinition::new("index");

fn index_error(error: impl std::fmt::Display) -> Error {
    Error::Index {
        backend: BACKEND,
        message: error.to_string(),
    }
}

/// An index stored in a redb file at `<store>/index/index.redb`.
pub(crate) struct RedbIndex {
    db: Database,
}

impl RedbIndex {
    pub(crate) fn open(store_dir: &Path) -> Result<Self> {
        let dir = store_dir.join("index");
        std::fs::create_dir_all(&dir).map_err(|e| Error::io("create directory", &dir, e))?;
        let path = dir.join("index.redb");
        let existed = path.is_file();
        let db = Database::create(&path).map_err(index_error)?;
        let index = Self { db };
        if !existed {
            index.commit(&[], Durability::Immediate)?;
            crate::fsutil::sync_dir(&dir)?;
            crate::fsutil::sync_dir(store_dir)?;
        }
        Ok(index)
    }

    fn commit(&self, ops: &[IndexOp], durability: Durability) -> Result<()> {
        let mut txn = self.db.begin_write().map_err(index_error)?;
        txn.set_durability(durability).map_err(index_error)?;
        {
            let mut table = txn.open_table(TABLE).map_err(index_error)?;
            for op in ops {
                match op {
                    IndexOp::Put { key, value } => {
                        table
                            .insert(key.as_slice(), value.as_slice())
                            .map_err(index_error)?;
                    }
                    IndexOp::Delete { key } => {
                        table.remove(key.as_slice()).map_err(index_error)?;
                    }
                }
            }
        }
        txn.commit().map_err(index_error)
    }
}

impl IndexBackend for RedbIndex {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let txn = self.db.begin_read().map_err(index_error)?;
        let table = txn.open_table(TABLE).map_err(index_error)?;
        let value = table.get(key).map_err(index_error)?;
        Ok(value.map(|v| v.value().to_vec()))
    }

    fn get_many(&self, keys: &[&[u8]]) -> Result<Vec<Option<Vec<u8>>>> {
        let txn = self.db.begin_read().map_err(index_error)?;
        let table = txn.open_table(TABLE).map_err(index_error)?;
        keys.iter()
            .map(|key| {
                let value = table.get(*key).map_err(index_error)?;
                Ok(value.map(|v| v.value().to_vec()))
            })
            .collect()
    }

    fn apply(&self, ops: &[IndexOp]) -> Result<()> {
        self.commit(ops, Durability::None)
    }

    fn scan(&self, start: Bound<&[u8]>, end: Bound<&[u8]>, visit: Visit<'_>) -> Result<()> {
        let txn = self.db.begin_read().map_err(index_error)?;
        let table = txn.open_table(TABLE).map_err(index_error)?;
        for entry in table.range::<&[u8]>((start, end)).map_err(index_error)? {
            let (key, value) = entry.map_err(index_error)?;
            if !visit(key.value(), value.value())? {
                break;
            }
        }
        Ok(())
    }

    fn sync(&self) -> Result<()> {
        self.commit(&[], Durability::Immediate)
    }
}
