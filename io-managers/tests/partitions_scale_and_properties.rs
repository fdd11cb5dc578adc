//! Properties of time definitions (every key parses back to its own window;
//! windows tile time with no gap or overlap, across DST) and the scale check:
//! ten years of hourly partitions are counted and mapped without building
//! key vectors.

use std::time::Instant;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use proptest::prelude::*;
use tessera_io_managers::partitions::{
    PartitionContext, PartitionMapping, ScheduleType, TimeWindowPartitionsDefinition as Tw,
    TimeWindowPartitionsSubset,
};

const ZONES: [&str; 5] = [
    "UTC",
    "America/Chicago",
    "Europe/Berlin",
    "Australia/Sydney",
    "Asia/Kolkata",
];
const SCHEDULES: [ScheduleType; 4] = [
    ScheduleType::Hourly,
    ScheduleType::Daily,
    ScheduleType::Weekly,
    ScheduleType::Monthly,
];

fn utc(y: i32, mo: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, 0, 0, 0)
        .single()
        .expect("valid instant")
}

fn check_tiling(def: &Tw, now: DateTime<Utc>) {
    let keys = def.keys(now).expect("keys");
    assert_eq!(keys.len(), def.key_count(now).expect("count"));
    let mut previous_end = None;
    for key in &keys {
        let window = def.time_window_for_key(key).expect("own key parses");
        assert!(window.start < window.end, "{key}: empty window");
        if let Some(end) = previous_end {
            assert_eq!(window.start, end, "{key}: gap or overlap");
        }
        previous_end = Some(window.end);
        assert!(def.contains(key, now).expect("contains"));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn windows_tile_time_and_keys_round_trip(
        zone in 0usize..ZONES.len(),
        schedule in 0usize..SCHEDULES.len(),
        day_of_year in 0i64..365,
        minute in prop::sample::select(vec![0u32, 15, 30]),
        hour in 0u32..24,
    ) {
        let start = (utc(2022, 1, 1) + TimeDelta::days(day_of_year)).format("%Y-%m-%d").to_string();
        let kind = SCHEDULES[schedule];
        let mut builder = Tw::builder(kind, &start).timezone(ZONES[zone]).minute_offset(minute);
        if kind != ScheduleType::Hourly {
            builder = builder.hour_offset(hour);
        }
        let def = builder.build().expect("valid");
        let span = match kind {
            ScheduleType::Hourly => TimeDelta::days(4),
            ScheduleType::Daily => TimeDelta::days(60),
            _ => TimeDelta::days(400),
        };
        check_tiling(&def, utc(2022, 1, 1) + TimeDelta::days(day_of_year) + span);
    }
}

#[test]
fn dst_transitions_tile_in_a_dst_zone() {
    for (start, zone) in [
        ("2022-03-12", "America/Chicago"),
        ("2022-11-05", "America/Chicago"),
        ("2022-10-29", "Europe/Berlin"),
    ] {
        for kind in [ScheduleType::Hourly, ScheduleType::Daily] {
            let def = Tw::builder(kind, start)
                .timezone(zone)
                .minute_offset(30)
                .build()
                .expect("valid");
            check_tiling(
                &def,
                Utc.with_ymd_and_hms(2022, 12, 1, 0, 0, 0)
                    .single()
                    .expect("valid"),
            );
        }
    }
}

#[test]
fn ten_years_of_hourly_partitions_without_materializing() {
    let hourly = Tw::hourly("2015-01-01-00:00").expect("valid");
    let daily = Tw::daily("2015-01-01").expect("valid");
    let now = utc(2025, 1, 1);
    let ctx = PartitionContext::at(now);
    let started = Instant::now();
    let count = hourly.key_count(now).expect("count");
    assert_eq!(count, 87_672); // ten years, three of them leap years
    let all = TimeWindowPartitionsSubset::all(&hourly, now).expect("all");
    assert_eq!(all.windows(&hourly).len(), 1);
    assert_eq!(all.len(&hourly).expect("len"), count);
    let days = TimeWindowPartitionsSubset::all(&daily, now).expect("all days");
    let mapped = PartitionMapping::TimeWindow {
        start_offset: 0,
        end_offset: 0,
        allow_nonexistent_upstream_partitions: false,
    }
    .upstream_time_subsets(&days, &daily, &hourly, &ctx)
    .expect("maps");
    assert_eq!(mapped.subset, all);
    assert!(mapped.required_but_nonexistent.is_empty());
    let one_day = TimeWindowPartitionsSubset::from_keys(&daily, &["2024-02-29"], now).expect("key");
    let hours = PartitionMapping::TimeWindow {
        start_offset: 0,
        end_offset: 0,
        allow_nonexistent_upstream_partitions: false,
    }
    .upstream_time_subsets(&one_day, &daily, &hourly, &ctx)
    .expect("maps");
    assert_eq!(hours.subset.len(&hourly).expect("len"), 24);
    assert!(
        started.elapsed().as_millis() < 500,
        "took {:?}",
        started.elapsed()
    );
    assert!(
        hourly
            .keys_in_range("2024-12-31-22:00", "2024-12-31-23:00", now)
            .expect("range")
            .len()
            == 2
    );
}
