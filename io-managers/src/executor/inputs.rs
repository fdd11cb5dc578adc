//! The loaded inputs handed to a compute function.

use std::collections::HashMap;

use crate::error::{Error, Result};
use crate::manager::{ErasedInput, LoadedInput};

/// The inputs of one compute call, by input name.
#[derive(Debug, Default)]
pub struct Inputs {
    loaded: HashMap<String, ErasedInput>,
}

impl Inputs {
    pub(crate) fn insert(&mut self, name: String, input: ErasedInput) {
        self.loaded.insert(name, input);
    }

    /// Takes the input `name`, as loaded by a manager whose per-partition type is `T`.
    ///
    /// # Errors
    /// [`Error::UnknownInput`] if there is no such input (or it was taken);
    /// [`Error::WrongType`] if its manager loads another type.
    pub fn take<T: 'static>(&mut self, name: &str) -> Result<LoadedInput<T>> {
        self.loaded
            .remove(name)
            .ok_or_else(|| Error::UnknownInput(name.to_owned()))?
            .downcast::<T>()
    }

    /// The names of the inputs not yet taken.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.loaded.keys().map(String::as_str)
    }
}
