//! The write path: frames appended to segments, then one atomic index batch.
//!
//! Order, for `Immediate`: payload frames are written and `fdatasync`ed before
//! the index entries that point at them are applied and synced, so a durable
//! index entry never points at bytes that could be lost. Concurrent writers
//! share that work: their index changes queue, and one commit syncs the
//! segments, applies every queued change as one index batch and syncs the
//! index (see `commit_queue`).

use chrono::Utc;

use super::Store;
use crate::batch::{BatchOp, Payload, WriteBatch};
use crate::durability::Durability;
use crate::error::{Error, Result};
use crate::index::IndexOp;
use crate::key::{AssetKey, PartitionKey, encoding};
use crate::record::{Checksum, Location, Record, RecordMeta};
use crate::segment::{FrameHeader, payload_offset};

/// The largest payload a store accepts (1 TiB).
pub const MAX_PAYLOAD_LEN: u64 = 1 << 40;

/// Payloads up to this size are copied behind their frame header and written
/// with it in one system call; larger ones are written in place, in a second.
const ONE_WRITE_PAYLOAD: usize = 8 << 10;

impl Store {
    /// Stores `payload` under `(asset, partition)`, replacing any previous
    /// value, with the store's default durability.
    ///
    /// # Errors
    /// [`Error::PayloadTooLarge`], or the I/O and index errors of a failed
    /// write (then nothing of it is visible).
    pub fn put<'a>(
        &self,
        asset: &AssetKey,
        partition: &PartitionKey,
        payload: impl Into<Payload<'a>>,
    ) -> Result<()> {
        let mut batch = WriteBatch::new();
        batch.put(asset, partition, payload);
        self.write(batch)
    }

    /// Removes `(asset, partition)`; returns whether it existed.
    ///
    /// # Errors
    /// The I/O and index errors of a failed write.
    pub fn delete(&self, asset: &AssetKey, partition: &PartitionKey) -> Result<bool> {
        let existed = self.contains(asset, partition)?;
        let mut batch = WriteBatch::new();
        batch.delete(asset, partition);
        self.write(batch)?;
        Ok(existed)
    }

    /// Applies every change of `batch` atomically.
    ///
    /// # Errors
    /// [`Error::PayloadTooLarge`] before anything is written, or the I/O and
    /// index errors of a failed write (then none of the batch is visible).
    pub fn write(&self, batch: WriteBatch<'_>) -> Result<()> {
        let durability = batch.durability.unwrap_or(self.inner.durability);
        let created_at = Utc::now();
        let mut ops = Vec::with_capacity(batch.ops.len());
        for op in batch.ops {
            ops.push(match op {
                BatchOp::Put {
                    asset,
                    partition,
                    payload,
                } => self.append(&asset, &partition, payload, created_at)?,
                BatchOp::Delete { asset, partition } => IndexOp::Delete {
                    key: encoding::encode(&asset, &partition),
                },
            });
        }
        match durability {
            Durability::Buffered => self.inner.index.apply(&ops),
            Durability::Immediate => self
                .inner
                .commit_queue
                .commit(ops, |queued| self.commit_durably(queued)),
        }
    }

    /// Makes the frames of `ops` durable, then applies `ops` and makes them durable.
    fn commit_durably(&self, ops: &[IndexOp]) -> Result<()> {
        self.sync_segments()?;
        self.inner.index.apply(ops)?;
        self.sync_index()
    }

    /// Appends one frame and returns the index change that publishes it.
    fn append(
        &self,
        asset: &AssetKey,
        partition: &PartitionKey,
        payload: Payload<'_>,
        created_at: chrono::DateTime<Utc>,
    ) -> Result<IndexOp> {
        let bytes = payload.bytes.as_slice();
        let len = bytes.len() as u64;
        if len > MAX_PAYLOAD_LEN {
            return Err(Error::PayloadTooLarge {
                len,
                max: MAX_PAYLOAD_LEN,
            });
        }
        let key = encoding::encode(asset, partition);
        let header = FrameHeader {
            codec: payload.codec,
            payload_len: len,
            checksum: Checksum::of(bytes),
            key_len: u32::try_from(key.len()).unwrap_or(u32::MAX),
        };
        let segments = &self.inner.segments;
        let reservation = segments.reserve(header.frame_len())?;
        let segment = &reservation.segment;
        let mut frame = header.encode_with_key(&key);
        if bytes.len() <= ONE_WRITE_PAYLOAD {
            frame.extend_from_slice(bytes);
            segment.write_at(&frame, reservation.offset)?;
        } else {
            segment.write_at(&frame, reservation.offset)?;
            segment.write_at(bytes, reservation.offset + payload_offset(key.len()))?;
        }
        segments.mark_dirty(segment);
        let record = Record {
            location: Location {
                segment: segment.id(),
                frame_offset: reservation.offset,
            },
            meta: RecordMeta {
                codec: payload.codec,
                len,
                checksum: header.checksum,
                created_at,
                data_version: payload.data_version,
                metadata: payload.metadata,
            },
        };
        Ok(IndexOp::Put {
            key,
            value: record.encode(),
        })
    }
}
