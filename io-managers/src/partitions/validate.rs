//! Dagster's key-validity rules, shared by every kind of definition.

use std::collections::HashSet;

use super::error::{PartitionsError, Result};

/// Substrings no partition key may contain (`INVALID_PARTITION_SUBSTRINGS`);
/// `...` is reserved for the UI's range syntax.
pub const INVALID_PARTITION_SUBSTRINGS: [&str; 9] = [
    "...", "\x07", "\x08", "\x0c", "\n", "\r", "\t", "\x0b", "\0",
];

/// Characters a static dimension of a multi-partitions definition may not use
/// (`INVALID_STATIC_PARTITIONS_KEY_CHARACTERS`).
pub const INVALID_MULTI_DIMENSION_CHARACTERS: [char; 4] = ['|', ',', '[', ']'];

/// Checks one key against the rules every definition shares.
pub(crate) fn check_key(key: &str) -> Result<()> {
    if key.is_empty() {
        return Err(PartitionsError::InvalidDefinition(
            "a partition key must not be empty".to_owned(),
        ));
    }
    match INVALID_PARTITION_SUBSTRINGS
        .iter()
        .find(|s| key.contains(*s))
    {
        Some(bad) => Err(PartitionsError::InvalidDefinition(format!(
            "partition key {key:?} contains the reserved substring {bad:?}"
        ))),
        None => Ok(()),
    }
}

/// Checks that no key occurs twice, naming the duplicates.
pub(crate) fn check_unique(keys: &[String]) -> Result<()> {
    let mut seen = HashSet::with_capacity(keys.len());
    let mut duplicates: Vec<&str> = keys
        .iter()
        .filter(|k| !seen.insert(k.as_str()))
        .map(String::as_str)
        .collect();
    duplicates.dedup();
    if duplicates.is_empty() {
        Ok(())
    } else {
        Err(PartitionsError::InvalidDefinition(format!(
            "partition keys must be unique; duplicate instances of partition keys: {duplicates:?}"
        )))
    }
}
