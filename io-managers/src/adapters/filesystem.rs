//! One Arrow IPC file per partition, at Dagster's filesystem layout.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use arrow_array::RecordBatch;
use arrow_ipc::reader::FileReader;
use arrow_ipc::writer::FileWriter;
use arrow_schema::ArrowError;
use tessera_engine::{ArrowPartition, AssetKey, Durability};

use super::path_escape::escape_key;
use crate::context::{InputContext, OutputContext};
use crate::error::{Error, Result};
use crate::manager::{InputManager, IoManager};
use crate::metadata::{MetadataValue, PATH, ROW_COUNT};

/// Writes each partition as an Arrow IPC file at Dagster's layout:
/// `<base_dir>/<asset/key/path>/<partition_key>` (unpartitioned:
/// `<base_dir>/<asset/key/path>`; a multi-partition key `a|b` is one
/// directory level per dimension). Any Arrow tool reads the files.
///
/// Writes are atomic per file (temporary file, fsync, rename, fsync of the
/// directory); keys that would escape `base_dir` are escaped as Dagster
/// escapes them (see the README).
#[derive(Debug)]
pub struct FilesystemIoManager {
    base_dir: PathBuf,
    durability: Durability,
    temp_counter: AtomicU64,
}

impl FilesystemIoManager {
    /// A manager writing under `base_dir`, with `fsync` on every write.
    pub fn new(base_dir: impl Into<PathBuf>) -> Self {
        Self {
            base_dir: base_dir.into(),
            durability: Durability::Immediate,
            temp_counter: AtomicU64::new(0),
        }
    }

    /// With [`Durability::Buffered`], files are renamed into place without
    /// `fsync` (the operating system writes them back later).
    #[must_use]
    pub fn with_durability(mut self, durability: Durability) -> Self {
        self.durability = durability;
        self
    }

    /// The base directory.
    pub fn base_dir(&self) -> &Path {
        &self.base_dir
    }

    /// The file of `(asset, partition)` (`None`: unpartitioned).
    ///
    /// # Errors
    /// [`Error::UnsafePath`] for a key that cannot be a path.
    pub fn path_for(&self, asset: &AssetKey, partition: Option<&str>) -> Result<PathBuf> {
        let mut path = self.base_dir.clone();
        for component in asset.components() {
            path.push(single_segment(component)?);
        }
        if let Some(key) = partition {
            for dimension in key.split('|') {
                path.extend(escape_key(dimension)?);
            }
        }
        Ok(path)
    }

    fn write_file(&self, path: &Path, batches: &[RecordBatch]) -> Result<()> {
        let directory = path.parent().unwrap_or(&self.base_dir);
        fs::create_dir_all(directory).map_err(io_error("create directory", directory))?;
        let temp = self.temp_path(path);
        let outcome = self.write_temp(&temp, batches).and_then(|()| {
            fs::rename(&temp, path).map_err(io_error("rename", path))?;
            self.sync_directory(directory)
        });
        if outcome.is_err() {
            // The temporary file is only ever ours; failing to remove it leaves a
            // dot-file that the next write of this partition does not read.
            let _ = fs::remove_file(&temp);
        }
        outcome
    }

    fn write_temp(&self, temp: &Path, batches: &[RecordBatch]) -> Result<()> {
        let schema = batches
            .first()
            .map(RecordBatch::schema)
            .ok_or_else(|| Error::Column {
                column: String::new(),
                reason: "an Arrow output needs at least one record batch".to_owned(),
            })?;
        if let Some(other) = batches.iter().find(|b| !schema.contains(b.schema_ref())) {
            // The IPC writer would write it, and the file would not decode.
            return Err(Error::Arrow(ArrowError::SchemaError(format!(
                "a batch's schema ({}) differs from the first batch's ({schema})",
                other.schema_ref()
            ))));
        }
        let file = File::create(temp).map_err(io_error("create", temp))?;
        let mut writer = FileWriter::try_new(BufWriter::new(file), &schema)?;
        for batch in batches {
            writer.write(batch)?;
        }
        writer.finish()?;
        let mut buffered = writer.into_inner()?;
        buffered.flush().map_err(io_error("write", temp))?;
        if self.durability == Durability::Immediate {
            let file = buffered.get_ref();
            file.sync_data().map_err(io_error("fsync", temp))?;
        }
        Ok(())
    }

    fn sync_directory(&self, directory: &Path) -> Result<()> {
        if self.durability == Durability::Immediate {
            File::open(directory)
                .and_then(|d| d.sync_all())
                .map_err(io_error("fsync directory", directory))?;
        }
        Ok(())
    }

    fn temp_path(&self, path: &Path) -> PathBuf {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let serial = self.temp_counter.fetch_add(1, Ordering::Relaxed);
        path.with_file_name(format!(".{name}.tmp-{}-{serial}", std::process::id()))
    }
}

/// An asset key component is one directory: `%` and every `/` inside it are
/// percent-escaped (once), and a `.` or `..` component is escaped as in keys.
fn single_segment(component: &str) -> Result<String> {
    if component.contains('\0') {
        return Err(Error::UnsafePath {
            key: component.to_owned(),
            reason: "the asset key component contains a NUL byte",
        });
    }
    let escaped = component.replace('%', "%25").replace('/', "%2F");
    Ok(match escaped.as_str() {
        "." => "%2E".to_owned(),
        ".." => "%2E%2E".to_owned(),
        _ => escaped,
    })
}

fn io_error(op: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> Error {
    let path = path.to_path_buf();
    move |source| Error::Io { op, path, source }
}

impl InputManager for FilesystemIoManager {
    type Loaded = ArrowPartition;

    fn load_partition(
        &self,
        context: &InputContext,
        partition: Option<&str>,
    ) -> Result<Option<ArrowPartition>> {
        let path = self.path_for(context.asset_key(), partition)?;
        let file = match File::open(&path) {
            Ok(file) => file,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(io_error("open", &path)(error)),
        };
        let reader = FileReader::try_new(file, None)?;
        let schema = reader.schema();
        let batches = reader.collect::<Result<Vec<_>, _>>()?;
        Ok(Some(ArrowPartition { schema, batches }))
    }
}

impl IoManager for FilesystemIoManager {
    type Value = Vec<RecordBatch>;

    fn handle_output(&self, context: &OutputContext, batches: Vec<RecordBatch>) -> Result<()> {
        let partition = if context.has_asset_partitions() {
            Some(context.partition_key()?)
        } else {
            None
        };
        let path = self.path_for(context.asset_key(), partition)?;
        self.write_file(&path, &batches)?;
        context.add_output_metadata(
            ROW_COUNT,
            batches.iter().map(RecordBatch::num_rows).sum::<usize>(),
        )?;
        context.add_output_metadata(PATH, MetadataValue::Path(path.display().to_string()))
    }
}
