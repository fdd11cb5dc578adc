//! A value of any type that remembers its type's name.

use std::any::{Any, type_name};

use crate::error::{Error, Result};

/// A boxed value with its type's name, passed between the executor and
/// type-erased managers so that a type mismatch is a clear error.
pub struct AnyValue {
    value: Box<dyn Any + Send>,
    type_name: &'static str,
}

impl AnyValue {
    /// Boxes `value`.
    pub fn new<T: Send + 'static>(value: T) -> Self {
        Self {
            value: Box::new(value),
            type_name: type_name::<T>(),
        }
    }

    /// The name of the boxed value's type.
    pub fn type_name(&self) -> &'static str {
        self.type_name
    }

    /// The value as a `T`.
    ///
    /// # Errors
    /// [`Error::WrongType`] (naming `manager`) if it is not a `T`.
    pub fn downcast<T: 'static>(self, manager: &str) -> Result<T> {
        let found = self.type_name;
        self.value
            .downcast::<T>()
            .map(|boxed| *boxed)
            .map_err(|_| Error::WrongType {
                manager: manager.to_owned(),
                expected: type_name::<T>(),
                found,
            })
    }
}

impl std::fmt::Debug for AnyValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AnyValue<{}>", self.type_name)
    }
}
