//! Multi-partitions of more than two dimensions (Dagster stops at two,
//! dagster #21177): keys are `a|b|c` in sorted-dimension order with the first
//! dimension slowest, counts are products, ranges are boxes, mappings work
//! multi-to-single on any dimension and multi-to-multi per dimension, and the
//! filesystem layout is one directory level per dimension. The two-dimension
//! constructor keeps Dagster's limit.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use arrow_array::{Int64Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use chrono::{DateTime, TimeZone, Utc};
use proptest::prelude::*;
use tessera_engine::AssetKey;
use tessera_io_managers::partitions::{
    DimensionPartitionMapping, MultiPartitionsDefinition, PartitionContext, PartitionMapping,
    PartitionsDefinition as Pd, StaticPartitionsDefinition, TimeWindowPartitionsDefinition as Tw,
};
use tessera_io_managers::{
    FilesystemIoManager, InputContext, InputManager, InputValue, IoManager, OutputContext,
};

fn ctx() -> PartitionContext<'static> {
    PartitionContext::at(
        Utc.with_ymd_and_hms(2024, 1, 4, 0, 0, 0)
            .single()
            .expect("valid"),
    )
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 1, 4, 0, 0, 0)
        .single()
        .expect("valid")
}

fn statics(keys: &[&str]) -> Pd {
    StaticPartitionsDefinition::new(keys.iter().copied())
        .expect("valid")
        .into()
}

fn days() -> Pd {
    Tw::daily("2024-01-01").expect("valid").into()
}

fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

/// `region` {eu, us} × `date` (3 days) × `color` {red, blue}: sorted
/// `color`, `date`, `region`.
fn three() -> MultiPartitionsDefinition {
    MultiPartitionsDefinition::with_dimensions([
        ("region", statics(&["eu", "us"])),
        ("date", days()),
        ("color", statics(&["red", "blue"])),
    ])
    .expect("valid")
}

#[test]
fn three_dimensional_keys_join_in_sorted_dimension_order_first_dimension_slowest() {
    let def = three();
    let names: Vec<&str> = def.dimensions().iter().map(|d| d.name.as_str()).collect();
    assert_eq!(names, ["color", "date", "region"]);
    let pd: Pd = def.clone().into();
    let keys = pd.keys(&ctx()).expect("keys");
    assert_eq!(keys.len(), 12);
    assert_eq!(pd.key_count(&ctx()).expect("count"), 12);
    assert_eq!(
        &keys[..4],
        [
            "red|2024-01-01|eu",
            "red|2024-01-01|us",
            "red|2024-01-02|eu",
            "red|2024-01-02|us"
        ]
    );
    assert_eq!(keys[11], "blue|2024-01-03|us");
    assert_eq!(
        def.keys_by_dimension("blue|2024-01-02|eu").expect("split"),
        [("color", "blue"), ("date", "2024-01-02"), ("region", "eu")]
    );
    assert!(pd.contains("blue|2024-01-02|eu", &ctx()).expect("contains"));
    assert!(!pd.contains("blue|2024-01-02", &ctx()).expect("contains"));
    assert!(!pd.contains("eu|2024-01-02|blue", &ctx()).expect("contains"));
    let window = pd
        .time_window_for_key("red|2024-01-02|us")
        .expect("a key")
        .expect("a time dimension");
    assert_eq!(
        window.start.to_utc().to_rfc3339(),
        "2024-01-02T00:00:00+00:00"
    );
}

#[test]
fn a_range_of_three_dimensional_keys_is_the_box_of_the_dimension_ranges() {
    let pd: Pd = three().into();
    assert_eq!(
        pd.keys_in_range("red|2024-01-02|eu", "blue|2024-01-03|eu", &ctx())
            .expect("a box"),
        [
            "red|2024-01-02|eu",
            "red|2024-01-03|eu",
            "blue|2024-01-02|eu",
            "blue|2024-01-03|eu"
        ]
    );
}

#[test]
fn the_two_dimension_constructor_keeps_dagsters_limit() {
    let error = MultiPartitionsDefinition::new([
        ("a", statics(&["x"])),
        ("b", statics(&["y"])),
        ("c", statics(&["z"])),
    ])
    .expect_err("Dagster's constructor takes two dimensions");
    assert!(error.to_string().contains("with_dimensions"), "{error}");
    assert!(MultiPartitionsDefinition::with_dimensions([("a", statics(&["x"]))]).is_err());
    assert!(
        MultiPartitionsDefinition::with_dimensions([
            ("a", statics(&["x"])),
            ("a", statics(&["y"])),
            ("c", statics(&["z"])),
        ])
        .is_err()
    );
}

#[test]
fn multi_to_single_maps_any_dimension_of_three() {
    let multi: Pd = three().into();
    let ctx = ctx();
    let by_day = PartitionMapping::MultiToSingleDimension {
        partition_dimension_name: None,
    };
    let up = by_day
        .upstream_for_downstream(&strings(&["2024-01-02"]), Some(&days()), &multi, &ctx)
        .expect("maps");
    assert_eq!(
        up.keys,
        [
            "red|2024-01-02|eu",
            "red|2024-01-02|us",
            "blue|2024-01-02|eu",
            "blue|2024-01-02|us"
        ]
    );
    let regions = statics(&["eu", "us"]);
    let by_region = PartitionMapping::MultiToSingleDimension {
        partition_dimension_name: Some("region".to_owned()),
    };
    let up = by_region
        .upstream_for_downstream(&strings(&["us"]), Some(&regions), &multi, &ctx)
        .expect("maps");
    assert_eq!(up.keys.len(), 6);
    assert!(up.keys.iter().all(|k| k.ends_with("|us")), "{:?}", up.keys);
    let down = by_region
        .downstream_for_upstream(&strings(&["red|2024-01-01|us"]), &multi, &regions, &ctx)
        .expect("maps back");
    assert_eq!(down, ["us"]);
}

#[test]
fn multi_to_multi_maps_each_dimension_and_takes_all_of_the_unmapped_ones() {
    let ctx = ctx();
    // Upstream: customer × color × date × region; downstream: date × region.
    let upstream: Pd = MultiPartitionsDefinition::with_dimensions([
        ("customer", statics(&["c1", "c2"])),
        ("color", statics(&["red", "blue"])),
        ("date", days()),
        ("region", statics(&["eu", "us"])),
    ])
    .expect("valid")
    .into();
    let downstream: Pd =
        MultiPartitionsDefinition::new([("date", days()), ("region", statics(&["eu", "us"]))])
            .expect("valid")
            .into();
    let mut per_dimension = BTreeMap::new();
    per_dimension.insert(
        "date".to_owned(),
        DimensionPartitionMapping {
            dimension_name: "date".to_owned(),
            partition_mapping: PartitionMapping::TimeWindow {
                start_offset: -1,
                end_offset: 0,
                allow_nonexistent_upstream_partitions: false,
            },
        },
    );
    per_dimension.insert(
        "region".to_owned(),
        DimensionPartitionMapping {
            dimension_name: "region".to_owned(),
            partition_mapping: PartitionMapping::Identity,
        },
    );
    let mapping = PartitionMapping::MultiPartitions(per_dimension);
    let up = mapping
        .upstream_for_downstream(
            &strings(&["2024-01-03|us"]),
            Some(&downstream),
            &upstream,
            &ctx,
        )
        .expect("maps");
    // Two colors × two customers × two days × one region, in upstream order.
    assert_eq!(up.keys.len(), 8);
    assert_eq!(up.keys[0], "red|c1|2024-01-02|us");
    assert_eq!(up.keys[1], "red|c1|2024-01-03|us");
    assert_eq!(up.keys[7], "blue|c2|2024-01-03|us");
    let down = mapping
        .downstream_for_upstream(
            &strings(&["blue|c2|2024-01-02|eu"]),
            &upstream,
            &downstream,
            &ctx,
        )
        .expect("maps back");
    assert_eq!(down, ["2024-01-02|eu", "2024-01-03|eu"]);
}

fn table(value: i64) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![Field::new(
        "value",
        DataType::Int64,
        false,
    )]));
    RecordBatch::try_new(schema, vec![Arc::new(Int64Array::from(vec![value]))])
        .expect("a valid batch")
}

#[test]
fn the_filesystem_layout_has_one_directory_per_dimension() {
    let base = tempfile::tempdir().expect("temporary directory");
    let manager = FilesystemIoManager::new(base.path());
    let asset = AssetKey::new(["cube"]).expect("asset key");
    let pd: Pd = three().into();
    let range = pd
        .keys_in_range("red|2024-01-01|eu", "red|2024-01-02|us", &ctx())
        .expect("a box");
    for (value, key) in (0i64..).zip(&range) {
        let output = OutputContext::builder(asset.clone())
            .partition_key(key.clone())
            .build();
        manager
            .handle_output(&output, vec![table(value)])
            .expect("write");
    }
    assert!(base.path().join("cube/red/2024-01-02/us").is_file());
    let input = InputContext::builder(asset)
        .asset_partition_keys(range.clone())
        .build();
    let InputValue::Many(loaded) = manager.load_input(&input).expect("load").into_value() else {
        panic!("expected a map of four partitions");
    };
    let keys: Vec<&str> = loaded.keys().collect();
    assert_eq!(keys, range);
    let values: Vec<i64> = loaded
        .values()
        .map(|p| p.batches[0].column(0).as_primitive::<Int64Type>().value(0))
        .collect();
    assert_eq!(values, [0, 1, 2, 3]);
}

/// A static definition of `len` keys named `<dimension>_<i>`, in the order
/// given by `shift` (rotated, so definition order is not key order).
fn rotated(dimension: usize, len: usize, shift: usize) -> Pd {
    let keys: Vec<String> = (0..len)
        .map(|i| format!("d{dimension}_{}", (i + shift) % len))
        .collect();
    StaticPartitionsDefinition::new(keys).expect("valid").into()
}

fn n_dimensional(sizes: &[usize], shift: usize) -> MultiPartitionsDefinition {
    MultiPartitionsDefinition::with_dimensions(
        sizes
            .iter()
            .enumerate()
            .map(|(d, len)| (format!("dim{d}"), rotated(d, *len, shift))),
    )
    .expect("valid")
}

/// The position of each dimension key of `key` in its dimension.
fn positions(def: &MultiPartitionsDefinition, key: &str) -> Vec<usize> {
    def.split_key(key)
        .expect("split")
        .iter()
        .zip(def.dimensions())
        .map(|(part, d)| {
            let Pd::Static(s) = &d.definition else {
                panic!("static dimensions")
            };
            s.position(part).expect("a key of the dimension")
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn three_and_four_dimensions_order_count_and_round_trip(
        sizes in prop::collection::vec(1usize..5, 3..=4),
        shift in 0usize..4,
        picks in prop::collection::vec(any::<prop::sample::Index>(), 1..8),
    ) {
        let def = n_dimensional(&sizes, shift);
        let pd: Pd = def.clone().into();
        let ctx = ctx();
        let keys = pd.keys(&ctx).expect("keys");
        prop_assert_eq!(keys.len(), sizes.iter().product::<usize>());
        prop_assert_eq!(pd.key_count(&ctx).expect("count"), keys.len());
        // Definition order: per-dimension positions, first dimension slowest.
        for pair in keys.windows(2) {
            prop_assert!(positions(&def, &pair[0]) < positions(&def, &pair[1]));
        }
        for key in &keys {
            let parts = def.split_key(key).expect("split");
            prop_assert_eq!(parts.len(), sizes.len());
            prop_assert_eq!(&MultiPartitionsDefinition::join_key(parts), key);
            prop_assert!(pd.contains(key, &ctx).expect("contains"));
        }
        prop_assert_eq!(
            pd.keys_in_range(&keys[0], &keys[keys.len() - 1], &ctx).expect("range"),
            keys.clone()
        );
        // Any subset comes back in definition order through a mapping.
        let mut chosen: Vec<String> = picks.iter().map(|i| keys[i.index(keys.len())].clone()).collect();
        chosen.reverse();
        let mapped = PartitionMapping::SpecificPartitions(chosen.clone())
            .upstream_for_downstream(&[], None, &pd, &ctx)
            .expect("maps");
        let mut expected: Vec<String> = keys.iter().filter(|k| chosen.contains(k)).cloned().collect();
        expected.dedup();
        prop_assert_eq!(mapped.keys, expected);
    }
}

#[test]
fn dagster_two_dimension_keys_are_unchanged() {
    let two = MultiPartitionsDefinition::new([("static", statics(&["a", "b"])), ("date", days())])
        .expect("valid");
    let pd: Pd = two.into();
    assert_eq!(
        pd.keys(&PartitionContext::at(now())).expect("keys")[..3],
        ["2024-01-01|a", "2024-01-01|b", "2024-01-02|a"]
    );
}
