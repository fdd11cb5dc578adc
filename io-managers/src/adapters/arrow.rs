//! Arrow record batches, loaded zero-copy from the store's mapping.

use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::{Schema, SchemaRef};
use tessera_engine::{ArrowPartition, ArrowPayload, AssetKey, Store};

use super::StoreTarget;
use crate::context::{InputContext, OutputContext};
use crate::error::{Error, Result};
use crate::manager::{InputManager, IoManager, PartitionMap, StoredValue, check_range};
use crate::metadata::ROW_COUNT;

/// Stores record batches (one or several per partition) as an Arrow IPC
/// payload; loads [`ArrowPartition`]s whose buffers borrow the store's
/// mapping. An input's [`InputContext::columns`] projects the columns.
#[derive(Debug, Clone)]
pub struct ArrowIoManager {
    target: StoreTarget,
}

impl ArrowIoManager {
    /// A manager over `store`.
    pub fn new(store: Arc<Store>) -> Self {
        Self::with_target(StoreTarget::new(store))
    }

    /// A manager writing to `target` (a store and a durability).
    pub fn with_target(target: StoreTarget) -> Self {
        Self { target }
    }

    /// Every mapped partition's batches as one list, in partition order,
    /// without copying any buffer.
    ///
    /// # Errors
    /// As [`InputManager::load_input`].
    pub fn load_batches(&self, context: &InputContext) -> Result<ConcatenatedBatches> {
        let mut stream = self.stream_partitions(context);
        let mut schema = None;
        let mut batches = Vec::new();
        for item in &mut stream {
            let (_, partition) = item?;
            schema.get_or_insert_with(|| partition.schema.clone());
            batches.extend(partition.batches);
        }
        Ok(ConcatenatedBatches {
            schema,
            batches,
            skipped: stream.skipped,
        })
    }

    /// The mapped partitions one at a time, so that only one is held at once.
    pub fn stream_partitions<'a>(&'a self, context: &'a InputContext) -> ArrowPartitionStream<'a> {
        let keys: Vec<Option<&'a str>> = if context.has_asset_partitions() {
            context
                .asset_partition_keys()
                .iter()
                .map(|k| Some(k.as_str()))
                .collect()
        } else {
            vec![None]
        };
        ArrowPartitionStream {
            manager: self,
            context,
            keys: keys.into_iter(),
            skipped: Vec::new(),
        }
    }
}

/// The batches of several partitions as one list; see
/// [`ArrowIoManager::load_batches`].
#[derive(Debug, Clone)]
pub struct ConcatenatedBatches {
    /// The schema of the batches (`None` when no partition was loaded).
    pub schema: Option<SchemaRef>,
    /// Every batch, partition after partition.
    pub batches: Vec<RecordBatch>,
    /// Partitions skipped as missing (`allow_missing_partitions`).
    pub skipped: Vec<String>,
}

/// An iterator over the mapped partitions of an input, loading each when it
/// is reached; see [`ArrowIoManager::stream_partitions`].
#[derive(Debug)]
pub struct ArrowPartitionStream<'a> {
    manager: &'a ArrowIoManager,
    context: &'a InputContext,
    keys: std::vec::IntoIter<Option<&'a str>>,
    skipped: Vec<String>,
}

impl ArrowPartitionStream<'_> {
    /// Partitions skipped so far as missing.
    pub fn skipped(&self) -> &[String] {
        &self.skipped
    }
}

impl Iterator for ArrowPartitionStream<'_> {
    type Item = Result<(String, ArrowPartition)>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let key = self.keys.next()?;
            match self.manager.load_partition(self.context, key) {
                Ok(Some(partition)) => {
                    return Some(Ok((key.unwrap_or_default().to_owned(), partition)));
                }
                Ok(None) if self.context.allow_missing_partitions() && key.is_some() => {
                    self.skipped.push(key.unwrap_or_default().to_owned());
                }
                Ok(None) => {
                    return Some(Err(Error::Missing {
                        asset: self.context.asset_key().clone(),
                        partition: key.map(str::to_owned),
                    }));
                }
                Err(error) => return Some(Err(error)),
            }
        }
    }
}

impl InputManager for ArrowIoManager {
    type Loaded = ArrowPartition;

    fn load_partition(
        &self,
        context: &InputContext,
        partition: Option<&str>,
    ) -> Result<Option<ArrowPartition>> {
        let Some(blob) = self.target.read(context, partition)? else {
            return Ok(None);
        };
        match context.columns() {
            Some(columns) => {
                let schema = blob.arrow_schema()?;
                let indices = column_indices(&schema, columns)?;
                Ok(Some(blob.arrow_projected(&indices)?))
            }
            None => Ok(Some(blob.arrow()?)),
        }
    }
}

impl IoManager for ArrowIoManager {
    type Value = Vec<RecordBatch>;

    fn handle_output(&self, context: &OutputContext, batches: Vec<RecordBatch>) -> Result<()> {
        context.add_output_metadata(ROW_COUNT, row_count(&batches))?;
        self.target.write_one(context, ArrowPayload::new(&batches)?)
    }

    fn handle_range_output(
        &self,
        context: &OutputContext,
        values: PartitionMap<Vec<RecordBatch>>,
    ) -> Result<()> {
        check_range(context, &values)?;
        let mut payloads = PartitionMap::default();
        for (key, batches) in values {
            context.add_partition_metadata(&key, ROW_COUNT, row_count(&batches))?;
            payloads.push(key, ArrowPayload::new(&batches)?);
        }
        self.target.write_range(context, payloads)
    }

    fn stored_value(&self, asset: &AssetKey, partition: Option<&str>) -> Result<StoredValue> {
        self.target.stored_value(asset, partition)
    }
}

/// The rows of all `batches`.
pub(super) fn row_count(batches: &[RecordBatch]) -> usize {
    batches.iter().map(RecordBatch::num_rows).sum()
}

/// The indices of `columns` in `schema`, in that order: the projection that
/// [`tessera_engine::Blob::arrow_projected`] decodes (the other columns'
/// buffers are not touched).
fn column_indices(schema: &Schema, columns: &[String]) -> Result<Vec<usize>> {
    columns
        .iter()
        .map(|column| {
            schema.index_of(column).map_err(|_| Error::Column {
                column: column.clone(),
                reason: "not in the stored schema".to_owned(),
            })
        })
        .collect()
}
