//! Plain-text tables and Arrow cell formatting.

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Float32Type, Float64Type, Int32Type, Int64Type, TimestampMicrosecondType, UInt64Type,
};
use arrow_array::{Array, RecordBatch};
use arrow_schema::{DataType, TimeUnit};

/// Prints rows under a header, columns padded to their widest cell.
pub(crate) fn print_table(header: &[&str], rows: &[Vec<String>]) -> std::io::Result<()> {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let rules: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
    print_line(header.iter().copied(), &widths)?;
    print_line(rules.iter().map(String::as_str), &widths)?;
    for row in rows {
        print_line(row.iter().map(String::as_str), &widths)?;
    }
    Ok(())
}

fn print_line<'a>(cells: impl Iterator<Item = &'a str>, widths: &[usize]) -> std::io::Result<()> {
    let padded: Vec<String> = cells
        .zip(widths)
        .map(|(cell, width)| format!("{cell:<width$}"))
        .collect();
    outln!("{}", padded.join("  ").trim_end());
    Ok(())
}

/// The first `limit` rows of `batch` as strings.
pub(crate) fn batch_rows(batch: &RecordBatch, limit: usize) -> Vec<Vec<String>> {
    (0..batch.num_rows().min(limit))
        .map(|row| {
            batch
                .columns()
                .iter()
                .map(|column| cell(column.as_ref(), row))
                .collect()
        })
        .collect()
}

fn cell(column: &dyn Array, row: usize) -> String {
    if column.is_null(row) {
        return "null".to_owned();
    }
    match column.data_type() {
        DataType::Utf8 => column.as_string::<i32>().value(row).to_owned(),
        DataType::LargeUtf8 => column.as_string::<i64>().value(row).to_owned(),
        DataType::Int32 => column.as_primitive::<Int32Type>().value(row).to_string(),
        DataType::Int64 => column.as_primitive::<Int64Type>().value(row).to_string(),
        DataType::UInt64 => column.as_primitive::<UInt64Type>().value(row).to_string(),
        DataType::Float32 => format!("{:.3}", column.as_primitive::<Float32Type>().value(row)),
        DataType::Float64 => format!("{:.3}", column.as_primitive::<Float64Type>().value(row)),
        DataType::Boolean => column.as_boolean().value(row).to_string(),
        DataType::Timestamp(TimeUnit::Microsecond, _) => {
            let micros = column.as_primitive::<TimestampMicrosecondType>().value(row);
            chrono::DateTime::from_timestamp_micros(micros).map_or_else(
                || micros.to_string(),
                |at| at.format("%Y-%m-%d %H:%M:%S%.6fZ").to_string(),
            )
        }
        other => format!("<{other}>"),
    }
}

/// A byte count in binary units.
pub(crate) fn bytes(count: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = count as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{count} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}
