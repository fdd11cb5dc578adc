//! The executor and the store-backed I/O managers unchanged on object
//! storage: two "machines" (handles with their own caches on one in-memory
//! object store) materialize halves of the example pipeline, and together
//! store exactly what one local run stores; a third sees nothing missing or
//! stale.

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use tessera_engine::Store;
use tessera_engine::object_store::memory::InMemory;
use tessera_io_managers::example::{self, rolling_7d_stats_key, summary_key, weather_obs_key};
use tessera_io_managers::executor::{MaterializeRequest, PartitionSelection};

fn request(first: &str, last: &str) -> MaterializeRequest {
    MaterializeRequest::new()
        .partitions(PartitionSelection::Range(first.to_owned(), last.to_owned()))
        .threads(2)
        .now(
            Utc.with_ymd_and_hms(2024, 6, 1, 0, 0, 0)
                .single()
                .expect("valid instant"),
        )
}

fn materialize(store: &Arc<Store>, request: &MaterializeRequest) -> usize {
    let definitions = example::definitions(Arc::clone(store)).expect("valid definitions");
    let result = definitions.materialize(request).expect("plan");
    assert!(
        result.is_success(),
        "failures: {:?}",
        result.failed().collect::<Vec<_>>()
    );
    result.materialized()
}

/// A handle on the shared object store, caching in its own directory.
fn machine(bucket: &Arc<InMemory>, cache: &std::path::Path) -> Arc<Store> {
    let store = Store::builder(cache)
        .object_store(Arc::clone(bucket) as _, "pipelines/weather")
        .open()
        .expect("open on object storage");
    Arc::new(store)
}

fn assert_same_data(remote: &Store, local: &Store) {
    for asset in [weather_obs_key(), rolling_7d_stats_key(), summary_key()] {
        let asset = asset.expect("key");
        let partitions = local.list_partitions(&asset).expect("list local");
        assert!(!partitions.is_empty(), "{asset}");
        assert_eq!(
            remote.list_partitions(&asset).expect("list remote"),
            partitions,
            "{asset}"
        );
        for partition in partitions {
            let want = local
                .get(&asset, &partition)
                .expect("read")
                .expect("stored");
            let got = remote
                .get(&asset, &partition)
                .expect("read")
                .expect("stored");
            assert_eq!(&*got, &*want, "{asset} {partition}");
        }
    }
}

#[test]
fn two_machines_on_one_bucket_store_what_one_local_run_stores() {
    let bucket = Arc::new(InMemory::new());
    let caches: Vec<_> = (0..3)
        .map(|_| tempfile::tempdir().expect("cache"))
        .collect();
    let first = machine(&bucket, caches[0].path());
    let second = machine(&bucket, caches[1].path());
    assert!(materialize(&first, &request("2024-01-01", "2024-01-05")) > 0);
    second.refresh().expect("refresh");
    assert!(materialize(&second, &request("2024-01-06", "2024-01-09")) > 0);

    let local_dir = tempfile::tempdir().expect("tempdir");
    let local = Arc::new(Store::open(local_dir.path()).expect("open local"));
    materialize(&local, &request("2024-01-01", "2024-01-09"));

    let third = machine(&bucket, caches[2].path());
    assert_same_data(&third, &local);
    let again = request("2024-01-01", "2024-01-09").only_missing_or_stale(true);
    assert_eq!(materialize(&third, &again), 0, "nothing missing or stale");
}
