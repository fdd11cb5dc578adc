//! `summary`: per station extremes and the mean of the rolling means, over every materialized day.

use std::collections::BTreeMap;

use arrow_array::{Float64Array, StringArray};
use tessera_engine::ArrowPartition;

use super::rolling::{StationStats, column, stats_table};
use crate::executor::{AssetContext, ComputeError, Inputs, Output};

/// `summary`: reads every rolling day there is (missing days are skipped).
pub(super) fn compute(context: &AssetContext, inputs: &mut Inputs) -> Result<Output, ComputeError> {
    let loaded = inputs.take::<ArrowPartition>("rolling_7d_stats")?;
    let skipped = loaded.skipped_partitions().len();
    let days = loaded.into_map();
    let mut totals: BTreeMap<String, (i64, f64, f64, f64)> = BTreeMap::new();
    for batch in days.values().flat_map(|day| day.batches.iter()) {
        let stations = column::<StringArray>(batch, "station")?;
        let means = column::<Float64Array>(batch, "mean_temp_c")?;
        let mins = column::<Float64Array>(batch, "min_temp_c")?;
        let maxes = column::<Float64Array>(batch, "max_temp_c")?;
        for row in 0..batch.num_rows() {
            let entry = totals.entry(stations.value(row).to_owned()).or_insert((
                0,
                0.0,
                f64::INFINITY,
                f64::NEG_INFINITY,
            ));
            entry.0 += 1;
            entry.1 += means.value(row);
            entry.2 = entry.2.min(mins.value(row));
            entry.3 = entry.3.max(maxes.value(row));
        }
    }
    context.log(format!(
        "{} rolling days, {skipped} not materialized",
        days.len()
    ));
    let stats = totals
        .into_iter()
        .map(|(station, (days, sum, min, max))| {
            let stats = StationStats {
                observations: days,
                mean_temp_c: sum / days as f64,
                min_temp_c: min,
                max_temp_c: max,
            };
            (station, stats)
        })
        .collect();
    let day_count = i64::try_from(days.len())?;
    Ok(Output::new(vec![stats_table(&stats, day_count)?]))
}
