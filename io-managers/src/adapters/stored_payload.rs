//! What a store-backed manager writes: an encoded [`Payload`], or an
//! [`ArrowPayload`] that a large partition streams into the segment. Both
//! know their stored length before the write (the `byte_size` metadata) and
//! carry the output's metadata and data version.

use tessera_engine::{ArrowPayload, AssetKey, PartitionKey, Payload, WriteBatch};

use crate::metadata::Metadata;

/// A value a store-backed manager puts into a write batch.
pub(crate) trait StoredPayload<'a> {
    /// The bytes the store will hold.
    fn stored_len(&self) -> usize;

    /// Adds one user metadata entry.
    #[must_use]
    fn with_entry(self, key: String, value: String) -> Self;

    /// Sets the data version.
    #[must_use]
    fn with_version(self, version: &str) -> Self;

    /// Adds the put of this value under `(asset, partition)` to `batch`.
    fn put_into(self, batch: &mut WriteBatch<'a>, asset: &AssetKey, partition: &PartitionKey);
}

impl<'a> StoredPayload<'a> for Payload<'a> {
    fn stored_len(&self) -> usize {
        self.bytes().len()
    }

    fn with_entry(self, key: String, value: String) -> Self {
        self.with_metadata(key, value)
    }

    fn with_version(self, version: &str) -> Self {
        self.with_data_version(version)
    }

    fn put_into(self, batch: &mut WriteBatch<'a>, asset: &AssetKey, partition: &PartitionKey) {
        batch.put(asset, partition, self);
    }
}

impl<'a> StoredPayload<'a> for ArrowPayload {
    fn stored_len(&self) -> usize {
        // A length that fits in memory fits in `usize` wherever the store
        // runs (64-bit); saturate rather than wrap anywhere else.
        usize::try_from(self.len()).unwrap_or(usize::MAX)
    }

    fn with_entry(self, key: String, value: String) -> Self {
        self.with_metadata(key, value)
    }

    fn with_version(self, version: &str) -> Self {
        self.with_data_version(version)
    }

    fn put_into(self, batch: &mut WriteBatch<'a>, asset: &AssetKey, partition: &PartitionKey) {
        batch.put_arrow_payload(asset, partition, self);
    }
}

/// `payload` with the output's `metadata` and `data_version`.
pub(crate) fn annotate<'a, P: StoredPayload<'a>>(
    payload: P,
    metadata: Metadata,
    data_version: Option<&str>,
) -> P {
    let payload = metadata.into_iter().fold(payload, |p, (key, value)| {
        p.with_entry(key, value.to_string())
    });
    match data_version {
        Some(version) => payload.with_version(version),
        None => payload,
    }
}
