//! [`Session`]: what a subcommand gets: the global options, the store and the
//! pipeline's definitions.

use std::error::Error;
use std::path::Path;
use std::sync::Arc;

use tessera_engine::{CutTail, Retention, Store, StoreBuilder};

use super::app::App;
use super::args::GlobalArgs;
use crate::executor::{Definitions, PartitionSelection};

/// One invocation of the command line.
pub(crate) struct Session<'a> {
    app: &'a App,
    pub(crate) global: GlobalArgs,
}

impl<'a> Session<'a> {
    pub(super) fn new(app: &'a App, global: GlobalArgs) -> Self {
        Self { app, global }
    }

    /// The store directory.
    pub(crate) fn store_dir(&self) -> &Path {
        &self.global.store
    }

    /// The retention every open uses: the pipeline's, under the flags.
    pub(crate) fn retention(&self) -> Retention {
        self.global.retention.over(self.app.retention)
    }

    /// Opens the store for writing. A missing or empty directory becomes a
    /// new store; a non-empty directory that is not a store is refused unless
    /// `--create` says to make one there.
    pub(crate) fn open_for_writing(&self) -> Result<Arc<Store>, Box<dyn Error>> {
        let dir = self.store_dir();
        if !self.global.create
            && !is_object_store(dir)
            && !is_store(dir)
            && !is_empty_or_missing(dir)?
        {
            return Err(format!(
                "{} is not a Tessera store and not empty: refusing to make it one \
                 (run `{} init` or pass --create to do so)",
                dir.display(),
                self.app.name
            )
            .into());
        }
        self.create_or_open(dir)
    }

    /// Opens (or makes) a store in `dir`, whatever the directory holds, with
    /// background compaction on.
    pub(crate) fn create_or_open(&self, dir: &Path) -> Result<Arc<Store>, Box<dyn Error>> {
        Ok(Arc::new(self.builder(dir).open()?))
    }

    /// Opens an existing store read-only: no lock, nothing written (no
    /// compaction either), so it works on a read-only mount, on a full disk
    /// and beside a writer.
    pub(crate) fn open_read_only(&self) -> Result<Arc<Store>, Box<dyn Error>> {
        let dir = self.store_dir();
        if !is_store(dir) {
            return Err(format!(
                "{} is not a Tessera store (run `{} materialize` first)",
                dir.display(),
                self.app.name
            )
            .into());
        }
        let store = self.builder(dir).read_only().open()?;
        for damage in unreadable_log(&store) {
            eprintln!(
                "warning: {}: the log cannot be read past byte {} ({}); this read-only view \
                 holds only what comes before (a batch another process is still writing looks \
                 the same)",
                damage.path.display(),
                damage.offset,
                damage.reason
            );
        }
        Ok(Arc::new(store))
    }

    /// Opens an existing store for writing (a repair must not create one).
    pub(crate) fn open_existing(&self) -> Result<Arc<Store>, Box<dyn Error>> {
        let dir = self.store_dir();
        if !is_store(dir) {
            return Err(format!(
                "{} is not a Tessera store (run `{} materialize` first)",
                dir.display(),
                self.app.name
            )
            .into());
        }
        self.create_or_open(dir)
    }

    /// Every open's options: the directory and the retention.
    fn builder(&self, dir: &Path) -> StoreBuilder {
        Store::builder(dir).retention(self.retention())
    }

    /// The pipeline's definitions over `store`.
    pub(crate) fn definitions(&self, store: Arc<Store>) -> crate::Result<Definitions> {
        (self.app.definitions)(store)
    }

    /// The command line's clap definition, named as the program.
    pub(crate) fn command_line(&self) -> clap::Command {
        self.app.command_line()
    }

    /// The partitions `materialize` runs when the command line names none.
    pub(crate) fn default_partitions(&self) -> &PartitionSelection {
        &self.app.default_partitions
    }
}

/// Whether `dir` holds a store (its `FORMAT` file). An object-store address
/// counts as one: the engine's open says whether there is a store behind it.
pub(crate) fn is_store(dir: &Path) -> bool {
    is_object_store(dir) || dir.join("FORMAT").is_file()
}

/// Whether `--store` names a store on object storage (`s3://bucket/prefix`,
/// `gs://`, `az://`, `file://`) rather than a directory.
pub(crate) fn is_object_store(dir: &Path) -> bool {
    tessera_engine::is_object_store_address(dir)
}

fn is_empty_or_missing(dir: &Path) -> Result<bool, Box<dyn Error>> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => Ok(entries.next().is_none()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(true),
        Err(e) => Err(format!("{}: {e}", dir.display()).into()),
    }
}

/// Where a read-only open stopped reading the log before its end: the tail
/// of the active segment and any damaged sealed segment.
pub(crate) fn unreadable_log(store: &Store) -> Vec<&CutTail> {
    let recovery = store.recovery();
    recovery
        .cut_tail
        .iter()
        .chain(&recovery.damaged_segments)
        .collect()
}
