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

use super::arrow::row_count;
use super::path_escape::escape_key;
use crate::context::{InputContext, OutputContext};
use crate::error::{Error, Result};
use crate::manager::{InputManager, IoManager, PartitionMap, check_range};
use crate::metadata::{MetadataValue, PATH, ROW_COUNT};

/// Writes each partition as an Arrow IPC file at Dagster's layout:
/// `<base_dir>/<asset/key/path>/<partition_key>` (unpartitioned:
/// `<base_dir>/<asset/key/path>`; a multi-partition key `a|b` is one
/// directory level per dimension, and a load falls back to the legacy
/// `<asset>/a|b` file as Dagster's does). Any Arrow tool reads the files.
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

    /// Where Dagster's filesystem managers once wrote a multi-partition key:
    /// the whole key `a|b` as one file name (`<asset>/a|b`). Loads fall back
    /// to it when the current layout's file (`<asset>/a/b`) is absent, as
    /// Dagster's UPath manager does; writes never use it. `None` for a key
    /// of one dimension.
    ///
    /// # Errors
    /// [`Error::UnsafePath`] for a key that cannot be a path.
    pub fn legacy_multi_path(
        &self,
        asset: &AssetKey,
        partition: Option<&str>,
    ) -> Result<Option<PathBuf>> {
        let Some(key) = partition.filter(|k| k.contains('|')) else {
            return Ok(None);
        };
        let mut path = self.path_for(asset, None)?;
        path.extend(escape_key(key)?);
        Ok(Some(path))
    }

    fn write_file(&self, path: &Path, batches: &[RecordBatch]) -> Result<()> {
        let staged = self.stage(path, batches)?;
        self.publish(std::slice::from_ref(&staged))
    }

    /// Writes `batches` to a temporary file beside `path` (synced for
    /// `Immediate`); nothing is visible at `path` yet.
    fn stage(&self, path: &Path, batches: &[RecordBatch]) -> Result<StagedFile> {
        let directory = path.parent().unwrap_or(&self.base_dir);
        fs::create_dir_all(directory).map_err(io_error("create directory", directory))?;
        let staged = StagedFile {
            temp: self.temp_path(path),
            path: path.to_path_buf(),
        };
        match self.write_temp(&staged.temp, batches) {
            Ok(()) => Ok(staged),
            Err(error) => {
                discard(std::slice::from_ref(&staged));
                Err(error)
            }
        }
    }

    /// Renames every staged file into place, then syncs their directories.
    /// Files not yet renamed when a rename fails are discarded.
    fn publish(&self, staged: &[StagedFile]) -> Result<()> {
        for (index, file) in staged.iter().enumerate() {
            if let Err(error) = fs::rename(&file.temp, &file.path) {
                discard(&staged[index..]);
                return Err(io_error("rename", &file.path)(error));
            }
        }
        let mut directories: Vec<&Path> = staged.iter().filter_map(|f| f.path.parent()).collect();
        directories.sort_unstable();
        directories.dedup();
        directories
            .into_iter()
            .try_for_each(|directory| self.sync_directory(directory))
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

/// A partition written to a temporary file, waiting to be renamed into place.
struct StagedFile {
    temp: PathBuf,
    path: PathBuf,
}

/// Removes staged temporary files. They are only ever ours; one that cannot be
/// removed stays a dot-file that no load reads.
fn discard(staged: &[StagedFile]) {
    for file in staged {
        let _ = fs::remove_file(&file.temp);
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

/// The file at `path`, or `None` when there is none.
fn open_existing(path: &Path) -> Result<Option<File>> {
    match File::open(path) {
        Ok(file) => Ok(Some(file)),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(io_error("open", path)(error)),
    }
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
        crate::context::refuse_as_of("filesystem", context)?;
        let path = self.path_for(context.asset_key(), partition)?;
        let file = match open_existing(&path)? {
            Some(file) => file,
            None => match self.legacy_multi_path(context.asset_key(), partition)? {
                Some(legacy) => match open_existing(&legacy)? {
                    Some(file) => file,
                    None => return Ok(None),
                },
                None => return Ok(None),
            },
        };
        let reader = FileReader::try_new(file, None)?;
        let schema = reader.schema();
        let batches = reader.collect::<Result<Vec<_>, _>>()?;
        Ok(Some(ArrowPartition { schema, batches }))
    }

    /// Names the file looked at (the current layout's) as well as the key.
    fn missing_error(&self, context: &InputContext, partition: Option<&str>) -> Error {
        match self.path_for(context.asset_key(), partition) {
            Ok(path) => Error::MissingFile {
                asset: context.asset_key().clone(),
                partition: partition.map(str::to_owned),
                path,
            },
            Err(error) => error,
        }
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
        context.add_output_metadata(ROW_COUNT, row_count(&batches))?;
        context.add_output_metadata(PATH, MetadataValue::Path(path.display().to_string()))
    }

    /// Writes and syncs every partition's temporary file before renaming any
    /// into place: an error while writing (a batch of another schema, a full
    /// disk) publishes nothing. The renames that follow are atomic one by
    /// one, not together: a crash between two of them leaves the earlier
    /// partitions new and the later ones as they were.
    fn handle_range_output(
        &self,
        context: &OutputContext,
        values: PartitionMap<Vec<RecordBatch>>,
    ) -> Result<()> {
        check_range(context, &values)?;
        let mut staged = Vec::with_capacity(values.len());
        for (key, batches) in values.iter() {
            let written = self
                .path_for(context.asset_key(), Some(key))
                .and_then(|path| self.stage(&path, batches));
            match written {
                Ok(file) => staged.push(file),
                Err(error) => {
                    discard(&staged);
                    return Err(error);
                }
            }
        }
        self.publish(&staged)?;
        for ((key, batches), file) in values.iter().zip(&staged) {
            context.add_partition_metadata(key, ROW_COUNT, row_count(batches))?;
            let path = MetadataValue::Path(file.path.display().to_string());
            context.add_partition_metadata(key, PATH, path)?;
        }
        Ok(())
    }
}
