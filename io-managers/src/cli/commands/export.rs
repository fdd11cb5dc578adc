//! `tessera export`: one Arrow partition as an Arrow IPC file, or on stdout
//! for `-`.
//!
//! The file is written beside its final path under a temporary name, synced,
//! then renamed over it: a failure (a full disk) leaves no truncated file. A
//! path inside the store is refused, so an export cannot overwrite a segment
//! or the index.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use arrow_ipc::writer::FileWriter;
use clap::Args;
use tessera_engine::{ArrowPartition, AssetKey, Store};

use super::{CommandResult, RunCommand, parse_asset, parse_partition, partition_key};
use crate::cli::keys::{shown, shown_partition};
use crate::cli::session::{Session, is_object_store};
use crate::cli::version_args::VersionArgs;

/// `tessera export ASSET PARTITION FILE`.
#[derive(Debug, Args)]
pub(crate) struct Export {
    /// The asset key.
    asset: String,
    /// The partition key (`-` for an unpartitioned asset).
    partition: String,
    /// The file to write (`-` for stdout); never a path inside the store.
    file: PathBuf,
    /// Which version to export.
    #[command(flatten)]
    version: VersionArgs,
}

impl RunCommand for Export {
    fn run(self, session: &Session<'_>) -> CommandResult {
        let to_stdout = self.file.as_os_str() == "-";
        if !to_stdout && !is_object_store(session.store_dir()) {
            refuse_inside_store(session.store_dir(), &self.file)?;
        }
        let partition = match self.partition.as_str() {
            "-" => None,
            text => Some(parse_partition(text)?),
        };
        let asset = parse_asset(&self.asset)?;
        let (table, version) = read_table(
            &*session.open_read_only()?,
            &asset,
            partition.as_deref(),
            &self.version,
        )?;
        if to_stdout {
            let mut stdout = write_ipc(&table, std::io::stdout().lock())
                .map_err(|e| format!("write to stdout: {e}"))?;
            stdout.flush()?;
            return Ok(ExitCode::SUCCESS);
        }
        write_file(&table, &self.file)?;
        outln!(
            "wrote {} rows of {} (version {version}) to {}",
            table.num_rows(),
            shown(&asset),
            self.file.display()
        );
        Ok(ExitCode::SUCCESS)
    }
}

/// The chosen version of the partition as a table, and its version number.
fn read_table(
    store: &Store,
    asset: &AssetKey,
    partition: Option<&str>,
    version: &VersionArgs,
) -> Result<(ArrowPartition, u64), Box<dyn std::error::Error>> {
    let blob = version
        .read(store, asset, &partition_key(partition)?)?
        .ok_or_else(|| {
            format!(
                "asset {} has no partition {}{}",
                shown(asset),
                partition.map_or_else(
                    || "(unpartitioned)".to_owned(),
                    |p| shown_partition(p).to_string()
                ),
                version.describe()
            )
        })?;
    Ok((blob.arrow()?, blob.meta().version))
}

/// Refuses `file` when it is, or would be created, inside `store`.
fn refuse_inside_store(store: &Path, file: &Path) -> Result<(), String> {
    let store = store
        .canonicalize()
        .map_err(|e| format!("{}: {e}", store.display()))?;
    let target = resolved(file)?;
    if target.starts_with(&store) {
        return Err(format!(
            "{}: refusing to export into the store {} (it would overwrite the store's own files)",
            file.display(),
            store.display()
        ));
    }
    Ok(())
}

/// `file` with symbolic links resolved, or its parent's if it does not exist yet.
fn resolved(file: &Path) -> Result<PathBuf, String> {
    if let Ok(path) = file.canonicalize() {
        return Ok(path);
    }
    let name = file
        .file_name()
        .ok_or_else(|| format!("{}: not a file name", file.display()))?;
    let parent = match file.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let parent = parent
        .canonicalize()
        .map_err(|e| format!("{}: {e}", parent.display()))?;
    Ok(parent.join(name))
}

/// Writes the table to a temporary file beside `file`, syncs it and renames
/// it over `file`; on any failure the temporary file is removed and the error
/// names `file`.
fn write_file(table: &ArrowPartition, file: &Path) -> Result<(), String> {
    let name = file
        .file_name()
        .ok_or_else(|| format!("{}: not a file name", file.display()))?;
    let mut temp_name = std::ffi::OsString::from(".");
    temp_name.push(name);
    temp_name.push(format!(".{}.tmp", std::process::id()));
    let temp = file.with_file_name(temp_name);
    let written = write_synced(table, &temp).and_then(|()| {
        std::fs::rename(&temp, file).map_err(|e| format!("renaming the temporary file: {e}"))
    });
    written.map_err(|reason| {
        let _ = std::fs::remove_file(&temp);
        format!(
            "cannot export to {}: {reason} (nothing was written there)",
            file.display()
        )
    })
}

/// Writes the table to `temp` and syncs it; the error says which step failed.
fn write_synced(table: &ArrowPartition, temp: &Path) -> Result<(), String> {
    let output = File::create(temp).map_err(|e| format!("creating {}: {e}", temp.display()))?;
    let writing = |e: std::io::Error| format!("writing {}: {e}", temp.display());
    let output = write_ipc(table, BufWriter::new(output)).map_err(|e| match e {
        arrow_schema::ArrowError::IoError(_, io) => writing(io),
        other => format!("encoding the table: {other}"),
    })?;
    let output = output.into_inner().map_err(|e| writing(e.into_error()))?;
    output
        .sync_all()
        .map_err(|e| format!("syncing {}: {e}", temp.display()))
}

/// Writes `table` as an Arrow IPC file to `output`; returns the writer.
fn write_ipc<W: Write>(table: &ArrowPartition, output: W) -> Result<W, arrow_schema::ArrowError> {
    let mut writer = FileWriter::try_new(output, &table.schema)?;
    for batch in &table.batches {
        writer.write(batch)?;
    }
    writer.finish()?;
    writer.into_inner()
}
