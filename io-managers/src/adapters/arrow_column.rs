//! An input manager that loads one column of a stored Arrow table as a `Vec`.

use std::marker::PhantomData;
use std::sync::Arc;

use arrow_array::{Array, ArrowPrimitiveType, PrimitiveArray};
use tessera_engine::Store;

use super::StoreTarget;
use crate::context::InputContext;
use crate::error::{Error, Result};
use crate::manager::InputManager;

/// Loads one primitive column of a table stored by
/// [`super::ArrowIoManager`] as a `Vec` of its native type: the Rust
/// counterpart of Dagster's "stored as a table, loaded as a NumPy array".
///
/// Building the `Vec` is a copy of that column (it converts the data);
/// null values are refused.
pub struct ArrowColumnInputManager<T: ArrowPrimitiveType> {
    target: StoreTarget,
    column: String,
    native: PhantomData<fn() -> T>,
}

impl<T: ArrowPrimitiveType> ArrowColumnInputManager<T> {
    /// Loads `column` from tables in `store`.
    pub fn new(store: Arc<Store>, column: impl Into<String>) -> Self {
        Self {
            target: StoreTarget::new(store),
            column: column.into(),
            native: PhantomData,
        }
    }

    fn column_error(&self, reason: String) -> Error {
        Error::Column {
            column: self.column.clone(),
            reason,
        }
    }
}

impl<T: ArrowPrimitiveType> std::fmt::Debug for ArrowColumnInputManager<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ArrowColumnInputManager")
            .field("column", &self.column)
            .field("type", &T::DATA_TYPE)
            .finish()
    }
}

impl<T> InputManager for ArrowColumnInputManager<T>
where
    T: ArrowPrimitiveType,
    T::Native: Send,
{
    type Loaded = Vec<T::Native>;

    fn load_partition(
        &self,
        context: &InputContext,
        partition: Option<&str>,
    ) -> Result<Option<Vec<T::Native>>> {
        let Some(blob) = self.target.read(context, partition)? else {
            return Ok(None);
        };
        let table = blob.arrow()?;
        let mut values = Vec::with_capacity(table.num_rows());
        for batch in &table.batches {
            let array = batch
                .column_by_name(&self.column)
                .ok_or_else(|| self.column_error("not in the stored schema".to_owned()))?;
            let typed = array
                .as_any()
                .downcast_ref::<PrimitiveArray<T>>()
                .ok_or_else(|| {
                    self.column_error(format!("is {}, not {}", array.data_type(), T::DATA_TYPE))
                })?;
            if typed.null_count() > 0 {
                return Err(self.column_error("has null values".to_owned()));
            }
            values.extend_from_slice(typed.values());
        }
        Ok(Some(values))
    }
}
