//! Where records live: reserved assets of the same store.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use tessera_engine::{AssetKey, Blob, PartitionKey, Payload, Store, WriteBatch};

use super::legacy::{CURRENT_LAYOUT, LAYOUT, MaterializationRecordV1};
use super::record::{FailureRecord, MaterializationRecord, PartitionStatus};
use crate::error::Result;

/// The first component of every asset key Tessera reserves for itself.
pub const RESERVED_PREFIX: &str = "__tessera__";

/// Reads and writes materialization records in a store, under
/// `["__tessera__", "materializations", <asset path>]` (and `"failures"`),
/// one record per partition. Reading a record never touches the value.
#[derive(Debug, Clone)]
pub struct RecordStore {
    store: Arc<Store>,
}

impl RecordStore {
    /// Records kept in `store`.
    pub fn new(store: Arc<Store>) -> Self {
        Self { store }
    }

    /// The latest successful materialization of `(asset, partition)`.
    ///
    /// # Errors
    /// The store's errors (a damaged record is [`tessera_engine::Error::Corrupted`]).
    pub fn materialization(
        &self,
        asset: &AssetKey,
        partition: Option<&str>,
    ) -> Result<Option<MaterializationRecord>> {
        let Some(blob) = self.materialization_blob(asset, partition)? else {
            return Ok(None);
        };
        if is_current(&blob) {
            return Ok(Some(blob.rkyv::<MaterializationRecord>()?.deserialize()?));
        }
        let old = blob.rkyv::<MaterializationRecordV1>()?.deserialize()?;
        Ok(Some(old.into()))
    }

    fn materialization_blob(
        &self,
        asset: &AssetKey,
        partition: Option<&str>,
    ) -> Result<Option<Blob>> {
        Ok(self
            .store
            .get(&namespaced("materializations", asset)?, &key(partition)?)?)
    }

    /// The data version of the latest materialization of `(asset, partition)`,
    /// read from the archived record in place (nothing else is deserialized).
    ///
    /// # Errors
    /// The store's errors.
    pub fn data_version(
        &self,
        asset: &AssetKey,
        partition: Option<&str>,
    ) -> Result<Option<String>> {
        let Some(blob) = self.materialization_blob(asset, partition)? else {
            return Ok(None);
        };
        Ok(Some(if is_current(&blob) {
            let record = blob.rkyv::<MaterializationRecord>()?;
            record.data_version.as_str().to_owned()
        } else {
            let record = blob.rkyv::<MaterializationRecordV1>()?;
            record.data_version.as_str().to_owned()
        }))
    }

    /// The data versions of those of `partitions` that `asset` has
    /// materialized, keyed by partition; a partition never materialized is
    /// absent.
    ///
    /// One range scan over the byte range the keys span finds which exist (for
    /// keys that sort chronologically, as Dagster's default formats do, the
    /// range holds nothing else), then each found record's data version is
    /// read in place. Any number of partitions: there is no threshold.
    ///
    /// # Errors
    /// The store's errors.
    pub fn data_versions(
        &self,
        asset: &AssetKey,
        partitions: &[String],
    ) -> Result<HashMap<String, String>> {
        let (Some(first), Some(last)) = (partitions.iter().min(), partitions.iter().max()) else {
            return Ok(HashMap::new());
        };
        let wanted: HashSet<&str> = partitions.iter().map(String::as_str).collect();
        let materializations = namespaced("materializations", asset)?;
        let range = PartitionKey::new(first.as_str())?..=PartitionKey::new(last.as_str())?;
        let mut versions = HashMap::with_capacity(wanted.len());
        for found in self.store.list_partitions_in(&materializations, range)? {
            let Some(key) = found.as_str().filter(|k| wanted.contains(k)) else {
                continue;
            };
            if let Some(version) = self.data_version(asset, Some(key))? {
                versions.insert(key.to_owned(), version);
            }
        }
        Ok(versions)
    }

    /// The latest failed attempt at `(asset, partition)` since its last success.
    ///
    /// # Errors
    /// The store's errors.
    pub fn failure(
        &self,
        asset: &AssetKey,
        partition: Option<&str>,
    ) -> Result<Option<FailureRecord>> {
        let Some(view) = self
            .store
            .get_rkyv::<FailureRecord>(&namespaced("failures", asset)?, &key(partition)?)?
        else {
            return Ok(None);
        };
        Ok(Some(view.deserialize()?))
    }

    /// Missing, materialized or failed.
    ///
    /// # Errors
    /// The store's errors.
    pub fn status(&self, asset: &AssetKey, partition: Option<&str>) -> Result<PartitionStatus> {
        let failures = namespaced("failures", asset)?;
        if self.store.contains(&failures, &key(partition)?)? {
            return Ok(PartitionStatus::Failed);
        }
        let materializations = namespaced("materializations", asset)?;
        Ok(
            if self.store.contains(&materializations, &key(partition)?)? {
                PartitionStatus::Materialized
            } else {
                PartitionStatus::Missing
            },
        )
    }

    /// Records successful materializations and clears their failures, atomically.
    ///
    /// Only failures that exist are deleted, so the common case (no earlier
    /// failure) is a batch of puts alone: one put is the index's cheapest write.
    ///
    /// # Errors
    /// The store's errors.
    pub fn record_materializations(
        &self,
        asset: &AssetKey,
        records: &[(Option<String>, MaterializationRecord)],
    ) -> Result<()> {
        let materializations = namespaced("materializations", asset)?;
        let failures = namespaced("failures", asset)?;
        let mut batch = WriteBatch::new();
        for (partition, record) in records {
            let partition = key(partition.as_deref())?;
            let payload = Payload::rkyv(record)?.with_metadata(LAYOUT, CURRENT_LAYOUT);
            batch.put(&materializations, &partition, payload);
            if self.store.contains(&failures, &partition)? {
                batch.delete(&failures, &partition);
            }
        }
        Ok(self.store.write(batch)?)
    }

    /// Records a failed attempt.
    ///
    /// # Errors
    /// The store's errors.
    pub fn record_failure(
        &self,
        asset: &AssetKey,
        partition: Option<&str>,
        record: &FailureRecord,
    ) -> Result<()> {
        self.store
            .put_rkyv(&namespaced("failures", asset)?, &key(partition)?, record)?;
        Ok(())
    }

    /// Wipes `partitions` of `asset` (Dagster's wipe): their stored values,
    /// materialization records and failures go in one atomic batch, so the
    /// partitions read as never materialized. Returns how many of them held
    /// a value or a record.
    ///
    /// # Errors
    /// The store's errors (nothing is wiped then).
    pub fn wipe(&self, asset: &AssetKey, partitions: &[PartitionKey]) -> Result<usize> {
        let materializations = namespaced("materializations", asset)?;
        let failures = namespaced("failures", asset)?;
        let mut batch = WriteBatch::new();
        let mut wiped = 0;
        for partition in partitions {
            let mut held = false;
            for owner in [asset, &materializations, &failures] {
                if self.store.contains(owner, partition)? {
                    batch.delete(owner, partition);
                    held = true;
                }
            }
            wiped += usize::from(held);
        }
        self.store.write(batch)?;
        Ok(wiped)
    }

    /// The partitions of `asset` with a successful materialization.
    ///
    /// # Errors
    /// The store's errors.
    pub fn materialized_partitions(&self, asset: &AssetKey) -> Result<Vec<PartitionKey>> {
        Ok(self
            .store
            .list_partitions(&namespaced("materializations", asset)?)?)
    }
}

/// Whether a record blob has the current layout (see [`LAYOUT`]).
fn is_current(blob: &Blob) -> bool {
    blob.meta().metadata.get(LAYOUT).map(String::as_str) == Some(CURRENT_LAYOUT)
}

fn namespaced(kind: &str, asset: &AssetKey) -> Result<AssetKey> {
    Ok(asset.with_prefix([RESERVED_PREFIX, kind])?)
}

fn key(partition: Option<&str>) -> Result<PartitionKey> {
    Ok(match partition {
        Some(partition) => PartitionKey::new(partition)?,
        None => PartitionKey::unpartitioned(),
    })
}
