//! [`StoreDynamicPartitions`]: dynamic partition keys persisted in the engine store.

use std::sync::{Arc, Mutex, PoisonError};

use tessera_engine::{AssetKey, PartitionKey, Payload, Store};

use super::context::DynamicPartitionsStore;
use super::error::{PartitionsError, Result};
use super::validate::check_key;

/// The first two components of the reserved asset key that holds the keys of
/// a dynamic definition; the third is the definition's name.
pub const DYNAMIC_PARTITIONS_ASSET_PREFIX: [&str; 2] = ["__tessera__", "dynamic_partitions"];

/// Dynamic partitions persisted in a Tessera [`Store`], as Dagster's instance
/// methods `add_dynamic_partitions`, `delete_dynamic_partition`,
/// `has_dynamic_partition` and `get_dynamic_partitions`.
///
/// The keys of the definition `NAME` are one record, at the reserved asset key
/// `["__tessera__", "dynamic_partitions", NAME]` (unpartitioned): the keys in
/// insertion order, separated by `\n` (which no key may contain). Every change
/// rewrites that record in one `put`, so a reader sees the list before or after
/// a change, never half of it, and the keys survive a reopen. Changes through
/// one handle are serialised; use one handle per store.
#[derive(Debug, Clone)]
pub struct StoreDynamicPartitions {
    store: Arc<Store>,
    writer: Arc<Mutex<()>>,
}

impl StoreDynamicPartitions {
    /// Dynamic partitions kept in `store`.
    #[must_use]
    pub fn new(store: Arc<Store>) -> Self {
        Self {
            store,
            writer: Arc::new(Mutex::new(())),
        }
    }

    /// Adds `keys` to the definition `name`, in order. A key already present is
    /// a no-op and keeps its position; a key deleted earlier goes to the end.
    ///
    /// # Errors
    /// [`PartitionsError::InvalidDefinition`] for an invalid key (nothing is
    /// added), or the store's error.
    pub fn add_partitions<I, S>(&self, name: &str, keys: I) -> Result<()>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let new: Vec<String> = keys.into_iter().map(Into::into).collect();
        new.iter().try_for_each(|k| check_key(k))?;
        let _guard = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        let mut current = self.read(name)?;
        for key in new {
            if !current.contains(&key) {
                current.push(key);
            }
        }
        self.write(name, &current)
    }

    /// Deletes `key` from the definition `name`.
    ///
    /// # Errors
    /// [`PartitionsError::UnknownDynamicKey`] when `name` has no such key, or
    /// the store's error.
    pub fn delete_partition(&self, name: &str, key: &str) -> Result<()> {
        let _guard = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        let mut current = self.read(name)?;
        let position = current.iter().position(|k| k == key).ok_or_else(|| {
            PartitionsError::UnknownDynamicKey {
                name: name.to_owned(),
                key: key.to_owned(),
            }
        })?;
        current.remove(position);
        self.write(name, &current)
    }

    /// Whether the definition `name` has `key`.
    ///
    /// # Errors
    /// The store's error.
    pub fn has_partition(&self, name: &str, key: &str) -> Result<bool> {
        Ok(self.read(name)?.iter().any(|k| k == key))
    }

    fn read(&self, name: &str) -> Result<Vec<String>> {
        let Some(blob) = self
            .store
            .get(&asset_key(name)?, &PartitionKey::unpartitioned())?
        else {
            return Ok(Vec::new());
        };
        decode(name, &blob)
    }

    fn write(&self, name: &str, keys: &[String]) -> Result<()> {
        let bytes = keys.join("\n").into_bytes();
        self.store.put(
            &asset_key(name)?,
            &PartitionKey::unpartitioned(),
            Payload::raw(bytes),
        )?;
        Ok(())
    }
}

impl DynamicPartitionsStore for StoreDynamicPartitions {
    fn dynamic_keys(&self, name: &str) -> Result<Vec<String>> {
        self.read(name)
    }
}

/// The reserved asset key holding the keys of the definition `name`.
fn asset_key(name: &str) -> Result<AssetKey> {
    let [first, second] = DYNAMIC_PARTITIONS_ASSET_PREFIX;
    Ok(AssetKey::new([first, second, name])?)
}

/// The keys of one stored record.
fn decode(name: &str, bytes: &[u8]) -> Result<Vec<String>> {
    let text =
        std::str::from_utf8(bytes).map_err(|e| PartitionsError::CorruptDynamicPartitions {
            name: name.to_owned(),
            reason: e.to_string(),
        })?;
    if text.is_empty() {
        return Ok(Vec::new());
    }
    Ok(text.split('\n').map(str::to_owned).collect())
}
