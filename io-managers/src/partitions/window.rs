//! A half-open time window `[start, end)`.

use chrono::DateTime;
use chrono_tz::Tz;

/// The time window of a time partition: `[start, end)` in the definition's
/// timezone, as Dagster's `TimeWindow`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TimeWindow {
    /// The first instant inside the window.
    pub start: DateTime<Tz>,
    /// The first instant after the window.
    pub end: DateTime<Tz>,
}
