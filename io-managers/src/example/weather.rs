//! Synthetic weather observations, generated deterministically per day.

use std::sync::Arc;

use arrow_array::{Float64Array, RecordBatch, StringArray, TimestampMicrosecondArray};
use arrow_schema::{ArrowError, DataType, Field, Schema, TimeUnit};
use chrono::{Datelike, NaiveDate};

use crate::executor::{AssetContext, ComputeError, Inputs, Output};

/// Observations per day (all stations).
pub const OBSERVATIONS_PER_DAY: usize = 100_000;
/// The stations observed.
pub const STATIONS: [&str; 10] = [
    "KSEA", "KPDX", "KSFO", "KLAX", "KDEN", "KORD", "KJFK", "KBOS", "KMIA", "KATL",
];

/// The observations of `day`: station, timestamp (an Arrow
/// `Timestamp(Microsecond, "UTC")`),
/// temperature (°C), relative humidity (%), wind speed (m/s). The same day
/// always gives the same table.
///
/// # Errors
/// Never in practice (the columns match the schema).
pub fn weather_observations(day: NaiveDate) -> Result<RecordBatch, ArrowError> {
    let start = day
        .and_hms_opt(0, 0, 0)
        .unwrap_or_default()
        .and_utc()
        .timestamp_micros();
    let seconds_between =
        86_400_000_000 / i64::try_from(OBSERVATIONS_PER_DAY / STATIONS.len()).unwrap_or(1);
    let mut random = SplitMix64(u64::try_from(day.num_days_from_ce()).unwrap_or_default());
    let season = (f64::from(day.ordinal0()) / 365.0 * std::f64::consts::TAU).cos();
    let mut stations = Vec::with_capacity(OBSERVATIONS_PER_DAY);
    let mut timestamps = Vec::with_capacity(OBSERVATIONS_PER_DAY);
    let mut temperatures = Vec::with_capacity(OBSERVATIONS_PER_DAY);
    let mut humidities = Vec::with_capacity(OBSERVATIONS_PER_DAY);
    let mut winds = Vec::with_capacity(OBSERVATIONS_PER_DAY);
    for row in 0..OBSERVATIONS_PER_DAY {
        let station = row % STATIONS.len();
        let slot = i64::try_from(row / STATIONS.len()).unwrap_or_default();
        let hour = (slot * seconds_between) as f64 / 3_600_000_000.0;
        let diurnal = ((hour - 15.0) / 24.0 * std::f64::consts::TAU).cos();
        stations.push(STATIONS[station]);
        timestamps.push(start + slot * seconds_between);
        temperatures.push(12.0 + station as f64 - 9.0 * season + 5.0 * diurnal + random.noise(2.0));
        humidities.push((60.0 - 10.0 * diurnal + random.noise(15.0)).clamp(0.0, 100.0));
        winds.push((4.0 + random.noise(3.0)).max(0.0));
    }
    RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("station", DataType::Utf8, false),
            Field::new(
                "timestamp",
                DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                false,
            ),
            Field::new("temperature_c", DataType::Float64, false),
            Field::new("humidity_pct", DataType::Float64, false),
            Field::new("wind_mps", DataType::Float64, false),
        ])),
        vec![
            Arc::new(StringArray::from(stations)),
            Arc::new(TimestampMicrosecondArray::from(timestamps).with_timezone("UTC")),
            Arc::new(Float64Array::from(temperatures)),
            Arc::new(Float64Array::from(humidities)),
            Arc::new(Float64Array::from(winds)),
        ],
    )
}

/// `weather_obs`: the day's observations.
pub(super) fn compute(
    context: &AssetContext,
    _inputs: &mut Inputs,
) -> Result<Output, ComputeError> {
    let key = context
        .partition_key()
        .ok_or("weather_obs runs one day at a time")?;
    let day = NaiveDate::parse_from_str(key, "%Y-%m-%d")?;
    let batch = weather_observations(day)?;
    context.log(format!(
        "generated {} observations for {key}",
        batch.num_rows()
    ));
    Ok(Output::new(vec![batch]))
}

/// A small deterministic generator (SplitMix64), enough for synthetic data.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform noise in `[-amplitude, amplitude)`.
    fn noise(&mut self, amplitude: f64) -> f64 {
        let unit = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        (unit * 2.0 - 1.0) * amplitude
    }
}
