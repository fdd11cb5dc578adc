//! Baseline 2: sled alone, each partition's encoded bytes stored inline as the
//! value (the design without Tessera's segment files). `Immediate` writes are
//! followed by sled's `flush` and an `fdatasync` of its data file, as Tessera's
//! sled index does.

use std::fs::File;
use std::path::Path;

use tessera_engine::Durability;

use crate::data::{Format, Value, read_len, stored_bytes};
use crate::error::Result;
use crate::system::PartitionSystem;

/// A sled tree of `partition -> encoded value`.
#[derive(Debug)]
pub struct SledInline {
    db: sled::Db,
    data_file: File,
    durability: Durability,
}

impl SledInline {
    /// A new database in `dir`.
    ///
    /// # Errors
    /// If sled cannot open it.
    pub fn new(dir: &Path, durability: Durability) -> Result<Self> {
        let db = sled::Config::new()
            .path(dir)
            .mode(sled::Mode::HighThroughput)
            .open()?;
        let data_file = File::open(dir.join("db"))?;
        Ok(Self {
            db,
            data_file,
            durability,
        })
    }

    fn sync(&self) -> Result<()> {
        self.db.flush()?;
        self.data_file.sync_data()?;
        Ok(())
    }
}

impl PartitionSystem for SledInline {
    fn name(&self) -> String {
        "sled inline".into()
    }

    fn write(&mut self, partition: &str, value: &Value) -> Result<()> {
        self.db
            .insert(partition.as_bytes(), &*stored_bytes(value)?)?;
        if self.durability == Durability::Immediate {
            self.sync()?;
        }
        Ok(())
    }

    fn finish_writes(&mut self) -> Result<()> {
        self.sync()
    }

    fn read(&mut self, partition: &str, format: Format) -> Result<usize> {
        let bytes = self
            .db
            .get(partition.as_bytes())?
            .ok_or_else(|| format!("partition {partition} is missing"))?;
        read_len(&bytes, format)
    }
}
