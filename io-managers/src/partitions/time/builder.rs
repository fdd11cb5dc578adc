//! [`TimeWindowPartitionsBuilder`] and the hourly/daily/weekly/monthly constructors.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::cadence::Cadence;
use super::cron::CronSchedule;
use super::definition::TimeWindowPartitionsDefinition;
use super::exclusion::Exclusion;
use super::format::{check_format, parse_date};
use crate::partitions::error::{PartitionsError, Result};

/// Dagster's default hourly key format (`DEFAULT_HOURLY_FORMAT_WITHOUT_TIMEZONE`).
pub const DEFAULT_HOURLY_FORMAT: &str = "%Y-%m-%d-%H:%M";
/// Dagster's default key format for daily, weekly and monthly partitions.
pub const DEFAULT_DATE_FORMAT: &str = "%Y-%m-%d";
/// How many consecutive ticks after `start` must format to distinct keys that
/// parse back to their own tick.
const FORMAT_CHECK_TICKS: usize = 4;

/// The cadence of a time partitions definition built with offsets, as
/// Dagster's `ScheduleType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScheduleType {
    /// Every hour at `minute_offset`.
    Hourly,
    /// Every day at `hour_offset:minute_offset`.
    Daily,
    /// Every week on `day_offset` (0 = Sunday, the default).
    Weekly,
    /// Every month on day `day_offset` (1, the default, to 31; a day a month
    /// lacks skips that month, as cron does).
    Monthly,
}

/// What the windows are cut by.
#[derive(Debug, Clone)]
enum Schedule {
    Typed(ScheduleType),
    Cron(String),
}

/// A builder of [`TimeWindowPartitionsDefinition`], with Dagster's parameters.
///
/// ```
/// use tessera_io_managers::partitions::{ScheduleType, TimeWindowPartitionsDefinition};
///
/// let def = TimeWindowPartitionsDefinition::builder(ScheduleType::Daily, "2022-01-01")
///     .timezone("America/Chicago")
///     .hour_offset(6)
///     .end_offset(1)
///     .exclude_cron("0 6 * * 0")
///     .build()?;
/// assert_eq!(def.cron_schedule(), "0 6 * * *");
/// # Ok::<(), tessera_io_managers::partitions::PartitionsError>(())
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct TimeWindowPartitionsBuilder {
    schedule: Schedule,
    start: String,
    end: Option<String>,
    timezone: Option<String>,
    fmt: Option<String>,
    end_offset: i64,
    minute_offset: Option<u32>,
    hour_offset: Option<u32>,
    day_offset: Option<u32>,
    exclude_crons: Vec<String>,
    exclude_dates: Vec<String>,
}

impl TimeWindowPartitionsDefinition {
    /// A builder for `schedule` partitions starting at `start` (parsed with
    /// the format, or as `%Y-%m-%d`).
    pub fn builder(schedule: ScheduleType, start: &str) -> TimeWindowPartitionsBuilder {
        TimeWindowPartitionsBuilder::new(Schedule::Typed(schedule), start)
    }

    /// A builder for partitions cut by the ticks of a five-field cron
    /// `schedule`, keys formatted with `fmt`.
    pub fn cron_builder(schedule: &str, start: &str, fmt: &str) -> TimeWindowPartitionsBuilder {
        TimeWindowPartitionsBuilder::new(Schedule::Cron(schedule.to_owned()), start).fmt(fmt)
    }

    /// Partitions cut by a cron `schedule`, in UTC, keys formatted with `fmt`.
    ///
    /// # Errors
    /// As [`TimeWindowPartitionsBuilder::build`].
    pub fn cron(schedule: &str, start: &str, fmt: &str) -> Result<Self> {
        Self::cron_builder(schedule, start, fmt).build()
    }

    /// Hourly partitions in UTC, keys `2022-01-01-05:00`.
    ///
    /// # Errors
    /// As [`TimeWindowPartitionsBuilder::build`].
    pub fn hourly(start: &str) -> Result<Self> {
        Self::builder(ScheduleType::Hourly, start).build()
    }

    /// Daily partitions in UTC, keys `2022-01-01`.
    ///
    /// # Errors
    /// As [`TimeWindowPartitionsBuilder::build`].
    pub fn daily(start: &str) -> Result<Self> {
        Self::builder(ScheduleType::Daily, start).build()
    }

    /// Weekly partitions (Sunday to Sunday) in UTC, keys `2022-01-02`.
    ///
    /// # Errors
    /// As [`TimeWindowPartitionsBuilder::build`].
    pub fn weekly(start: &str) -> Result<Self> {
        Self::builder(ScheduleType::Weekly, start).build()
    }

    /// Monthly partitions (from the 1st) in UTC, keys `2022-01-01`.
    ///
    /// # Errors
    /// As [`TimeWindowPartitionsBuilder::build`].
    pub fn monthly(start: &str) -> Result<Self> {
        Self::builder(ScheduleType::Monthly, start).build()
    }
}

impl TimeWindowPartitionsBuilder {
    fn new(schedule: Schedule, start: &str) -> Self {
        Self {
            schedule,
            start: start.to_owned(),
            end: None,
            timezone: None,
            fmt: None,
            end_offset: 0,
            minute_offset: None,
            hour_offset: None,
            day_offset: None,
            exclude_crons: Vec::new(),
            exclude_dates: Vec::new(),
        }
    }

    /// The exclusive end (parsed as `start`).
    pub fn end(mut self, end: &str) -> Self {
        self.end = Some(end.to_owned());
        self
    }

    /// The IANA timezone (default `UTC`).
    pub fn timezone(mut self, timezone: &str) -> Self {
        self.timezone = Some(timezone.to_owned());
        self
    }

    /// The `strftime` key format.
    pub fn fmt(mut self, fmt: &str) -> Self {
        self.fmt = Some(fmt.to_owned());
        self
    }

    /// Partitions added (positive) or removed (negative) at the end.
    pub fn end_offset(mut self, end_offset: i64) -> Self {
        self.end_offset = end_offset;
        self
    }

    /// The minute of the hour windows start at.
    pub fn minute_offset(mut self, minute: u32) -> Self {
        self.minute_offset = Some(minute);
        self
    }

    /// The hour of the day windows start at (daily, weekly, monthly).
    pub fn hour_offset(mut self, hour: u32) -> Self {
        self.hour_offset = Some(hour);
        self
    }

    /// The day windows start on: weekday (0 = Sunday) or day of month.
    pub fn day_offset(mut self, day: u32) -> Self {
        self.day_offset = Some(day);
        self
    }

    /// Removes every window starting on a tick of the cron `schedule`.
    pub fn exclude_cron(mut self, schedule: &str) -> Self {
        self.exclude_crons.push(schedule.to_owned());
        self
    }

    /// Removes the window starting at `date` (parsed as `start`).
    pub fn exclude_date(mut self, date: &str) -> Self {
        self.exclude_dates.push(date.to_owned());
        self
    }

    /// The definition.
    ///
    /// # Errors
    /// [`PartitionsError::UnknownTimezone`], [`PartitionsError::MalformedDate`]
    /// for `start`, `end` or an excluded date, [`PartitionsError::StartAfterEnd`]
    /// when `end` is not after `start`, [`PartitionsError::InvalidCron`],
    /// [`PartitionsError::InvalidFormat`] (also when the format cannot tell
    /// consecutive windows apart), and [`PartitionsError::InvalidDefinition`]
    /// for an offset out of range or offsets with a cron schedule.
    pub fn build(self) -> Result<TimeWindowPartitionsDefinition> {
        let timezone = parse_timezone(self.timezone.as_deref().unwrap_or("UTC"))?;
        let cron_schedule = self.cron_schedule()?;
        let fmt = self
            .fmt
            .clone()
            .unwrap_or_else(|| self.default_format().to_owned());
        check_format(&fmt)?;
        let start = parse_date(timezone, &fmt, &self.start)?;
        let end = self
            .end
            .as_deref()
            .map(|e| parse_date(timezone, &fmt, e))
            .transpose()?;
        if let Some(end_at) = end.filter(|e| *e <= start) {
            return Err(PartitionsError::StartAfterEnd {
                start: self.start.clone(),
                end: self.end.clone().unwrap_or_else(|| end_at.to_string()),
            });
        }
        let mut exclusions = self
            .exclude_crons
            .iter()
            .map(|c| Exclusion::cron(c))
            .collect::<Result<Vec<_>>>()?;
        for date in &self.exclude_dates {
            exclusions.push(Exclusion::At(parse_date(timezone, &fmt, date)?));
        }
        let def = TimeWindowPartitionsDefinition {
            start,
            end,
            timezone,
            cadence: cadence_of(&cron_schedule)?,
            cron_schedule,
            fmt,
            end_offset: self.end_offset,
            exclusions,
        };
        check_distinct_keys(&def)?;
        Ok(def)
    }

    fn default_format(&self) -> &'static str {
        match self.schedule {
            Schedule::Typed(ScheduleType::Hourly) => DEFAULT_HOURLY_FORMAT,
            _ => DEFAULT_DATE_FORMAT,
        }
    }

    /// The cron string of a typed schedule and its offsets.
    fn cron_schedule(&self) -> Result<String> {
        let minute = bounded("minute_offset", self.minute_offset.unwrap_or(0), 0, 59)?;
        let hour = bounded("hour_offset", self.hour_offset.unwrap_or(0), 0, 23)?;
        let typed = match &self.schedule {
            Schedule::Cron(cron) => {
                let offsets = [self.minute_offset, self.hour_offset, self.day_offset];
                if offsets.iter().any(Option::is_some) {
                    return Err(PartitionsError::InvalidDefinition(
                        "a cron schedule cannot be combined with minute, hour or day offsets"
                            .to_owned(),
                    ));
                }
                return Ok(cron.clone());
            }
            Schedule::Typed(typed) => *typed,
        };
        let unused = |name: &str| {
            PartitionsError::InvalidDefinition(format!("{typed:?} partitions take no {name}"))
        };
        match typed {
            ScheduleType::Hourly if self.hour_offset.is_some() => Err(unused("hour_offset")),
            ScheduleType::Hourly | ScheduleType::Daily if self.day_offset.is_some() => {
                Err(unused("day_offset"))
            }
            ScheduleType::Hourly => Ok(format!("{minute} * * * *")),
            ScheduleType::Daily => Ok(format!("{minute} {hour} * * *")),
            ScheduleType::Weekly => {
                let day = bounded("day_offset", self.day_offset.unwrap_or(0), 0, 6)?;
                Ok(format!("{minute} {hour} * * {day}"))
            }
            ScheduleType::Monthly => {
                let day = bounded("day_offset", self.day_offset.unwrap_or(1), 1, 31)?;
                Ok(format!("{minute} {hour} {day} * *"))
            }
        }
    }
}

fn bounded(name: &str, value: u32, min: u32, max: u32) -> Result<u32> {
    if (min..=max).contains(&value) {
        Ok(value)
    } else {
        Err(PartitionsError::InvalidDefinition(format!(
            "{name} {value} is outside {min}..={max}"
        )))
    }
}

/// Parses an IANA timezone name.
///
/// # Errors
/// [`PartitionsError::UnknownTimezone`].
pub fn parse_timezone(name: &str) -> Result<Tz> {
    name.parse::<Tz>()
        .map_err(|_| PartitionsError::UnknownTimezone(name.to_owned()))
}

/// The cadence of a cron string: the O(1) hourly, daily, weekly or monthly
/// forms when the string is one of Dagster's, else a general schedule.
fn cadence_of(schedule: &str) -> Result<Cadence> {
    let parsed = CronSchedule::parse(schedule)?;
    let fields: Vec<Option<u32>> = schedule
        .split_whitespace()
        .map(|f| f.parse().ok())
        .collect();
    let star: Vec<bool> = schedule.split_whitespace().map(|f| f == "*").collect();
    Ok(match (fields.as_slice(), star.as_slice()) {
        ([Some(minute), ..], [_, true, true, true, true]) => Cadence::Hourly { minute: *minute },
        ([Some(minute), Some(hour), ..], [_, _, true, true, true]) => Cadence::Daily {
            hour: *hour,
            minute: *minute,
        },
        ([Some(minute), Some(hour), _, _, Some(weekday)], [_, _, true, true, _]) => {
            Cadence::Weekly {
                weekday: weekday % 7,
                hour: *hour,
                minute: *minute,
            }
        }
        ([Some(minute), Some(hour), Some(day), ..], [_, _, _, true, true]) if *day <= 28 => {
            Cadence::Monthly {
                day: *day,
                hour: *hour,
                minute: *minute,
            }
        }
        _ => Cadence::Cron(parsed),
    })
}

/// Checks that consecutive windows after `start` get distinct keys that parse
/// back to their own tick (Dagster's check that `fmt` is not coarser than the
/// schedule).
fn check_distinct_keys(def: &TimeWindowPartitionsDefinition) -> Result<()> {
    let mut tick: DateTime<Utc> = def.tick_at_or_after(def.start)?;
    for _ in 0..FORMAT_CHECK_TICKS {
        let key = def.key_of(tick)?;
        let next = def.next_tick(tick)?;
        let same_as_next = def.key_of(next)? == key;
        let back = super::format::parse_key(def.timezone, &def.fmt, &key)
            .ok()
            .map(|parsed| def.tick_at_or_after(parsed))
            .transpose()?;
        if same_as_next || back != Some(tick) {
            return Err(PartitionsError::InvalidFormat {
                fmt: def.fmt.clone(),
                reason: format!(
                    "the window starting {tick} gets key {key:?}, which does not identify it \
                     (the format is coarser than the schedule {:?})",
                    def.cron_schedule
                ),
            });
        }
        tick = next;
    }
    Ok(())
}
