//! [`Cadence`]: the ticks of a time partitions definition, with O(1) index
//! arithmetic for the hourly, daily, weekly and monthly schedules.

use chrono::{
    DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeDelta, Timelike, Utc,
};
use chrono_tz::Tz;

use super::cron::CronSchedule;
use super::resolve::{all, earliest, local};
use crate::partitions::error::{PartitionsError, Result};

/// Seconds in an hour.
const HOUR: i64 = 3600;
/// Slack around a local time when searching cron ticks, to see both sides of
/// a DST fold.
const FOLD_SLACK_HOURS: i64 = 3;

/// When partitions start. Hourly ticks are every absolute hour at the local
/// minute (so a repeated hour has two ticks and a skipped hour none); daily,
/// weekly and monthly ticks are local wall-clock times (a nonexistent one
/// moves to the end of the gap, a repeated one is taken once).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Cadence {
    /// `"{minute} * * * *"`.
    Hourly { minute: u32 },
    /// `"{minute} {hour} * * *"`.
    Daily { hour: u32, minute: u32 },
    /// `"{minute} {hour} * * {weekday}"`, weekday 0 = Sunday.
    Weekly {
        weekday: u32,
        hour: u32,
        minute: u32,
    },
    /// `"{minute} {hour} {day} * *"`, day 1..=28.
    Monthly { day: u32, hour: u32, minute: u32 },
    /// Any other schedule.
    Cron(CronSchedule),
}

impl Cadence {
    /// The first tick at or after `t`.
    pub(crate) fn next_at_or_after(&self, tz: Tz, t: DateTime<Utc>) -> Result<DateTime<Utc>> {
        match self {
            Self::Hourly { minute } => Ok(hourly_at_or_after(tz, *minute, t)),
            Self::Cron(cron) => cron_at_or_after(cron, tz, t),
            _ => {
                let mut index = self.period_index(local(tz, t)) - 1;
                loop {
                    let tick = self.instant(tz, index)?;
                    if tick >= t {
                        return Ok(tick);
                    }
                    index += 1;
                }
            }
        }
    }

    /// The last tick strictly before `t`.
    pub(crate) fn prev_before(&self, tz: Tz, t: DateTime<Utc>) -> Result<DateTime<Utc>> {
        match self {
            Self::Hourly { minute } => Ok(hourly_at_or_after(tz, *minute, t) - TimeDelta::hours(1)),
            Self::Cron(cron) => cron_before(cron, tz, t),
            _ => {
                let mut index = self.period_index(local(tz, t)) + 1;
                loop {
                    let tick = self.instant(tz, index)?;
                    if tick < t {
                        return Ok(tick);
                    }
                    index -= 1;
                }
            }
        }
    }

    /// The tick after the tick (or instant) `t`.
    pub(crate) fn next_after(&self, tz: Tz, t: DateTime<Utc>) -> Result<DateTime<Utc>> {
        self.next_at_or_after(tz, t + TimeDelta::nanoseconds(1))
    }

    /// The last tick at or before `t`.
    pub(crate) fn at_or_before(&self, tz: Tz, t: DateTime<Utc>) -> Result<DateTime<Utc>> {
        self.prev_before(tz, t + TimeDelta::nanoseconds(1))
    }

    /// The tick `n` ticks after (or, negative, before) the tick `tick`.
    pub(crate) fn step(&self, tz: Tz, tick: DateTime<Utc>, n: i64) -> Result<DateTime<Utc>> {
        match self {
            Self::Hourly { .. } => Ok(tick + TimeDelta::hours(n)),
            Self::Cron(_) => {
                let mut t = tick;
                for _ in 0..n.unsigned_abs() {
                    t = if n > 0 {
                        self.next_after(tz, t)?
                    } else {
                        self.prev_before(tz, t)?
                    };
                }
                Ok(t)
            }
            _ => {
                let index = self.index_at_or_after(tz, tick)?;
                self.instant(tz, index + n)
            }
        }
    }

    /// The number of ticks in `[a, b)`. O(1) except for a general cron
    /// schedule, which is counted tick by tick.
    pub(crate) fn count(&self, tz: Tz, a: DateTime<Utc>, b: DateTime<Utc>) -> Result<u64> {
        if b <= a {
            return Ok(0);
        }
        match self {
            Self::Hourly { minute } => {
                let first = hourly_at_or_after(tz, *minute, a);
                let past = hourly_at_or_after(tz, *minute, b);
                Ok(u64::try_from((past - first).num_seconds() / HOUR).unwrap_or(0))
            }
            Self::Cron(_) => {
                let mut n = 0;
                let mut t = self.next_at_or_after(tz, a)?;
                while t < b {
                    n += 1;
                    t = self.next_after(tz, t)?;
                }
                Ok(n)
            }
            _ => {
                let first = self.index_at_or_after(tz, a)?;
                let past = self.index_at_or_after(tz, b)?;
                Ok(u64::try_from(past - first).unwrap_or(0))
            }
        }
    }

    /// Whether the schedule fires at least hourly (see [`CronSchedule::every_hour`]).
    pub(crate) fn sub_daily(&self) -> bool {
        match self {
            Self::Hourly { .. } => true,
            Self::Cron(cron) => cron.every_hour(),
            _ => false,
        }
    }

    /// The index of the first tick at or after `t` (periodic cadences).
    fn index_at_or_after(&self, tz: Tz, t: DateTime<Utc>) -> Result<i64> {
        let mut index = self.period_index(local(tz, t)) - 1;
        while self.instant(tz, index)? < t {
            index += 1;
        }
        Ok(index)
    }

    /// An index near the period holding the local time `naive` (periodic cadences).
    fn period_index(&self, naive: NaiveDateTime) -> i64 {
        let days = i64::from(naive.date().num_days_from_ce());
        match self {
            Self::Weekly { weekday, .. } => (days - i64::from(*weekday)).div_euclid(7),
            Self::Monthly { .. } => i64::from(naive.year()) * 12 + i64::from(naive.month0()),
            _ => days,
        }
    }

    /// The instant of the `index`-th tick (periodic cadences).
    fn instant(&self, tz: Tz, index: i64) -> Result<DateTime<Utc>> {
        let (date, hour, minute) = match self {
            Self::Daily { hour, minute } => (from_ce(index), *hour, *minute),
            Self::Weekly {
                weekday,
                hour,
                minute,
            } => (from_ce(index * 7 + i64::from(*weekday)), *hour, *minute),
            Self::Monthly { day, hour, minute } => (month_day(index, *day), *hour, *minute),
            Self::Hourly { .. } | Self::Cron(_) => (None, 0, 0),
        };
        let time = NaiveTime::from_hms_opt(hour, minute, 0);
        match (date, time) {
            (Some(date), Some(time)) => Ok(earliest(tz, date.and_time(time))),
            _ => Err(PartitionsError::InvalidDefinition(format!(
                "tick {index} of {self:?} is outside the supported calendar"
            ))),
        }
    }
}

fn from_ce(days: i64) -> Option<NaiveDate> {
    NaiveDate::from_num_days_from_ce_opt(i32::try_from(days).ok()?)
}

fn month_day(index: i64, day: u32) -> Option<NaiveDate> {
    let year = i32::try_from(index.div_euclid(12)).ok()?;
    let month = u32::try_from(index.rem_euclid(12)).ok()? + 1;
    NaiveDate::from_ymd_opt(year, month, day)
}

/// The first instant at or after `t` whose local minute is `minute` (seconds 0).
fn hourly_at_or_after(tz: Tz, minute: u32, t: DateTime<Utc>) -> DateTime<Utc> {
    let mut probe = t;
    let mut candidate = t;
    for _ in 0..3 {
        let offset = i64::from(probe.with_timezone(&tz).offset().fix().local_minus_utc());
        let phase = (i64::from(minute) * 60 - offset).rem_euclid(HOUR);
        let seconds = t.timestamp() + i64::from(t.timestamp_subsec_nanos() > 0);
        let start = seconds + (phase - seconds).rem_euclid(HOUR);
        candidate = DateTime::from_timestamp(start, 0).unwrap_or(t);
        if local(tz, candidate).minute() == minute {
            break;
        }
        probe = candidate;
    }
    candidate
}

fn cron_at_or_after(cron: &CronSchedule, tz: Tz, t: DateTime<Utc>) -> Result<DateTime<Utc>> {
    let mut from = local(tz, t) - TimeDelta::hours(FOLD_SLACK_HOURS);
    loop {
        let naive = cron.next_naive(from).ok_or_else(|| never_fires(cron))?;
        if let Some(tick) = instants(cron, tz, naive).into_iter().find(|i| *i >= t) {
            return Ok(tick);
        }
        from = naive + TimeDelta::minutes(1);
    }
}

fn cron_before(cron: &CronSchedule, tz: Tz, t: DateTime<Utc>) -> Result<DateTime<Utc>> {
    let mut before = local(tz, t) + TimeDelta::hours(FOLD_SLACK_HOURS);
    loop {
        let naive = cron.prev_naive(before).ok_or_else(|| never_fires(cron))?;
        if let Some(tick) = instants(cron, tz, naive).into_iter().rev().find(|i| *i < t) {
            return Ok(tick);
        }
        before = naive;
    }
}

/// The instants a cron tick at local time `naive` fires at.
fn instants(cron: &CronSchedule, tz: Tz, naive: NaiveDateTime) -> Vec<DateTime<Utc>> {
    if cron.every_hour() {
        all(tz, naive)
    } else {
        vec![earliest(tz, naive)]
    }
}

fn never_fires(cron: &CronSchedule) -> PartitionsError {
    PartitionsError::InvalidCron {
        schedule: format!("{cron:?}"),
        reason: "the schedule never fires within nine years of the requested time".to_owned(),
    }
}
