//! The values every system stores: raw bytes, an rkyv archive and an Arrow
//! table (int64, float64 and utf8 columns), each of about a given size.

use std::borrow::Cow;
use std::sync::Arc;

use arrow_array::{Float64Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};

use crate::error::Result;
use crate::measure::splitmix;

/// Bytes per row of the Arrow table: 8 (int64) + 8 (float64) + 4 (utf8 offset)
/// + 12 (utf8 text).
pub const ROW_BYTES: usize = 32;

/// How a value is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Opaque bytes.
    Raw,
    /// An rkyv archive of [`Columns`].
    Rkyv,
    /// An Arrow IPC file of one record batch.
    Arrow,
}

impl Format {
    /// The name shown in the table.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Raw => "raw",
            Self::Rkyv => "rkyv",
            Self::Arrow => "arrow",
        }
    }
}

/// The rkyv value: the same three columns as the Arrow table.
#[derive(Debug, rkyv::Archive, rkyv::Serialize)]
pub struct Columns {
    /// Row ids.
    pub ids: Vec<i64>,
    /// Measurements.
    pub values: Vec<f64>,
    /// Labels, 12 bytes each.
    pub labels: Vec<String>,
}

/// One value to store, in one format.
#[derive(Debug)]
pub enum Value {
    /// Opaque bytes.
    Raw(Vec<u8>),
    /// Columns archived with rkyv by the system that stores them.
    Rkyv(Columns),
    /// A record batch encoded as Arrow IPC by the system that stores it.
    Arrow(RecordBatch),
}

impl Value {
    /// A value of about `size` bytes once encoded, in `format`.
    ///
    /// # Errors
    /// If the Arrow batch cannot be assembled.
    pub fn of_size(format: Format, size: usize) -> Result<Self> {
        let rows = (size / ROW_BYTES).max(1);
        Ok(match format {
            Format::Raw => Self::Raw(raw_bytes(size)),
            Format::Rkyv => Self::Rkyv(columns(rows)),
            Format::Arrow => Self::Arrow(table(rows)?),
        })
    }
}

/// `size` pseudo-random bytes.
#[must_use]
pub fn raw_bytes(size: usize) -> Vec<u8> {
    let mut state = size as u64;
    (0..size)
        .map(|_| splitmix(&mut state).to_le_bytes()[0])
        .collect()
}

fn label(row: usize) -> String {
    format!("label-{:06}", row % 1_000_000)
}

fn columns(rows: usize) -> Columns {
    Columns {
        ids: (0..rows as i64).collect(),
        values: (0..rows).map(|i| i as f64 * 0.5).collect(),
        labels: (0..rows).map(label).collect(),
    }
}

/// An Arrow table of `rows` rows: `id` int64, `value` float64, `label` utf8.
///
/// # Errors
/// If the batch cannot be assembled (never, for these columns).
pub fn table(rows: usize) -> Result<RecordBatch> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("value", DataType::Float64, false),
        Field::new("label", DataType::Utf8, false),
    ]));
    let ids = Int64Array::from_iter_values(0..rows as i64);
    let values = Float64Array::from_iter_values((0..rows).map(|i| i as f64 * 0.5));
    let labels = StringArray::from_iter_values((0..rows).map(label));
    Ok(RecordBatch::try_new(
        schema,
        vec![Arc::new(ids), Arc::new(values), Arc::new(labels)],
    )?)
}

/// Encodes `batch` as an Arrow IPC file in memory.
///
/// # Errors
/// If the IPC writer fails.
pub fn arrow_ipc(batch: &RecordBatch) -> Result<Vec<u8>> {
    let mut writer = arrow_ipc::writer::FileWriter::try_new(Vec::new(), &batch.schema())?;
    writer.write(batch)?;
    Ok(writer.into_inner()?)
}

/// Decodes an Arrow IPC file held in memory; returns its row count.
///
/// # Errors
/// If the bytes are not an IPC file.
pub fn arrow_rows(bytes: &[u8]) -> Result<usize> {
    let reader = arrow_ipc::reader::FileReader::try_new(std::io::Cursor::new(bytes), None)?;
    let mut rows = 0;
    for batch in reader {
        rows += batch?.num_rows();
    }
    Ok(rows)
}

/// The bytes a key-value baseline stores for `value`: raw bytes as they are
/// (borrowed), an Arrow table encoded as an IPC file.
///
/// # Errors
/// If the IPC writer fails, or for an rkyv value (the key-value baselines
/// store raw and Arrow values only).
pub fn stored_bytes(value: &Value) -> Result<Cow<'_, [u8]>> {
    match value {
        Value::Raw(bytes) => Ok(Cow::Borrowed(bytes)),
        Value::Arrow(batch) => arrow_ipc(batch).map(Cow::Owned),
        Value::Rkyv(_) => Err("the key-value baselines store raw and Arrow values".into()),
    }
}

/// What a key-value baseline's read returns for `bytes` read as `format`:
/// the row count of an Arrow table (decoded, as a reader would), else the
/// byte count.
///
/// # Errors
/// If Arrow bytes do not decode.
pub fn read_len(bytes: &[u8], format: Format) -> Result<usize> {
    match format {
        Format::Arrow => arrow_rows(bytes),
        Format::Raw | Format::Rkyv => Ok(bytes.len()),
    }
}
