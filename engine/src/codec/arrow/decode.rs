//! Decoding a stored IPC file into record batches whose buffers borrow the
//! store's mapping, with a projection and with or without arrow-ipc's
//! validation of the arrays.

use arrow_array::RecordBatch;
use arrow_buffer::Buffer;
use arrow_ipc::reader::{FileDecoder, read_footer_length};
use arrow_ipc::{Block, root_as_footer, root_as_footer_unchecked};
use arrow_schema::{ArrowError, SchemaRef};

use super::ArrowPartition;
use super::schemas::schema_of;

/// Whether the arrays decoded are validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Trust {
    /// Full validation (offsets, UTF-8, dictionary keys...), as arrow-ipc
    /// does by default.
    Validate,
    /// Validation skipped if the file carries Tessera's writer mark. Only for
    /// a payload whose crc32 this read has just verified.
    VerifiedWriterMark,
    /// Validation skipped: the caller of an `unsafe` function promised that
    /// the bytes are a valid IPC file.
    Unchecked,
}

/// Decodes the IPC file in `buffer`: every batch, only the columns of
/// `projection` (indices into the stored schema) if given.
///
/// # Errors
/// Whatever makes the file invalid, as arrow-ipc reports it.
#[allow(
    unsafe_code,
    reason = "skipping arrow-ipc's validation where the bytes are proven valid"
)]
pub(super) fn decode_ipc_file(
    buffer: &Buffer,
    projection: Option<&[usize]>,
    trust: Trust,
) -> Result<ArrowPartition, ArrowError> {
    let cached = schema_of(buffer)?;
    let skip_validation = match trust {
        Trust::Validate => false,
        Trust::VerifiedWriterMark => cached.marked,
        Trust::Unchecked => true,
    };
    let footer_bytes = footer(buffer)?;
    let footer = if skip_validation {
        // SAFETY: the bytes are those of a valid IPC file (the argument below),
        // so its footer is a valid flatbuffer, as arrow-ipc's writer built it.
        unsafe { root_as_footer_unchecked(footer_bytes) }
    } else {
        root_as_footer(footer_bytes)
            .map_err(|e| ArrowError::IpcError(format!("invalid IPC footer: {e}")))?
    };
    let mut decoder = FileDecoder::new(SchemaRef::clone(&cached.schema), footer.version())
        .with_require_alignment(true);
    if let Some(projection) = projection {
        decoder = decoder.with_projection(projection.to_vec());
    }
    if skip_validation {
        // SAFETY: arrow-ipc requires the bytes to be a valid IPC file whose
        // buffers are aligned. Either the caller of an `unsafe` function
        // promised it (`Trust::Unchecked`), or (`VerifiedWriterMark`):
        // 1. this read has just recomputed the payload's crc32 and found the
        //    checksum recorded when it was written, after checking that the
        //    frame around it is the put the index names (key, codec, length);
        // 2. the schema carries Tessera's writer mark, and a marked payload
        //    enters a store only from Tessera's encoder (`encode.rs`:
        //    arrow-ipc's own writer, encoding `RecordBatch`es that safe arrow
        //    code keeps valid, every buffer padded to 64 bytes, into a buffer
        //    or straight into the segment with the crc32 taken over the bytes
        //    it wrote; or `template.rs`: the same bytes, from arrow-ipc's
        //    message encoder around that writer's output for the schema) or,
        //    from anywhere else,
        //    after a full validating decode of the same bytes with the same
        //    code as this one (`check_foreign_ipc`);
        // 3. payloads start 64-byte aligned in the mapping.
        // So the bytes are those of a valid, aligned IPC file unless the
        // store's files were changed in a way crc32 misses: random damage
        // passes it with probability 2^-32, and whoever can write the store's
        // directory can change what any memory-mapped store returns.
        decoder = unsafe { decoder.with_skip_validation(true) };
    }
    for block in footer.dictionaries().iter().flatten() {
        decoder.read_dictionary(block, &block_bytes(buffer, block)?)?;
    }
    let mut batches: Vec<RecordBatch> = Vec::new();
    for block in footer.recordBatches().iter().flatten() {
        if let Some(batch) = decoder.read_record_batch(block, &block_bytes(buffer, block)?)? {
            batches.push(batch);
        }
    }
    let schema = match projection {
        Some(projection) => std::sync::Arc::new(cached.schema.project(projection)?),
        None => cached.schema,
    };
    Ok(ArrowPartition { schema, batches })
}

/// The footer's bytes, found through the file's trailer.
fn footer(buffer: &Buffer) -> Result<&[u8], ArrowError> {
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
    Ok(&buffer[footer_start..trailer_start])
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
