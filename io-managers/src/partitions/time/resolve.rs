//! Local wall-clock times to instants, with Dagster's DST rules.
//!
//! A schedule that fires at most once a day resolves a nonexistent local time
//! (spring forward) to the first instant after the gap and a repeated one
//! (fall back) to its first occurrence. An hourly-or-faster schedule skips the
//! nonexistent hour and fires on both occurrences of the repeated one.

use chrono::offset::LocalResult;
use chrono::{DateTime, NaiveDateTime, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;

/// The longest DST gap searched past, in minutes.
const MAX_GAP_MINUTES: i64 = 24 * 60;

/// The instant of `naive` under the once-a-day rule.
pub(crate) fn earliest(tz: Tz, naive: NaiveDateTime) -> DateTime<Utc> {
    (0..=MAX_GAP_MINUTES)
        .filter_map(|m| naive.checked_add_signed(TimeDelta::minutes(m)))
        .find_map(|candidate| tz.from_local_datetime(&candidate).earliest())
        .map_or_else(|| naive.and_utc(), |dt| dt.with_timezone(&Utc))
}

/// Every instant whose local time is `naive` (none in a gap, two in a fold),
/// earliest first.
pub(crate) fn all(tz: Tz, naive: NaiveDateTime) -> Vec<DateTime<Utc>> {
    match tz.from_local_datetime(&naive) {
        LocalResult::None => Vec::new(),
        LocalResult::Single(dt) => vec![dt.with_timezone(&Utc)],
        LocalResult::Ambiguous(a, b) => vec![a.with_timezone(&Utc), b.with_timezone(&Utc)],
    }
}

/// `t` as a local wall-clock time in `tz`.
pub(crate) fn local(tz: Tz, t: DateTime<Utc>) -> NaiveDateTime {
    t.with_timezone(&tz).naive_local()
}
