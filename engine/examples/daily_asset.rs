//! Writes a month of a daily partitioned asset as Arrow tables, reads every
//! partition back without copying, and prints what the store holds.
//!
//! `cargo run --release -p tessera-engine --example daily_asset [STORE_DIR]`

use std::sync::Arc;
use std::time::Instant;

use arrow_array::{Array, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use tessera_engine::{AssetKey, Durability, PartitionKey, Payload, Store, WriteBatch};

const ROWS_PER_DAY: i64 = 100_000;

fn observations(day: i64) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("minute", DataType::Int64, false),
        Field::new("station", DataType::Utf8, false),
        Field::new("temperature_c", DataType::Float64, false),
    ]));
    let minutes = Int64Array::from_iter_values((0..ROWS_PER_DAY).map(|i| i % 1440));
    let stations =
        StringArray::from_iter_values((0..ROWS_PER_DAY).map(|i| format!("ST{:02}", i % 70)));
    let temps = Float64Array::from_iter_values((0..ROWS_PER_DAY).map(|i| {
        let seasonal = (day as f64 / 365.0 * std::f64::consts::TAU).sin() * 8.0;
        15.0 + seasonal + ((i * 7 + day * 13) % 100) as f64 / 20.0
    }));
    RecordBatch::try_new(
        schema,
        vec![Arc::new(minutes), Arc::new(stations), Arc::new(temps)],
    )
    .expect("columns match the schema")
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "tessera-data/example".into());
    let store = Store::open(&dir)?;
    let asset = AssetKey::new(["public", "weather_obs"])?;

    let started = Instant::now();
    let mut batch = WriteBatch::new().durability(Durability::Buffered);
    for day in 1..=31 {
        let partition = PartitionKey::new(format!("2022-07-{day:02}"))?;
        let payload =
            Payload::arrow(&[observations(day)])?.with_metadata("rows", ROWS_PER_DAY.to_string());
        batch.put(&asset, &partition, payload);
    }
    store.write(batch)?;
    store.flush()?;
    println!(
        "wrote 31 daily partitions of {asset} in {:.1?} (one atomic batch, one flush)",
        started.elapsed()
    );

    let started = Instant::now();
    let (mut rows, mut sum, mut bytes) = (0usize, 0.0f64, 0usize);
    for partition in store.list_partitions(&asset)? {
        let blob = store
            .get(&asset, &partition)?
            .ok_or("listed partition vanished")?;
        bytes += blob.len();
        for batch in blob.arrow()?.batches {
            let temps = batch
                .column(2)
                .as_any()
                .downcast_ref::<Float64Array>()
                .ok_or("column 2 is not f64")?;
            assert!(
                blob.is_in_mapping(temps.values().as_ptr().cast()),
                "zero-copy read"
            );
            rows += temps.len();
            sum += temps.values().iter().sum::<f64>();
        }
    }
    println!(
        "read {rows} rows ({:.1} MiB) back zero-copy in {:.1?}; mean temperature {:.3} °C",
        bytes as f64 / (1 << 20) as f64,
        started.elapsed(),
        sum / rows as f64
    );
    let stats = store.stats()?;
    println!(
        "store {dir}: {} assets, {} partitions, {} payload bytes, {} segment files",
        stats.assets, stats.partitions, stats.payload_bytes, stats.segments
    );
    Ok(())
}
