//! An Arrow put whose encoded length is known before it is written, so that
//! its caller can record the length (as Dagster's I/O managers do) while a
//! large partition is still encoded straight into the segment.

use std::collections::BTreeMap;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;

use super::encode::{ArrowSource, MeasuredArrow, STREAMED_FROM};
use super::no_batch_error;
use crate::batch::Payload;
use crate::codec::Codec;
use crate::error::Result;
use crate::segment::StreamedPayload;

/// Record batches to store as one Arrow IPC file, with the metadata and data
/// version of a [`Payload`]. A partition under 64 KiB is encoded here; a
/// larger one is only measured (arrow-ipc's writer into a byte counter) and
/// is encoded by the write, straight into the segment, with no copy of it on
/// the heap.
#[derive(Debug, Clone)]
pub struct ArrowPayload {
    pub(crate) body: ArrowBody,
    pub(crate) data_version: Option<String>,
    pub(crate) metadata: BTreeMap<String, String>,
}

/// The IPC file, encoded or waiting to be streamed.
#[derive(Debug, Clone)]
pub(crate) enum ArrowBody {
    Encoded(Vec<u8>),
    Streamed(MeasuredArrow),
}

impl ArrowPayload {
    /// `batches` (at least one; all of one schema).
    ///
    /// # Errors
    /// [`crate::Error::Encode`] for an empty slice, mismatched schemas or a
    /// writer error.
    pub fn new(batches: &[RecordBatch]) -> Result<Self> {
        let first = batches.first().ok_or_else(no_batch_error)?;
        Self::with_schema(&first.schema(), batches)
    }

    /// `batches` (possibly none) under `schema`.
    ///
    /// # Errors
    /// [`crate::Error::Encode`] if a batch does not match the schema or the
    /// writer fails.
    pub fn with_schema(schema: &SchemaRef, batches: &[RecordBatch]) -> Result<Self> {
        let source = ArrowSource::new(schema, batches)?;
        let body = if source.len_estimate() < STREAMED_FROM {
            ArrowBody::Encoded(source.encode()?)
        } else {
            ArrowBody::Streamed(source.measured()?)
        };
        Ok(Self {
            body,
            data_version: None,
            metadata: BTreeMap::new(),
        })
    }

    /// The exact length in bytes of the IPC file that will be stored.
    #[must_use]
    pub fn len(&self) -> u64 {
        match &self.body {
            ArrowBody::Encoded(bytes) => bytes.len() as u64,
            ArrowBody::Streamed(measured) => measured.encoded_len(),
        }
    }

    /// Whether the IPC file is empty (never: it holds at least a schema).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the write encodes the file straight into the segment (64 KiB
    /// or more) rather than copying it from a buffer.
    #[must_use]
    pub fn is_streamed(&self) -> bool {
        matches!(self.body, ArrowBody::Streamed(_))
    }

    /// Sets the data version (as [`Payload::with_data_version`]).
    #[must_use]
    pub fn with_data_version(mut self, version: impl Into<String>) -> Self {
        self.data_version = Some(version.into());
        self
    }

    /// Adds one user metadata entry (as [`Payload::with_metadata`]).
    #[must_use]
    pub fn with_metadata(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.metadata.insert(key.into(), value.into());
        self
    }
}

/// The payload of an IPC file Tessera's writer encoded, with `data_version`
/// and `metadata`.
pub(crate) fn encoded_payload(
    bytes: Vec<u8>,
    data_version: Option<String>,
    metadata: BTreeMap<String, String>,
) -> Payload<'static> {
    let mut payload = Payload::from_tessera_writer(Codec::ArrowIpc, bytes);
    payload.data_version = data_version;
    payload.metadata = metadata;
    payload
}
