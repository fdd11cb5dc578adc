//! [`TimeWindowPartitionsDefinition`]: keys, windows and their ordering.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::cadence::Cadence;
use super::exclusion::Exclusion;
use super::format::{format_key, parse_key};
use crate::partitions::error::{PartitionsError, Result};
use crate::partitions::window::TimeWindow;

/// The most consecutive excluded ticks skipped before giving up.
const MAX_EXCLUDED_RUN: usize = 100_000;

/// Partitions that are the windows between consecutive ticks of a schedule,
/// as Dagster's `TimeWindowPartitionsDefinition`.
///
/// The key of a window is `strftime(window.start, fmt)` in the timezone (plus
/// Dagster's `-0800`-style suffix on the second occurrence of a repeated hour).
/// The first partition is the first tick at or after `start`; a partition
/// exists once its window has ended (`end_offset` adds or removes partitions
/// at the end) and, with an `end`, only if it ends by then. Keys order
/// chronologically. Build one with [`TimeWindowPartitionsDefinition::daily`]
/// and friends or [`TimeWindowPartitionsDefinition::builder`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TimeWindowPartitionsDefinition {
    pub(crate) start: DateTime<Utc>,
    pub(crate) end: Option<DateTime<Utc>>,
    pub(crate) timezone: Tz,
    pub(crate) fmt: String,
    pub(crate) end_offset: i64,
    pub(crate) cron_schedule: String,
    pub(crate) cadence: Cadence,
    pub(crate) exclusions: Vec<Exclusion>,
}

impl TimeWindowPartitionsDefinition {
    /// The `start` bound, in the definition's timezone.
    #[must_use]
    pub fn start(&self) -> DateTime<Tz> {
        self.start.with_timezone(&self.timezone)
    }

    /// The exclusive `end` bound, if any.
    #[must_use]
    pub fn end(&self) -> Option<DateTime<Tz>> {
        self.end.map(|e| e.with_timezone(&self.timezone))
    }

    /// The timezone windows and keys are computed in.
    #[must_use]
    pub fn timezone(&self) -> Tz {
        self.timezone
    }

    /// The `strftime` format of the keys.
    #[must_use]
    pub fn fmt(&self) -> &str {
        &self.fmt
    }

    /// The cron schedule whose ticks start the windows.
    #[must_use]
    pub fn cron_schedule(&self) -> &str {
        &self.cron_schedule
    }

    /// Partitions added (positive) or removed (negative) at the end.
    #[must_use]
    pub fn end_offset(&self) -> i64 {
        self.end_offset
    }

    /// Whether the schedule fires at least hourly.
    #[must_use]
    pub fn is_sub_daily(&self) -> bool {
        self.cadence.sub_daily()
    }

    /// The window of `key`, checked strictly: the key must be exactly how the
    /// definition formats one of its ticks, not excluded, and within `start`
    /// and `end`. Whether the window has ended yet is not checked (see
    /// [`TimeWindowPartitionsDefinition::contains`]).
    ///
    /// # Errors
    /// [`PartitionsError::MalformedKey`] or [`PartitionsError::KeyNotFound`].
    pub fn time_window_for_key(&self, key: &str) -> Result<TimeWindow> {
        let tick = self.tick_of(key)?;
        Ok(self.window(tick, self.next_tick(tick)?))
    }

    /// The key of the partition whose window contains `instant`, whether or
    /// not that partition exists yet; `None` before the first tick or in an
    /// excluded window.
    ///
    /// # Errors
    /// [`PartitionsError::InvalidCron`] when the schedule never fires.
    pub fn key_for_instant(&self, instant: DateTime<Utc>) -> Result<Option<String>> {
        let tick = self.cadence.at_or_before(self.timezone, instant)?;
        if tick < self.start || self.is_excluded(tick)? {
            return Ok(None);
        }
        self.key_of(tick).map(Some)
    }

    /// The first partition's window at `now`, if any partition exists.
    ///
    /// # Errors
    /// As [`TimeWindowPartitionsDefinition::keys`].
    pub fn first_window(&self, now: DateTime<Utc>) -> Result<Option<TimeWindow>> {
        self.span(now)?
            .map(|(first, _)| Ok(self.window(first, self.next_tick(first)?)))
            .transpose()
    }

    /// The last partition's window at `now`, if any partition exists.
    ///
    /// # Errors
    /// As [`TimeWindowPartitionsDefinition::keys`].
    pub fn last_window(&self, now: DateTime<Utc>) -> Result<Option<TimeWindow>> {
        self.span(now)?
            .map(|(_, last)| Ok(self.window(last, self.next_tick(last)?)))
            .transpose()
    }

    /// Every key at `now`, chronologically.
    ///
    /// # Errors
    /// [`PartitionsError::InvalidCron`] when the schedule stops firing.
    pub fn keys(&self, now: DateTime<Utc>) -> Result<Vec<String>> {
        match self.span(now)? {
            Some((first, last)) => self.keys_between(first, self.next_tick(last)?),
            None => Ok(Vec::new()),
        }
    }

    /// The number of keys at `now`, computed without formatting them: O(1)
    /// for hourly, daily, weekly and monthly schedules without exclusions.
    ///
    /// # Errors
    /// As [`TimeWindowPartitionsDefinition::keys`].
    pub fn key_count(&self, now: DateTime<Utc>) -> Result<usize> {
        match self.span(now)? {
            Some((first, last)) => self.count_between(first, self.next_tick(last)?),
            None => Ok(0),
        }
    }

    /// Whether `key` is a key at `now`. A malformed key is not.
    ///
    /// # Errors
    /// As [`TimeWindowPartitionsDefinition::keys`].
    pub fn contains(&self, key: &str, now: DateTime<Utc>) -> Result<bool> {
        let Ok(tick) = self.tick_of(key) else {
            return Ok(false);
        };
        Ok(self
            .span(now)?
            .is_some_and(|(first, last)| first <= tick && tick <= last))
    }

    /// The keys from `first` to `last` inclusive, chronologically.
    ///
    /// # Errors
    /// [`PartitionsError::KeyNotFound`] when either is not a key at `now`,
    /// [`PartitionsError::StartAfterEnd`] when `first` comes after `last`.
    pub fn keys_in_range(
        &self,
        first: &str,
        last: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<String>> {
        let (a, b) = (
            self.existing_tick(first, now)?,
            self.existing_tick(last, now)?,
        );
        if a > b {
            return Err(PartitionsError::StartAfterEnd {
                start: first.to_owned(),
                end: last.to_owned(),
            });
        }
        self.keys_between(a, self.next_tick(b)?)
    }

    /// The tick of a key that exists at `now`.
    pub(crate) fn existing_tick(&self, key: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>> {
        let tick = self.tick_of(key)?;
        match self.span(now)? {
            Some((first, last)) if first <= tick && tick <= last => Ok(tick),
            _ => Err(self.not_found(key)),
        }
    }

    /// The tick a key names: the first tick at or after the time it parses to,
    /// whose key must be exactly `key` (see [`Self::time_window_for_key`]).
    pub(crate) fn tick_of(&self, key: &str) -> Result<DateTime<Utc>> {
        let malformed = |reason: String| PartitionsError::MalformedKey {
            key: key.to_owned(),
            fmt: self.fmt.clone(),
            reason,
        };
        let parsed = parse_key(self.timezone, &self.fmt, key).map_err(malformed)?;
        let tick = self.tick_at_or_after(parsed)?;
        if self.key_of(tick)? != key {
            return Err(malformed(format!(
                "the key of that window is {:?}",
                self.key_of(tick)?
            )));
        }
        if self.is_excluded(tick)? {
            return Err(malformed("that window is excluded".to_owned()));
        }
        let ends_in_time = self
            .end
            .is_none_or(|end| self.next_tick(tick).is_ok_and(|e| e <= end));
        if tick < self.start || !ends_in_time {
            return Err(self.not_found(key));
        }
        Ok(tick)
    }

    pub(crate) fn not_found(&self, key: &str) -> PartitionsError {
        PartitionsError::KeyNotFound {
            key: key.to_owned(),
            definition: format!("time window ({:?}, {})", self.cron_schedule, self.timezone),
        }
    }

    /// The key of the window starting at `tick`.
    pub(crate) fn key_of(&self, tick: DateTime<Utc>) -> Result<String> {
        format_key(self.timezone, &self.fmt, tick)
    }

    /// The window `[start, end)` shown in the definition's timezone.
    pub(crate) fn window(&self, start: DateTime<Utc>, end: DateTime<Utc>) -> TimeWindow {
        TimeWindow::from_utc(start, end, self.timezone)
    }

    /// The schedule tick after `tick` (the end of its window).
    pub(crate) fn next_tick(&self, tick: DateTime<Utc>) -> Result<DateTime<Utc>> {
        self.cadence.next_after(self.timezone, tick)
    }

    /// The tick at or after `t`.
    pub(crate) fn tick_at_or_after(&self, t: DateTime<Utc>) -> Result<DateTime<Utc>> {
        self.cadence.next_at_or_after(self.timezone, t)
    }

    /// The tick at or before `t`.
    pub(crate) fn tick_at_or_before(&self, t: DateTime<Utc>) -> Result<DateTime<Utc>> {
        self.cadence.at_or_before(self.timezone, t)
    }

    /// The tick `n` schedule ticks from `tick`, excluded ticks included.
    pub(crate) fn step(&self, tick: DateTime<Utc>, n: i64) -> Result<DateTime<Utc>> {
        self.cadence.step(self.timezone, tick, n)
    }

    /// `t` moved over `n` existing windows, as Dagster's offsets move
    /// (`_offsetted_datetime`): backwards, the start of the `|n|`-th
    /// non-excluded window ending at or before `t`; forwards, the end of the
    /// `n`-th non-excluded window starting at or after `t`. Excluded windows
    /// are not partitions, so they are not counted: one day back from a
    /// Monday without weekends is the Friday.
    pub(crate) fn offset_windows(&self, t: DateTime<Utc>, n: i64) -> Result<DateTime<Utc>> {
        if self.exclusions.is_empty() && self.tick_at_or_after(t)? == t {
            return self.step(t, n);
        }
        let mut at = t;
        for _ in 0..n.unsigned_abs() {
            at = if n < 0 {
                let end = self.tick_at_or_before(at)?;
                self.skip_excluded(self.step(end, -1)?, -1)?
            } else {
                let start = self.skip_excluded(self.tick_at_or_after(at)?, 1)?;
                self.next_tick(start)?
            };
        }
        Ok(at)
    }

    /// Whether the window starting at `tick` is excluded.
    pub(crate) fn is_excluded(&self, tick: DateTime<Utc>) -> Result<bool> {
        for exclusion in &self.exclusions {
            if exclusion.excludes(self.timezone, tick)? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The keys of the non-excluded ticks in `[a, b)`.
    pub(crate) fn keys_between(&self, a: DateTime<Utc>, b: DateTime<Utc>) -> Result<Vec<String>> {
        let mut keys = Vec::new();
        let mut tick = self.tick_at_or_after(a)?;
        while tick < b {
            if !self.is_excluded(tick)? {
                keys.push(self.key_of(tick)?);
            }
            tick = self.step(tick, 1)?;
        }
        Ok(keys)
    }

    /// The number of non-excluded ticks in `[a, b)`.
    pub(crate) fn count_between(&self, a: DateTime<Utc>, b: DateTime<Utc>) -> Result<usize> {
        let all = self.cadence.count(self.timezone, a, b)?;
        let mut excluded = BTreeSet::new();
        for exclusion in &self.exclusions {
            exclusion.collect(self.timezone, &self.cadence, (a, b), &mut excluded)?;
        }
        let count = all.saturating_sub(excluded.len() as u64);
        Ok(usize::try_from(count).unwrap_or(usize::MAX))
    }

    /// The first and last ticks that are keys at `now`, if any.
    pub(crate) fn span(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Option<(DateTime<Utc>, DateTime<Utc>)>> {
        if self.end.is_some_and(|end| end <= self.start) {
            return Ok(None);
        }
        let first = self.skip_excluded(self.tick_at_or_after(self.start)?, 1)?;
        let last = self.last_tick(now)?;
        Ok((last >= first).then_some((first, last)))
    }

    /// The start of the last partition at `now`, following Dagster: the last
    /// window that has ended by `now`, moved by `end_offset` windows, and no
    /// later than the last window that ends by `end`.
    fn last_tick(&self, now: DateTime<Utc>) -> Result<DateTime<Utc>> {
        if self.end_offset == 0 {
            let bound = self.end.map_or(now, |end| end.min(now));
            return self.last_ended_by(bound);
        }
        let mut tick = self.last_ended_by(now)?;
        let direction = self.end_offset.signum();
        for _ in 0..self.end_offset.unsigned_abs() {
            tick = self.skip_excluded(self.step(tick, direction)?, direction)?;
        }
        match self.end {
            Some(end) => Ok(tick.min(self.last_ended_by(end)?)),
            None => Ok(tick),
        }
    }

    /// The start of the last non-excluded window ending at or before `t`.
    fn last_ended_by(&self, t: DateTime<Utc>) -> Result<DateTime<Utc>> {
        let end = self.tick_at_or_before(t)?;
        self.skip_excluded(self.step(end, -1)?, -1)
    }

    /// `tick`, or the first non-excluded tick from it in `direction` (±1).
    fn skip_excluded(&self, mut tick: DateTime<Utc>, direction: i64) -> Result<DateTime<Utc>> {
        for _ in 0..MAX_EXCLUDED_RUN {
            if !self.is_excluded(tick)? {
                return Ok(tick);
            }
            tick = self.step(tick, direction)?;
        }
        Err(PartitionsError::InvalidDefinition(format!(
            "the exclusions remove more than {MAX_EXCLUDED_RUN} consecutive ticks of {:?}",
            self.cron_schedule
        )))
    }
}
