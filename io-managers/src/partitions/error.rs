//! [`PartitionsError`]: everything that can go wrong with partitions and mappings.

use thiserror::Error;

/// An error from a partitions definition, a partition mapping or the dynamic
/// partitions store. Each variant names what failed and the offending input.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum PartitionsError {
    /// A key that the definition does not hold (now, or ever).
    #[error("partition key {key:?} is not in the {definition} partitions definition")]
    KeyNotFound {
        /// The key looked up.
        key: String,
        /// A short description of the definition.
        definition: String,
    },
    /// A time partition key that does not parse with the definition's format,
    /// or that parses but is not one of its keys (not on a tick, not formatted
    /// exactly as the definition formats it, or excluded).
    #[error("malformed time partition key {key:?} for format {fmt:?}: {reason}")]
    MalformedKey {
        /// The key.
        key: String,
        /// The definition's format.
        fmt: String,
        /// Why it was rejected.
        reason: String,
    },
    /// A `start`, `end` or exclusion date that does not parse.
    #[error("malformed date {value:?}: expected the format {fmt:?}")]
    MalformedDate {
        /// The date text.
        value: String,
        /// The format tried first.
        fmt: String,
    },
    /// A range or definition whose start comes after its end.
    #[error("start {start:?} is after end {end:?}")]
    StartAfterEnd {
        /// The start.
        start: String,
        /// The end.
        end: String,
    },
    /// A timezone name that is not in the IANA database.
    #[error("unknown timezone {0:?}: expected an IANA name such as \"America/Chicago\"")]
    UnknownTimezone(String),
    /// A cron schedule that does not parse or never fires.
    #[error("invalid cron schedule {schedule:?}: {reason}")]
    InvalidCron {
        /// The schedule.
        schedule: String,
        /// Why it was rejected.
        reason: String,
    },
    /// A `strftime` format that chrono cannot use.
    #[error("invalid partition key format {fmt:?}: {reason}")]
    InvalidFormat {
        /// The format.
        fmt: String,
        /// Why it was rejected.
        reason: String,
    },
    /// A definition that breaks one of Dagster's rules (duplicate keys, a
    /// reserved substring, an offset out of range, a bad dimension count, ...).
    #[error("invalid partitions definition: {0}")]
    InvalidDefinition(String),
    /// A mapping used between definitions it cannot relate.
    #[error("{mapping} cannot map between these partitions definitions: {reason}")]
    IncompatibleMapping {
        /// The mapping's name, as Dagster names it.
        mapping: &'static str,
        /// Why.
        reason: String,
    },
    /// A dynamic partition key that the store does not hold.
    #[error("dynamic partitions definition {name:?} has no partition {key:?}")]
    UnknownDynamicKey {
        /// The dynamic definition's name.
        name: String,
        /// The key.
        key: String,
    },
    /// A dynamic definition evaluated without a dynamic partitions store.
    #[error(
        "dynamic partitions definition {0:?} needs a dynamic partitions store in the PartitionContext"
    )]
    NoDynamicStore(String),
    /// A multi-partitions dimension name that the definition does not have.
    #[error("multi-partitions definition has no dimension {0:?}")]
    UnknownDimension(String),
    /// Stored dynamic partitions that cannot be decoded.
    #[error("dynamic partitions of {name:?} are corrupt: {reason}")]
    CorruptDynamicPartitions {
        /// The dynamic definition's name.
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// The engine failed.
    #[error("store error: {0}")]
    Store(#[from] tessera_engine::Error),
}

/// Shorthand for results of this module.
pub type Result<T, E = PartitionsError> = std::result::Result<T, E>;
