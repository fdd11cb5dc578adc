//! Versions: every put of a partition is one, readable back while the
//! retention policy keeps it.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::{Inner, Store};
use crate::blob::Blob;
use crate::error::{Error, Result};
use crate::key::{AssetKey, PartitionKey, encoding};
use crate::record::{Record, RecordMeta};

/// One retained version of a partition, as [`Store::history`] lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionInfo {
    /// The version's number ([`RecordMeta::version`]): larger is newer.
    pub version: u64,
    /// What was stored: time, data version, codec, size, checksum, metadata.
    pub meta: RecordMeta,
}

impl Inner {
    /// The versions of `key` the retention policy keeps, newest first, with
    /// their encoded records.
    pub(super) fn retained_versions(
        &self,
        asset: &AssetKey,
        key: &[u8],
    ) -> Result<Vec<(Record, Vec<u8>)>> {
        let retention = self.retention.for_asset(asset);
        let now = (self.clock)();
        let mut retained = Vec::new();
        for (rank, (_, value)) in self.versions(key)?.into_iter().rev().enumerate() {
            let record = Record::decode(&value).map_err(|reason| Error::CorruptIndex {
                reason: format!("a version record of {asset}: {reason}"),
            })?;
            if retention.keeps(rank, record.meta.created_at, now) {
                retained.push((record, value));
            }
        }
        Ok(retained)
    }
}

impl Store {
    /// The retained versions of `(asset, partition)`, newest first (empty if
    /// it holds no value). The newest is what [`Store::get`] reads.
    ///
    /// # Errors
    /// [`Error::CorruptIndex`] for a damaged version record; [`Error::Index`].
    pub fn history(&self, asset: &AssetKey, partition: &PartitionKey) -> Result<Vec<VersionInfo>> {
        let key = encoding::encode(asset, partition);
        Ok(self
            .inner
            .retained_versions(asset, &key)?
            .into_iter()
            .map(|(record, _)| VersionInfo {
                version: record.seq,
                meta: record.meta,
            })
            .collect())
    }

    /// Version `version` of `(asset, partition)`, zero-copy and checked like
    /// [`Store::get`]; `None` if the store does not retain it.
    ///
    /// # Errors
    /// As [`Store::get`].
    pub fn get_version(
        &self,
        asset: &AssetKey,
        partition: &PartitionKey,
        version: u64,
    ) -> Result<Option<Blob>> {
        self.read_retained(asset, partition, |record| record.seq == version)
    }

    /// The version of `(asset, partition)` that was newest at `time`: the
    /// newest retained version written at or before it; `None` if there is
    /// none.
    ///
    /// # Errors
    /// As [`Store::get`].
    pub fn get_as_of(
        &self,
        asset: &AssetKey,
        partition: &PartitionKey,
        time: DateTime<Utc>,
    ) -> Result<Option<Blob>> {
        self.read_retained(asset, partition, |record| record.meta.created_at <= time)
    }

    /// Reads the newest retained version `pick` accepts.
    fn read_retained(
        &self,
        asset: &AssetKey,
        partition: &PartitionKey,
        pick: impl Fn(&Record) -> bool,
    ) -> Result<Option<Blob>> {
        let key = encoding::encode(asset, partition);
        self.read_current(&key, asset, partition, &|| {
            let retained = self.inner.retained_versions(asset, &key)?;
            Ok(retained
                .into_iter()
                .find(|(record, _)| pick(record))
                .map(|(_, value)| Arc::from(value)))
        })
    }
}
