//! A five-field cron schedule (`minute hour day-of-month month day-of-week`),
//! evaluated on local wall-clock times.

use chrono::{Datelike, Days, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, Timelike};

use crate::partitions::error::{PartitionsError, Result};

/// How many days a search for the next or previous tick may scan before the
/// schedule is declared never to fire (covers `0 0 29 2 *`, every fourth year).
const SEARCH_DAYS: u64 = 366 * 9;

/// A parsed cron schedule. Fields accept `*`, numbers, ranges `a-b`, steps
/// `*/n` and `a-b/n`, and comma-separated lists; day of week 0 and 7 are
/// Sunday. When both day fields are restricted a day matches either (cron's
/// rule).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CronSchedule {
    minutes: u64,
    hours: u32,
    days_of_month: u32,
    months: u16,
    days_of_week: u8,
    dom_restricted: bool,
    dow_restricted: bool,
}

impl CronSchedule {
    /// Parses a five-field schedule.
    ///
    /// # Errors
    /// [`PartitionsError::InvalidCron`] for a malformed field or a value out of range.
    pub fn parse(schedule: &str) -> Result<Self> {
        let invalid = |reason: String| PartitionsError::InvalidCron {
            schedule: schedule.to_owned(),
            reason,
        };
        let fields: Vec<&str> = schedule.split_whitespace().collect();
        let [minute, hour, dom, month, dow] = fields.as_slice() else {
            return Err(invalid(format!(
                "expected 5 fields, found {}",
                fields.len()
            )));
        };
        let dow_bits = parse_field(dow, 0, 7).map_err(&invalid)?;
        Ok(Self {
            minutes: parse_field(minute, 0, 59).map_err(&invalid)?,
            hours: narrow(parse_field(hour, 0, 23).map_err(&invalid)?),
            days_of_month: narrow(parse_field(dom, 1, 31).map_err(&invalid)?),
            months: narrow(parse_field(month, 1, 12).map_err(&invalid)?),
            days_of_week: narrow((dow_bits | (dow_bits >> 7)) & 0x7f),
            dom_restricted: *dom != "*",
            dow_restricted: *dow != "*",
        })
    }

    /// Whether every hour of the day has ticks (hourly or faster): such a
    /// schedule fires on both occurrences of a repeated hour and skips a
    /// nonexistent one.
    #[must_use]
    pub fn every_hour(&self) -> bool {
        self.hours == (1 << 24) - 1
    }

    /// Whether the schedule fires on `date`.
    fn date_matches(&self, date: NaiveDate) -> bool {
        let month = bit(u64::from(self.months), date.month());
        let dom = bit(u64::from(self.days_of_month), date.day());
        let dow = bit(
            u64::from(self.days_of_week),
            date.weekday().num_days_from_sunday(),
        );
        let day = match (self.dom_restricted, self.dow_restricted) {
            (true, true) => dom || dow,
            _ => dom && dow,
        };
        month && day
    }

    /// The first tick at or after `from` (rounded up to the minute).
    pub(crate) fn next_naive(&self, from: NaiveDateTime) -> Option<NaiveDateTime> {
        let from = ceil_minute(from)?;
        let first_minute = from.hour() * 60 + from.minute();
        (0..SEARCH_DAYS).find_map(|offset| {
            let date = from.date().checked_add_days(Days::new(offset))?;
            let floor = if offset == 0 { first_minute } else { 0 };
            self.first_time_on(date, floor)
        })
    }

    /// The last tick strictly before `before`.
    pub(crate) fn prev_naive(&self, before: NaiveDateTime) -> Option<NaiveDateTime> {
        let last = before.checked_sub_signed(TimeDelta::nanoseconds(1))?;
        let last_minute = last.hour() * 60 + last.minute();
        (0..SEARCH_DAYS).find_map(|offset| {
            let date = last.date().checked_sub_days(Days::new(offset))?;
            let ceiling = if offset == 0 { last_minute } else { 1439 };
            self.last_time_on(date, ceiling)
        })
    }

    fn first_time_on(&self, date: NaiveDate, floor: u32) -> Option<NaiveDateTime> {
        if !self.date_matches(date) {
            return None;
        }
        (floor..1440)
            .find(|m| self.minute_of_day_matches(*m))
            .and_then(|m| at_minute(date, m))
    }

    fn last_time_on(&self, date: NaiveDate, ceiling: u32) -> Option<NaiveDateTime> {
        if !self.date_matches(date) {
            return None;
        }
        (0..=ceiling)
            .rev()
            .find(|m| self.minute_of_day_matches(*m))
            .and_then(|m| at_minute(date, m))
    }

    fn minute_of_day_matches(&self, minute_of_day: u32) -> bool {
        bit(u64::from(self.hours), minute_of_day / 60) && bit(self.minutes, minute_of_day % 60)
    }
}

fn bit(mask: u64, index: u32) -> bool {
    mask >> index & 1 == 1
}

/// Keeps the low bits of a field mask whose range fits the target type.
fn narrow<T: TryFrom<u64> + Default>(mask: u64) -> T {
    T::try_from(mask).unwrap_or_default()
}

fn at_minute(date: NaiveDate, minute_of_day: u32) -> Option<NaiveDateTime> {
    NaiveTime::from_hms_opt(minute_of_day / 60, minute_of_day % 60, 0).map(|t| date.and_time(t))
}

/// `t` rounded up to a whole minute.
fn ceil_minute(t: NaiveDateTime) -> Option<NaiveDateTime> {
    let floor = t.with_second(0)?.with_nanosecond(0)?;
    if floor == t {
        Some(t)
    } else {
        floor.checked_add_signed(TimeDelta::minutes(1))
    }
}

/// Parses one field into a bit mask of the values in `min..=max`.
fn parse_field(field: &str, min: u32, max: u32) -> std::result::Result<u64, String> {
    field
        .split(',')
        .try_fold(0u64, |mask, part| Ok(mask | parse_part(part, min, max)?))
}

fn parse_part(part: &str, min: u32, max: u32) -> std::result::Result<u64, String> {
    let (range, step) = match part.split_once('/') {
        Some((range, step)) => (range, parse_number(step)?),
        None => (part, 1),
    };
    if step == 0 {
        return Err(format!("step 0 in {part:?}"));
    }
    let (low, high) = match range {
        "*" => (min, max),
        _ => match range.split_once('-') {
            Some((a, b)) => (parse_number(a)?, parse_number(b)?),
            None if part.contains('/') => (parse_number(range)?, max),
            None => {
                let n = parse_number(range)?;
                (n, n)
            }
        },
    };
    if low < min || high > max || low > high {
        return Err(format!("{part:?} is outside {min}-{max}"));
    }
    Ok((low..=high)
        .step_by(step as usize)
        .fold(0, |mask, v| mask | 1 << v))
}

fn parse_number(text: &str) -> std::result::Result<u32, String> {
    text.parse()
        .map_err(|_| format!("{text:?} is not a number"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").expect("test datetime")
    }

    #[test]
    fn next_and_prev_of_a_six_hourly_schedule() {
        let cron = CronSchedule::parse("0 */6 * * *").expect("valid");
        assert_eq!(
            cron.next_naive(naive("2022-01-02 01:00")),
            Some(naive("2022-01-02 06:00"))
        );
        assert_eq!(
            cron.next_naive(naive("2022-01-02 06:00")),
            Some(naive("2022-01-02 06:00"))
        );
        assert_eq!(
            cron.prev_naive(naive("2022-01-02 06:00")),
            Some(naive("2022-01-02 00:00"))
        );
        assert!(!cron.every_hour());
    }

    #[test]
    fn day_fields_combine_with_or_when_both_are_restricted() {
        let cron = CronSchedule::parse("0 0 1 * 1").expect("valid");
        // 2022-01-03 is a Monday, 2022-02-01 a Tuesday.
        assert_eq!(
            cron.next_naive(naive("2022-01-02 00:01")),
            Some(naive("2022-01-03 00:00"))
        );
        assert_eq!(
            cron.next_naive(naive("2022-01-31 00:01")),
            Some(naive("2022-02-01 00:00"))
        );
    }

    #[test]
    fn sunday_is_0_and_7_and_bad_fields_are_errors() {
        let a = CronSchedule::parse("0 0 * * 7").expect("valid");
        let b = CronSchedule::parse("0 0 * * 0").expect("valid");
        assert_eq!(a, b);
        for bad in [
            "0 0 * *",
            "60 * * * *",
            "*/0 * * * *",
            "a * * * *",
            "0 0 32 * *",
        ] {
            assert!(CronSchedule::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn impossible_dates_never_fire() {
        let cron = CronSchedule::parse("0 0 30 2 *").expect("parses");
        assert_eq!(cron.next_naive(naive("2022-01-01 00:00")), None);
    }
}
