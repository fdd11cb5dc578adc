//! The write path: a batch's frames appended to the log, then published.
//!
//! `Buffered`: the frames are written (one `pwrite` for a batch of small
//! payloads) and the batch is published to the overlay before the call
//! returns, so a process crash loses nothing. `Immediate`: after its frames
//! are written the writer joins a group sync of the segment (one
//! `fdatasync` shared by concurrent writers), then publishes. No index work
//! happens on the write path; checkpoints move published changes into the
//! index in the background of later writes.

use chrono::{DateTime, Utc};

use super::Store;
use super::overlay::VersionChange;
use crate::batch::{BatchOp, Payload, PayloadBytes, WriteBatch};
use crate::codec::Codec;
use crate::durability::Durability;
use crate::error::{Error, Result};
use crate::key::{AssetKey, PartitionKey, encoding};
use crate::log::FrameKind;
use crate::record::{Checksum, Described, Record};
use crate::segment::{AppendedBatch, ChangeFrame, StreamedPayload};

/// The largest payload a store accepts (1 TiB).
pub const MAX_PAYLOAD_LEN: u64 = 1 << 40;

/// The largest encoded `(asset, partition)` key a store accepts (8 KiB):
/// index keys stay small enough for every backend to keep inline.
pub const MAX_KEY_LEN: usize = 8 << 10;

/// The largest encoded data version plus user metadata of one payload (64 KiB).
pub const MAX_METADATA_LEN: usize = 64 << 10;

/// One change, checked and encoded, waiting to be appended.
struct Prepared<'a> {
    key: Vec<u8>,
    put: Option<PreparedPut<'a>>,
}

/// A put's payload with its length, checksum and encoded metadata.
struct PreparedPut<'a> {
    codec: Codec,
    body: Body<'a>,
    len: u64,
    /// The payload's crc32; that of a streamed payload is known only once
    /// it is appended.
    checksum: Checksum,
    encoded: Vec<u8>,
}

/// A put's payload: bytes, or record batches the append encodes into the
/// segment.
enum Body<'a> {
    Bytes(PayloadBytes<'a>),
    #[cfg(feature = "arrow")]
    Streamed(crate::codec::arrow::MeasuredArrow),
}

impl Body<'_> {
    fn bytes(&self) -> &[u8] {
        match self {
            Self::Bytes(bytes) => bytes.as_slice(),
            #[cfg(feature = "arrow")]
            Self::Streamed(_) => &[],
        }
    }

    fn streamed(&self) -> Option<&dyn StreamedPayload> {
        match self {
            Self::Bytes(_) => None,
            #[cfg(feature = "arrow")]
            Self::Streamed(source) => Some(source),
        }
    }
}

impl Store {
    /// Stores `payload` under `(asset, partition)`, replacing any previous
    /// value, with the store's default durability.
    ///
    /// # Errors
    /// [`Error::PayloadTooLarge`], [`Error::KeyTooLarge`],
    /// [`Error::MetadataTooLarge`], [`Error::Poisoned`], [`Error::ReadOnly`],
    /// or the I/O error of a failed write (then nothing of it is visible).
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
    /// As [`Store::put`].
    pub fn delete(&self, asset: &AssetKey, partition: &PartitionKey) -> Result<bool> {
        let existed = self.contains(asset, partition)?;
        let mut batch = WriteBatch::new();
        batch.delete(asset, partition);
        self.write(batch)?;
        Ok(existed)
    }

    /// Applies every change of `batch` atomically: after a crash, all of it
    /// or none of it.
    ///
    /// # Errors
    /// A size error before anything is written, or as [`Store::put`] (then
    /// none of the batch is visible).
    pub fn write(&self, batch: WriteBatch<'_>) -> Result<()> {
        let inner = &*self.inner;
        inner.check_writable()?;
        if batch.ops.is_empty() {
            return Ok(());
        }
        let durability = batch.durability.unwrap_or(inner.durability);
        batch.check_foreign_payloads()?;
        #[cfg(feature = "object-store")]
        if let Some(remote) = &inner.remote {
            #[cfg(feature = "arrow")]
            let batch = batch.without_streamed_payloads()?;
            let prepared = prepare(batch, (inner.clock)())?;
            let frames: Vec<ChangeFrame<'_>> = prepared.iter().map(change_frame).collect();
            return remote.commit(inner, &frames);
        }
        let announced =
            (durability == Durability::Immediate).then(|| inner.segment_sync.announce());
        let prepared = prepare(batch, (inner.clock)())?;
        let frames: Vec<ChangeFrame<'_>> = prepared.iter().map(change_frame).collect();
        let appended = inner
            .segments
            .append_streaming(&frames, &streamed_payloads(&prepared))?;
        let synced = match announced {
            None => Ok(()),
            Some(announced) => inner.sync_segments_for(announced),
        };
        if synced.is_ok() {
            inner.overlay.publish(overlay_entries(prepared, &appended));
        }
        inner.segments.finish(appended.first_seq);
        synced?;
        if let Err(error) = inner.maybe_checkpoint() {
            log::warn!(
                "{}: a checkpoint after a write failed (the write itself is in the log and \
                 the next open replays it): {error}",
                inner.dir.display()
            );
        }
        Ok(())
    }
}

/// Checks sizes and encodes keys and metadata; nothing is written yet.
fn prepare(batch: WriteBatch<'_>, created_at: DateTime<Utc>) -> Result<Vec<Prepared<'_>>> {
    batch
        .ops
        .into_iter()
        .map(|op| match op {
            BatchOp::Put {
                asset,
                partition,
                mut payload,
            } => {
                let described = Described {
                    created_at,
                    data_version: payload.data_version.take(),
                    metadata: std::mem::take(&mut payload.metadata),
                };
                let bytes = std::mem::replace(&mut payload.bytes, PayloadBytes::Borrowed(&[]));
                prepared_put(
                    checked_key(&asset, &partition)?,
                    payload.codec,
                    Body::Bytes(bytes),
                    &described,
                )
            }
            #[cfg(feature = "arrow")]
            BatchOp::PutArrow {
                asset,
                partition,
                source,
                data_version,
                metadata,
            } => {
                let described = Described {
                    created_at,
                    data_version,
                    metadata,
                };
                prepared_put(
                    checked_key(&asset, &partition)?,
                    Codec::ArrowIpc,
                    Body::Streamed(source),
                    &described,
                )
            }
            BatchOp::Delete { asset, partition } => Ok(Prepared {
                key: checked_key(&asset, &partition)?,
                put: None,
            }),
        })
        .collect()
}

fn prepared_put<'a>(
    key: Vec<u8>,
    codec: Codec,
    body: Body<'a>,
    described: &Described,
) -> Result<Prepared<'a>> {
    let encoded = described.encode();
    let len = match body.streamed() {
        Some(streamed) => streamed.encoded_len(),
        None => body.bytes().len() as u64,
    };
    check_sizes(len, &encoded)?;
    let checksum = Checksum::of(body.bytes());
    Ok(Prepared {
        key,
        put: Some(PreparedPut {
            codec,
            body,
            len,
            checksum,
            encoded,
        }),
    })
}

/// The streamed payload of each change, when any change has one.
fn streamed_payloads<'a>(prepared: &'a [Prepared<'_>]) -> Vec<Option<&'a dyn StreamedPayload>> {
    let streamed = |change: &'a Prepared<'_>| change.put.as_ref().and_then(|p| p.body.streamed());
    if prepared.iter().all(|change| streamed(change).is_none()) {
        return Vec::new();
    }
    prepared.iter().map(streamed).collect()
}

fn checked_key(asset: &AssetKey, partition: &PartitionKey) -> Result<Vec<u8>> {
    let key = encoding::encode(asset, partition);
    if key.len() > MAX_KEY_LEN {
        return Err(Error::KeyTooLarge {
            len: key.len(),
            max: MAX_KEY_LEN,
        });
    }
    Ok(key)
}

fn check_sizes(len: u64, described: &[u8]) -> Result<()> {
    if len > MAX_PAYLOAD_LEN {
        return Err(Error::PayloadTooLarge {
            len,
            max: MAX_PAYLOAD_LEN,
        });
    }
    if described.len() > MAX_METADATA_LEN {
        return Err(Error::MetadataTooLarge {
            len: described.len(),
            max: MAX_METADATA_LEN,
        });
    }
    Ok(())
}

fn change_frame<'a>(prepared: &'a Prepared<'_>) -> ChangeFrame<'a> {
    match &prepared.put {
        Some(put) => ChangeFrame {
            kind: FrameKind::Put {
                codec: put.codec,
                payload_len: put.len,
                checksum: put.checksum,
                moved: false,
                external: false,
            },
            key: &prepared.key,
            described: &put.encoded,
            payload: put.body.bytes(),
        },
        None => ChangeFrame {
            kind: FrameKind::Delete { carried: false },
            key: &prepared.key,
            described: &[],
            payload: &[],
        },
    }
}

/// The overlay changes that publish an appended batch: each put is a new
/// version numbered by its frame, each delete removes every version before it.
fn overlay_entries(
    prepared: Vec<Prepared<'_>>,
    appended: &AppendedBatch,
) -> Vec<(Vec<u8>, u64, VersionChange)> {
    let mut streamed_checksums = appended.streamed.iter();
    prepared
        .into_iter()
        .zip(&appended.frames)
        .map(|(change, &(seq, location))| {
            let version_change = match change.put {
                Some(put) => {
                    let checksum = match put.body.streamed() {
                        Some(_) => streamed_checksums.next().copied().unwrap_or(put.checksum),
                        None => put.checksum,
                    };
                    let record = Record::encode_put(
                        (seq, location),
                        (put.codec, put.len, checksum),
                        &put.encoded,
                    );
                    VersionChange::Put {
                        version: seq,
                        record,
                        moved: false,
                    }
                }
                None => VersionChange::Delete { below: seq },
            };
            (change.key, seq, version_change)
        })
        .collect()
}
