//! [`Session`]: what a subcommand gets: the global options, the store and the
//! pipeline's definitions.

use std::error::Error;
use std::path::Path;
use std::sync::Arc;

use tessera_engine::Store;

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

    /// Opens the store for writing, creating it if needed.
    pub(crate) fn open_for_writing(&self) -> Result<Arc<Store>, Box<dyn Error>> {
        Ok(Arc::new(Store::open(self.store_dir())?))
    }

    /// Opens a store that must already exist (inspecting must not create one).
    pub(crate) fn open_existing(&self) -> Result<Arc<Store>, Box<dyn Error>> {
        let dir = self.store_dir();
        if !dir.join("FORMAT").exists() {
            return Err(format!(
                "{} is not a Tessera store (run `{} materialize` first)",
                dir.display(),
                self.app.name
            )
            .into());
        }
        self.open_for_writing()
    }

    /// The pipeline's definitions over `store`.
    pub(crate) fn definitions(&self, store: Arc<Store>) -> crate::Result<Definitions> {
        (self.app.definitions)(store)
    }

    /// The partitions `materialize` runs when the command line names none.
    pub(crate) fn default_partitions(&self) -> &PartitionSelection {
        &self.app.default_partitions
    }
}
