//! Partition mappings give the upstream partitions (and the required but
//! nonexistent ones) that Dagster's tests and probes expect, and map back.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeZone, Utc};
use tessera_io_managers::partitions::{
    DimensionPartitionMapping, MultiPartitionsDefinition, PartitionContext, PartitionMapping,
    PartitionsDefinition as Pd, PartitionsError, ScheduleType, StaticPartitionsDefinition,
    TimeWindowPartitionsDefinition as Tw, infer_partition_mapping,
};

fn utc(y: i32, mo: u32, d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, 0, 0)
        .single()
        .expect("valid instant")
}

fn keys(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

fn daily(start: &str) -> Pd {
    Tw::daily(start).expect("valid").into()
}

fn static_def(list: &[&str]) -> Pd {
    StaticPartitionsDefinition::new(list.iter().copied())
        .expect("valid")
        .into()
}

fn tw(start_offset: i64, end_offset: i64, allow: bool) -> PartitionMapping {
    PartitionMapping::TimeWindow {
        start_offset,
        end_offset,
        allow_nonexistent_upstream_partitions: allow,
    }
}

fn up(
    m: &PartitionMapping,
    down_keys: &[&str],
    down: &Pd,
    upstream: &Pd,
    ctx: &PartitionContext<'_>,
) -> (Vec<String>, Vec<String>) {
    let r = m
        .upstream_for_downstream(&keys(down_keys), Some(down), upstream, ctx)
        .expect("mapping succeeds");
    (r.keys, r.required_but_nonexistent)
}

#[test]
fn time_window_offsets_table() {
    let ctx = PartitionContext::at(utc(2022, 8, 1, 0));
    let (upstream, downstream) = (daily("2022-05-05"), daily("2022-05-06"));
    let cases: [(i64, i64, &[&str], &[&str]); 5] = [
        (-1, 0, &["2022-07-04"], &["2022-07-03", "2022-07-04"]),
        (-1, -1, &["2022-07-04"], &["2022-07-03"]),
        (0, 1, &["2022-07-04"], &["2022-07-04", "2022-07-05"]),
        (
            -1,
            0,
            &["2022-07-04", "2022-07-05"],
            &["2022-07-03", "2022-07-04", "2022-07-05"],
        ),
        (
            -2,
            0,
            &["2022-07-05", "2022-07-06"],
            &["2022-07-03", "2022-07-04", "2022-07-05", "2022-07-06"],
        ),
    ];
    for (s, e, down_keys, expected) in cases {
        let (got, missing) = up(&tw(s, e, false), down_keys, &downstream, &upstream, &ctx);
        assert_eq!(got, expected, "TW({s},{e}) of {down_keys:?}");
        assert!(missing.is_empty());
    }
    let back = tw(-1, 0, false)
        .downstream_for_upstream(&keys(&["2022-07-03"]), &upstream, &downstream, &ctx)
        .expect("maps back");
    assert_eq!(back, ["2022-07-03", "2022-07-04"]);
}

#[test]
fn lag_is_clamped_at_the_first_partition() {
    let ctx = PartitionContext::at(utc(2022, 1, 10, 0));
    let def = daily("2022-01-01");
    assert_eq!(
        up(&tw(-1, 0, false), &["2022-01-01"], &def, &def, &ctx),
        (keys(&["2022-01-01"]), vec![])
    );
    assert_eq!(
        up(&tw(-1, -1, false), &["2022-01-01"], &def, &def, &ctx),
        (vec![], vec![])
    );
}

#[test]
fn end_offset_past_the_last_partition_respects_the_allow_flag() {
    // Dagster clamps silently whatever the flag (issue #26935); Tessera
    // reports the missing partition unless nonexistent partitions are allowed.
    let ctx = PartitionContext::at(utc(2022, 1, 10, 0));
    let def = daily("2022-01-01");
    let strict = up(&tw(0, 1, false), &["2022-01-09"], &def, &def, &ctx);
    assert_eq!(strict, (keys(&["2022-01-09"]), keys(&["2022-01-10"])));
    let allowed = up(&tw(0, 1, true), &["2022-01-09"], &def, &def, &ctx);
    assert_eq!(allowed, (keys(&["2022-01-09"]), vec![]));
}

#[test]
fn granularity_conversions() {
    let ctx = PartitionContext::at(utc(2021, 8, 1, 0));
    let hourly: Pd = Tw::hourly("2021-05-05-00:00").expect("valid").into();
    let daily_def = daily("2021-05-05");
    let (got, _) = up(
        &tw(0, 0, false),
        &["2021-05-07-05:00"],
        &hourly,
        &daily_def,
        &ctx,
    );
    assert_eq!(got, ["2021-05-07"]);
    let (got, _) = up(&tw(0, 0, false), &["2021-05-07"], &daily_def, &hourly, &ctx);
    assert_eq!(got.len(), 24);
    assert_eq!(
        (got[0].as_str(), got[23].as_str()),
        ("2021-05-07-00:00", "2021-05-07-23:00")
    );
    let (got, _) = up(
        &tw(-1, 0, false),
        &["2021-05-07"],
        &daily_def,
        &hourly,
        &ctx,
    );
    assert_eq!(got.len(), 48);
    let monthly: Pd = Tw::monthly("2021-05-01").expect("valid").into();
    let (got, _) = up(
        &tw(0, 0, false),
        &["2021-05-01", "2021-06-01", "2021-07-01"],
        &monthly,
        &daily_def,
        &ctx,
    );
    assert_eq!(
        (
            got.first().map(String::as_str),
            got.last().map(String::as_str),
            got.len()
        ),
        (Some("2021-05-05"), Some("2021-07-31"), 88)
    );
    let slashes: Pd = Tw::builder(ScheduleType::Daily, "2021/05/05")
        .fmt("%Y/%m/%d")
        .build()
        .expect("valid")
        .into();
    let (got, _) = up(
        &tw(0, 0, false),
        &["2021-05-07", "2021-05-08", "2021-05-09"],
        &daily_def,
        &slashes,
        &ctx,
    );
    assert_eq!(got, ["2021/05/07", "2021/05/08", "2021/05/09"]);
}

#[test]
fn nonexistent_upstream_partitions_and_the_allow_flag() {
    let ctx = PartitionContext::at(utc(2023, 6, 5, 0));
    let (downstream, upstream) = (daily("2023-05-01"), daily("2023-06-01"));
    let down_keys = ["2023-05-10", "2023-05-30", "2023-06-01"];
    let strict = up(&tw(0, 0, false), &down_keys, &downstream, &upstream, &ctx);
    assert_eq!(
        strict,
        (keys(&["2023-06-01"]), keys(&["2023-05-10", "2023-05-30"]))
    );
    let allowed = up(&tw(0, 0, true), &down_keys, &downstream, &upstream, &ctx);
    assert_eq!(allowed, (keys(&["2023-06-01"]), vec![]));
}

#[test]
fn hourly_downstream_of_an_unfinished_day() {
    let ctx = PartitionContext::at(utc(2020, 1, 2, 10));
    let hourly: Pd = Tw::hourly("2020-01-01-00:00").expect("valid").into();
    let daily_def = daily("2020-01-01");
    let (got, missing) = up(
        &tw(0, 0, false),
        &["2020-01-02-05:00"],
        &hourly,
        &daily_def,
        &ctx,
    );
    assert!(got.is_empty());
    assert_eq!(missing, ["2020-01-02"]);
    // Daily downstream of monthly at 2022-01-10: nothing, January is missing.
    let ctx = PartitionContext::at(utc(2022, 1, 10, 0));
    let monthly: Pd = Tw::monthly("2021-01-01").expect("valid").into();
    let (got, missing) = up(
        &tw(0, 0, false),
        &["2022-01-05"],
        &daily("2022-01-01"),
        &monthly,
        &ctx,
    );
    assert_eq!((got, missing), (vec![], keys(&["2022-01-01"])));
}

#[test]
fn identity_all_last_specific() {
    let ctx = PartitionContext::at(utc(2022, 1, 1, 0));
    let (zx, xy) = (static_def(&["z", "x"]), static_def(&["x", "y"]));
    assert_eq!(
        up(&PartitionMapping::Identity, &["z", "x"], &zx, &xy, &ctx),
        (keys(&["x"]), keys(&["z"]))
    );
    let abcd = static_def(&["a", "b", "c", "d"]);
    let unpartitioned = |m: &PartitionMapping| {
        m.upstream_for_downstream(&[], None, &abcd, &ctx)
            .expect("maps")
    };
    assert_eq!(
        unpartitioned(&PartitionMapping::AllPartitions).keys,
        ["a", "b", "c", "d"]
    );
    assert_eq!(unpartitioned(&PartitionMapping::LastPartition).keys, ["d"]);
    let specific = PartitionMapping::SpecificPartitions(keys(&["a", "b"]));
    assert_eq!(unpartitioned(&specific).keys, ["a", "b"]);
    let zz = unpartitioned(&PartitionMapping::SpecificPartitions(keys(&["zz"])));
    assert_eq!(
        (zz.keys, zz.required_but_nonexistent),
        (vec![], keys(&["zz"]))
    );
    let back = |m: &PartitionMapping, k: &[&str]| {
        m.downstream_for_upstream(&keys(k), &abcd, &xy, &ctx)
            .expect("maps")
    };
    assert_eq!(back(&specific, &["a", "c"]), ["x", "y"]);
    assert!(back(&specific, &["c", "d"]).is_empty());
    assert_eq!(back(&PartitionMapping::LastPartition, &["d"]), ["x", "y"]);
    assert!(back(&PartitionMapping::LastPartition, &["c"]).is_empty());
    assert_eq!(back(&PartitionMapping::AllPartitions, &["b"]), ["x", "y"]);
}

#[test]
fn static_mapping_is_many_to_many_and_checked() {
    let ctx = PartitionContext::at(utc(2022, 1, 1, 0));
    let (upstream, downstream) = (static_def(&["p", "q", "r"]), static_def(&["1", "2"]));
    let map: BTreeMap<String, Vec<String>> =
        [("r", vec!["1"]), ("p", vec!["1", "2"]), ("q", vec!["2"])]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), keys(&v)))
            .collect();
    let m = PartitionMapping::StaticPartitions(map.clone());
    assert_eq!(up(&m, &["1"], &downstream, &upstream, &ctx).0, ["p", "r"]);
    let back = m
        .downstream_for_upstream(&keys(&["q", "r"]), &upstream, &downstream, &ctx)
        .expect("maps");
    assert_eq!(back, ["1", "2"]);
    let mut extra = map;
    extra.insert("s".to_owned(), keys(&["1"]));
    let err = PartitionMapping::StaticPartitions(extra)
        .upstream_for_downstream(&keys(&["1"]), Some(&downstream), &upstream, &ctx)
        .expect_err("s is not upstream");
    assert!(
        err.to_string()
            .contains("source partitions not in the upstream"),
        "{err}"
    );
}

fn date_color() -> Pd {
    let colors = static_def(&["red", "blue"]);
    MultiPartitionsDefinition::new([("date", daily("2022-01-01")), ("color", colors)])
        .expect("valid")
        .into()
}

#[test]
fn multi_to_single_both_ways() {
    let ctx = PartitionContext::at(utc(2022, 1, 4, 0));
    let multi = date_color();
    let single = daily("2022-01-01");
    let m = infer_partition_mapping(Some(&multi), Some(&single)).expect("inferred");
    assert_eq!(
        m,
        PartitionMapping::MultiToSingleDimension {
            partition_dimension_name: None
        }
    );
    assert_eq!(
        up(&m, &["2022-01-02"], &single, &multi, &ctx).0,
        ["red|2022-01-02", "blue|2022-01-02"]
    );
    let (got, _) = up(
        &m,
        &["red|2022-01-02", "blue|2022-01-03"],
        &multi,
        &single,
        &ctx,
    );
    assert_eq!(got, ["2022-01-02", "2022-01-03"]);
    let back = m
        .downstream_for_upstream(&keys(&["2022-01-03"]), &single, &multi, &ctx)
        .expect("maps");
    assert_eq!(back, ["red|2022-01-03", "blue|2022-01-03"]);
}

#[test]
fn multi_to_single_honours_the_dimension_name() {
    let ctx = PartitionContext::at(utc(2022, 1, 4, 0));
    let ab = static_def(&["a", "b"]);
    let multi: Pd = MultiPartitionsDefinition::new([("x", ab.clone()), ("y", ab.clone())])
        .expect("valid")
        .into();
    let unnamed = PartitionMapping::MultiToSingleDimension {
        partition_dimension_name: None,
    };
    let err = unnamed
        .upstream_for_downstream(&keys(&["a"]), Some(&ab), &multi, &ctx)
        .expect_err("ambiguous");
    assert!(matches!(err, PartitionsError::IncompatibleMapping { .. }));
    let named = PartitionMapping::MultiToSingleDimension {
        partition_dimension_name: Some("y".to_owned()),
    };
    assert_eq!(up(&named, &["a"], &ab, &multi, &ctx).0, ["a|a", "b|a"]);
}

#[test]
fn multi_partition_mapping_per_dimension() {
    let ctx = PartitionContext::at(utc(2022, 1, 10, 0));
    let weekly: Pd = Tw::weekly("2022-01-01").expect("valid").into();
    let upstream: Pd =
        MultiPartitionsDefinition::new([("abc", static_def(&["a", "b", "c"])), ("week", weekly)])
            .expect("valid")
            .into();
    let downstream: Pd = MultiPartitionsDefinition::new([
        ("123", static_def(&["1", "2", "3"])),
        ("day", daily("2022-01-01")),
    ])
    .expect("valid")
    .into();
    let week_only: BTreeMap<String, DimensionPartitionMapping> = [(
        "week".to_owned(),
        DimensionPartitionMapping {
            dimension_name: "day".to_owned(),
            partition_mapping: tw(0, 0, false),
        },
    )]
    .into();
    let m = PartitionMapping::MultiPartitions(week_only.clone());
    assert_eq!(
        up(&m, &["2|2022-01-04"], &downstream, &upstream, &ctx).0,
        ["a|2022-01-02", "b|2022-01-02", "c|2022-01-02"]
    );
    let mut both = week_only;
    let abc_to_123: BTreeMap<String, Vec<String>> = [("a", "1"), ("b", "2"), ("c", "3")]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), vec![v.to_owned()]))
        .collect();
    both.insert(
        "abc".to_owned(),
        DimensionPartitionMapping {
            dimension_name: "123".to_owned(),
            partition_mapping: PartitionMapping::StaticPartitions(abc_to_123),
        },
    );
    let m = PartitionMapping::MultiPartitions(both);
    assert_eq!(
        up(&m, &["2|2022-01-04"], &downstream, &upstream, &ctx).0,
        ["b|2022-01-02"]
    );
    let back = m
        .downstream_for_upstream(&keys(&["b|2022-01-02"]), &upstream, &downstream, &ctx)
        .expect("maps");
    assert_eq!(back.len(), 7);
    assert_eq!(
        (back[0].as_str(), back[6].as_str()),
        ("2|2022-01-02", "2|2022-01-08")
    );
}

#[test]
fn inference_table() {
    let hourly: Pd = Tw::hourly("2022-01-01-00:00").expect("valid").into();
    let (d, s) = (daily("2022-01-01"), static_def(&["a"]));
    let identity = PartitionMapping::Identity;
    let cases: [(Option<&Pd>, Option<&Pd>, PartitionMapping); 7] = [
        (Some(&d), Some(&d), tw(0, 0, false)),
        (Some(&hourly), Some(&d), tw(0, 0, false)),
        (Some(&s), Some(&s), identity.clone()),
        (Some(&d), Some(&s), identity.clone()),
        (None, Some(&s), PartitionMapping::AllPartitions),
        (Some(&s), None, PartitionMapping::AllPartitions),
        (Some(&date_color()), Some(&date_color()), identity),
    ];
    for (upstream, downstream, expected) in cases {
        assert_eq!(
            infer_partition_mapping(upstream, downstream).expect("inferred"),
            expected
        );
    }
}

#[test]
fn incompatible_mappings_are_typed_errors() {
    let ctx = PartitionContext::at(utc(2022, 1, 4, 0));
    let (d, s) = (daily("2022-01-01"), static_def(&["a"]));
    let chicago: Pd = Tw::builder(ScheduleType::Daily, "2022-01-01")
        .timezone("America/Chicago")
        .build()
        .expect("valid")
        .into();
    let cases = [
        (PartitionMapping::Identity, &s, &d, "2022-01-01"),
        (tw(0, 0, false), &d, &s, "a"),
        (tw(0, 0, false), &d, &chicago, "2022-01-01"),
        (
            PartitionMapping::StaticPartitions(BTreeMap::new()),
            &d,
            &s,
            "a",
        ),
    ];
    for (m, upstream, downstream, key) in cases {
        let err = m
            .upstream_for_downstream(&keys(&[key]), Some(downstream), upstream, &ctx)
            .expect_err("incompatible");
        assert!(
            matches!(err, PartitionsError::IncompatibleMapping { .. }),
            "{m:?}: {err}"
        );
    }
    let err = PartitionMapping::Identity
        .upstream_for_downstream(&keys(&["2030-01-01"]), Some(&d), &d, &ctx)
        .expect_err("not a key yet");
    assert!(matches!(err, PartitionsError::KeyNotFound { .. }), "{err}");
}
