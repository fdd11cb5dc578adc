//! The Arrow codec: record batches stored as an Arrow IPC file and read back
//! with every buffer pointing into the store's mapping.
//!
//! The IPC writer aligns every buffer to 64 bytes and payloads start 64-byte
//! aligned, so the decoder runs with `require_alignment`: it fails rather than
//! silently copying a misaligned buffer. The payload is handed to arrow as a
//! `bytes::Bytes` that owns a clone of the [`Blob`], which keeps the segment
//! mapped for as long as any array uses it.

use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_buffer::Buffer;
use arrow_ipc::reader::{FileDecoder, read_footer_length};
use arrow_ipc::writer::FileWriter;
use arrow_ipc::{Block, convert::try_fb_to_schema, root_as_footer};
use arrow_schema::{ArrowError, SchemaRef};

use super::Codec;
use crate::batch::Payload;
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

fn encode_error(error: &ArrowError) -> Error {
    Error::Encode {
        codec: Codec::ArrowIpc,
        reason: error.to_string(),
    }
}

impl Payload<'static> {
    /// Encodes `batches` (at least one; all of one schema) as an Arrow IPC file.
    ///
    /// # Errors
    /// [`Error::Encode`] for an empty slice, mismatched schemas or a writer error.
    pub fn arrow(batches: &[RecordBatch]) -> Result<Self> {
        let first = batches.first().ok_or_else(|| Error::Encode {
            codec: Codec::ArrowIpc,
            reason: "at least one record batch is needed to know the schema".into(),
        })?;
        Self::arrow_with_schema(&first.schema(), batches)
    }

    /// Encodes `batches` (possibly none) with `schema` as an Arrow IPC file.
    ///
    /// # Errors
    /// [`Error::Encode`] if a batch does not match the schema or the writer fails.
    pub fn arrow_with_schema(schema: &SchemaRef, batches: &[RecordBatch]) -> Result<Self> {
        let mut writer = FileWriter::try_new(Vec::new(), schema).map_err(|e| encode_error(&e))?;
        for batch in batches {
            // The IPC writer does not check this itself: a batch of another
            // schema would be written into a file that no reader can decode.
            if !schema.contains(batch.schema_ref()) {
                return Err(Error::Encode {
                    codec: Codec::ArrowIpc,
                    reason: format!(
                        "a batch's schema ({}) differs from the payload's ({schema})",
                        batch.schema_ref()
                    ),
                });
            }
            writer.write(batch).map_err(|e| encode_error(&e))?;
        }
        let bytes = writer.into_inner().map_err(|e| encode_error(&e))?;
        Ok(Self::encoded(Codec::ArrowIpc, bytes))
    }
}

impl Blob {
    /// Decodes the payload's record batches without copying their buffers:
    /// every buffer points into the store's mapping.
    ///
    /// # Errors
    /// [`Error::CodecMismatch`] if the payload is not Arrow IPC;
    /// [`Error::ArrowDecode`] if it is not a valid IPC file.
    pub fn arrow(&self) -> Result<ArrowPartition> {
        self.expect_codec(Codec::ArrowIpc)?;
        let decode_error = |reason: String| Error::ArrowDecode {
            asset: self.asset().clone(),
            partition: self.partition().clone(),
            reason,
        };
        let buffer = Buffer::from(bytes::Bytes::from_owner(self.clone()));
        // The decoder is third-party code fed with bytes from disk; a panic in it
        // becomes an error rather than unwinding through the caller.
        std::panic::catch_unwind(|| decode_ipc_file(&buffer))
            .map_err(|_| decode_error("the Arrow IPC decoder panicked".into()))?
            .map_err(|e| decode_error(e.to_string()))
    }
}

fn decode_ipc_file(buffer: &Buffer) -> Result<ArrowPartition, ArrowError> {
    let invalid = |reason: &str| ArrowError::IpcError(reason.to_owned());
    let trailer_start = buffer
        .len()
        .checked_sub(10)
        .ok_or_else(|| invalid("payload is shorter than an IPC file trailer"))?;
    let mut trailer = [0u8; 10];
    trailer.copy_from_slice(&buffer[trailer_start..]);
    let footer_len = read_footer_length(trailer)?;
    let footer_start = trailer_start
        .checked_sub(footer_len)
        .ok_or_else(|| invalid("IPC footer length exceeds the payload"))?;
    let footer = root_as_footer(&buffer[footer_start..trailer_start])
        .map_err(|e| ArrowError::IpcError(format!("invalid IPC footer: {e}")))?;
    let fb_schema = footer
        .schema()
        .ok_or_else(|| invalid("IPC footer has no schema"))?;
    let schema: SchemaRef = Arc::new(try_fb_to_schema(fb_schema)?);
    let mut decoder =
        FileDecoder::new(Arc::clone(&schema), footer.version()).with_require_alignment(true);
    for block in footer.dictionaries().iter().flatten() {
        decoder.read_dictionary(block, &block_bytes(buffer, block)?)?;
    }
    let mut batches = Vec::new();
    for block in footer.recordBatches().iter().flatten() {
        if let Some(batch) = decoder.read_record_batch(block, &block_bytes(buffer, block)?)? {
            batches.push(batch);
        }
    }
    Ok(ArrowPartition { schema, batches })
}

/// The bytes of one IPC block, bounds-checked (a slice of the same buffer: no copy).
fn block_bytes(buffer: &Buffer, block: &Block) -> Result<Buffer, ArrowError> {
    let offset = usize::try_from(block.offset())
        .map_err(|_| ArrowError::IpcError("negative IPC block offset".into()))?;
    let len = usize::try_from(block.metaDataLength())
        .ok()
        .zip(usize::try_from(block.bodyLength()).ok())
        .and_then(|(meta, body)| meta.checked_add(body))
        .ok_or_else(|| ArrowError::IpcError("invalid IPC block length".into()))?;
    if offset.checked_add(len).is_none_or(|end| end > buffer.len()) {
        return Err(ArrowError::IpcError(
            "IPC block lies outside the payload".into(),
        ));
    }
    Ok(buffer.slice_with_length(offset, len))
}

impl Store {
    /// Encodes `batches` as an Arrow IPC file and stores it (default durability).
    ///
    /// # Errors
    /// [`Error::Encode`], or the errors of [`Store::put`].
    pub fn put_arrow(
        &self,
        asset: &AssetKey,
        partition: &PartitionKey,
        batches: &[RecordBatch],
    ) -> Result<()> {
        self.put(asset, partition, Payload::arrow(batches)?)
    }

    /// The record batches under `(asset, partition)`, zero-copy.
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
