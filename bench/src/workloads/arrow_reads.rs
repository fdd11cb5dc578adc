//! Arrow reads of one large partition (64 MiB; 16 MiB with `--quick`) of eight
//! columns, by what they touch: a verified read (crc32, then no validation of
//! Tessera-written arrays) against crc32fast alone; a read without checksums
//! (arrow-ipc validates); the `unsafe` unchecked read (neither), at 1 MiB and
//! at the large size, whose time should not grow; and a projection of one
//! column of the eight, which should touch only that column's pages.

use std::path::Path;
use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use tessera_engine::{Blob, IndexKind, PartitionKey, Store};

use crate::error::Result;
use crate::measure::{median, timed};
use crate::plan::Plan;
use crate::report::Row;
use crate::tessera::{bench_asset, open, system_name};

const MIB: usize = 1 << 20;
/// Bytes per row: seven 8-byte columns, and a utf8 column of 12-byte labels
/// with their 4-byte offsets.
const ROW_BYTES: usize = 7 * 8 + 16;
/// Reads timed per figure (each figure is the median of `plan.runs` of them).
const READS: usize = 20;

/// Runs the workload.
///
/// # Errors
/// Any failing write or read.
pub fn run(plan: &Plan, root: &Path) -> Result<Vec<Row>> {
    let large = if plan.quick { 16 * MIB } else { 64 * MIB };
    let dir = tempfile::tempdir_in(root)?;
    let asset = bench_asset()?;
    let keys = [PartitionKey::new("small")?, PartitionKey::new("large")?];
    {
        let store = open(
            dir.path(),
            IndexKind::Redb,
            tessera_engine::Durability::Buffered,
            true,
        )?;
        for (key, size) in keys.iter().zip([MIB, large]) {
            eprintln!(
                "arrow reads: writing {}",
                crate::report::human_size(size as u64)
            );
            store.put_arrow(&asset, key, &[table(size / ROW_BYTES)?])?;
        }
        store.flush()?;
    }
    let system = system_name(IndexKind::Redb);
    let mut rows = Vec::new();
    let verified = reader(dir.path(), true)?;
    let unverified = reader(dir.path(), false)?;
    let time = |store: &Store, key: &PartitionKey, read: Read| -> Result<f64> {
        per_read(plan, || {
            let blob = store.get(&asset, key)?.ok_or("partition is missing")?;
            read.decode(&blob)
        })
    };
    let large_key = &keys[1];
    let size = large as u64;
    let crc = {
        let blob = verified
            .get(&asset, large_key)?
            .ok_or("partition is missing")?;
        per_read(plan, || {
            std::hint::black_box(crc32fast::hash(&blob));
            Ok(0)
        })?
    };
    let full_verified = time(&verified, large_key, Read::Full)?;
    rows.push(
        Row::new(
            &system,
            "arrow read, verified",
            full_verified * 1e6,
            "µs/read",
        )
        .size(size)
        .against("limit: crc32fast (µs)", crc * 1e6),
    );
    let speed = crc / full_verified;
    rows.push(
        Row::new(&system, "target: verified read speed", speed, "x crc32fast")
            .size(size)
            .target(">= 0.5x crc32fast", speed >= 0.5),
    );
    let full_unverified = time(&unverified, large_key, Read::Full)?;
    rows.push(
        Row::new(
            &system,
            "arrow read, no verify (validated)",
            full_unverified * 1e6,
            "µs/read",
        )
        .size(size),
    );
    for (store, label) in [(&verified, "verified"), (&unverified, "no verify")] {
        let projected = time(store, large_key, Read::Projected)?;
        let full = if label == "verified" {
            full_verified
        } else {
            full_unverified
        };
        rows.push(
            Row::new(
                &system,
                format!("projection 1 of 8 columns, {label}"),
                projected * 1e6,
                "µs/read",
            )
            .size(size)
            .against("all 8 columns", full * 1e6),
        );
    }
    let unchecked_small = time(&unverified, &keys[0], Read::Unchecked)?;
    let unchecked_large = time(&unverified, large_key, Read::Unchecked)?;
    let growth = unchecked_large / unchecked_small;
    rows.push(
        Row::new(
            &system,
            "target: unchecked read time",
            unchecked_large * 1e6,
            "µs/read",
        )
        .size(size)
        .against(
            format!("same at 1 MiB ({:.1} µs)", unchecked_small * 1e6),
            unchecked_small * 1e6,
        )
        .target("<= 2x the 1 MiB read time", growth <= 2.0),
    );
    Ok(rows)
}

/// A read-only store over `dir` (several may be open at once), checksums
/// verified or not.
fn reader(dir: &Path, verify: bool) -> Result<Store> {
    Ok(Store::builder(dir)
        .index(IndexKind::Redb)
        .verify_checksums(verify)
        .read_only()
        .open()?)
}

/// How a read decodes its blob.
#[derive(Debug, Clone, Copy)]
enum Read {
    /// `Blob::arrow`.
    Full,
    /// `Blob::arrow_projected` of the fourth column (an int64).
    Projected,
    /// `Blob::arrow_unchecked` of every column.
    Unchecked,
}

impl Read {
    #[allow(
        unsafe_code,
        reason = "measures the unsafe opt-in on payloads this workload just wrote"
    )]
    fn decode(self, blob: &Blob) -> Result<usize> {
        let partition = match self {
            Self::Full => blob.arrow()?,
            Self::Projected => blob.arrow_projected(&[3])?,
            // SAFETY: the payload was written by `put_arrow` in this run to a
            // store that nothing else touches.
            Self::Unchecked => unsafe { blob.arrow_unchecked(None)? },
        };
        Ok(partition.num_rows())
    }
}

/// Median seconds of one read over `plan.runs` runs of [`READS`] reads.
fn per_read(plan: &Plan, mut read: impl FnMut() -> Result<usize>) -> Result<f64> {
    let mut secs = Vec::with_capacity(plan.runs);
    for _ in 0..plan.runs {
        let ((), elapsed) = timed(|| {
            for _ in 0..READS {
                std::hint::black_box(read()?);
            }
            Ok(())
        })?;
        secs.push(elapsed / READS as f64);
    }
    Ok(median(&secs))
}

/// An eight-column table of `rows` rows: five int64, two float64 and a utf8
/// label.
fn table(rows: usize) -> Result<RecordBatch> {
    let mut fields = Vec::new();
    let mut columns: Vec<ArrayRef> = Vec::new();
    for i in 0..5 {
        fields.push(Field::new(format!("i{i}"), DataType::Int64, false));
        columns.push(Arc::new(Int64Array::from_iter_values(
            (0..rows as i64).map(|r| r * (i + 1)),
        )));
    }
    for i in 0..2 {
        fields.push(Field::new(format!("f{i}"), DataType::Float64, false));
        columns.push(Arc::new(Float64Array::from_iter_values(
            (0..rows).map(|r| r as f64 * 0.25),
        )));
    }
    fields.push(Field::new("label", DataType::Utf8, false));
    columns.push(Arc::new(StringArray::from_iter_values(
        (0..rows).map(|r| format!("label-{:06}", r % 1_000_000)),
    )));
    Ok(RecordBatch::try_new(
        Arc::new(Schema::new(fields)),
        columns,
    )?)
}
