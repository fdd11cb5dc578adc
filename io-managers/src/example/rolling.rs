//! `rolling_7d_stats`: per station statistics over the 7 days ending on the partition's day.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow_array::{Array, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{ArrowError, DataType, Field, Schema};
use tessera_engine::ArrowPartition;

use crate::executor::{AssetContext, ComputeError, Inputs, Output};

/// The statistics of one station over a window of days.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StationStats {
    /// Observations counted.
    pub observations: i64,
    /// Mean temperature (°C).
    pub mean_temp_c: f64,
    /// Lowest temperature (°C).
    pub min_temp_c: f64,
    /// Highest temperature (°C).
    pub max_temp_c: f64,
}

/// Per-station statistics of the `temperature_c` column over `batches`.
///
/// # Errors
/// [`ArrowError::SchemaError`] if a column is missing or of another type.
pub fn rolling_stats<'a>(
    batches: impl IntoIterator<Item = &'a RecordBatch>,
) -> Result<BTreeMap<String, StationStats>, ArrowError> {
    let mut stations = StationAccumulators::default();
    for batch in batches {
        let names = column::<StringArray>(batch, "station")?;
        let temperatures = column::<Float64Array>(batch, "temperature_c")?;
        for (station, &temperature) in names.iter().zip(temperatures.values()) {
            stations.add(
                station.unwrap_or_default(),
                temperature,
                temperature,
                temperature,
            );
        }
    }
    Ok(stations.into_stats())
}

/// Running count, sum, minimum and maximum per station.
#[derive(Debug, Default)]
pub(super) struct StationAccumulators {
    by_station: BTreeMap<String, (i64, f64, f64, f64)>,
}

impl StationAccumulators {
    /// Counts one value for `station`, with the low and high it brings.
    pub(super) fn add(&mut self, station: &str, value: f64, low: f64, high: f64) {
        if !self.by_station.contains_key(station) {
            let empty = (0, 0.0, f64::INFINITY, f64::NEG_INFINITY);
            self.by_station.insert(station.to_owned(), empty);
        }
        if let Some(entry) = self.by_station.get_mut(station) {
            entry.0 += 1;
            entry.1 += value;
            entry.2 = entry.2.min(low);
            entry.3 = entry.3.max(high);
        }
    }

    /// Count, mean, minimum and maximum of each station.
    pub(super) fn into_stats(self) -> BTreeMap<String, StationStats> {
        self.by_station
            .into_iter()
            .map(|(station, (count, sum, min, max))| {
                let stats = StationStats {
                    observations: count,
                    mean_temp_c: sum / count as f64,
                    min_temp_c: min,
                    max_temp_c: max,
                };
                (station, stats)
            })
            .collect()
    }
}

/// The column `name` of `batch` as a `T` array.
pub(super) fn column<'a, T: 'static>(
    batch: &'a RecordBatch,
    name: &str,
) -> Result<&'a T, ArrowError> {
    batch
        .column_by_name(name)
        .and_then(|c| c.as_any().downcast_ref::<T>())
        .ok_or_else(|| {
            ArrowError::SchemaError(format!("column {name:?} is missing or of another type"))
        })
}

/// `rolling_7d_stats`: reads up to 7 days of observations (fewer at the start).
pub(super) fn compute(context: &AssetContext, inputs: &mut Inputs) -> Result<Output, ComputeError> {
    let days = inputs.take::<ArrowPartition>("weather_obs")?.into_map();
    let stats = rolling_stats(days.values().flat_map(|day| day.batches.iter()))?;
    context.log(format!("{} days of observations", days.len()));
    let day_count = i64::try_from(days.len())?;
    Ok(Output::new(vec![stats_table(
        &stats,
        day_count,
        &ROLLING_COLUMNS,
    )?]))
}

/// The names of a statistics table's columns that differ between the
/// rolling days and the summary: the day count, the per-station count and
/// the mean.
pub(super) struct StatsColumns {
    /// The number of days the row covers.
    pub(super) days: &'static str,
    /// What the per-station count counts.
    pub(super) count: &'static str,
    /// The mean temperature.
    pub(super) mean: &'static str,
}

/// A rolling day: days in the window, observations counted, their mean.
pub(super) const ROLLING_COLUMNS: StatsColumns = StatsColumns {
    days: "days",
    count: "observations",
    mean: "mean_temp_c",
};

/// The statistics as a table: one row per station.
pub(super) fn stats_table(
    stats: &BTreeMap<String, StationStats>,
    days: i64,
    columns: &StatsColumns,
) -> Result<RecordBatch, ArrowError> {
    RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("station", DataType::Utf8, false),
            Field::new(columns.days, DataType::Int64, false),
            Field::new(columns.count, DataType::Int64, false),
            Field::new(columns.mean, DataType::Float64, false),
            Field::new("min_temp_c", DataType::Float64, false),
            Field::new("max_temp_c", DataType::Float64, false),
        ])),
        vec![
            Arc::new(StringArray::from_iter_values(stats.keys())),
            Arc::new(Int64Array::from(vec![days; stats.len()])),
            Arc::new(Int64Array::from_iter_values(
                stats.values().map(|s| s.observations),
            )),
            Arc::new(Float64Array::from_iter_values(
                stats.values().map(|s| s.mean_temp_c),
            )),
            Arc::new(Float64Array::from_iter_values(
                stats.values().map(|s| s.min_temp_c),
            )),
            Arc::new(Float64Array::from_iter_values(
                stats.values().map(|s| s.max_temp_c),
            )),
        ],
    )
}
