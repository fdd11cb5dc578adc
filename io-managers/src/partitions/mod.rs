//! Partitions definitions and partition mappings, with Dagster's semantics.
//!
//! A [`PartitionsDefinition`] says which partition keys an asset has (static,
//! time windows, dynamic, multi); a [`PartitionMapping`] says which upstream
//! partitions a downstream partition reads, and back. Everything that depends
//! on the clock or on dynamic partitions takes a [`PartitionContext`], so
//! evaluation is deterministic.
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use tessera_io_managers::partitions::{
//!     PartitionContext, PartitionMapping, PartitionsDefinition, ScheduleType,
//!     TimeWindowPartitionsDefinition, infer_partition_mapping,
//! };
//!
//! let hourly: PartitionsDefinition = TimeWindowPartitionsDefinition::hourly("2022-01-01-00:00")?.into();
//! let daily: PartitionsDefinition = TimeWindowPartitionsDefinition::daily("2022-01-01")?.into();
//! let ctx = PartitionContext::at(Utc.with_ymd_and_hms(2022, 1, 3, 12, 30, 0).single().expect("valid"));
//!
//! // A partition exists once its window has ended: today is not a key yet.
//! assert_eq!(daily.keys(&ctx)?, ["2022-01-01", "2022-01-02"]);
//!
//! // The default mapping from hourly to daily: the 24 hours of the day.
//! let mapping = infer_partition_mapping(Some(&hourly), Some(&daily))?;
//! let up = mapping.upstream_for_downstream(&["2022-01-02".to_owned()], Some(&daily), &hourly, &ctx)?;
//! assert_eq!(up.keys.len(), 24);
//! assert_eq!(up.keys[0], "2022-01-02-00:00");
//!
//! // A one-day lag over a Chicago daily asset without Sundays (2022-01-02 is one).
//! let chicago: PartitionsDefinition = TimeWindowPartitionsDefinition::builder(ScheduleType::Daily, "2022-01-01")
//!     .timezone("America/Chicago")
//!     .exclude_cron("0 0 * * 0")
//!     .build()?
//!     .into();
//! assert_eq!(chicago.keys(&ctx)?, ["2022-01-01"]);
//! let lag = PartitionMapping::TimeWindow {
//!     start_offset: -1,
//!     end_offset: 0,
//!     allow_nonexistent_upstream_partitions: false,
//! };
//! let up = lag.upstream_for_downstream(&["2022-01-01".to_owned()], Some(&chicago), &chicago, &ctx)?;
//! assert_eq!(up.keys, ["2022-01-01"]); // clamped at the first partition, as in Dagster
//! # Ok::<(), tessera_io_managers::partitions::PartitionsError>(())
//! ```

mod context;
mod definition;
mod dynamic;
mod error;
mod mapping;
mod multi;
mod static_def;
mod store;
mod subset;
mod time;
mod validate;
mod window;

pub use context::{DynamicPartitionsStore, PartitionContext};
pub use definition::PartitionsDefinition;
pub use dynamic::DynamicPartitionsDefinition;
pub use error::{PartitionsError, Result};
pub use mapping::{
    DimensionPartitionMapping, PartitionMapping, UpstreamPartitions, UpstreamTimeSubsets,
    infer_partition_mapping,
};
pub use multi::{Dimension, MULTIPARTITION_KEY_DELIMITER, MultiPartitionsDefinition};
pub use static_def::StaticPartitionsDefinition;
pub use store::{DYNAMIC_PARTITIONS_ASSET_PREFIX, StoreDynamicPartitions};
pub use subset::TimeWindowPartitionsSubset;
pub use time::{
    CronSchedule, DEFAULT_DATE_FORMAT, DEFAULT_HOURLY_FORMAT, ScheduleType,
    TimeWindowPartitionsBuilder, TimeWindowPartitionsDefinition, parse_timezone,
};
pub use validate::{INVALID_MULTI_DIMENSION_CHARACTERS, INVALID_PARTITION_SUBSTRINGS};
pub use window::TimeWindow;
