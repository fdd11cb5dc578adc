//! [`StoredValue`]: what a manager can tell of an output it stored.

/// The state of the value an I/O manager stored for one partition, as
/// `materialize --missing-or-stale` asks it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoredValue {
    /// A value is stored and passes its checks (for the store-backed
    /// managers: its crc32).
    Intact,
    /// No value is stored (never written, or deleted since).
    Absent,
    /// A value is stored but damaged; the reason says how.
    Damaged(String),
    /// The manager cannot tell; the materialization records decide.
    Unknown,
}
