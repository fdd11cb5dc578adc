//! Record batches encoded as an Arrow IPC file carrying Tessera's writer mark,
//! into a heap buffer ([`ArrowSource::encode`]) or, for large partitions,
//! straight into a segment while the write appends it ([`StreamedPayload`]):
//! arrow-ipc writes each array's buffers to its writer as they are, so a
//! streamed write makes no copy of the partition on the heap.

use std::io::{self, Write};
use std::sync::Arc;

use arrow_array::{Array, RecordBatch};
use arrow_ipc::writer::FileWriter;
use arrow_schema::{ArrowError, SchemaRef};

use super::{mark, template};
use crate::codec::Codec;
use crate::error::{Error, Result};
use crate::segment::StreamedPayload;

/// Partitions estimated at least this large are streamed into the segment;
/// smaller ones are encoded into a buffer first (cheaper than encoding twice:
/// a streamed payload is encoded once to learn its length).
pub(crate) const STREAMED_FROM: usize = 64 << 10;

/// Record batches of one schema waiting to be encoded.
#[derive(Debug, Clone)]
pub(crate) struct ArrowSource {
    /// The schema the batches are stored under (the mark is added when the
    /// file is written).
    schema: SchemaRef,
    batches: Vec<RecordBatch>,
    /// About the length of the IPC file (see [`ArrowSource::len_estimate`]).
    estimate: usize,
}

fn encode_error(error: &ArrowError) -> Error {
    Error::Encode {
        codec: Codec::ArrowIpc,
        reason: error.to_string(),
    }
}

impl ArrowSource {
    /// `batches` under `schema`, checked to match it.
    ///
    /// # Errors
    /// [`Error::Encode`] if a batch's schema differs from `schema`.
    pub(crate) fn new(schema: &SchemaRef, batches: &[RecordBatch]) -> Result<Self> {
        // The IPC writer does not check this itself: a batch of another
        // schema would be written into a file that no reader can decode.
        if let Some(batch) = batches.iter().find(|b| !schema.contains(b.schema_ref())) {
            return Err(Error::Encode {
                codec: Codec::ArrowIpc,
                reason: format!(
                    "a batch's schema ({}) differs from the payload's ({schema})",
                    batch.schema_ref()
                ),
            });
        }
        Ok(Self {
            schema: Arc::clone(schema),
            batches: batches.to_vec(),
            estimate: len_estimate(batches),
        })
    }

    /// About the length of the IPC file: the batches' buffers plus room for
    /// the messages and the 64-byte padding of every buffer.
    pub(crate) fn len_estimate(&self) -> usize {
        self.estimate
    }

    /// The IPC file in a buffer of its own. A small file of one batch is
    /// encoded around its schema's cached template (see `template`; it
    /// copies the batch's body once more, which only small batches afford).
    ///
    /// # Errors
    /// [`Error::Encode`] if the IPC writer fails.
    pub(crate) fn encode(&self) -> Result<Vec<u8>> {
        let estimate = self.estimate;
        if let [batch] = self.batches.as_slice()
            && estimate < STREAMED_FROM
            && let Some(file) =
                template::encode_single(&self.schema, batch).map_err(|e| encode_error(&e))?
        {
            return Ok(file);
        }
        let mut file = Vec::with_capacity(estimate);
        self.write_file(&mut file).map_err(|e| encode_error(&e))?;
        Ok(file)
    }

    /// The exact length of the IPC file, from an encoding into a writer that
    /// only counts (arrow-ipc hands it the arrays' buffers without copying
    /// them).
    ///
    /// # Errors
    /// [`Error::Encode`] if the IPC writer fails.
    pub(crate) fn measured(self) -> Result<MeasuredArrow> {
        let mut counter = ByteCounter(0);
        self.write_file(&mut counter)
            .map_err(|e| encode_error(&e))?;
        Ok(MeasuredArrow {
            source: self,
            len: counter.0,
        })
    }

    fn write_file(&self, out: &mut dyn Write) -> std::result::Result<(), ArrowError> {
        let mut writer = FileWriter::try_new(out, &mark::marked(&self.schema))?;
        for batch in &self.batches {
            writer.write(batch)?;
        }
        writer.finish()
    }
}

/// An [`ArrowSource`] whose encoded length is known: a payload to stream.
#[derive(Debug, Clone)]
pub(crate) struct MeasuredArrow {
    source: ArrowSource,
    len: u64,
}

impl MeasuredArrow {
    /// The IPC file in a buffer of its own (for a write that cannot stream).
    ///
    /// # Errors
    /// [`Error::Encode`] if the IPC writer fails.
    #[cfg(feature = "object-store")]
    pub(crate) fn encode(&self) -> Result<Vec<u8>> {
        self.source.encode()
    }
}

impl StreamedPayload for MeasuredArrow {
    fn encoded_len(&self) -> u64 {
        self.len
    }

    fn write_to(&self, out: &mut dyn Write) -> Result<()> {
        self.source.write_file(out).map_err(|e| encode_error(&e))
    }
}

/// A writer that keeps nothing but the count of bytes written to it.
struct ByteCounter(u64);

impl Write for ByteCounter {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0 += bytes.len() as u64;
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// About the length of the IPC file of `batches`: their buffers' bytes plus
/// room for the messages and the 64-byte padding of every buffer.
fn len_estimate(batches: &[RecordBatch]) -> usize {
    const MESSAGES: usize = 4096;
    const PADDING_PER_COLUMN: usize = 256;
    let body: usize = batches
        .iter()
        .flat_map(RecordBatch::columns)
        .map(|column| column.to_data().get_slice_memory_size().unwrap_or(0) + PADDING_PER_COLUMN)
        .sum();
    body + MESSAGES
}
