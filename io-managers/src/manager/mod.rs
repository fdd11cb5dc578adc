//! The I/O manager traits, the shapes of loaded inputs and their type-erased
//! forms.

mod any_value;
mod erased;
mod loaded;
mod registry;
mod stored;

pub use any_value::AnyValue;
pub use erased::{DynInputManager, DynIoManager, ErasedInput};
pub use loaded::{InputValue, LoadedInput, PartitionMap};
pub use registry::IoManagers;
pub use stored::StoredValue;

use tessera_engine::AssetKey;

use crate::context::{InputContext, LoadMode, OutputContext};
use crate::error::{Error, Result};

/// Loads the value of an input: Dagster's `InputManager`.
///
/// An implementation loads one partition; [`InputManager::load_input`] applies
/// the multi-partition contract over the context's mapped keys.
pub trait InputManager: Send + Sync + 'static {
    /// What a load gives for one partition.
    type Loaded: Send + 'static;

    /// Loads one partition of the context's upstream asset (`None` for an
    /// unpartitioned asset). `Ok(None)` means the store has no value for it.
    ///
    /// # Errors
    /// Whatever the backend reports; never [`Error::Missing`] (that is
    /// `Ok(None)` here).
    fn load_partition(
        &self,
        context: &InputContext,
        partition: Option<&str>,
    ) -> Result<Option<Self::Loaded>>;

    /// The error for a value [`InputManager::load_partition`] did not find:
    /// [`Error::Missing`] naming asset and partition. A manager that looks in
    /// a place (a file) names that place too.
    fn missing_error(&self, context: &InputContext, partition: Option<&str>) -> Error {
        missing(context, partition)
    }

    /// Loads the input: one value for an unpartitioned upstream, else the
    /// mapped partitions shaped by [`InputContext::load_mode`].
    ///
    /// # Errors
    /// [`InputManager::missing_error`] when a value is absent (unless
    /// [`InputContext::allow_missing_partitions`]), or the errors of
    /// [`InputManager::load_partition`].
    fn load_input(&self, context: &InputContext) -> Result<LoadedInput<Self::Loaded>> {
        load_with_contract(self, context)
    }
}

/// Stores outputs and loads inputs: Dagster's `IOManager`.
pub trait IoManager: InputManager {
    /// What `handle_output` stores.
    type Value: Send + 'static;

    /// Stores the value of a single-partition (or unpartitioned) output.
    ///
    /// # Errors
    /// [`Error::NotSinglePartition`] for a range context, or the backend's.
    fn handle_output(&self, context: &OutputContext, value: Self::Value) -> Result<()>;

    /// Stores one value per partition of a range output (a single-run
    /// backfill), one materialization per partition. `values` follows the
    /// context's partition keys.
    ///
    /// The default stores the values one by one; store-backed managers
    /// override it to write them in one atomic batch.
    ///
    /// # Errors
    /// [`Error::RangeMismatch`] if the keys differ from the context's, or the
    /// errors of [`IoManager::handle_output`].
    fn handle_range_output(
        &self,
        context: &OutputContext,
        values: PartitionMap<Self::Value>,
    ) -> Result<()> {
        check_range(context, &values)?;
        for (key, value) in values {
            let single = context.for_partition(&key);
            self.handle_output(&single, value)?;
            for (name, metadata) in single.output_metadata() {
                context.add_partition_metadata(&key, name, metadata)?;
            }
            if let Some(version) = single.stored_version(Some(&key)) {
                context.record_stored_version(Some(&key), version);
            }
        }
        Ok(())
    }

    /// Whether a value is stored for `(asset, partition)` and intact
    /// (`partition` is `None` for an unpartitioned asset). The default is
    /// [`StoredValue::Unknown`]: the executor then trusts its records.
    ///
    /// # Errors
    /// Failures to look (an I/O error), not a missing or damaged value.
    fn stored_value(&self, asset: &AssetKey, partition: Option<&str>) -> Result<StoredValue> {
        let _ = (asset, partition);
        Ok(StoredValue::Unknown)
    }
}

/// Checks that a range output has a value for each of the context's keys, in order.
pub(crate) fn check_range<T>(context: &OutputContext, values: &PartitionMap<T>) -> Result<()> {
    if values
        .keys()
        .eq(context.asset_partition_keys().iter().map(String::as_str))
    {
        return Ok(());
    }
    Err(Error::RangeMismatch {
        asset: context.asset_key().clone(),
        expected: context.asset_partition_keys().to_vec(),
        given: values.keys().map(str::to_owned).collect(),
    })
}

fn load_with_contract<M: InputManager + ?Sized>(
    manager: &M,
    context: &InputContext,
) -> Result<LoadedInput<M::Loaded>> {
    if !context.has_asset_partitions() {
        let value = manager
            .load_partition(context, None)?
            .ok_or_else(|| manager.missing_error(context, None))?;
        return Ok(LoadedInput::new(InputValue::One(None, value), Vec::new()));
    }
    let mut loaded = PartitionMap::default();
    let mut skipped = Vec::new();
    for key in context.asset_partition_keys() {
        match manager.load_partition(context, Some(key))? {
            Some(value) => loaded.push(key.clone(), value),
            None if context.allow_missing_partitions() => skipped.push(key.clone()),
            None => return Err(manager.missing_error(context, Some(key))),
        }
    }
    Ok(LoadedInput::new(shape(context, loaded), skipped))
}

fn shape<T>(context: &InputContext, loaded: PartitionMap<T>) -> InputValue<T> {
    if context.load_mode() == LoadMode::AlwaysMap || context.asset_partition_keys().len() >= 2 {
        return InputValue::Many(loaded);
    }
    match loaded.into_iter().next() {
        Some((key, value)) => InputValue::One(Some(key), value),
        None => InputValue::Nothing,
    }
}

fn missing(context: &InputContext, partition: Option<&str>) -> Error {
    Error::Missing {
        asset: context.asset_key().clone(),
        partition: partition.map(str::to_owned),
    }
}
