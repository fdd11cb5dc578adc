//! Materialization records: what was materialized, when, from what, and with
//! which versions; kept in the store apart from the values, as Dagster's event
//! log is kept apart from its I/O managers.

mod legacy;
mod record;
mod staleness;
mod store;
mod version;

pub use record::{FailureRecord, InputProvenance, MaterializationRecord, PartitionStatus};
pub(crate) use staleness::StalenessResolver;
pub use staleness::{StaleCause, StaleCauseCategory, StalePartition, StaleStatus};
pub use store::{RESERVED_PREFIX, RecordStore};
pub use version::{
    DEFAULT_DATA_VERSION, NULL_DATA_VERSION, data_version_from_inputs,
    partitioned_input_data_version,
};
