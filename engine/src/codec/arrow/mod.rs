//! The Arrow codec: record batches stored as an Arrow IPC file and read back
//! with every buffer pointing into the store's mapping.
//!
//! The IPC writer aligns every buffer to 64 bytes and payloads start 64-byte
//! aligned, so the decoder runs with `require_alignment`: it fails rather than
//! silently copying a misaligned buffer. The payload is handed to arrow as a
//! `bytes::Bytes` that owns a clone of the [`Blob`], which keeps the segment
//! mapped for as long as any array uses it.

mod decode;
mod encode;
mod mark;
mod payload;
mod schemas;
mod template;

use arrow_array::RecordBatch;
use arrow_buffer::Buffer;
use arrow_schema::SchemaRef;

use self::decode::{Trust, decode_ipc_file};
use self::encode::ArrowSource;
pub(crate) use self::encode::MeasuredArrow;
pub use self::payload::ArrowPayload;
use self::payload::{ArrowBody, encoded_payload};

use super::Codec;
use crate::batch::{BatchOp, Payload, WriteBatch};
use crate::blob::Blob;
use crate::error::{Error, Result};
use crate::key::{AssetKey, PartitionKey};
use crate::store::Store;

/// The record batches of one partition and their schema.
#[derive(Debug, Clone)]
pub struct ArrowPartition {
    /// The schema shared by every batch.
    pub schema: SchemaRef,
    /// The batches, in the order they were stored.
    pub batches: Vec<RecordBatch>,
}

impl ArrowPartition {
    /// Total rows over all batches.
    #[must_use]
    pub fn num_rows(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }
}

impl Payload<'static> {
    /// Encodes `batches` (at least one; all of one schema) as an Arrow IPC file,
    /// into a buffer of its own. [`ArrowPayload`] carries the same metadata
    /// without that copy for a large partition (it is encoded into the
    /// segment by the write).
    ///
    /// # Errors
    /// [`Error::Encode`] for an empty slice, mismatched schemas or a writer error.
    pub fn arrow(batches: &[RecordBatch]) -> Result<Self> {
        let first = batches.first().ok_or_else(no_batch_error)?;
        Self::arrow_with_schema(&first.schema(), batches)
    }

    /// Encodes `batches` (possibly none) with `schema` as an Arrow IPC file,
    /// marked as written by Tessera (an entry of the schema's metadata that
    /// reads remove again), so that verified reads can skip validation.
    ///
    /// # Errors
    /// [`Error::Encode`] if a batch does not match the schema or the writer fails.
    pub fn arrow_with_schema(schema: &SchemaRef, batches: &[RecordBatch]) -> Result<Self> {
        let bytes = ArrowSource::new(schema, batches)?.encode()?;
        Ok(Self::from_tessera_writer(Codec::ArrowIpc, bytes))
    }
}

fn no_batch_error() -> Error {
    Error::Encode {
        codec: Codec::ArrowIpc,
        reason: "at least one record batch is needed to know the schema".into(),
    }
}

impl WriteBatch<'_> {
    /// Adds a put of `batches` (at least one; all of one schema) as an Arrow
    /// IPC file, as [`Payload::arrow`] encodes it. A partition of 64 KiB or
    /// more is not encoded here: the write encodes it straight into the
    /// segment, with no copy of it on the heap (see `segment::stream`).
    ///
    /// # Errors
    /// [`Error::Encode`] for an empty slice, mismatched schemas or a writer
    /// error.
    pub fn put_arrow(
        &mut self,
        asset: &AssetKey,
        partition: &PartitionKey,
        batches: &[RecordBatch],
    ) -> Result<&mut Self> {
        Ok(self.put_arrow_payload(asset, partition, ArrowPayload::new(batches)?))
    }

    /// Adds a put of an [`ArrowPayload`] (record batches with metadata and a
    /// data version), streamed into the segment as [`WriteBatch::put_arrow`]
    /// streams its batches.
    pub fn put_arrow_payload(
        &mut self,
        asset: &AssetKey,
        partition: &PartitionKey,
        payload: ArrowPayload,
    ) -> &mut Self {
        let ArrowPayload {
            body,
            data_version,
            metadata,
        } = payload;
        match body {
            ArrowBody::Encoded(bytes) => self.put(
                asset,
                partition,
                encoded_payload(bytes, data_version, metadata),
            ),
            ArrowBody::Streamed(source) => {
                self.ops.push(BatchOp::PutArrow {
                    asset: asset.clone(),
                    partition: partition.clone(),
                    source,
                    data_version,
                    metadata,
                });
                self
            }
        }
    }

    /// The batch with every payload that would be encoded into the segment
    /// encoded into a buffer instead (for a store whose log is remote).
    ///
    /// # Errors
    /// [`Error::Encode`] if the IPC writer fails.
    #[cfg(feature = "object-store")]
    pub(crate) fn without_streamed_payloads(mut self) -> Result<Self> {
        for op in &mut self.ops {
            if let BatchOp::PutArrow {
                asset,
                partition,
                source,
                data_version,
                metadata,
            } = op
            {
                *op = BatchOp::Put {
                    asset: asset.clone(),
                    partition: partition.clone(),
                    payload: encoded_payload(
                        source.encode()?,
                        data_version.take(),
                        std::mem::take(metadata),
                    ),
                };
            }
        }
        Ok(self)
    }
}

impl Blob {
    /// Decodes the payload's record batches without copying their buffers:
    /// every buffer points into the store's mapping.
    ///
    /// When this read verified the payload's crc32 (the store's default) and
    /// Tessera's own writer encoded it, arrow-ipc's validation of the arrays
    /// is skipped: the checksum proves the bytes are those that writer
    /// produced from valid batches (the argument is in `decode.rs`). Otherwise
    /// (checksums off, or IPC files made elsewhere) the arrays are validated.
    ///
    /// # Errors
    /// [`Error::CodecMismatch`] if the payload is not Arrow IPC;
    /// [`Error::ArrowDecode`] if it is not a valid IPC file.
    pub fn arrow(&self) -> Result<ArrowPartition> {
        self.decode_arrow(None, self.trust())
    }

    /// As [`Blob::arrow`], decoding only the columns at `columns` (indices into
    /// the stored schema, in the order wanted): the other columns' buffers are
    /// neither validated nor touched.
    ///
    /// # Errors
    /// As [`Blob::arrow`]; [`Error::ArrowDecode`] for an index past the last
    /// column.
    pub fn arrow_projected(&self, columns: &[usize]) -> Result<ArrowPartition> {
        self.decode_arrow(Some(columns), self.trust())
    }

    /// The stored schema, from the payload's leading schema message (decoded
    /// once per distinct schema in the process, then shared).
    ///
    /// # Errors
    /// [`Error::CodecMismatch`]; [`Error::ArrowDecode`] if the payload does not
    /// start with an IPC schema message.
    pub fn arrow_schema(&self) -> Result<SchemaRef> {
        self.expect_codec(Codec::ArrowIpc)?;
        schemas::schema_of(self)
            .map(|cached| cached.schema)
            .map_err(|e| self.arrow_error(e.to_string()))
    }

    /// As [`Blob::arrow_projected`] (all columns for `None`), never validating
    /// the arrays, whether or not the checksum was verified. With a store
    /// opened with `verify_checksums(false)` this reads no byte of the
    /// payload but the IPC metadata, so its time does not grow with the
    /// partition's size.
    ///
    /// # Safety
    /// The payload must be a valid Arrow IPC file with every buffer aligned
    /// to its type: in practice, written by [`Payload::arrow`] (or validated
    /// since) on storage whose bytes have not changed since. Corrupted or
    /// forged bytes decoded this way are undefined behaviour (out-of-bounds
    /// reads through bad offsets, invalid UTF-8 in string arrays).
    ///
    /// # Errors
    /// [`Error::CodecMismatch`]; [`Error::ArrowDecode`] for damage the IPC
    /// metadata itself shows.
    #[allow(
        unsafe_code,
        reason = "the caller vouches for the bytes, as arrow-ipc's skip_validation asks"
    )]
    pub unsafe fn arrow_unchecked(&self, columns: Option<&[usize]>) -> Result<ArrowPartition> {
        self.decode_arrow(columns, Trust::Unchecked)
    }

    fn trust(&self) -> Trust {
        if self.checksum_verified() {
            Trust::VerifiedWriterMark
        } else {
            Trust::Validate
        }
    }

    fn decode_arrow(&self, columns: Option<&[usize]>, trust: Trust) -> Result<ArrowPartition> {
        self.expect_codec(Codec::ArrowIpc)?;
        let buffer = Buffer::from(bytes::Bytes::from_owner(self.clone()));
        // The decoder is third-party code fed with bytes from disk; a panic in it
        // becomes an error rather than unwinding through the caller.
        std::panic::catch_unwind(|| decode_ipc_file(&buffer, columns, trust))
            .map_err(|_| self.arrow_error("the Arrow IPC decoder panicked".into()))?
            .map_err(|e| self.arrow_error(e.to_string()))
    }

    fn arrow_error(&self, reason: String) -> Error {
        Error::ArrowDecode {
            asset: self.asset().clone(),
            partition: self.partition().clone(),
            reason,
        }
    }
}

/// Checks a payload made outside [`Payload::arrow_with_schema`] before a store
/// accepts it: one that carries Tessera's writer mark must decode with full
/// validation (its reads will skip validation once its checksum passes).
/// Unmarked payloads are accepted as they are and validated on every read.
///
/// # Errors
/// [`Error::Encode`] for a marked payload that is not a valid IPC file.
pub(crate) fn check_foreign_ipc(bytes: &[u8]) -> Result<()> {
    if !schemas::schema_of(bytes).is_ok_and(|cached| cached.marked) {
        return Ok(());
    }
    // An arrow buffer is 64-byte aligned, as a payload in a segment is.
    let mut aligned = arrow_buffer::MutableBuffer::with_capacity(bytes.len());
    aligned.extend_from_slice(bytes);
    let buffer = Buffer::from(aligned);
    std::panic::catch_unwind(|| decode_ipc_file(&buffer, None, Trust::Validate))
        .map_err(|_| "the Arrow IPC decoder panicked".to_owned())
        .and_then(|decoded| decoded.map_err(|e| e.to_string()))
        .map(drop)
        .map_err(|reason| Error::Encode {
            codec: Codec::ArrowIpc,
            reason: format!("a payload carrying Tessera's IPC writer mark is invalid: {reason}"),
        })
}

impl Store {
    /// Encodes `batches` as an Arrow IPC file and stores it (default
    /// durability), as [`WriteBatch::put_arrow`] does: a large partition is
    /// encoded straight into the segment.
    ///
    /// # Errors
    /// [`Error::Encode`], or the errors of [`Store::put`].
    pub fn put_arrow(
        &self,
        asset: &AssetKey,
        partition: &PartitionKey,
        batches: &[RecordBatch],
    ) -> Result<()> {
        let mut batch = WriteBatch::new();
        batch.put_arrow(asset, partition, batches)?;
        self.write(batch)
    }

    /// The record batches under `(asset, partition)`, zero-copy (see
    /// [`Blob::arrow`] for when the arrays are validated).
    ///
    /// # Errors
    /// The errors of [`Store::get`] and [`Blob::arrow`].
    pub fn get_arrow(
        &self,
        asset: &AssetKey,
        partition: &PartitionKey,
    ) -> Result<Option<ArrowPartition>> {
        self.get(asset, partition)?
            .map(|blob| blob.arrow())
            .transpose()
    }
}
