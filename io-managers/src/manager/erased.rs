//! Type-erased managers, as the executor keeps them in its registry.

use std::any::type_name;

use tessera_engine::AssetKey;

use super::{AnyValue, InputManager, IoManager, LoadedInput, PartitionMap, StoredValue};
use crate::context::{InputContext, OutputContext};
use crate::error::{Error, Result};

/// A loaded input whose type is known only at run time.
#[derive(Debug)]
pub struct ErasedInput {
    manager: String,
    loaded: AnyValue,
    loaded_type: &'static str,
}

impl ErasedInput {
    /// The input as loaded by a manager whose per-partition type is `T`.
    ///
    /// # Errors
    /// [`Error::WrongType`] if the manager loads another type.
    pub fn downcast<T: 'static>(self) -> Result<LoadedInput<T>> {
        if self.loaded_type != type_name::<T>() {
            return Err(Error::WrongType {
                manager: self.manager,
                expected: self.loaded_type,
                found: type_name::<T>(),
            });
        }
        self.loaded.downcast::<LoadedInput<T>>(&self.manager)
    }
}

/// An [`InputManager`] whose loaded type is erased.
pub trait DynInputManager: Send + Sync {
    /// The name of the type it loads per partition.
    fn loaded_type(&self) -> &'static str;

    /// Loads the input; see [`InputManager::load_input`].
    ///
    /// # Errors
    /// The errors of [`InputManager::load_input`].
    fn load_input_erased(&self, name: &str, context: &InputContext) -> Result<ErasedInput>;
}

impl<M: InputManager> DynInputManager for M {
    fn loaded_type(&self) -> &'static str {
        type_name::<M::Loaded>()
    }

    fn load_input_erased(&self, name: &str, context: &InputContext) -> Result<ErasedInput> {
        Ok(ErasedInput {
            manager: name.to_owned(),
            loaded: AnyValue::new(self.load_input(context)?),
            loaded_type: type_name::<M::Loaded>(),
        })
    }
}

/// An [`IoManager`] whose value types are erased.
pub trait DynIoManager: DynInputManager {
    /// The name of the type it stores.
    fn value_type(&self) -> &'static str;

    /// Stores one output; see [`IoManager::handle_output`].
    ///
    /// # Errors
    /// [`Error::WrongType`] if `value` is not the manager's type, or the
    /// errors of [`IoManager::handle_output`].
    fn handle_output_erased(
        &self,
        name: &str,
        context: &OutputContext,
        value: AnyValue,
    ) -> Result<()>;

    /// Stores a range output; see [`IoManager::handle_range_output`].
    ///
    /// # Errors
    /// As [`DynIoManager::handle_output_erased`].
    fn handle_range_output_erased(
        &self,
        name: &str,
        context: &OutputContext,
        values: PartitionMap<AnyValue>,
    ) -> Result<()>;

    /// What is stored for `(asset, partition)`; see [`IoManager::stored_value`].
    ///
    /// # Errors
    /// As [`IoManager::stored_value`].
    fn stored_value_state(&self, asset: &AssetKey, partition: Option<&str>) -> Result<StoredValue>;
}

impl<M: IoManager> DynIoManager for M {
    fn value_type(&self) -> &'static str {
        type_name::<M::Value>()
    }

    fn handle_output_erased(
        &self,
        name: &str,
        context: &OutputContext,
        value: AnyValue,
    ) -> Result<()> {
        self.handle_output(context, value.downcast::<M::Value>(name)?)
    }

    fn handle_range_output_erased(
        &self,
        name: &str,
        context: &OutputContext,
        values: PartitionMap<AnyValue>,
    ) -> Result<()> {
        let typed = values
            .into_iter()
            .map(|(key, value)| Ok((key, value.downcast::<M::Value>(name)?)))
            .collect::<Result<PartitionMap<M::Value>>>()?;
        self.handle_range_output(context, typed)
    }

    fn stored_value_state(&self, asset: &AssetKey, partition: Option<&str>) -> Result<StoredValue> {
        self.stored_value(asset, partition)
    }
}
