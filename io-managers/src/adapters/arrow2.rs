//! Stored Arrow IPC blobs loaded as arrow2 chunks, zero-copy through arrow2's
//! mmap reader (cargo feature `arrow2`), for users still on arrow2.

use std::io::Cursor;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use arrow2::array::Array;
use arrow2::chunk::Chunk;
use arrow2::datatypes::Schema;
use arrow2::io::ipc::read::{FileMetadata, FileReader, read_file_metadata};
use arrow2::mmap::{mmap_dictionaries_unchecked, mmap_unchecked};
use tessera_engine::{Blob, Codec, Store};

use super::StoreTarget;
use crate::context::InputContext;
use crate::error::{Error, Result};
use crate::manager::InputManager;

/// The record batches of one stored partition as arrow2 chunks.
#[derive(Debug, Clone)]
pub struct Arrow2Partition {
    /// The schema shared by every chunk (projected, if the input asked for columns).
    pub schema: Schema,
    /// The chunks, in the order the batches were stored; their buffers
    /// borrow the store's mapping.
    pub chunks: Vec<Chunk<Box<dyn Array>>>,
}

/// Loads tables stored by [`super::ArrowIoManager`] as arrow2 [`Chunk`]s whose
/// buffers point into the store's mapping. An input's
/// [`InputContext::columns`] projects the columns.
///
/// arrow2's mmap reader trusts the bytes it maps, so each load first decodes
/// the partition once with arrow2's checked reader (a transient copy, dropped
/// at once) and maps it only if that succeeds: a load costs a decode, but no
/// copy is kept. For zero-copy loads that validate in place, use
/// [`super::ArrowIoManager`] (arrow-rs).
#[derive(Debug, Clone)]
pub struct Arrow2InputManager {
    target: StoreTarget,
}

impl Arrow2InputManager {
    /// An input manager over `store`.
    pub fn new(store: Arc<Store>) -> Self {
        Self {
            target: StoreTarget::new(store),
        }
    }
}

impl InputManager for Arrow2InputManager {
    type Loaded = Arrow2Partition;

    fn load_partition(
        &self,
        context: &InputContext,
        partition: Option<&str>,
    ) -> Result<Option<Arrow2Partition>> {
        let Some(blob) = self.target.read(context, partition)? else {
            return Ok(None);
        };
        blob.expect_codec(Codec::ArrowIpc)?;
        let decoded = catch_unwind(AssertUnwindSafe(|| map_checked(&blob)))
            .map_err(|_| "the arrow2 IPC reader panicked".to_owned())
            .and_then(|decoded| decoded.map_err(|e| e.to_string()))
            .map_err(|reason| decode_error(&blob, reason))?;
        match context.columns() {
            Some(columns) => project(decoded, columns).map(Some),
            None => Ok(Some(decoded)),
        }
    }
}

/// Validates `blob` as an IPC file with arrow2's checked reader, then maps it.
#[allow(
    unsafe_code,
    reason = "arrow2's mmap reader is the only zero-copy path into arrow2"
)]
fn map_checked(blob: &Blob) -> arrow2::error::Result<Arrow2Partition> {
    let bytes: &[u8] = blob;
    let metadata = read_file_metadata(&mut Cursor::new(bytes))?;
    validate(bytes, &metadata)?;
    let data = Arc::new(blob.clone());
    // SAFETY: `mmap_dictionaries_unchecked` and `mmap_unchecked` require the
    // mapped bytes to hold valid arrays (offsets in bounds and increasing,
    // valid UTF-8, dictionary keys in bounds). `validate` just decoded these
    // exact bytes, with this exact metadata, through arrow2's checked reader,
    // which builds every array with the checking `try_new` constructors and
    // failed otherwise. The bytes cannot change afterwards: `data` holds a
    // clone of the blob, whose segment is append-only and stays mapped while
    // any clone lives (and the engine verified the payload's crc32 on read).
    // Buffer bounds and alignment are checked by the mmap reader itself.
    let chunks = unsafe {
        let dictionaries = mmap_dictionaries_unchecked(&metadata, Arc::clone(&data))?;
        (0..metadata.blocks.len())
            .map(|block| mmap_unchecked(&metadata, &dictionaries, Arc::clone(&data), block))
            .collect::<arrow2::error::Result<Vec<_>>>()?
    };
    Ok(Arrow2Partition {
        schema: metadata.schema,
        chunks,
    })
}

/// Decodes every record batch (and dictionary) with arrow2's checked reader.
fn validate(bytes: &[u8], metadata: &FileMetadata) -> arrow2::error::Result<()> {
    FileReader::new(Cursor::new(bytes), metadata.clone(), None, None)
        .try_for_each(|chunk| chunk.map(drop))
}

fn decode_error(blob: &Blob, reason: String) -> Error {
    Error::Engine(tessera_engine::Error::ArrowDecode {
        asset: blob.asset().clone(),
        partition: blob.partition().clone(),
        reason,
    })
}

/// Keeps only `columns`, in that order; the arrays are shared, not copied.
fn project(partition: Arrow2Partition, columns: &[String]) -> Result<Arrow2Partition> {
    let indices = columns
        .iter()
        .map(|column| {
            partition
                .schema
                .fields
                .iter()
                .position(|field| field.name == *column)
                .ok_or_else(|| Error::Column {
                    column: column.clone(),
                    reason: "not in the stored schema".to_owned(),
                })
        })
        .collect::<Result<Vec<usize>>>()?;
    let fields = indices
        .iter()
        .map(|&i| partition.schema.fields[i].clone())
        .collect::<Vec<_>>();
    let chunks = partition
        .chunks
        .iter()
        .map(|chunk| {
            let arrays = indices.iter().map(|&i| chunk.arrays()[i].clone()).collect();
            Chunk::new(arrays)
        })
        .collect();
    Ok(Arrow2Partition {
        schema: Schema::from(fields).with_metadata(partition.schema.metadata),
        chunks,
    })
}
