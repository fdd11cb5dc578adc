//! Partitions: a 10-year hourly definition (87,672 keys), counted and
//! enumerated, and a daily downstream mapped onto it, as merged windows
//! against the key-by-key way; and a four-dimensional multi-partitions
//! definition (20 customers × 4 regions × 5 products × 365 days = 146,000
//! keys, past Dagster's two dimensions) counted, enumerated and mapped.

use chrono::{TimeZone, Utc};
use std::collections::BTreeMap;

use tessera_io_managers::partitions::{
    DimensionPartitionMapping, MultiPartitionsDefinition, PartitionContext, PartitionMapping,
    PartitionsDefinition, StaticPartitionsDefinition, TimeWindowPartitionsDefinition,
    TimeWindowPartitionsSubset, infer_partition_mapping,
};

use crate::error::Result;
use crate::measure::{median, timed};
use crate::plan::Plan;
use crate::report::Row;

const SYSTEM: &str = "tessera partitions";

/// Runs the partitions workload.
///
/// # Errors
/// A definition or mapping error (none for these fixed definitions).
pub fn run(plan: &Plan) -> Result<Vec<Row>> {
    eprintln!("partitions: 10-year hourly");
    let now = Utc
        .with_ymd_and_hms(2025, 1, 1, 0, 0, 0)
        .single()
        .ok_or("a fixed instant")?;
    let ctx = PartitionContext::at(now);
    let hourly_def = TimeWindowPartitionsDefinition::hourly("2015-01-01-00:00")?;
    let daily_def = TimeWindowPartitionsDefinition::daily("2015-01-01")?;
    let hourly = PartitionsDefinition::from(hourly_def.clone());
    let daily = PartitionsDefinition::from(daily_def.clone());
    let mapping = infer_partition_mapping(Some(&hourly), Some(&daily))?;

    let count = repeat(plan, || Ok(hourly.key_count(&ctx)?))?;
    let enumerate = repeat(plan, || Ok(hourly.keys(&ctx)?.len()))?;
    let all_days = TimeWindowPartitionsSubset::all(&daily_def, now)?;
    let day_keys = daily.keys(&ctx)?;
    let map_windows = repeat(plan, || {
        let upstream = mapping_subsets(&mapping, &all_days, &daily_def, &hourly_def, &ctx)?;
        Ok(upstream.len(&hourly_def)?)
    })?;
    let map_keys = repeat(plan, || {
        Ok(mapping
            .upstream_for_downstream(&day_keys, Some(&daily), &hourly, &ctx)?
            .keys
            .len())
    })?;
    let one_day = vec!["2020-06-15".to_owned()];
    let map_one_day = repeat(plan, || {
        Ok(mapping
            .upstream_for_downstream(&one_day, Some(&daily), &hourly, &ctx)?
            .keys
            .len())
    })?;

    let keys = count.value as f64;
    let mut rows = vec![
        Row::new(
            SYSTEM,
            format!("count {keys} hourly keys (10 years)"),
            count.micros,
            "µs",
        )
        .against("enumerate every key", enumerate.micros),
        Row::new(SYSTEM, "enumerate every hourly key", enumerate.micros, "µs"),
        Row::new(
            SYSTEM,
            format!("map {} days onto hourly, as windows", day_keys.len()),
            map_windows.micros,
            "µs",
        )
        .against("map key by key", map_keys.micros),
        Row::new(
            SYSTEM,
            "map every day onto hourly, key by key",
            map_keys.micros,
            "µs",
        ),
        Row::new(
            SYSTEM,
            format!("map one day onto hourly ({} keys)", map_one_day.value),
            map_one_day.micros,
            "µs",
        ),
    ];
    rows.extend(four_dimensions(plan)?);
    Ok(rows)
}

/// A static dimension of `count` keys `<prefix>00`, `<prefix>01`, …
fn numbered(prefix: &str, count: usize) -> Result<PartitionsDefinition> {
    let keys = (0..count).map(|i| format!("{prefix}{i:02}"));
    Ok(StaticPartitionsDefinition::new(keys)?.into())
}

/// The 20 × 4 × 5 × 365 definition: counted, enumerated, one day mapped onto
/// it (multi-to-single: 400 keys), and one (day, region) of a
/// two-dimension downstream mapped onto it per dimension (multi-to-multi,
/// the day with a one-day lag: 200 keys).
fn four_dimensions(plan: &Plan) -> Result<Vec<Row>> {
    eprintln!("partitions: 20 x 4 x 5 x 365 multi-partitions");
    let now = Utc
        .with_ymd_and_hms(2025, 1, 1, 0, 0, 0)
        .single()
        .ok_or("a fixed instant")?;
    let ctx = PartitionContext::at(now);
    let days: PartitionsDefinition = TimeWindowPartitionsDefinition::builder(
        tessera_io_managers::partitions::ScheduleType::Daily,
        "2024-01-01",
    )
    .end("2024-12-31")
    .build()?
    .into();
    let regions = numbered("region", 4)?;
    let cube: PartitionsDefinition = MultiPartitionsDefinition::with_dimensions([
        ("customer", numbered("customer", 20)?),
        ("region", regions.clone()),
        ("product", numbered("product", 5)?),
        ("date", days.clone()),
    ])?
    .into();
    let downstream: PartitionsDefinition =
        MultiPartitionsDefinition::new([("date", days.clone()), ("region", regions)])?.into();

    let count = repeat(plan, || Ok(cube.key_count(&ctx)?))?;
    let enumerate = repeat(plan, || Ok(cube.keys(&ctx)?.len()))?;
    let to_single = PartitionMapping::MultiToSingleDimension {
        partition_dimension_name: Some("date".to_owned()),
    };
    let one_day = vec!["2024-06-15".to_owned()];
    let map_day = repeat(plan, || {
        Ok(to_single
            .upstream_for_downstream(&one_day, Some(&days), &cube, &ctx)?
            .keys
            .len())
    })?;
    let per_dimension = PartitionMapping::MultiPartitions(BTreeMap::from([
        (
            "date".to_owned(),
            DimensionPartitionMapping {
                dimension_name: "date".to_owned(),
                partition_mapping: PartitionMapping::TimeWindow {
                    start_offset: -1,
                    end_offset: 0,
                    allow_nonexistent_upstream_partitions: false,
                },
            },
        ),
        (
            "region".to_owned(),
            DimensionPartitionMapping {
                dimension_name: "region".to_owned(),
                partition_mapping: PartitionMapping::Identity,
            },
        ),
    ]));
    let one_cell = vec!["2024-06-15|region02".to_owned()];
    let map_cell = repeat(plan, || {
        Ok(per_dimension
            .upstream_for_downstream(&one_cell, Some(&downstream), &cube, &ctx)?
            .keys
            .len())
    })?;
    Ok(vec![
        Row::new(
            SYSTEM,
            format!(
                "count {} keys of a 4-dimension multi definition",
                count.value
            ),
            count.micros,
            "µs",
        )
        .against("enumerate every key", enumerate.micros),
        Row::new(
            SYSTEM,
            format!("enumerate {} 4-dimension keys", enumerate.value),
            enumerate.micros,
            "µs",
        ),
        Row::new(
            SYSTEM,
            format!("map one day onto 4 dimensions ({} keys)", map_day.value),
            map_day.micros,
            "µs",
        ),
        Row::new(
            SYSTEM,
            format!(
                "map (day, region) onto 4 dimensions per dimension ({} keys)",
                map_cell.value
            ),
            map_cell.micros,
            "µs",
        ),
    ])
}

fn mapping_subsets(
    mapping: &PartitionMapping,
    downstream: &TimeWindowPartitionsSubset,
    downstream_def: &TimeWindowPartitionsDefinition,
    upstream_def: &TimeWindowPartitionsDefinition,
    ctx: &PartitionContext<'_>,
) -> Result<TimeWindowPartitionsSubset> {
    Ok(mapping
        .upstream_time_subsets(downstream, downstream_def, upstream_def, ctx)?
        .subset)
}

/// The median time of `plan.runs` calls of `f`, and its (last) value.
struct Timing {
    value: usize,
    micros: f64,
}

fn repeat(plan: &Plan, mut f: impl FnMut() -> Result<usize>) -> Result<Timing> {
    let mut times = Vec::with_capacity(plan.runs);
    let mut value = 0;
    for _ in 0..plan.runs.max(3) {
        let (result, secs) = timed(&mut f)?;
        value = result;
        times.push(secs * 1e6);
    }
    Ok(Timing {
        value,
        micros: median(&times),
    })
}
