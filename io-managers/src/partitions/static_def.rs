//! [`StaticPartitionsDefinition`]: a fixed list of keys.

use std::sync::Arc;

use super::error::Result;
use super::validate::{check_key, check_unique};

/// A fixed, ordered list of partition keys, as Dagster's
/// `StaticPartitionsDefinition`. Key order is the order given; two definitions
/// are equal when their key lists are equal in order. Cloning is cheap.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StaticPartitionsDefinition {
    keys: Arc<[String]>,
}

impl StaticPartitionsDefinition {
    /// A definition with `keys`, in that order.
    ///
    /// # Errors
    /// [`PartitionsError::InvalidDefinition`](super::PartitionsError::InvalidDefinition) for an empty key, a key with a
    /// reserved substring (`...` or a control character) or a duplicate key.
    pub fn new<I, S>(keys: I) -> Result<Self>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let keys: Vec<String> = keys.into_iter().map(Into::into).collect();
        keys.iter().try_for_each(|k| check_key(k))?;
        check_unique(&keys)?;
        Ok(Self { keys: keys.into() })
    }

    /// The keys, in definition order.
    #[must_use]
    pub fn keys(&self) -> &[String] {
        &self.keys
    }

    /// The position of `key`, if it is one of the keys.
    #[must_use]
    pub fn position(&self, key: &str) -> Option<usize> {
        self.keys.iter().position(|k| k == key)
    }
}
