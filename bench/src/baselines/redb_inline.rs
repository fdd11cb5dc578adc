//! Baseline: redb alone, each partition's encoded bytes stored inline as the
//! value of one key (a copy-on-write B-tree). `Immediate` writes commit with
//! `Durability::Immediate`; `Buffered` writes commit with `Durability::None`
//! and one `Immediate` commit ends the run, as Tessera's redb index does.

use std::path::Path;

use redb::{Database, ReadableDatabase, TableDefinition};
use tessera_engine::Durability;

use crate::data::{Format, Value, read_len, stored_bytes};
use crate::error::Result;
use crate::system::PartitionSystem;

const TABLE: TableDefinition<'static, &'static str, &'static [u8]> =
    TableDefinition::new("partitions");

/// A redb table of `partition -> encoded value`.
#[derive(Debug)]
pub struct RedbInline {
    db: Database,
    durability: redb::Durability,
}

impl RedbInline {
    /// A new database in `dir`.
    ///
    /// # Errors
    /// If redb cannot create it.
    pub fn new(dir: &Path, durability: Durability) -> Result<Self> {
        let durability = match durability {
            Durability::Immediate => redb::Durability::Immediate,
            Durability::Buffered => redb::Durability::None,
        };
        Ok(Self {
            db: Database::create(dir.join("partitions.redb"))?,
            durability,
        })
    }

    fn commit(&self, entry: Option<(&str, &[u8])>, durability: redb::Durability) -> Result<()> {
        let mut txn = self.db.begin_write()?;
        txn.set_durability(durability)?;
        {
            let mut table = txn.open_table(TABLE)?;
            if let Some((key, value)) = entry {
                table.insert(key, value)?;
            }
        }
        txn.commit()?;
        Ok(())
    }
}

impl PartitionSystem for RedbInline {
    fn name(&self) -> String {
        "redb inline".into()
    }

    fn write(&mut self, partition: &str, value: &Value) -> Result<()> {
        let bytes = stored_bytes(value)?;
        self.commit(Some((partition, &bytes[..])), self.durability)
    }

    fn finish_writes(&mut self) -> Result<()> {
        self.commit(None, redb::Durability::Immediate)
    }

    fn read(&mut self, partition: &str, format: Format) -> Result<usize> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(TABLE)?;
        let value = table
            .get(partition)?
            .ok_or_else(|| format!("partition {partition} is missing"))?;
        read_len(value.value(), format)
    }
}
