//! [`PartitionContext`]: the clock and dynamic partitions a definition is evaluated against.

use chrono::{DateTime, Utc};

use super::error::{PartitionsError, Result};

/// Where the keys of dynamic partitions definitions live (Dagster's instance).
pub trait DynamicPartitionsStore: Send + Sync {
    /// The keys of the dynamic definition `name`, in insertion order. An unknown
    /// name has no keys.
    ///
    /// # Errors
    /// Whatever the backing store reports.
    fn dynamic_keys(&self, name: &str) -> Result<Vec<String>, PartitionsError>;
}

/// The evaluation context of a partitions definition: "now" (time partitions
/// exist only once their window has ended, so the key set depends on it) and
/// the dynamic partitions store. Injecting "now" makes every evaluation
/// deterministic, as Dagster's `partition_loading_context(effective_dt=...)`.
#[derive(Clone, Copy)]
pub struct PartitionContext<'a> {
    /// The instant the definition is evaluated at.
    pub now: DateTime<Utc>,
    /// The dynamic partitions, if any definition needs them.
    pub dynamic: Option<&'a dyn DynamicPartitionsStore>,
}

impl<'a> PartitionContext<'a> {
    /// A context at `now` without dynamic partitions.
    #[must_use]
    pub fn at(now: DateTime<Utc>) -> Self {
        Self { now, dynamic: None }
    }

    /// A context at the system clock's current time.
    #[must_use]
    pub fn now() -> Self {
        Self::at(Utc::now())
    }

    /// The same context, reading dynamic partitions from `store`.
    #[must_use]
    pub fn with_dynamic(self, store: &'a dyn DynamicPartitionsStore) -> Self {
        Self {
            dynamic: Some(store),
            ..self
        }
    }

    /// The keys of the dynamic definition `name`.
    pub(crate) fn dynamic_keys(&self, name: &str) -> Result<Vec<String>> {
        match self.dynamic {
            Some(store) => store.dynamic_keys(name),
            None => Err(PartitionsError::NoDynamicStore(name.to_owned())),
        }
    }
}

impl std::fmt::Debug for PartitionContext<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PartitionContext")
            .field("now", &self.now)
            .field("dynamic", &self.dynamic.is_some())
            .finish()
    }
}
