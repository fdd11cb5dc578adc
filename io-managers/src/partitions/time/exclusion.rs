//! [`Exclusion`]: ticks removed from a time partitions definition.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::cadence::Cadence;
use super::cron::CronSchedule;
use crate::partitions::error::Result;

/// A tick removed from the keys: every tick of a cron schedule (`"0 0 * * 6"`
/// removes Saturdays), or one instant.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Exclusion {
    /// The ticks of a schedule.
    Cron(Cadence),
    /// One instant.
    At(DateTime<Utc>),
}

impl Exclusion {
    /// A cron exclusion.
    pub(crate) fn cron(schedule: &str) -> Result<Self> {
        Ok(Self::Cron(Cadence::Cron(CronSchedule::parse(schedule)?)))
    }

    /// Whether the window starting at `tick` is excluded.
    pub(crate) fn excludes(&self, tz: Tz, tick: DateTime<Utc>) -> Result<bool> {
        match self {
            Self::At(at) => Ok(*at == tick),
            Self::Cron(cadence) => Ok(cadence.next_at_or_after(tz, tick)? == tick),
        }
    }

    /// Adds to `out` the excluded ticks of `cadence` in `[a, b)`.
    pub(crate) fn collect(
        &self,
        tz: Tz,
        cadence: &Cadence,
        (a, b): (DateTime<Utc>, DateTime<Utc>),
        out: &mut BTreeSet<DateTime<Utc>>,
    ) -> Result<()> {
        match self {
            Self::At(at) => {
                if a <= *at && *at < b && cadence.next_at_or_after(tz, *at)? == *at {
                    out.insert(*at);
                }
            }
            Self::Cron(exclusion) => {
                let mut t = exclusion.next_at_or_after(tz, a)?;
                while t < b {
                    if cadence.next_at_or_after(tz, t)? == t {
                        out.insert(t);
                    }
                    t = exclusion.next_after(tz, t)?;
                }
            }
        }
        Ok(())
    }
}
