//! Baseline 1: one Arrow IPC file per partition at Dagster's layout
//! `<base>/<asset/path>/<partition_key>`, written by Tessera's
//! [`FilesystemIoManager`] (temporary file, sync for `Immediate`, rename), as
//! Dagster's filesystem I/O manager lays them out, plus the sync, so that
//! durability matches Tessera's.

use std::fs::File;
use std::path::{Path, PathBuf};

use tessera_engine::{AssetKey, Durability};
use tessera_io_managers::{
    FilesystemIoManager, InputContext, InputManager, IoManager, OutputContext,
};

use crate::data::{Format, Value};
use crate::error::Result;
use crate::system::PartitionSystem;

/// A directory of Arrow IPC files, one per partition.
#[derive(Debug)]
pub struct Files {
    manager: FilesystemIoManager,
    asset: AssetKey,
    durability: Durability,
    unsynced: Vec<PathBuf>,
}

impl Files {
    /// Files under `base`, for the bench asset `bench/observations`.
    ///
    /// # Errors
    /// If the asset key is invalid (it is not).
    pub fn new(base: &Path, durability: Durability) -> Result<Self> {
        Ok(Self {
            manager: FilesystemIoManager::new(base).with_durability(durability),
            asset: AssetKey::new(["bench", "observations"])?,
            durability,
            unsynced: Vec::new(),
        })
    }
}

impl PartitionSystem for Files {
    fn name(&self) -> String {
        "files (Arrow IPC)".into()
    }

    fn write(&mut self, partition: &str, value: &Value) -> Result<()> {
        let Value::Arrow(batch) = value else {
            return Err("the files baseline stores Arrow tables only".into());
        };
        let context = OutputContext::builder(self.asset.clone())
            .partition_key(partition)
            .build();
        self.manager.handle_output(&context, vec![batch.clone()])?;
        if self.durability == Durability::Buffered {
            self.unsynced
                .push(self.manager.path_for(&self.asset, Some(partition))?);
        }
        Ok(())
    }

    fn finish_writes(&mut self) -> Result<()> {
        let mut directory = None;
        for path in self.unsynced.drain(..) {
            File::open(&path)?.sync_data()?;
            directory = path.parent().map(Path::to_path_buf);
        }
        if let Some(directory) = directory {
            File::open(directory)?.sync_all()?;
        }
        Ok(())
    }

    fn read(&mut self, partition: &str, _format: Format) -> Result<usize> {
        let context = InputContext::builder(self.asset.clone()).build();
        let table = self
            .manager
            .load_partition(&context, Some(partition))?
            .ok_or_else(|| format!("partition {partition} is missing"))?;
        Ok(table.num_rows())
    }
}
