//! What every store-backed manager shares: where it writes, how a context
//! becomes a key, and one-partition and range writes.

use std::sync::Arc;

use tessera_engine::{AssetKey, Blob, Durability, PartitionKey, Store, WriteBatch};

use super::stored_payload::{StoredPayload, annotate};

use crate::context::{AsOf, InputContext, OutputContext};
use crate::error::Result;
use crate::manager::{PartitionMap, StoredValue};
use crate::metadata::BYTE_SIZE;

/// A shared store and the durability its manager writes with.
#[derive(Debug, Clone)]
pub struct StoreTarget {
    store: Arc<Store>,
    durability: Option<Durability>,
}

impl StoreTarget {
    /// Writes to `store` with the store's default durability.
    pub fn new(store: Arc<Store>) -> Self {
        Self {
            store,
            durability: None,
        }
    }

    /// The same store, written with `durability`.
    #[must_use]
    pub fn with_durability(mut self, durability: Durability) -> Self {
        self.durability = Some(durability);
        self
    }

    /// The store.
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// Stores one (unpartitioned or single-partition) output, recording its
    /// byte size as output metadata.
    pub(crate) fn write_one<'a>(
        &self,
        context: &OutputContext,
        payload: impl StoredPayload<'a>,
    ) -> Result<()> {
        let partition = output_partition(context)?;
        context.add_output_metadata(BYTE_SIZE, payload.stored_len())?;
        let payload = annotate(payload, context.output_metadata(), context.data_version());
        let mut batch = self.batch();
        payload.put_into(&mut batch, context.asset_key(), &partition);
        self.store.write(batch)?;
        self.note_stored_version(context, partition.as_str(), &partition)
    }

    /// Stores one payload per partition of a range output, in one atomic batch.
    pub(crate) fn write_range<'a, P: StoredPayload<'a>>(
        &self,
        context: &OutputContext,
        payloads: PartitionMap<P>,
    ) -> Result<()> {
        let mut batch = self.batch();
        let mut written = Vec::with_capacity(payloads.len());
        for (key, payload) in payloads {
            context.add_partition_metadata(&key, BYTE_SIZE, payload.stored_len())?;
            let payload = annotate(
                payload,
                context.metadata_for_partition(&key),
                context.partition_data_version(&key),
            );
            let partition = PartitionKey::new(key.clone())?;
            payload.put_into(&mut batch, context.asset_key(), &partition);
            written.push((key, partition));
        }
        self.store.write(batch)?;
        for (key, partition) in &written {
            self.note_stored_version(context, Some(key), partition)?;
        }
        Ok(())
    }

    /// Tells `context` which version a write just stored: the partition's
    /// newest version right after the write (the index lookup reads no
    /// payload).
    fn note_stored_version(
        &self,
        context: &OutputContext,
        key: Option<&str>,
        partition: &PartitionKey,
    ) -> Result<()> {
        if let Some(meta) = self.store.meta(context.asset_key(), partition)? {
            context.record_stored_version(key, meta.version);
        }
        Ok(())
    }

    /// Whether `(asset, partition)` holds a value whose frame and checksum
    /// check out (the whole payload is read to recompute its crc32).
    pub(crate) fn stored_value(
        &self,
        asset: &AssetKey,
        partition: Option<&str>,
    ) -> Result<StoredValue> {
        let key = match partition {
            Some(key) => PartitionKey::new(key)?,
            None => PartitionKey::unpartitioned(),
        };
        match self.store.get(asset, &key) {
            Ok(Some(_)) => Ok(StoredValue::Intact),
            Ok(None) => Ok(StoredValue::Absent),
            Err(error @ tessera_engine::Error::Corrupted { .. }) => {
                Ok(StoredValue::Damaged(error.to_string()))
            }
            Err(error) => Err(error.into()),
        }
    }

    /// The stored blob of one partition of the input's upstream asset: the
    /// newest version, or the one the context's [`AsOf`] selects. The
    /// version read is noted on the context.
    pub(crate) fn read(
        &self,
        context: &InputContext,
        partition: Option<&str>,
    ) -> Result<Option<Blob>> {
        let key = match partition {
            Some(key) => PartitionKey::new(key)?,
            None => PartitionKey::unpartitioned(),
        };
        let asset = context.asset_key();
        let blob = match context.as_of() {
            None => self.store.get(asset, &key)?,
            Some(AsOf::Time(time)) => self.store.get_as_of(asset, &key, time)?,
            Some(AsOf::Version(version)) => self.read_at_version(asset, &key, version)?,
        };
        if let Some(blob) = &blob {
            let meta = blob.meta();
            context.record_loaded_version(partition, meta.version, meta.data_version.clone());
        }
        Ok(blob)
    }

    /// The newest retained version of `(asset, key)` numbered at most `version`.
    fn read_at_version(
        &self,
        asset: &AssetKey,
        key: &PartitionKey,
        version: u64,
    ) -> Result<Option<Blob>> {
        let history = self.store.history(asset, key)?;
        let Some(chosen) = history.iter().find(|info| info.version <= version) else {
            return Ok(None);
        };
        Ok(self.store.get_version(asset, key, chosen.version)?)
    }

    fn batch(&self) -> WriteBatch<'static> {
        match self.durability {
            Some(durability) => WriteBatch::new().durability(durability),
            None => WriteBatch::new(),
        }
    }
}

fn output_partition(context: &OutputContext) -> Result<PartitionKey> {
    if !context.has_asset_partitions() {
        return Ok(PartitionKey::unpartitioned());
    }
    Ok(PartitionKey::new(context.partition_key()?)?)
}
