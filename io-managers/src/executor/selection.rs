//! `only_missing_or_stale`: which partitions a run must materialize again.
//!
//! A partition is selected when its manager finds no value, or a damaged one;
//! when its latest run failed; or when it is missing or stale by its records
//! (code version, upstream data versions). A record that cannot be read
//! counts as missing: the partition is selected with a warning and the run
//! goes on.

use chrono::{DateTime, Utc};

use super::asset::AssetDefinition;
use super::definitions::Definitions;
use crate::error::{Error, Result};
use crate::manager::StoredValue;
use crate::records::{PartitionStatus, StalenessResolver};

/// Decides, partition by partition, what `only_missing_or_stale` runs, and
/// keeps the warnings of the records it could not read.
pub(crate) struct MissingOrStale<'a> {
    definitions: &'a Definitions,
    staleness: StalenessResolver<'a>,
    warnings: Vec<String>,
}

impl<'a> MissingOrStale<'a> {
    pub(crate) fn new(definitions: &'a Definitions, now: DateTime<Utc>) -> Self {
        Self {
            definitions,
            staleness: StalenessResolver::new(definitions, now),
            warnings: Vec::new(),
        }
    }

    /// Whether `(asset, partition)` must be materialized again.
    ///
    /// # Errors
    /// Only errors that are not about this partition's stored data (an
    /// unknown manager, a partition mapping that fails).
    pub(crate) fn is_wanted(
        &mut self,
        asset: &AssetDefinition,
        partition: Option<&str>,
    ) -> Result<bool> {
        Ok(self.latest_run_failed(asset, partition)?
            || self.value_is_missing(asset, partition)?
            || !self.is_fresh(asset, partition)?)
    }

    /// The warnings gathered so far.
    pub(crate) fn into_warnings(self) -> Vec<String> {
        self.warnings
    }

    fn latest_run_failed(
        &mut self,
        asset: &AssetDefinition,
        partition: Option<&str>,
    ) -> Result<bool> {
        match self.definitions.records.status(&asset.key, partition) {
            Ok(status) => Ok(status == PartitionStatus::Failed),
            Err(error) => self.unreadable(asset, partition, error),
        }
    }

    fn value_is_missing(
        &mut self,
        asset: &AssetDefinition,
        partition: Option<&str>,
    ) -> Result<bool> {
        let manager = self
            .definitions
            .managers
            .io_manager(&asset.io_manager_key)?;
        match manager.stored_value_state(&asset.key, partition)? {
            StoredValue::Intact | StoredValue::Unknown => Ok(false),
            StoredValue::Absent => Ok(true),
            StoredValue::Damaged(reason) => {
                self.warnings.push(format!(
                    "{}: the stored value is damaged, materializing it again ({reason})",
                    describe(asset, partition)
                ));
                Ok(true)
            }
        }
    }

    fn is_fresh(&mut self, asset: &AssetDefinition, partition: Option<&str>) -> Result<bool> {
        match self.staleness.status(&asset.key, partition) {
            Ok(status) => Ok(status.is_fresh()),
            Err(error) => self
                .unreadable(asset, partition, error)
                .map(|wanted| !wanted),
        }
    }

    /// A record that cannot be read (damaged, or not a record) makes the
    /// partition count as missing; any other error stops the planning.
    fn unreadable(
        &mut self,
        asset: &AssetDefinition,
        partition: Option<&str>,
        error: Error,
    ) -> Result<bool> {
        if !matches!(error, Error::Engine(_)) {
            return Err(error);
        }
        self.warnings.push(format!(
            "{}: a materialization record cannot be read, counting it as missing ({error})",
            describe(asset, partition)
        ));
        Ok(true)
    }
}

/// `asset` or `asset partition`, for warnings.
fn describe(asset: &AssetDefinition, partition: Option<&str>) -> String {
    match partition {
        Some(partition) => format!("{} {partition}", asset.key),
        None => asset.key.to_string(),
    }
}
