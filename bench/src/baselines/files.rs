//! Baseline 1: one Arrow IPC file per partition at Dagster's layout
//! `<base>/<asset/path>/<partition_key>`, written to a temporary file, synced
//! (for `Immediate`) and renamed into place, as Dagster's filesystem I/O manager
//! does (plus the sync, so that durability matches Tessera's).

use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::path::{Path, PathBuf};

use tessera_engine::Durability;

use crate::data::{Format, Value};
use crate::error::Result;
use crate::system::PartitionSystem;

/// A directory of Arrow IPC files, one per partition.
#[derive(Debug)]
pub struct Files {
    asset_dir: PathBuf,
    durability: Durability,
    unsynced: Vec<PathBuf>,
}

impl Files {
    /// Files under `base`, for the bench asset `bench/observations`.
    ///
    /// # Errors
    /// If the asset directory cannot be created.
    pub fn new(base: &Path, durability: Durability) -> Result<Self> {
        let asset_dir = base.join("bench").join("observations");
        std::fs::create_dir_all(&asset_dir)?;
        Ok(Self {
            asset_dir,
            durability,
            unsynced: Vec::new(),
        })
    }

    fn sync_dir(&self) -> Result<()> {
        File::open(&self.asset_dir)?.sync_all()?;
        Ok(())
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
        let path = self.asset_dir.join(partition);
        let temp = self.asset_dir.join(format!(".{partition}.tmp"));
        let file = File::create(&temp)?;
        let mut writer =
            arrow_ipc::writer::FileWriter::try_new(BufWriter::new(file), &batch.schema())?;
        writer.write(batch)?;
        let file = writer
            .into_inner()?
            .into_inner()
            .map_err(|e| e.into_error())?;
        if self.durability == Durability::Immediate {
            file.sync_data()?;
        }
        std::fs::rename(&temp, &path)?;
        match self.durability {
            Durability::Immediate => self.sync_dir()?,
            Durability::Buffered => self.unsynced.push(path),
        }
        Ok(())
    }

    fn finish_writes(&mut self) -> Result<()> {
        for path in self.unsynced.drain(..) {
            File::open(path)?.sync_data()?;
        }
        self.sync_dir()
    }

    fn read(&mut self, partition: &str, _format: Format) -> Result<usize> {
        let file = BufReader::new(File::open(self.asset_dir.join(partition))?);
        let reader = arrow_ipc::reader::FileReader::try_new(file, None)?;
        let mut rows = 0;
        for batch in reader {
            rows += batch?.num_rows();
        }
        Ok(rows)
    }
}
