//! Tessera itself as a [`PartitionSystem`], with either index backend.

use std::path::{Path, PathBuf};

use tessera_engine::{AssetKey, Durability, IndexKind, PartitionKey, Payload, Store};

use crate::data::{Columns, Format, Value};
use crate::error::Result;
use crate::system::PartitionSystem;

/// The asset every workload writes to.
///
/// # Errors
/// Never (the components are valid).
pub fn bench_asset() -> Result<AssetKey> {
    Ok(AssetKey::new(["bench", "observations"])?)
}

/// The name of an index backend as the table shows it.
#[must_use]
pub fn system_name(index: IndexKind) -> String {
    format!("tessera-{}", index.name())
}

/// Opens a store in `dir` with the given options.
///
/// # Errors
/// The errors of [`tessera_engine::StoreBuilder::open`].
pub fn open(dir: &Path, index: IndexKind, durability: Durability, verify: bool) -> Result<Store> {
    Ok(Store::builder(dir)
        .index(index)
        .durability(durability)
        .verify_checksums(verify)
        .open()?)
}

/// A Tessera store holding one asset's partitions.
#[derive(Debug)]
pub struct Tessera {
    store: Option<Store>,
    dir: PathBuf,
    index: IndexKind,
    durability: Durability,
    verify: bool,
    asset: AssetKey,
}

impl Tessera {
    /// A new store in `dir`, checksums verified on read.
    ///
    /// # Errors
    /// The errors of [`open`].
    pub fn new(dir: &Path, index: IndexKind, durability: Durability) -> Result<Self> {
        Ok(Self {
            store: Some(open(dir, index, durability, true)?),
            dir: dir.to_path_buf(),
            index,
            durability,
            verify: true,
            asset: bench_asset()?,
        })
    }

    fn store(&self) -> Result<&Store> {
        self.store.as_ref().ok_or_else(|| "store is closed".into())
    }
}

impl PartitionSystem for Tessera {
    fn name(&self) -> String {
        let name = system_name(self.index);
        if self.verify {
            name
        } else {
            format!("{name} (no verify)")
        }
    }

    fn write(&mut self, partition: &str, value: &Value) -> Result<()> {
        let partition = PartitionKey::new(partition)?;
        let payload = match value {
            Value::Raw(bytes) => Payload::raw(&bytes[..]),
            Value::Rkyv(columns) => Payload::rkyv(columns)?,
            Value::Arrow(batch) => Payload::arrow(std::slice::from_ref(batch))?,
        };
        self.store()?.put(&self.asset, &partition, payload)?;
        Ok(())
    }

    fn finish_writes(&mut self) -> Result<()> {
        if self.durability == Durability::Buffered {
            self.store()?.flush()?;
        }
        Ok(())
    }

    fn skip_verification(&mut self) -> Result<bool> {
        self.store = None;
        self.store = Some(open(&self.dir, self.index, self.durability, false)?);
        self.verify = false;
        Ok(true)
    }

    fn read(&mut self, partition: &str, format: Format) -> Result<usize> {
        let partition = PartitionKey::new(partition)?;
        let store = self.store()?;
        let missing = || format!("partition {partition} is missing");
        Ok(match format {
            Format::Raw => store
                .get(&self.asset, &partition)?
                .ok_or_else(missing)?
                .len(),
            Format::Rkyv => store
                .get_rkyv::<Columns>(&self.asset, &partition)?
                .ok_or_else(missing)?
                .ids
                .len(),
            Format::Arrow => store
                .get_arrow(&self.asset, &partition)?
                .ok_or_else(missing)?
                .num_rows(),
        })
    }
}
