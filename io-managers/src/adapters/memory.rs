//! Values kept in memory, for tests.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use tessera_engine::AssetKey;

use crate::context::{InputContext, OutputContext};
use crate::error::Result;
use crate::manager::{InputManager, IoManager, PartitionMap, StoredValue, check_range};

/// Keeps values in memory, keyed by (asset, partition): Dagster's
/// `InMemoryIOManager` for tests, except that it keys by asset and partition
/// (Dagster keys by run and step), so several partitions can be loaded.
pub struct InMemoryIoManager<T> {
    values: Mutex<HashMap<(AssetKey, Option<String>), T>>,
}

impl<T> Default for InMemoryIoManager<T> {
    fn default() -> Self {
        Self {
            values: Mutex::new(HashMap::new()),
        }
    }
}

impl<T> InMemoryIoManager<T> {
    /// An empty manager.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many values it holds.
    pub fn len(&self) -> usize {
        self.values
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<T> std::fmt::Debug for InMemoryIoManager<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InMemoryIoManager")
            .field("values", &self.len())
            .finish()
    }
}

impl<T: Clone + Send + 'static> InputManager for InMemoryIoManager<T> {
    type Loaded = T;

    fn load_partition(&self, context: &InputContext, partition: Option<&str>) -> Result<Option<T>> {
        crate::context::refuse_as_of("in-memory", context)?;
        let key = (context.asset_key().clone(), partition.map(str::to_owned));
        Ok(self
            .values
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&key)
            .cloned())
    }
}

impl<T: Clone + Send + 'static> IoManager for InMemoryIoManager<T> {
    type Value = T;

    fn handle_output(&self, context: &OutputContext, value: T) -> Result<()> {
        let partition = if context.has_asset_partitions() {
            Some(context.partition_key()?.to_owned())
        } else {
            None
        };
        self.values
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert((context.asset_key().clone(), partition), value);
        Ok(())
    }

    /// Stores every partition of the range under one lock: a load sees all of
    /// them or none.
    fn handle_range_output(&self, context: &OutputContext, values: PartitionMap<T>) -> Result<()> {
        check_range(context, &values)?;
        let mut stored = self.values.lock().unwrap_or_else(PoisonError::into_inner);
        for (key, value) in values {
            stored.insert((context.asset_key().clone(), Some(key)), value);
        }
        Ok(())
    }

    fn stored_value(&self, asset: &AssetKey, partition: Option<&str>) -> Result<StoredValue> {
        let key = (asset.clone(), partition.map(str::to_owned));
        let values = self.values.lock().unwrap_or_else(PoisonError::into_inner);
        Ok(if values.contains_key(&key) {
            StoredValue::Intact
        } else {
            StoredValue::Absent
        })
    }
}
