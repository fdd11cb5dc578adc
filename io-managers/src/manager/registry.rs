//! Named managers: Dagster's `io_manager_key` and `input_manager_key`.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::{DynInputManager, DynIoManager, InputManager, IoManager};
use crate::error::{Error, Result};

/// The I/O managers and input managers of a set of definitions, by key.
#[derive(Clone, Default)]
pub struct IoManagers {
    io_managers: BTreeMap<String, Arc<dyn DynIoManager>>,
    input_managers: BTreeMap<String, Arc<dyn DynInputManager>>,
}

impl IoManagers {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers an I/O manager under `key` (it also serves as an input manager).
    #[must_use]
    pub fn with_io_manager(mut self, key: impl Into<String>, manager: impl IoManager) -> Self {
        self.io_managers.insert(key.into(), Arc::new(manager));
        self
    }

    /// Registers an input manager under `key`.
    #[must_use]
    pub fn with_input_manager(
        mut self,
        key: impl Into<String>,
        manager: impl InputManager,
    ) -> Self {
        self.input_managers.insert(key.into(), Arc::new(manager));
        self
    }

    /// The I/O manager registered under `key`.
    ///
    /// # Errors
    /// [`Error::UnknownManager`].
    pub fn io_manager(&self, key: &str) -> Result<&Arc<dyn DynIoManager>> {
        self.io_managers
            .get(key)
            .ok_or_else(|| Error::UnknownManager(key.to_owned()))
    }

    /// The manager that loads inputs under `key`: an input manager, or else
    /// an I/O manager of that key.
    ///
    /// # Errors
    /// [`Error::UnknownManager`].
    pub fn input_manager(&self, key: &str) -> Result<&dyn DynInputManager> {
        if let Some(manager) = self.input_managers.get(key) {
            return Ok(manager.as_ref());
        }
        let manager: &dyn DynIoManager = self.io_manager(key)?.as_ref();
        Ok(manager)
    }

    /// Whether an I/O manager is registered under `key`.
    pub fn has_io_manager(&self, key: &str) -> bool {
        self.io_managers.contains_key(key)
    }

    /// Whether `key` can load inputs.
    pub fn has_input_manager(&self, key: &str) -> bool {
        self.input_managers.contains_key(key) || self.io_managers.contains_key(key)
    }
}

impl std::fmt::Debug for IoManagers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IoManagers")
            .field("io_managers", &self.io_managers.keys().collect::<Vec<_>>())
            .field(
                "input_managers",
                &self.input_managers.keys().collect::<Vec<_>>(),
            )
            .finish()
    }
}
