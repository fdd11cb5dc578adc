//! Behaviours where Tessera used to differ from Dagster 1.13 by mistake, each
//! test named after Dagster's behaviour and its expectations taken from
//! Dagster 1.13.29 run by hand: offsets count existing partitions only (an
//! excluded window is not a partition), every format Dagster accepts for a
//! time-window definition round-trips, and `SpecificPartitionsPartitionMapping`
//! gives the upstream definition's order.

use chrono::{DateTime, TimeZone, Utc};
use tessera_io_managers::partitions::{
    PartitionContext, PartitionMapping, PartitionsDefinition as Pd, ScheduleType,
    StaticPartitionsDefinition, TimeWindowPartitionsDefinition as Tw,
};

fn utc(y: i32, mo: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, 0, 0, 0)
        .single()
        .expect("valid instant")
}

fn keys(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

fn tw(start_offset: i64, end_offset: i64) -> PartitionMapping {
    PartitionMapping::TimeWindow {
        start_offset,
        end_offset,
        allow_nonexistent_upstream_partitions: false,
    }
}

/// Daily UTC from 2023-01-01 without Saturdays and Sundays.
fn weekdays() -> Pd {
    Tw::builder(ScheduleType::Daily, "2023-01-01")
        .exclude_cron("0 0 * * 6")
        .exclude_cron("0 0 * * 0")
        .build()
        .expect("valid")
        .into()
}

fn upstream_of(m: &PartitionMapping, down_key: &str, down: &Pd, upstream: &Pd) -> Vec<String> {
    let ctx = PartitionContext::at(utc(2023, 2, 1));
    let mapped = m
        .upstream_for_downstream(&keys(&[down_key]), Some(down), upstream, &ctx)
        .expect("mapping succeeds");
    assert_eq!(mapped.required_but_nonexistent, Vec::<String>::new());
    mapped.keys
}

#[test]
fn offsetted_datetime_steps_over_excluded_windows() {
    let def = weekdays();
    let cases: &[(i64, i64, &str, &[&str])] = &[
        (-1, 0, "2023-01-09", &["2023-01-06", "2023-01-09"]),
        (
            -2,
            0,
            "2023-01-09",
            &["2023-01-05", "2023-01-06", "2023-01-09"],
        ),
        (-1, -1, "2023-01-09", &["2023-01-06"]),
        (0, 1, "2023-01-06", &["2023-01-06", "2023-01-09"]),
        (1, 1, "2023-01-06", &["2023-01-09"]),
        (-1, 0, "2023-01-02", &["2023-01-02"]),
    ];
    for (start, end, down_key, expected) in cases {
        assert_eq!(
            upstream_of(&tw(*start, *end), down_key, &def, &def),
            keys(expected),
            "TW({start}, {end}) of {down_key}"
        );
    }
}

#[test]
fn offsetted_datetime_counts_the_downstream_definitions_partitions() {
    let plain: Pd = Tw::daily("2023-01-01").expect("valid").into();
    // Offsets are counted in the downstream's partitions: a downstream
    // without weekends looks back to Friday over a plain daily upstream…
    assert_eq!(
        upstream_of(&tw(-1, 0), "2023-01-09", &weekdays(), &plain),
        keys(&["2023-01-06", "2023-01-07", "2023-01-08", "2023-01-09"])
    );
    // …and a plain downstream looks back one day, a Sunday upstream lacks.
    assert_eq!(
        upstream_of(&tw(-1, 0), "2023-01-09", &plain, &weekdays()),
        keys(&["2023-01-09"])
    );
    assert_eq!(
        upstream_of(&tw(-1, 0), "2023-01-08", &plain, &weekdays()),
        Vec::<String>::new()
    );
}

#[test]
fn offsetted_datetime_maps_back_over_excluded_windows() {
    let def = weekdays();
    let ctx = PartitionContext::at(utc(2023, 2, 1));
    let down = |m: &PartitionMapping| {
        m.downstream_for_upstream(&keys(&["2023-01-06"]), &def, &def, &ctx)
            .expect("mapping succeeds")
    };
    assert_eq!(down(&tw(-1, 0)), keys(&["2023-01-06", "2023-01-09"]));
    assert_eq!(down(&tw(-1, -1)), keys(&["2023-01-09"]));
}

/// `(cron, fmt, start, timezone, key count, first two keys, last two keys)`
/// as Dagster 1.13.29 gives them at 2024-03-15 05:30 UTC.
type FormatCase<'a> = (
    &'a str,
    &'a str,
    &'a str,
    &'a str,
    usize,
    [&'a str; 2],
    [&'a str; 2],
);

const FORMAT_CASES: &[FormatCase<'static>] = &[
    (
        "0 0 1 1 *",
        "%Y",
        "2019",
        "UTC",
        5,
        ["2019", "2020"],
        ["2022", "2023"],
    ),
    (
        "0 0 1 1 *",
        "%Y",
        "2019",
        "America/New_York",
        5,
        ["2019", "2020"],
        ["2022", "2023"],
    ),
    (
        "0 0 1 1 *",
        "year=%Y",
        "year=2019",
        "UTC",
        5,
        ["year=2019", "year=2020"],
        ["year=2022", "year=2023"],
    ),
    (
        "0 0 1 * *",
        "%Y-%m",
        "2023-06",
        "UTC",
        9,
        ["2023-06", "2023-07"],
        ["2024-01", "2024-02"],
    ),
    (
        "0 0 1 */3 *",
        "%Y-%m",
        "2023-01",
        "UTC",
        4,
        ["2023-01", "2023-04"],
        ["2023-07", "2023-10"],
    ),
    (
        "0 0 1 * *",
        "%Y%m",
        "202401",
        "UTC",
        2,
        ["202401", "202402"],
        ["202401", "202402"],
    ),
    (
        "0 0 1 * *",
        "%b-%y",
        "Jan-24",
        "UTC",
        2,
        ["Jan-24", "Feb-24"],
        ["Jan-24", "Feb-24"],
    ),
    (
        "0 0 * * *",
        "%Y%m%d",
        "20240301",
        "UTC",
        14,
        ["20240301", "20240302"],
        ["20240313", "20240314"],
    ),
    (
        "0 0 * * *",
        "day_%Y-%m-%d",
        "day_2024-03-01",
        "UTC",
        14,
        ["day_2024-03-01", "day_2024-03-02"],
        ["day_2024-03-13", "day_2024-03-14"],
    ),
    (
        "0 0 * * *",
        "%y-%m-%d",
        "24-03-01",
        "UTC",
        14,
        ["24-03-01", "24-03-02"],
        ["24-03-13", "24-03-14"],
    ),
    (
        "0 0 * * *",
        "%Y-%j",
        "2024-060",
        "UTC",
        15,
        ["2024-060", "2024-061"],
        ["2024-073", "2024-074"],
    ),
    (
        "0 0 * * *",
        "%y%j",
        "24061",
        "UTC",
        14,
        ["24061", "24062"],
        ["24073", "24074"],
    ),
    (
        "0 0 * * *",
        "%d.%m.%Y",
        "01.03.2024",
        "UTC",
        14,
        ["01.03.2024", "02.03.2024"],
        ["13.03.2024", "14.03.2024"],
    ),
    (
        "0 0 * * *",
        "%m/%d/%Y",
        "03/01/2024",
        "UTC",
        14,
        ["03/01/2024", "03/02/2024"],
        ["03/13/2024", "03/14/2024"],
    ),
    (
        "0 0 * * *",
        "%Y_%m_%d",
        "2024_03_01",
        "UTC",
        14,
        ["2024_03_01", "2024_03_02"],
        ["2024_03_13", "2024_03_14"],
    ),
    (
        "0 0 * * *",
        "%d %b %Y",
        "01 Mar 2024",
        "UTC",
        14,
        ["01 Mar 2024", "02 Mar 2024"],
        ["13 Mar 2024", "14 Mar 2024"],
    ),
    (
        "0 0 * * *",
        "%A %Y-%m-%d",
        "Friday 2024-03-01",
        "UTC",
        14,
        ["Friday 2024-03-01", "Saturday 2024-03-02"],
        ["Wednesday 2024-03-13", "Thursday 2024-03-14"],
    ),
    (
        "0 0 * * *",
        "%Y-%m-%dT%H:%M:%S",
        "2024-03-01T00:00:00",
        "UTC",
        14,
        ["2024-03-01T00:00:00", "2024-03-02T00:00:00"],
        ["2024-03-13T00:00:00", "2024-03-14T00:00:00"],
    ),
    (
        "0 0 * * *",
        "%Y-%m-%d%z",
        "2024-03-01+0000",
        "UTC",
        14,
        ["2024-03-01+0000", "2024-03-02+0000"],
        ["2024-03-13+0000", "2024-03-14+0000"],
    ),
    (
        "0 0 * * *",
        "%Y-%m-%d%%",
        "2024-03-01%",
        "UTC",
        14,
        ["2024-03-01%", "2024-03-02%"],
        ["2024-03-13%", "2024-03-14%"],
    ),
    (
        "0 0 * * *",
        "%Y-%m-%d",
        "2024-03-01",
        "America/Chicago",
        14,
        ["2024-03-01", "2024-03-02"],
        ["2024-03-13", "2024-03-14"],
    ),
    (
        "0 * * * *",
        "%Y%m%d%H",
        "2024031400",
        "UTC",
        29,
        ["2024031400", "2024031401"],
        ["2024031503", "2024031504"],
    ),
    (
        "0 * * * *",
        "%Y-%m-%d-%H",
        "2024-03-14-00",
        "UTC",
        29,
        ["2024-03-14-00", "2024-03-14-01"],
        ["2024-03-15-03", "2024-03-15-04"],
    ),
    (
        "0 * * * *",
        "%Y-%m-%d %H:%M",
        "2024-03-14 00:00",
        "UTC",
        29,
        ["2024-03-14 00:00", "2024-03-14 01:00"],
        ["2024-03-15 03:00", "2024-03-15 04:00"],
    ),
    (
        "30 * * * *",
        "%Y%m%d%H%M",
        "202403140030",
        "UTC",
        29,
        ["202403140030", "202403140130"],
        ["202403150330", "202403150430"],
    ),
    (
        "0 * * * *",
        "%Y-%m-%d %I%p",
        "2024-03-14 01AM",
        "UTC",
        28,
        ["2024-03-14 01AM", "2024-03-14 02AM"],
        ["2024-03-15 03AM", "2024-03-15 04AM"],
    ),
    (
        "0 */6 * * *",
        "%Y-%m-%d %I %p",
        "2024-03-13 12 AM",
        "UTC",
        8,
        ["2024-03-13 12 AM", "2024-03-13 06 AM"],
        ["2024-03-14 12 PM", "2024-03-14 06 PM"],
    ),
    (
        "0 0 * * 0",
        "%Y-%U",
        "2024-09",
        "UTC",
        9,
        ["2024-01", "2024-02"],
        ["2024-08", "2024-09"],
    ),
    (
        "0 0 * * 1",
        "%Y-W%W-%w",
        "2024-W05-1",
        "UTC",
        6,
        ["2024-W05-1", "2024-W06-1"],
        ["2024-W09-1", "2024-W10-1"],
    ),
];

#[test]
fn time_window_partitions_accept_every_strptime_format_dagster_accepts() {
    let now = Utc
        .with_ymd_and_hms(2024, 3, 15, 5, 30, 0)
        .single()
        .expect("valid instant");
    for (cron, fmt, start, tz, count, first, last) in FORMAT_CASES {
        let def = Tw::cron_builder(cron, start, fmt)
            .timezone(tz)
            .build()
            .unwrap_or_else(|e| panic!("{fmt}: {e}"));
        let all = def.keys(now).expect("keys");
        assert_eq!(all.len(), *count, "{fmt}: {all:?}");
        assert_eq!(&all[..2], first, "{fmt}");
        assert_eq!(&all[all.len() - 2..], last, "{fmt}");
        for key in &all {
            let window = def.time_window_for_key(key).expect("a key parses back");
            let again = def
                .key_for_instant(window.start.to_utc())
                .expect("a key")
                .expect("the window exists");
            assert_eq!(&again, key, "{fmt} round trip");
            assert!(def.contains(key, now).expect("contains"), "{fmt}: {key}");
        }
    }
}

#[test]
fn time_window_partitions_month_names_parse_by_the_format() {
    let now = utc(2024, 3, 15);
    for (fmt, start, expected) in [
        ("%b %Y", "Jan 2024", ["Jan 2024", "Feb 2024"]),
        ("%B %Y", "January 2024", ["January 2024", "February 2024"]),
    ] {
        let def = Tw::builder(ScheduleType::Monthly, start)
            .fmt(fmt)
            .build()
            .unwrap_or_else(|e| panic!("{fmt}: {e}"));
        assert_eq!(def.keys(now).expect("keys"), expected, "{fmt}");
        let range = def
            .keys_in_range(expected[0], expected[1], now)
            .expect("a range of keys");
        assert_eq!(range, expected);
    }
}

#[test]
fn specific_partitions_mapping_returns_the_upstream_definitions_order() {
    let ctx = PartitionContext::at(utc(2023, 2, 1));
    let upstream: Pd = StaticPartitionsDefinition::new(["d", "a", "c", "b"])
        .expect("valid")
        .into();
    let m = PartitionMapping::SpecificPartitions(keys(&["b", "d", "c"]));
    let mapped = m
        .upstream_for_downstream(&[], None, &upstream, &ctx)
        .expect("mapping succeeds");
    assert_eq!(mapped.keys, keys(&["d", "c", "b"]));

    let daily: Pd = Tw::daily("2023-01-01").expect("valid").into();
    let m = PartitionMapping::SpecificPartitions(keys(&["2023-01-05", "2023-01-02", "2023-01-03"]));
    let mapped = m
        .upstream_for_downstream(&[], None, &daily, &ctx)
        .expect("mapping succeeds");
    assert_eq!(
        mapped.keys,
        keys(&["2023-01-02", "2023-01-03", "2023-01-05"])
    );
}
