//! [`DynamicPartitionsDefinition`]: keys added and removed at run time.

use super::context::PartitionContext;
use super::error::{PartitionsError, Result};

/// Partitions whose keys live in a [`DynamicPartitionsStore`](super::DynamicPartitionsStore)
/// under a name, as Dagster's `DynamicPartitionsDefinition(name=...)`. Key
/// order is insertion order.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DynamicPartitionsDefinition {
    name: String,
}

impl DynamicPartitionsDefinition {
    /// The dynamic definition called `name`.
    ///
    /// # Errors
    /// [`PartitionsError::InvalidDefinition`] for an empty name.
    pub fn new(name: impl Into<String>) -> Result<Self> {
        let name = name.into();
        if name.is_empty() {
            return Err(PartitionsError::InvalidDefinition(
                "a dynamic partitions definition needs a non-empty name".to_owned(),
            ));
        }
        Ok(Self { name })
    }

    /// The name the keys are stored under.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The keys, in insertion order.
    ///
    /// # Errors
    /// [`PartitionsError::NoDynamicStore`] without a store in `ctx`, or the
    /// store's error.
    pub fn keys(&self, ctx: &PartitionContext<'_>) -> Result<Vec<String>> {
        ctx.dynamic_keys(&self.name)
    }
}
