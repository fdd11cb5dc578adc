//! Compaction and garbage collection of a store on object storage: every
//! retained version survives compaction, stored bytes shrink once the grace
//! period has passed, a reader keeps reading its view within the grace
//! period, a handle that fell behind the collected log catches up instead of
//! reusing a deleted number, a concurrent writer loses nothing, orphans go,
//! and failed calls leave the store correct.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use proptest::prelude::*;

use super::faults::{Faults, FaultyStore};
use super::tests::{PREFIX, asset, day, in_memory, log_objects, quick_retry, value};
use crate::{Error, Retention, Store};

/// A grace period long enough that no assertion about what happens within
/// it depends on how fast a loaded machine runs the test.
const GRACE: Duration = Duration::from_secs(1);

/// A handle on `store` whose garbage collection waits `grace`, keeping the
/// two newest versions of each partition.
fn handle(store: &Arc<dyn ObjectStore>, cache: &Path, grace: Duration) -> Store {
    Store::builder(cache)
        .object_store(Arc::clone(store), PREFIX)
        .object_store_retry(quick_retry())
        .retention(Retention::keep_last(2))
        .remote_gc_grace(grace)
        .open()
        .expect("open the store on object storage")
}

/// The numbers of the log objects in the store.
fn log_ids(store: &Arc<dyn ObjectStore>) -> Vec<u64> {
    log_objects(store)
        .iter()
        .filter_map(|name| name.rsplit('/').next()?.parse().ok())
        .collect()
}

/// The bytes of every log object in the store.
fn log_bytes(store: &Arc<dyn ObjectStore>) -> u64 {
    let runtime = runtime();
    log_objects(store)
        .iter()
        .map(|name| {
            runtime
                .block_on(store.head(&ObjectPath::from(name.as_str())))
                .expect("head")
                .size
        })
        .sum()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// The payload of round `round` of partition `n`.
fn payload(round: u32, n: u32) -> Vec<u8> {
    let byte = u8::try_from(round * 16 + n).expect("small");
    vec![byte; 2000]
}

/// Every partition of `model` reads back from `store` as the model says,
/// with its retained versions, newest first.
fn assert_model(store: &Store, model: &BTreeMap<u32, Vec<Vec<u8>>>, partitions: u32) {
    for n in 0..partitions {
        let versions = model.get(&n).cloned().unwrap_or_default();
        assert_eq!(value(store, n).as_ref(), versions.first(), "day {n}");
        let history = store.history(&asset(), &day(n)).expect("history");
        let stored: Vec<Vec<u8>> = history
            .iter()
            .map(|info| {
                store
                    .get_version(&asset(), &day(n), info.version)
                    .expect("get_version")
                    .expect("a listed version is readable")
                    .to_vec()
            })
            .collect();
        assert_eq!(stored, versions, "versions of day {n}");
    }
}

/// Three rounds of puts of `partitions` partitions, then deletes of the last
/// two; returns the model (newest two versions of each live partition).
fn write_rounds(store: &Store, partitions: u32) -> BTreeMap<u32, Vec<Vec<u8>>> {
    let mut model: BTreeMap<u32, Vec<Vec<u8>>> = BTreeMap::new();
    for round in 0..3 {
        for n in 0..partitions {
            store
                .put(&asset(), &day(n), payload(round, n))
                .expect("put");
            let versions = model.entry(n).or_default();
            versions.insert(0, payload(round, n));
            versions.truncate(2);
        }
    }
    for n in partitions - 2..partitions {
        store.delete(&asset(), &day(n)).expect("delete");
        model.remove(&n);
    }
    model
}

#[test]
fn compaction_keeps_every_retained_version_and_collection_reclaims_the_rest() {
    let store = in_memory();
    let caches = tempfile::tempdir().expect("tempdir");
    let grace = GRACE;
    let writer = handle(&store, &caches.path().join("w"), grace);
    let model = write_rounds(&writer, 8);
    let written = log_ids(&store);
    assert_eq!(written.len(), 26, "one log object per commit");
    let bytes_before = log_bytes(&store);
    let stats_before = writer.stats().expect("stats");
    assert_eq!(stats_before.segment_bytes, bytes_before);

    let first = writer.compact().expect("compact");
    assert_eq!(
        first.moved_versions, 12,
        "6 live partitions, 2 versions each"
    );
    assert_eq!(first.moved_bytes, 12 * 2000);
    assert_eq!(
        first.dropped_versions, 6,
        "the oldest round of 6 partitions"
    );
    assert_eq!(
        first.segments_reclaimed, 0,
        "nothing is deleted within the grace"
    );
    assert_eq!(first.bytes_before, bytes_before);
    assert_eq!(log_ids(&store), (1..=27).collect::<Vec<_>>());
    assert_model(&writer, &model, 8);

    std::thread::sleep(grace + Duration::from_millis(100));
    let second = writer.compact().expect("compact after the grace");
    assert_eq!(
        second.moved_versions, 0,
        "the compacted object is not rewritten"
    );
    assert_eq!(second.segments_reclaimed, 26);
    assert_eq!(log_ids(&store), [27]);
    let bytes_after = log_bytes(&store);
    assert_eq!(second.bytes_after, bytes_after);
    assert!(
        bytes_after < 12 * 2000 + 12 * 256 && bytes_after * 2 < bytes_before,
        "{bytes_after} of {bytes_before} bytes left"
    );
    assert_model(&writer, &model, 8);
    let stats_after = writer.stats().expect("stats");
    assert_eq!(stats_after.segments, 1);
    assert_eq!(stats_after.segment_bytes, bytes_after);
    assert_eq!(stats_after.live_bytes, stats_before.live_bytes);
    assert!(
        stats_after.garbage_bytes * 10 < stats_before.garbage_bytes,
        "{stats_after:?} after {stats_before:?}"
    );

    let fresh = handle(&store, &caches.path().join("fresh"), grace);
    assert_model(&fresh, &model, 8);
    let report = fresh.verify().expect("verify");
    assert!(report.is_ok(), "{report:?}");
    assert_eq!(report.checked, 6);
}

#[test]
fn a_reader_opened_before_compaction_reads_its_view_within_the_grace() {
    let store = in_memory();
    let caches = tempfile::tempdir().expect("tempdir");
    let writer = Store::builder(caches.path().join("w"))
        .object_store(Arc::clone(&store), PREFIX)
        .open()
        .expect("open");
    writer.put(&asset(), &day(1), &b"old"[..]).expect("put");
    writer.put(&asset(), &day(2), &b"other"[..]).expect("put");
    let reader = Store::builder(caches.path().join("r"))
        .object_store(Arc::clone(&store), PREFIX)
        .cache_limit(0)
        .open()
        .expect("open the reader");
    let cached = reader.remote_cache().expect("remote");
    assert!(
        !cached.contains(1),
        "object 1 must be fetched again to be read"
    );

    writer
        .put(&asset(), &day(1), &b"new"[..])
        .expect("overwrite");
    let report = writer.compact().expect("compact");
    assert_eq!(report.moved_versions, 2, "day 1's newest and day 2");
    assert_eq!(report.segments_reclaimed, 0);
    assert_eq!(log_ids(&store), [1, 2, 3, 4]);

    assert_eq!(
        value(&reader, 1),
        Some(b"old".to_vec()),
        "the reader's view, read from object 1 within the grace period"
    );
    assert_eq!(
        reader.refresh().expect("refresh"),
        crate::Refresh::CaughtUp { batches: 2 }
    );
    assert_eq!(value(&reader, 1), Some(b"new".to_vec()));
}

#[test]
fn a_handle_behind_the_collected_log_catches_up_and_commits_after_it() {
    let store = in_memory();
    let caches = tempfile::tempdir().expect("tempdir");
    let grace = GRACE;
    let writer = handle(&store, &caches.path().join("w"), grace);
    for n in 1..=4 {
        writer.put(&asset(), &day(n), payload(0, n)).expect("put");
    }
    let stale_writer = handle(&store, &caches.path().join("s"), grace);
    let stale_reader = Store::builder(caches.path().join("r"))
        .object_store(Arc::clone(&store), PREFIX)
        .remote_gc_grace(grace)
        .cache_limit(0)
        .read_only()
        .open()
        .expect("open the reader");
    for round in 1..=2 {
        for n in 1..=4 {
            writer
                .put(&asset(), &day(n), payload(round, n))
                .expect("put");
        }
    }
    writer.compact().expect("compact");
    std::thread::sleep(grace + Duration::from_millis(100));
    let report = writer.compact().expect("collect");
    assert_eq!(report.segments_reclaimed, 12);
    assert_eq!(log_ids(&store), [13]);

    assert_eq!(
        value(&stale_reader, 1),
        Some(payload(2, 1)),
        "a read of a collected object catches the handle up"
    );
    stale_writer
        .put(&asset(), &day(5), &b"late"[..])
        .expect("a commit from a handle behind the collected log");
    assert_eq!(
        log_ids(&store),
        [13, 14],
        "committed after the log's end, never at a deleted number"
    );
    let fresh = handle(&store, &caches.path().join("fresh"), grace);
    assert_eq!(value(&fresh, 5), Some(b"late".to_vec()));
    for n in 1..=4 {
        assert_eq!(value(&fresh, n), Some(payload(2, n)), "day {n}");
        assert_eq!(value(&stale_writer, n), Some(payload(2, n)), "day {n}");
    }
}

#[test]
fn a_writer_committing_during_compaction_loses_nothing() {
    let store = in_memory();
    let caches = tempfile::tempdir().expect("tempdir");
    let grace = Duration::from_millis(150);
    let writer = handle(&store, &caches.path().join("w"), grace);
    let compactor = handle(&store, &caches.path().join("c"), grace);
    let writing = AtomicBool::new(true);
    let mut model: BTreeMap<u32, Vec<Vec<u8>>> = BTreeMap::new();
    let deleted = std::thread::scope(|scope| {
        let compacting = scope.spawn(|| {
            let mut deleted = 0;
            while writing.load(Ordering::SeqCst) {
                deleted += compactor.compact().expect("compact").segments_reclaimed;
                std::thread::sleep(Duration::from_millis(20));
            }
            deleted
        });
        for i in 0..80u32 {
            let n = i % 6;
            if i % 7 == 6 {
                writer.delete(&asset(), &day(n)).expect("delete");
                model.remove(&n);
            } else {
                writer
                    .put(&asset(), &day(n), payload(i % 8, n))
                    .expect("put");
                let versions = model.entry(n).or_default();
                versions.insert(0, payload(i % 8, n));
                versions.truncate(2);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        writing.store(false, Ordering::SeqCst);
        compacting.join().expect("the compactor")
    });
    assert!(deleted > 0, "collection ran while the writer committed");
    assert_model(&writer, &model, 6);
    compactor.refresh().expect("refresh");
    assert_model(&compactor, &model, 6);
    assert_model(
        &handle(&store, &caches.path().join("fresh"), grace),
        &model,
        6,
    );
}

#[test]
fn an_orphan_log_object_is_collected() {
    let store = in_memory();
    let caches = tempfile::tempdir().expect("tempdir");
    let grace = GRACE;
    let writer = handle(&store, &caches.path().join("w"), grace);
    writer.put(&asset(), &day(1), &b"one"[..]).expect("put");
    writer.put(&asset(), &day(2), &b"two"[..]).expect("put");
    writer.compact().expect("compact");
    std::thread::sleep(grace + Duration::from_millis(50));
    assert_eq!(writer.compact().expect("collect").segments_reclaimed, 2);

    // A log object at a collected number that no checkpoint references (as
    // a writer that mistook a deleted object for the log's end would leave).
    let orphan = ObjectPath::from(format!("{PREFIX}/log/{:020}", 1));
    runtime()
        .block_on(store.put(&orphan, PutPayload::from(vec![0u8; 4096])))
        .expect("plant the orphan");
    assert_eq!(log_ids(&store), [1, 3]);
    let fresh = handle(&store, &caches.path().join("fresh"), grace);
    assert_eq!(
        value(&fresh, 1),
        Some(b"one".to_vec()),
        "opens never read it"
    );

    assert_eq!(
        writer.compact().expect("compact").segments_reclaimed,
        0,
        "the orphan is younger than the grace period"
    );
    std::thread::sleep(grace + Duration::from_millis(50));
    assert_eq!(writer.compact().expect("collect").segments_reclaimed, 1);
    assert_eq!(log_ids(&store), [3]);
    assert_eq!(value(&fresh, 2), Some(b"two".to_vec()));
}

#[test]
fn failed_calls_during_compaction_leave_the_store_correct() {
    let memory = in_memory();
    let faulty = Arc::new(FaultyStore::new(Arc::clone(&memory)));
    let store: Arc<dyn ObjectStore> = Arc::clone(&faulty) as Arc<dyn ObjectStore>;
    let caches = tempfile::tempdir().expect("tempdir");
    let grace = GRACE;
    let writer = handle(&store, &caches.path().join("w"), grace);
    let model = write_rounds(&writer, 5);
    let written = log_ids(&memory);

    faulty.inject(Faults {
        failed_puts: 100,
        ..Faults::default()
    });
    let failed = writer.compact().expect_err("every PUT fails");
    assert!(matches!(failed, Error::ObjectStore { .. }), "{failed}");
    faulty.inject(Faults::default());
    assert_eq!(log_ids(&memory), written, "nothing landed, nothing deleted");
    assert_model(&writer, &model, 5);
    assert_model(&handle(&memory, &caches.path().join("a"), grace), &model, 5);

    faulty.inject(Faults {
        lost_put_replies: 1,
        ..Faults::default()
    });
    let compacted = writer
        .compact()
        .expect("a lost reply is resolved by reading back");
    assert_eq!(compacted.moved_versions, 6);
    assert_eq!(
        log_ids(&memory).len(),
        written.len() + 1,
        "one compaction object"
    );

    std::thread::sleep(grace + Duration::from_millis(50));
    faulty.inject(Faults {
        failed_deletes: 100,
        ..Faults::default()
    });
    let failed = writer.compact().expect_err("every DELETE fails");
    assert!(
        matches!(
            failed,
            Error::ObjectStore {
                operation: "delete",
                ..
            }
        ),
        "{failed}"
    );
    faulty.inject(Faults::default());
    assert_model(&handle(&memory, &caches.path().join("b"), grace), &model, 5);

    let collected = writer.compact().expect("collect");
    assert_eq!(collected.segments_reclaimed, written.len() as u64);
    assert_eq!(log_ids(&memory).len(), 1);
    let fresh = handle(&memory, &caches.path().join("c"), grace);
    assert_model(&fresh, &model, 5);
    assert!(fresh.verify().expect("verify").is_ok());
}

/// One step of the model test.
#[derive(Debug, Clone)]
enum Step {
    Put(usize, u32, u8),
    Delete(usize, u32),
    Compact(usize),
    Refresh(usize),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => (0usize..2, 0u32..4, any::<u8>()).prop_map(|(h, k, b)| Step::Put(h, k, b)),
        1 => (0usize..2, 0u32..4).prop_map(|(h, k)| Step::Delete(h, k)),
        1 => (0usize..2).prop_map(Step::Compact),
        1 => (0usize..2).prop_map(Step::Refresh),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Two handles on one bucket, with no grace period at all (collection
    /// deletes at once: only safe when handles take turns, as here): every
    /// handle that acted reads the model, versions included, and so does a
    /// fresh open; a handle behind the collected log never commits into it.
    #[test]
    fn two_handles_compacting_without_grace_follow_the_model(
        steps in prop::collection::vec(step(), 1..30)
    ) {
        let store = in_memory();
        let caches = tempfile::tempdir().expect("tempdir");
        let handles = [
            handle(&store, &caches.path().join("a"), Duration::ZERO),
            handle(&store, &caches.path().join("b"), Duration::ZERO),
        ];
        let mut model: BTreeMap<u32, Vec<Vec<u8>>> = BTreeMap::new();
        for step in steps {
            let acted = match step {
                Step::Put(h, key, byte) => {
                    handles[h].put(&asset(), &day(key), vec![byte; 100]).expect("put");
                    let versions = model.entry(key).or_default();
                    versions.insert(0, vec![byte; 100]);
                    versions.truncate(2);
                    h
                }
                Step::Delete(h, key) => {
                    handles[h].delete(&asset(), &day(key)).expect("delete");
                    model.remove(&key);
                    h
                }
                Step::Compact(h) => {
                    handles[h].compact().expect("compact");
                    h
                }
                Step::Refresh(h) => {
                    handles[h].refresh().expect("refresh");
                    h
                }
            };
            assert_model(&handles[acted], &model, 4);
        }
        assert_model(&handle(&store, &caches.path().join("fresh"), Duration::ZERO), &model, 4);
    }
}
