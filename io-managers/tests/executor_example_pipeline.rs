//! The bundled example pipeline end to end: keys, row counts, and rolling
//! statistics checked against a direct computation; parallel and serial runs
//! store identical bytes.

use std::sync::Arc;

use chrono::{NaiveDate, TimeZone, Utc};
use tessera_engine::{PartitionKey, Store};
use tessera_io_managers::example::{
    self, OBSERVATIONS_PER_DAY, STATIONS, rolling_7d_stats_key, rolling_stats, summary_key,
    weather_obs_key, weather_observations,
};
use tessera_io_managers::executor::{MaterializeRequest, PartitionSelection};

fn run(dir: &std::path::Path, first: &str, last: &str, threads: usize) -> Arc<Store> {
    let store = Arc::new(Store::open(dir).expect("open store"));
    let definitions = example::definitions(store.clone()).expect("valid definitions");
    let request = MaterializeRequest::new()
        .partitions(PartitionSelection::Range(first.to_owned(), last.to_owned()))
        .threads(threads)
        .now(
            Utc.with_ymd_and_hms(2024, 6, 1, 0, 0, 0)
                .single()
                .expect("valid instant"),
        );
    let result = definitions.materialize(&request).expect("plan");
    assert!(
        result.is_success(),
        "failures: {:?}",
        result.failed().collect::<Vec<_>>()
    );
    store
}

fn day(key: &str) -> NaiveDate {
    NaiveDate::parse_from_str(key, "%Y-%m-%d").expect("a day")
}

#[test]
fn the_pipeline_stores_every_day_and_rolling_stats_match_a_direct_computation() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = run(dir.path(), "2024-01-01", "2024-01-09", 2);

    let weather = store
        .list_partitions(&weather_obs_key().expect("key"))
        .expect("list");
    let keys: Vec<&str> = weather.iter().filter_map(PartitionKey::as_str).collect();
    assert_eq!(
        keys,
        [
            "2024-01-01",
            "2024-01-02",
            "2024-01-03",
            "2024-01-04",
            "2024-01-05",
            "2024-01-06",
            "2024-01-07",
            "2024-01-08",
            "2024-01-09"
        ]
    );
    let first_day = store
        .get_arrow(
            &weather_obs_key().expect("key"),
            &PartitionKey::new("2024-01-01").expect("key"),
        )
        .expect("read")
        .expect("stored");
    assert_eq!(first_day.num_rows(), OBSERVATIONS_PER_DAY);

    for (key, days) in [("2024-01-03", 3), ("2024-01-09", 7)] {
        let stored = store
            .get_arrow(
                &rolling_7d_stats_key().expect("key"),
                &PartitionKey::new(key).expect("key"),
            )
            .expect("read")
            .expect("stored");
        let end = day(key);
        let window: Vec<_> = (0..days)
            .map(|back| weather_observations(end - chrono::Days::new(back)).expect("generate"))
            .collect();
        let expected = rolling_stats(&window).expect("direct computation");
        let batch = &stored.batches[0];
        assert_eq!(batch.num_rows(), STATIONS.len());
        let stations = batch.column_by_name("station").expect("station");
        let stations = stations
            .as_any()
            .downcast_ref::<arrow_array::StringArray>()
            .expect("utf8");
        let column = |name: &str| {
            batch
                .column_by_name(name)
                .expect("column")
                .as_any()
                .downcast_ref::<arrow_array::Float64Array>()
                .expect("f64")
                .clone()
        };
        let (means, mins, maxes) = (
            column("mean_temp_c"),
            column("min_temp_c"),
            column("max_temp_c"),
        );
        let day_counts = batch.column_by_name("days").expect("days");
        let day_counts = day_counts
            .as_any()
            .downcast_ref::<arrow_array::Int64Array>()
            .expect("i64");
        for row in 0..batch.num_rows() {
            let stats = expected[stations.value(row)];
            assert_eq!(day_counts.value(row), days as i64, "{key}");
            assert!(
                (means.value(row) - stats.mean_temp_c).abs() < 1e-9,
                "{key} mean"
            );
            assert_eq!(mins.value(row), stats.min_temp_c, "{key} min");
            assert_eq!(maxes.value(row), stats.max_temp_c, "{key} max");
        }
    }
    let summary = store
        .get_arrow(&summary_key().expect("key"), &PartitionKey::unpartitioned())
        .expect("read")
        .expect("stored");
    assert_eq!(summary.num_rows(), STATIONS.len());
}

#[test]
fn parallel_and_serial_runs_store_identical_data() {
    let serial_dir = tempfile::tempdir().expect("tempdir");
    let parallel_dir = tempfile::tempdir().expect("tempdir");
    let serial = run(serial_dir.path(), "2024-02-01", "2024-02-04", 1);
    let parallel = run(parallel_dir.path(), "2024-02-01", "2024-02-04", 4);
    for asset in [weather_obs_key(), rolling_7d_stats_key(), summary_key()] {
        let asset = asset.expect("key");
        let partitions = serial.list_partitions(&asset).expect("list");
        assert_eq!(partitions, parallel.list_partitions(&asset).expect("list"));
        assert!(!partitions.is_empty());
        for partition in partitions {
            let a = serial
                .get(&asset, &partition)
                .expect("read")
                .expect("stored");
            let b = parallel
                .get(&asset, &partition)
                .expect("read")
                .expect("stored");
            assert_eq!(&*a, &*b, "{asset} {partition}");
        }
    }
}

#[test]
fn the_example_columns_say_what_they_hold() {
    let day = chrono::NaiveDate::from_ymd_opt(2024, 1, 2).expect("a day");
    let batch = weather_observations(day).expect("generate");
    let timestamp = batch
        .schema()
        .field_with_name("timestamp")
        .expect("timestamp")
        .clone();
    assert_eq!(
        timestamp.data_type(),
        &arrow_schema::DataType::Timestamp(arrow_schema::TimeUnit::Microsecond, Some("UTC".into()))
    );
    let first = batch
        .column_by_name("timestamp")
        .expect("column")
        .as_any()
        .downcast_ref::<arrow_array::TimestampMicrosecondArray>()
        .expect("microseconds")
        .value(0);
    assert_eq!(
        chrono::DateTime::from_timestamp_micros(first).expect("an instant"),
        day.and_hms_opt(0, 0, 0).expect("midnight").and_utc()
    );

    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(Store::open(dir.path()).expect("open"));
    let definitions = example::definitions(store.clone()).expect("valid definitions");
    let request = MaterializeRequest::new()
        .partitions(PartitionSelection::Range(
            "2024-01-01".into(),
            "2024-01-02".into(),
        ))
        .threads(2);
    assert!(definitions.materialize(&request).expect("run").is_success());
    let summary = store
        .get_arrow(&summary_key().expect("key"), &PartitionKey::unpartitioned())
        .expect("read")
        .expect("stored");
    let names: Vec<&str> = summary
        .schema
        .fields()
        .iter()
        .map(|f| f.name().as_str())
        .collect();
    assert_eq!(
        names,
        [
            "station",
            "rolling_days",
            "station_rolling_days",
            "mean_of_rolling_means_c",
            "min_temp_c",
            "max_temp_c"
        ]
    );
}
