//! Time-window keys match what Dagster 1.13 produces: formats, offsets, DST
//! suffixes, the clock-dependent last partition, `end`, `end_offset`, cron
//! schedules and exclusions.

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Tz;
use tessera_io_managers::partitions::{
    PartitionContext, PartitionsDefinition, ScheduleType, TimeWindowPartitionsDefinition as Tw,
};

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0)
        .single()
        .expect("valid instant")
}

/// "now" of the semantics page's probes: 2022-01-03 12:30 (UTC here).
fn probe_now() -> DateTime<Utc> {
    utc(2022, 1, 3, 12, 30)
}

#[test]
fn daily_keys_exist_only_once_their_window_has_ended() {
    let def = Tw::daily("2022-01-01").expect("valid");
    assert_eq!(
        def.keys(probe_now()).expect("keys"),
        ["2022-01-01", "2022-01-02"]
    );
    assert_eq!(def.key_count(probe_now()).expect("count"), 2);
    assert!(!def.contains("2022-01-03", probe_now()).expect("contains"));
    assert!(
        def.contains("2022-01-03", utc(2022, 1, 4, 0, 0))
            .expect("contains")
    );
}

#[test]
fn end_offset_and_end_change_the_last_partition() {
    let cases: [(i64, Option<&str>, &[&str]); 5] = [
        (0, None, &["2022-01-01", "2022-01-02"]),
        (1, None, &["2022-01-01", "2022-01-02", "2022-01-03"]),
        (
            2,
            None,
            &["2022-01-01", "2022-01-02", "2022-01-03", "2022-01-04"],
        ),
        (-1, None, &["2022-01-01"]),
        (0, Some("2022-01-02"), &["2022-01-01"]),
    ];
    for (end_offset, end, expected) in cases {
        let mut builder = Tw::builder(ScheduleType::Daily, "2022-01-01").end_offset(end_offset);
        if let Some(end) = end {
            builder = builder.end(end);
        }
        let def = builder.build().expect("valid");
        assert_eq!(
            def.keys(probe_now()).expect("keys"),
            expected,
            "end_offset {end_offset} end {end:?}"
        );
        assert_eq!(def.key_count(probe_now()).expect("count"), expected.len());
    }
}

#[test]
fn formats_and_offsets_match_dagster() {
    let now = probe_now();
    let hourly15 = Tw::builder(ScheduleType::Hourly, "2022-01-03-00:00")
        .minute_offset(15)
        .build()
        .expect("valid");
    assert_eq!(hourly15.keys(now).expect("keys")[0], "2022-01-03-00:15");
    // Weekly starting on a Wednesday: the first key is the next Sunday.
    let weekly = Tw::weekly("2021-12-01").expect("valid");
    assert_eq!(
        weekly.keys(now).expect("keys"),
        ["2021-12-05", "2021-12-12", "2021-12-19", "2021-12-26"]
    );
    let monthly = Tw::monthly("2021-10-01").expect("valid");
    assert_eq!(
        monthly.keys(now).expect("keys"),
        ["2021-10-01", "2021-11-01", "2021-12-01"]
    );
    let monthly_short = Tw::builder(ScheduleType::Monthly, "2021-10")
        .fmt("%Y-%m")
        .build()
        .expect("valid");
    assert_eq!(
        monthly_short.keys(now).expect("keys"),
        ["2021-10", "2021-11", "2021-12"]
    );
    let six_hourly = Tw::cron("0 */6 * * *", "2022-01-02-00:00", "%Y-%m-%d-%H:%M").expect("valid");
    assert_eq!(
        six_hourly.keys(now).expect("keys"),
        [
            "2022-01-02-00:00",
            "2022-01-02-06:00",
            "2022-01-02-12:00",
            "2022-01-02-18:00",
            "2022-01-03-00:00",
            "2022-01-03-06:00"
        ]
    );
    let weekly_monday_6 = Tw::builder(ScheduleType::Weekly, "2022-01-01")
        .day_offset(1)
        .hour_offset(6)
        .build()
        .expect("valid");
    assert_eq!(weekly_monday_6.cron_schedule(), "0 6 * * 1");
    assert_eq!(
        weekly_monday_6
            .time_window_for_key("2022-01-03")
            .expect("window")
            .start,
        Utc.with_ymd_and_hms(2022, 1, 3, 6, 0, 0)
            .single()
            .expect("valid")
    );
}

#[test]
fn fall_back_repeats_the_hour_with_an_offset_suffix() {
    let def = Tw::builder(ScheduleType::Hourly, "2022-11-06-00:00")
        .timezone("America/Los_Angeles")
        .build()
        .expect("valid");
    let keys = def.keys(utc(2022, 11, 6, 13, 0)).expect("keys");
    assert_eq!(
        &keys[..5],
        [
            "2022-11-06-00:00",
            "2022-11-06-01:00",
            "2022-11-06-01:00-0800",
            "2022-11-06-02:00",
            "2022-11-06-03:00"
        ]
    );
    let chicago = Tw::builder(ScheduleType::Hourly, "2023-11-05-00:00")
        .timezone("America/Chicago")
        .build()
        .expect("valid");
    let keys = chicago.keys(utc(2023, 11, 5, 12, 0)).expect("keys");
    assert_eq!(&keys[1..3], ["2023-11-05-01:00", "2023-11-05-01:00-0600"]);
    let second = chicago
        .time_window_for_key("2023-11-05-01:00-0600")
        .expect("window");
    assert_eq!(second.start.to_utc(), utc(2023, 11, 5, 7, 0));
    assert_eq!(second.end.to_utc(), utc(2023, 11, 5, 8, 0));
}

#[test]
fn spring_forward_skips_the_missing_hour() {
    let def = Tw::builder(ScheduleType::Hourly, "2024-03-10-00:00")
        .timezone("America/Los_Angeles")
        .build()
        .expect("valid");
    let keys = def.keys(utc(2024, 3, 10, 13, 0)).expect("keys");
    assert_eq!(
        &keys[..3],
        ["2024-03-10-00:00", "2024-03-10-01:00", "2024-03-10-03:00"]
    );
    assert!(!keys.contains(&"2024-03-10-02:00".to_owned()));
    assert!(def.time_window_for_key("2024-03-10-02:00").is_err());
    // A daily window on that day is 23 hours long.
    let daily = Tw::builder(ScheduleType::Daily, "2024-03-01")
        .timezone("America/Los_Angeles")
        .build()
        .expect("valid");
    let window = daily.time_window_for_key("2024-03-10").expect("window");
    assert_eq!(window.duration().num_hours(), 23);
}

#[test]
fn exclusions_remove_weekends() {
    let def = Tw::builder(ScheduleType::Daily, "2022-01-01")
        .exclude_cron("0 0 * * 6")
        .exclude_cron("0 0 * * 0")
        .build()
        .expect("valid");
    let now = utc(2022, 1, 11, 0, 0);
    assert_eq!(
        def.keys(now).expect("keys"),
        [
            "2022-01-03",
            "2022-01-04",
            "2022-01-05",
            "2022-01-06",
            "2022-01-07",
            "2022-01-10"
        ]
    );
    assert_eq!(def.key_count(now).expect("count"), 6);
    assert!(!def.contains("2022-01-08", now).expect("contains"));
    let single = Tw::builder(ScheduleType::Daily, "2022-01-01")
        .exclude_date("2022-01-02")
        .build()
        .expect("valid");
    assert_eq!(single.keys(probe_now()).expect("keys"), ["2022-01-01"]);
}

#[test]
fn keys_are_strictly_validated() {
    let hourly = Tw::hourly("2022-01-01-00:00").expect("valid");
    // Dagster accepts this key (and maps it to 02:00); Tessera does not.
    assert!(hourly.time_window_for_key("2022-01-01-01:01").is_err());
    assert!(
        !hourly
            .contains("2022-01-01-01:01", probe_now())
            .expect("contains")
    );
    let weekly = Tw::weekly("2021-01-01").expect("valid");
    // Dagster maps "2021-05-01" (a Saturday) to the next week; Tessera rejects it.
    assert!(weekly.time_window_for_key("2021-05-01").is_err());
    assert!(weekly.time_window_for_key("2021-05-02").is_ok());
    let daily = Tw::daily("2022-01-01").expect("valid");
    for bad in [
        "2022-1-01",
        "2022-01-01 ",
        "20220101",
        "2022-02-30",
        "2021-12-31",
    ] {
        assert!(daily.time_window_for_key(bad).is_err(), "{bad}");
    }
}

#[test]
fn custom_formats_sort_chronologically_and_ranges_are_inclusive() {
    let def = Tw::builder(ScheduleType::Daily, "30-12-2021")
        .fmt("%d-%m-%Y")
        .build()
        .expect("valid");
    let pd = PartitionsDefinition::TimeWindow(def);
    let ctx = PartitionContext::at(probe_now());
    assert_eq!(
        pd.keys(&ctx).expect("keys"),
        ["30-12-2021", "31-12-2021", "01-01-2022", "02-01-2022"]
    );
    assert_eq!(
        pd.keys_in_range("31-12-2021", "01-01-2022", &ctx)
            .expect("range"),
        ["31-12-2021", "01-01-2022"]
    );
    assert!(pd.keys_in_range("01-01-2022", "31-12-2021", &ctx).is_err());
}

#[test]
fn windows_are_in_the_definition_timezone() {
    let def = Tw::builder(ScheduleType::Daily, "2022-01-01")
        .timezone("Europe/Berlin")
        .build()
        .expect("valid");
    let window = def.time_window_for_key("2022-07-23").expect("window");
    assert_eq!(window.start.timezone(), Tz::Europe__Berlin);
    assert_eq!(window.start.to_utc(), utc(2022, 7, 22, 22, 0));
    assert_eq!(
        PartitionsDefinition::TimeWindow(def)
            .time_window_for_key("2022-07-23")
            .expect("ok"),
        Some(window)
    );
}

#[test]
fn first_and_last_windows_follow_the_clock() {
    let def = Tw::daily("2022-01-01").expect("valid");
    assert_eq!(def.first_window(utc(2022, 1, 1, 23, 0)).expect("ok"), None);
    let last = def.last_window(probe_now()).expect("ok").expect("some");
    assert_eq!(last.start.to_utc(), utc(2022, 1, 2, 0, 0));
    let pd = PartitionsDefinition::TimeWindow(def);
    assert_eq!(
        pd.last_key(&PartitionContext::at(probe_now()))
            .expect("ok")
            .as_deref(),
        Some("2022-01-02")
    );
}
