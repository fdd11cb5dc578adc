//! A half-open time window `[start, end)`.

use chrono::{DateTime, Utc};
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

impl TimeWindow {
    /// The window `[start, end)` of two instants, shown in `tz`.
    #[must_use]
    pub fn from_utc(start: DateTime<Utc>, end: DateTime<Utc>, tz: Tz) -> Self {
        Self {
            start: start.with_timezone(&tz),
            end: end.with_timezone(&tz),
        }
    }

    /// Whether `instant` lies in `[start, end)`.
    #[must_use]
    pub fn contains(&self, instant: DateTime<Utc>) -> bool {
        self.start <= instant && instant < self.end
    }

    /// The window's length.
    #[must_use]
    pub fn duration(&self) -> chrono::TimeDelta {
        self.end - self.start
    }
}
