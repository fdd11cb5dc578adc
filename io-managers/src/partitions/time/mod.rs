//! Time-window partitions: schedules, keys and windows.

mod builder;
mod cadence;
mod cron;
mod definition;
mod exclusion;
mod format;
mod resolve;

pub use builder::{
    DEFAULT_DATE_FORMAT, DEFAULT_HOURLY_FORMAT, ScheduleType, TimeWindowPartitionsBuilder,
    parse_timezone,
};
pub use cron::CronSchedule;
pub use definition::TimeWindowPartitionsDefinition;
