//! [`PartitionKey`]: which partition of an asset.

use std::fmt;
use std::sync::Arc;

use crate::error::{Error, Result};

/// The longest partition key, in bytes.
pub const MAX_PARTITION_KEY_LEN: usize = 4096;

/// Whether `byte` is one of the characters Dagster forbids in partition keys
/// (`INVALID_PARTITION_SUBSTRINGS`, less the UI's `...`, which is a
/// partitions-definition rule): `\0 \a \b \t \n \v \f \r`. They are all ASCII, and no byte of a
/// multi-byte UTF-8 character is ASCII, so checking bytes finds exactly
/// these characters.
const fn is_forbidden(byte: u8) -> bool {
    matches!(byte, 0 | 0x07..=0x0d)
}

/// A partition key as Dagster formats it (`2022-07-23`, `2022-07-23-05:00`,
/// `2022-07-23|us`), or the distinguished key of an unpartitioned asset.
///
/// User keys are non-empty UTF-8 of at most [`MAX_PARTITION_KEY_LEN`] bytes,
/// without the control characters Dagster forbids. [`PartitionKey::unpartitioned`]
/// is not a string at all, so no user key can collide with it; it orders before
/// every user key. User keys order by their bytes (the engine's order; the
/// chronological and definition orders of partitions definitions are the
/// io-managers crate's). Cloning is a reference-count increment.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PartitionKey(Option<Arc<str>>);

impl PartitionKey {
    /// Builds a user partition key.
    ///
    /// # Errors
    /// [`Error::InvalidPartitionKey`] for an empty or over-long key, or one with a
    /// forbidden control character.
    pub fn new(key: impl Into<String>) -> Result<Self> {
        let key: String = key.into();
        match invalid_because(&key) {
            Some(reason) => Err(Error::InvalidPartitionKey { key, reason }),
            None => Ok(Self(Some(key.into()))),
        }
    }

    /// The key under which an unpartitioned asset's single value is stored.
    #[must_use]
    pub const fn unpartitioned() -> Self {
        Self(None)
    }

    /// Whether this is the unpartitioned key.
    #[must_use]
    pub const fn is_unpartitioned(&self) -> bool {
        self.0.is_none()
    }

    /// The key text, or `None` for the unpartitioned key.
    #[must_use]
    pub fn as_str(&self) -> Option<&str> {
        self.0.as_deref()
    }
}

/// Builds a user partition key from borrowed text, with one allocation
/// (`PartitionKey::new` takes a `String` and copies it once more).
impl TryFrom<&str> for PartitionKey {
    type Error = Error;

    fn try_from(key: &str) -> Result<Self> {
        match invalid_because(key) {
            Some(reason) => Err(Error::InvalidPartitionKey {
                key: key.to_owned(),
                reason,
            }),
            None => Ok(Self(Some(key.into()))),
        }
    }
}

/// Why `key` is not a valid user partition key, if it is not.
fn invalid_because(key: &str) -> Option<&'static str> {
    if key.is_empty() {
        Some("a partition key must not be empty")
    } else if key.len() > MAX_PARTITION_KEY_LEN {
        Some("a partition key has at most 4096 bytes")
    } else if key.bytes().any(is_forbidden) {
        Some(
            "a partition key must not contain control characters (\\0 \\a \\b \\f \\n \\r \\t \\v)",
        )
    } else {
        None
    }
}

impl fmt::Display for PartitionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Some(key) => f.write_str(key),
            None => f.write_str("<unpartitioned>"),
        }
    }
}

impl fmt::Debug for PartitionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Some(key) => write!(f, "PartitionKey({key:?})"),
            None => f.write_str("PartitionKey::unpartitioned()"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_empty_long_and_control_characters() {
        assert!(PartitionKey::new("").is_err());
        assert!(PartitionKey::new("a\nb").is_err());
        assert!(PartitionKey::new("a\0").is_err());
        assert!(PartitionKey::new("x".repeat(MAX_PARTITION_KEY_LEN + 1)).is_err());
        assert!(PartitionKey::try_from("").is_err());
        assert!(PartitionKey::try_from("a\tb").is_err());
    }

    #[test]
    fn borrowed_and_owned_text_make_the_same_key() {
        let borrowed = PartitionKey::try_from("2022-07-23").expect("valid");
        assert_eq!(borrowed, PartitionKey::new("2022-07-23").expect("valid"));
        assert_eq!(borrowed.as_str(), Some("2022-07-23"));
    }

    #[test]
    fn unpartitioned_differs_from_every_string() {
        let key = PartitionKey::new("<unpartitioned>").expect("valid");
        assert_ne!(key, PartitionKey::unpartitioned());
        assert!(PartitionKey::unpartitioned() < key);
        assert_eq!(PartitionKey::unpartitioned().as_str(), None);
    }
}
