//! `summary`: per station extremes and the mean of the rolling means, over every materialized day.

use arrow_array::{Float64Array, StringArray};
use tessera_engine::ArrowPartition;

use super::rolling::{StationAccumulators, StatsColumns, column, stats_table};

/// The summary's columns: the rolling days read, the rolling days with a
/// row for the station, and the mean of their 7-day means.
const SUMMARY_COLUMNS: StatsColumns = StatsColumns {
    days: "rolling_days",
    count: "station_rolling_days",
    mean: "mean_of_rolling_means_c",
};
use crate::executor::{AssetContext, ComputeError, Inputs, Output};

/// `summary`: reads every rolling day there is (missing days are skipped).
pub(super) fn compute(context: &AssetContext, inputs: &mut Inputs) -> Result<Output, ComputeError> {
    let loaded = inputs.take::<ArrowPartition>("rolling_7d_stats")?;
    let skipped = loaded.skipped_partitions().len();
    let days = loaded.into_map();
    let mut stations = StationAccumulators::default();
    for batch in days.values().flat_map(|day| day.batches.iter()) {
        let names = column::<StringArray>(batch, "station")?;
        let means = column::<Float64Array>(batch, "mean_temp_c")?;
        let mins = column::<Float64Array>(batch, "min_temp_c")?;
        let maxes = column::<Float64Array>(batch, "max_temp_c")?;
        for row in 0..batch.num_rows() {
            stations.add(
                names.value(row),
                means.value(row),
                mins.value(row),
                maxes.value(row),
            );
        }
    }
    context.log(format!(
        "{} rolling days, {skipped} not materialized",
        days.len()
    ));
    let stats = stations.into_stats();
    let day_count = i64::try_from(days.len())?;
    Ok(Output::new(vec![stats_table(
        &stats,
        day_count,
        &SUMMARY_COLUMNS,
    )?]))
}
