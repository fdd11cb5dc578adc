//! Tessera itself as a [`PartitionSystem`], with either index backend.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tessera_engine::io::FileIo;
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
    io: Option<Arc<dyn FileIo>>,
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
            io: None,
        })
    }

    /// A new store in `dir` whose own files go through `io`, checksums
    /// verified on read.
    ///
    /// # Errors
    /// The errors of [`tessera_engine::StoreBuilder::open`].
    pub fn with_io(
        dir: &Path,
        index: IndexKind,
        durability: Durability,
        io: Arc<dyn FileIo>,
    ) -> Result<Self> {
        let store = Store::builder(dir)
            .index(index)
            .durability(durability)
            .file_io(Arc::clone(&io))
            .open()?;
        Ok(Self {
            store: Some(store),
            dir: dir.to_path_buf(),
            index,
            durability,
            verify: true,
            asset: bench_asset()?,
            io: Some(io),
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
        let partition = PartitionKey::try_from(partition)?;
        let payload = match value {
            Value::Raw(bytes) => Payload::raw(&bytes[..]),
            Value::Rkyv(columns) => Payload::rkyv(columns)?,
            Value::Arrow(batch) => {
                // Large partitions are encoded straight into the segment.
                let batches = std::slice::from_ref(batch);
                self.store()?.put_arrow(&self.asset, &partition, batches)?;
                return Ok(());
            }
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
        let mut builder = Store::builder(&self.dir)
            .index(self.index)
            .durability(self.durability)
            .verify_checksums(false);
        if let Some(io) = &self.io {
            builder = builder.file_io(Arc::clone(io));
        }
        self.store = Some(builder.open()?);
        self.verify = false;
        Ok(true)
    }

    fn read(&mut self, partition: &str, format: Format) -> Result<usize> {
        let partition = PartitionKey::try_from(partition)?;
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
