//! Static, dynamic (persisted in the store) and multi definitions, and the
//! typed errors for bad input.

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use tessera_engine::Store;
use tessera_io_managers::partitions::{
    DynamicPartitionsDefinition, MultiPartitionsDefinition, PartitionContext,
    PartitionsDefinition as Pd, PartitionsError, ScheduleType, StaticPartitionsDefinition,
    StoreDynamicPartitions, TimeWindowPartitionsDefinition as Tw,
};

fn ctx() -> PartitionContext<'static> {
    PartitionContext::at(
        Utc.with_ymd_and_hms(2022, 1, 3, 12, 30, 0)
            .single()
            .expect("valid"),
    )
}

#[test]
fn static_keys_keep_definition_order_and_reject_bad_keys() {
    let def: Pd = StaticPartitionsDefinition::new(["b", "a", "c"])
        .expect("valid")
        .into();
    assert_eq!(def.keys(&ctx()).expect("keys"), ["b", "a", "c"]);
    assert_eq!(
        def.keys_in_range("a", "c", &ctx()).expect("range"),
        ["a", "c"]
    );
    assert!(matches!(
        def.keys_in_range("c", "b", &ctx()),
        Err(PartitionsError::StartAfterEnd { .. })
    ));
    assert!(matches!(
        def.keys_in_range("b", "zz", &ctx()),
        Err(PartitionsError::KeyNotFound { .. })
    ));
    for bad in [vec!["a", "a"], vec!["a...b"], vec!["a\nb"], vec![""]] {
        assert!(
            matches!(
                StaticPartitionsDefinition::new(bad.clone()),
                Err(PartitionsError::InvalidDefinition(_))
            ),
            "{bad:?}"
        );
    }
    let dup = StaticPartitionsDefinition::new(["x", "y", "x"]).expect_err("duplicate");
    assert!(dup.to_string().contains("[\"x\"]"), "{dup}");
}

#[test]
fn dynamic_partitions_keep_insertion_order_and_survive_a_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let store = StoreDynamicPartitions::new(Arc::new(Store::open(dir.path()).expect("open")));
        store
            .add_partitions("fruits", ["pear", "apple", "fig"])
            .expect("add");
        store.delete_partition("fruits", "apple").expect("delete");
        store
            .add_partitions("fruits", ["apple", "pear"])
            .expect("add");
        let err = store
            .delete_partition("fruits", "kiwi")
            .expect_err("unknown");
        assert!(
            matches!(err, PartitionsError::UnknownDynamicKey { .. }),
            "{err}"
        );
        assert!(store.add_partitions("fruits", ["bad\nkey"]).is_err());
    }
    let store = StoreDynamicPartitions::new(Arc::new(Store::open(dir.path()).expect("reopen")));
    let def: Pd = DynamicPartitionsDefinition::new("fruits")
        .expect("valid")
        .into();
    let ctx = ctx().with_dynamic(&store);
    assert_eq!(def.keys(&ctx).expect("keys"), ["pear", "fig", "apple"]);
    assert!(store.has_partition("fruits", "fig").expect("has"));
    assert!(!store.has_partition("vegetables", "fig").expect("has"));
    assert!(def.contains("apple", &ctx).expect("contains"));
    assert!(matches!(
        def.keys(&self::ctx()),
        Err(PartitionsError::NoDynamicStore(_))
    ));
}

#[test]
fn multi_keys_sort_dimensions_by_name_first_dimension_slowest() {
    let colors: Pd = StaticPartitionsDefinition::new(["a", "b"])
        .expect("valid")
        .into();
    let dates: Pd = Tw::daily("2022-01-01").expect("valid").into();
    let def = MultiPartitionsDefinition::new([("static", colors.clone()), ("date", dates)])
        .expect("valid");
    assert_eq!(def.dimensions()[0].name, "date");
    let pd: Pd = def.clone().into();
    assert_eq!(
        pd.keys(&ctx()).expect("keys"),
        [
            "2022-01-01|a",
            "2022-01-01|b",
            "2022-01-02|a",
            "2022-01-02|b"
        ]
    );
    assert_eq!(pd.key_count(&ctx()).expect("count"), 4);
    assert!(pd.contains("2022-01-02|b", &ctx()).expect("contains"));
    assert!(!pd.contains("b|2022-01-02", &ctx()).expect("contains"));
    assert_eq!(
        def.keys_by_dimension("2022-01-02|b").expect("split"),
        [("date", "2022-01-02"), ("static", "b")]
    );
    let window = pd
        .time_window_for_key("2022-01-02|b")
        .expect("ok")
        .expect("time dimension");
    assert_eq!(
        window.start.to_utc(),
        Utc.with_ymd_and_hms(2022, 1, 2, 0, 0, 0)
            .single()
            .expect("valid")
    );
    let numbered = MultiPartitionsDefinition::new([
        ("abc", colors.clone()),
        (
            "123",
            StaticPartitionsDefinition::new(["1"])
                .expect("valid")
                .into(),
        ),
    ])
    .expect("valid");
    assert_eq!(
        Pd::from(numbered).keys(&ctx()).expect("keys"),
        ["1|a", "1|b"]
    );
    assert_eq!(
        pd.keys_in_range("2022-01-01|a", "2022-01-02|a", &ctx())
            .expect("rectangle"),
        ["2022-01-01|a", "2022-01-02|a"]
    );
}

#[test]
fn multi_definitions_are_validated() {
    let s: Pd = StaticPartitionsDefinition::new(["a"])
        .expect("valid")
        .into();
    let piped: Pd = StaticPartitionsDefinition::new(["a|b"])
        .expect("valid")
        .into();
    assert!(MultiPartitionsDefinition::new([("x", s.clone())]).is_err());
    assert!(
        MultiPartitionsDefinition::new([("x", s.clone()), ("y", s.clone()), ("z", s.clone())])
            .is_err()
    );
    assert!(MultiPartitionsDefinition::new([("x", s.clone()), ("y", piped)]).is_err());
    let multi: Pd = MultiPartitionsDefinition::new([("x", s.clone()), ("y", s.clone())])
        .expect("valid")
        .into();
    assert!(MultiPartitionsDefinition::new([("x", s), ("y", multi)]).is_err());
}

#[test]
fn bad_time_definitions_are_typed_errors() {
    let unknown_tz = Tw::builder(ScheduleType::Daily, "2022-01-01")
        .timezone("Mars/Olympus")
        .build();
    assert!(matches!(
        unknown_tz,
        Err(PartitionsError::UnknownTimezone(_))
    ));
    assert!(matches!(
        Tw::daily("2022-13-01"),
        Err(PartitionsError::MalformedDate { .. })
    ));
    assert!(matches!(
        Tw::daily("yesterday"),
        Err(PartitionsError::MalformedDate { .. })
    ));
    let reversed = Tw::builder(ScheduleType::Daily, "2022-02-01")
        .end("2022-01-01")
        .build();
    assert!(matches!(
        reversed,
        Err(PartitionsError::StartAfterEnd { .. })
    ));
    assert!(matches!(
        Tw::cron("0 0 * *", "2022-01-01", "%Y-%m-%d"),
        Err(PartitionsError::InvalidCron { .. })
    ));
    let coarse = Tw::builder(ScheduleType::Daily, "2022-01-01")
        .fmt("%Y-%m")
        .build();
    assert!(
        matches!(coarse, Err(PartitionsError::InvalidFormat { .. })),
        "{coarse:?}"
    );
    let bad_fmt = Tw::builder(ScheduleType::Daily, "2022-01-01")
        .fmt("%Y-%Q")
        .build();
    assert!(
        matches!(bad_fmt, Err(PartitionsError::InvalidFormat { .. })),
        "{bad_fmt:?}"
    );
    let offsets = Tw::builder(ScheduleType::Hourly, "2022-01-01")
        .hour_offset(3)
        .build();
    assert!(matches!(
        offsets,
        Err(PartitionsError::InvalidDefinition(_))
    ));
    assert!(
        Tw::builder(ScheduleType::Weekly, "2022-01-01")
            .day_offset(7)
            .build()
            .is_err()
    );
    let def = Tw::daily("2022-01-01").expect("valid");
    assert!(matches!(
        def.time_window_for_key("2021-12-31"),
        Err(PartitionsError::KeyNotFound { .. })
    ));
    assert!(matches!(
        def.time_window_for_key("Jan 1"),
        Err(PartitionsError::MalformedKey { .. })
    ));
}
