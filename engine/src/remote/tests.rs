//! The store on object storage, against `object_store`'s in-memory store
//! (which supports conditional creates), with and without injected faults.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use object_store::memory::InMemory;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use proptest::prelude::*;

use super::RetryPolicy;
use super::faults::{Faults, FaultyStore};
use crate::{AssetKey, Error, PartitionKey, Refresh, Store, WriteBatch};

pub(super) const PREFIX: &str = "stores/one";

pub(super) fn quick_retry() -> RetryPolicy {
    RetryPolicy {
        attempts: 4,
        first_backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(4),
    }
}

pub(super) fn open(store: &Arc<dyn ObjectStore>, cache: &Path) -> Store {
    open_with_checkpoints(store, cache, crate::DEFAULT_REMOTE_CHECKPOINT_EVERY)
}

pub(super) fn open_with_checkpoints(
    store: &Arc<dyn ObjectStore>,
    cache: &Path,
    every: u64,
) -> Store {
    Store::builder(cache)
        .object_store(Arc::clone(store), PREFIX)
        .object_store_retry(quick_retry())
        .remote_checkpoint_every(every)
        .open()
        .expect("open the store on object storage")
}

pub(super) fn asset() -> AssetKey {
    AssetKey::new(["weather"]).expect("asset")
}

pub(super) fn day(n: u32) -> PartitionKey {
    PartitionKey::new(format!("day-{n:04}")).expect("partition")
}

pub(super) fn value(store: &Store, n: u32) -> Option<Vec<u8>> {
    store
        .get(&asset(), &day(n))
        .expect("get")
        .map(|blob| blob.to_vec())
}

/// The log objects in the store, by name.
pub(super) fn log_objects(store: &Arc<dyn ObjectStore>) -> Vec<String> {
    use futures::TryStreamExt;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let prefix = ObjectPath::from(format!("{PREFIX}/log"));
    let listed: Vec<_> = runtime
        .block_on(store.list(Some(&prefix)).try_collect::<Vec<_>>())
        .expect("list");
    let mut names: Vec<String> = listed.into_iter().map(|m| m.location.to_string()).collect();
    names.sort();
    names
}

pub(super) fn in_memory() -> Arc<dyn ObjectStore> {
    Arc::new(InMemory::new())
}

#[test]
fn writes_are_log_objects_read_zero_copy_from_the_cache() {
    let store = in_memory();
    let caches = tempfile::tempdir().expect("tempdir");
    let writer = open(&store, &caches.path().join("w"));
    writer.put(&asset(), &day(1), &b"first"[..]).expect("put");
    let mut batch = WriteBatch::new();
    batch.put(&asset(), &day(2), &b"second"[..]);
    batch.put(&asset(), &day(3), &b"third"[..]);
    writer.write(batch).expect("batch");
    assert!(writer.delete(&asset(), &day(1)).expect("delete"));
    assert_eq!(log_objects(&store).len(), 3, "one object per commit");

    let reader = open(&store, &caches.path().join("r"));
    assert_eq!(reader.recovery().replayed_batches, 3);
    assert_eq!(value(&reader, 1), None);
    let blob = reader
        .get(&asset(), &day(2))
        .expect("get")
        .expect("present");
    assert_eq!(&*blob, b"second");
    assert!(blob.checksum_verified());
    assert!(
        blob.is_in_mapping(blob.as_ptr()),
        "the blob borrows the cached mapping"
    );
    assert!(reader.path().starts_with(caches.path().join("r")));
    assert_eq!(
        reader.list_partitions(&asset()).expect("list"),
        vec![day(2), day(3)]
    );
}

#[test]
fn two_writers_in_threads_lose_no_commit() {
    let store = in_memory();
    let caches = tempfile::tempdir().expect("tempdir");
    let writers: Vec<Store> = (0..2)
        .map(|i| open(&store, &caches.path().join(format!("w{i}"))))
        .collect();
    let per_writer = 40;
    std::thread::scope(|scope| {
        for (i, writer) in writers.iter().enumerate() {
            scope.spawn(move || {
                for n in 0..per_writer {
                    let key = day(u32::try_from(i * 1000 + n).expect("small"));
                    let mut batch = WriteBatch::new();
                    batch.put(&asset(), &key, format!("w{i}-{n}").into_bytes());
                    batch.put(&AssetKey::new(["count"]).expect("asset"), &key, &b"x"[..]);
                    writer.write(batch).expect("commit");
                }
            });
        }
    });
    assert_eq!(
        log_objects(&store).len(),
        2 * per_writer,
        "every commit landed once"
    );
    for writer in &writers {
        writer.refresh().expect("refresh");
    }
    let reader = open(&store, &caches.path().join("reader"));
    let expected: Vec<PartitionKey> = {
        let mut keys: Vec<PartitionKey> = (0..2)
            .flat_map(|i| {
                (0..per_writer).map(move |n| day(u32::try_from(i * 1000 + n).expect("small")))
            })
            .collect();
        keys.sort();
        keys
    };
    for handle in writers.iter().chain([&reader]) {
        assert_eq!(handle.list_partitions(&asset()).expect("list"), expected);
        let counted = AssetKey::new(["count"]).expect("asset");
        assert_eq!(
            handle.list_partitions(&counted).expect("list"),
            expected,
            "no torn batch"
        );
        for i in 0..2 {
            for n in 0..per_writer {
                let key = u32::try_from(i * 1000 + n).expect("small");
                assert_eq!(value(handle, key), Some(format!("w{i}-{n}").into_bytes()));
            }
        }
    }
}

#[test]
fn a_reader_catches_up_on_refresh() {
    let store = in_memory();
    let caches = tempfile::tempdir().expect("tempdir");
    let writer = open(&store, &caches.path().join("w"));
    let reader = open(&store, &caches.path().join("r"));
    assert_eq!(reader.refresh().expect("refresh"), Refresh::Unchanged);
    writer.put(&asset(), &day(1), &b"one"[..]).expect("put");
    writer
        .put(&asset(), &day(1), &b"two"[..])
        .expect("overwrite");
    assert_eq!(
        value(&reader, 1),
        None,
        "reads see the view until a refresh"
    );
    assert_eq!(
        reader.refresh().expect("refresh"),
        Refresh::CaughtUp { batches: 2 }
    );
    assert_eq!(value(&reader, 1), Some(b"two".to_vec()));
    reader
        .put(&asset(), &day(2), &b"from the reader"[..])
        .expect("put");
    assert_eq!(
        writer.refresh().expect("refresh"),
        Refresh::CaughtUp { batches: 1 }
    );
    assert_eq!(value(&writer, 2), Some(b"from the reader".to_vec()));
}

#[test]
fn an_evicted_object_stays_readable_through_a_held_blob_and_is_fetched_again() {
    let inner = in_memory();
    let faulty = Arc::new(FaultyStore::new(Arc::clone(&inner)));
    let store: Arc<dyn ObjectStore> = faulty.clone();
    let caches = tempfile::tempdir().expect("tempdir");
    let writer = open(&inner, &caches.path().join("w"));
    for n in 0..3 {
        writer
            .put(
                &asset(),
                &day(n),
                vec![u8::try_from(n).expect("small"); 10_000],
            )
            .expect("put");
    }
    let reader = Store::builder(caches.path().join("r"))
        .object_store(store, PREFIX)
        .cache_limit(12_000)
        .object_store_retry(quick_retry())
        .open()
        .expect("open");
    let cache = reader.remote_cache().expect("remote");
    assert!(
        cache.total() <= 12_000 + 10_500,
        "the limit holds beside the newest object"
    );
    let held = reader
        .get(&asset(), &day(0))
        .expect("get")
        .expect("present");
    let gets_before = faulty.gets();
    let other = reader
        .get(&asset(), &day(1))
        .expect("get")
        .expect("present");
    assert!(!cache.contains(1), "object 1 (day 0) was evicted");
    assert_eq!(held.len(), 10_000);
    assert!(
        held.iter().all(|&b| b == 0),
        "the held blob keeps its bytes"
    );
    assert!(other.iter().all(|&b| b == 1));
    assert!(
        faulty.gets() > gets_before,
        "the evicted object was fetched again"
    );
    let again = reader
        .get(&asset(), &day(0))
        .expect("get")
        .expect("present");
    assert!(again.iter().all(|&b| b == 0));
}

#[test]
fn a_failed_commit_leaves_nothing_visible() {
    let inner = in_memory();
    let faulty = Arc::new(FaultyStore::new(Arc::clone(&inner)));
    let store: Arc<dyn ObjectStore> = faulty.clone();
    let caches = tempfile::tempdir().expect("tempdir");
    let writer = open(&store, &caches.path().join("w"));
    writer.put(&asset(), &day(1), &b"kept"[..]).expect("put");
    faulty.inject(Faults {
        failed_puts: 100,
        ..Faults::default()
    });
    let mut batch = WriteBatch::new();
    batch.put(&asset(), &day(2), &b"never"[..]);
    batch.delete(&asset(), &day(1));
    let error = writer.write(batch).expect_err("every PUT fails");
    assert!(
        matches!(
            error,
            Error::ObjectStore {
                operation: "create",
                ..
            }
        ),
        "{error}"
    );
    assert_eq!(log_objects(&inner).len(), 1);
    assert_eq!(
        value(&writer, 1),
        Some(b"kept".to_vec()),
        "nothing of the batch applied"
    );
    assert_eq!(value(&writer, 2), None);
    // A writer that crashed after encoding its object leaves at most a
    // temporary file in its cache: never read as an object.
    std::fs::write(
        writer.path().join("00000000000000000002.seg.999-0.tmp"),
        b"partial",
    )
    .expect("write");
    let reader = open(&inner, &caches.path().join("w"));
    assert_eq!(reader.recovery().replayed_batches, 1);
    assert_eq!(value(&reader, 2), None);
    faulty.inject(Faults::default());
    writer
        .put(&asset(), &day(3), &b"later"[..])
        .expect("the writer goes on");
    assert_eq!(log_objects(&inner).len(), 2);
}

#[test]
fn a_create_whose_reply_was_lost_is_resolved_by_reading_it_back() {
    let inner = in_memory();
    let faulty = Arc::new(FaultyStore::new(Arc::clone(&inner)));
    let store: Arc<dyn ObjectStore> = faulty.clone();
    let caches = tempfile::tempdir().expect("tempdir");
    let writer = open(&store, &caches.path().join("w"));
    faulty.inject(Faults {
        lost_put_replies: 1,
        failed_gets: 1,
        ..Faults::default()
    });
    writer
        .put(&asset(), &day(1), &b"landed"[..])
        .expect("resolved as ours");
    assert_eq!(log_objects(&inner).len(), 1, "not created twice");
    let reader = open(&inner, &caches.path().join("r"));
    assert_eq!(value(&reader, 1), Some(b"landed".to_vec()));
    assert_eq!(reader.recovery().replayed_batches, 1);
}

#[test]
fn transient_get_failures_are_retried_and_persistent_ones_are_typed() {
    let inner = in_memory();
    let faulty = Arc::new(FaultyStore::new(Arc::clone(&inner)));
    let store: Arc<dyn ObjectStore> = faulty.clone();
    let caches = tempfile::tempdir().expect("tempdir");
    let writer = open(&inner, &caches.path().join("w"));
    writer.put(&asset(), &day(1), &b"one"[..]).expect("put");
    faulty.inject(Faults {
        failed_gets: 3,
        slow_gets: Some(Duration::from_millis(5)),
        ..Faults::default()
    });
    let reader = open(&store, &caches.path().join("r"));
    assert_eq!(value(&reader, 1), Some(b"one".to_vec()));
    writer.put(&asset(), &day(2), &b"two"[..]).expect("put");
    faulty.inject(Faults {
        failed_gets: 100,
        ..Faults::default()
    });
    let error = reader.refresh().expect_err("GETs keep failing");
    assert!(
        matches!(
            error,
            Error::ObjectStore {
                operation: "get",
                ..
            }
        ),
        "{error}"
    );
    assert_eq!(value(&reader, 2), None);
    faulty.inject(Faults::default());
    assert_eq!(
        reader.refresh().expect("refresh"),
        Refresh::CaughtUp { batches: 1 }
    );
    assert_eq!(value(&reader, 2), Some(b"two".to_vec()));
}

#[test]
fn a_store_without_conditional_creates_is_refused() {
    let faulty = Arc::new(FaultyStore::new(in_memory()));
    faulty.inject(Faults {
        no_conditional_creates: true,
        ..Faults::default()
    });
    let store: Arc<dyn ObjectStore> = faulty.clone();
    let caches = tempfile::tempdir().expect("tempdir");
    let error = Store::builder(caches.path())
        .object_store(store, PREFIX)
        .open()
        .expect_err("no conditional creates");
    assert!(
        matches!(
            error,
            Error::ObjectStore {
                operation: "create",
                ..
            }
        ),
        "{error}"
    );
    assert_eq!(faulty.puts(), 1, "not retried: retrying cannot cure it");
}

#[test]
fn damaged_or_foreign_objects_are_typed_errors() {
    let store = in_memory();
    let caches = tempfile::tempdir().expect("tempdir");
    let writer = open(&store, &caches.path().join("w"));
    writer.put(&asset(), &day(1), &b"one"[..]).expect("put");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let next = ObjectPath::from(format!("{PREFIX}/log/{:020}", 2));
    runtime
        .block_on(store.put(&next, PutPayload::from_static(b"not a segment")))
        .expect("put");
    let error = writer.refresh().expect_err("garbage log object");
    assert!(matches!(error, Error::CorruptObject { .. }), "{error}");
    assert_eq!(value(&writer, 1), Some(b"one".to_vec()), "the view is kept");

    let other = in_memory();
    let format = ObjectPath::from(format!("{PREFIX}/FORMAT"));
    runtime
        .block_on(other.put(&format, PutPayload::from_static(b"hello")))
        .expect("put");
    let error = Store::builder(caches.path().join("x"))
        .object_store(other, PREFIX)
        .open()
        .expect_err("foreign FORMAT");
    assert!(matches!(error, Error::CorruptObject { .. }), "{error}");
}

#[test]
fn read_only_opens_need_an_existing_store_and_refuse_writes() {
    let store = in_memory();
    let caches = tempfile::tempdir().expect("tempdir");
    let missing = Store::builder(caches.path())
        .object_store(Arc::clone(&store), PREFIX)
        .read_only()
        .open()
        .expect_err("no store yet");
    assert!(matches!(missing, Error::NotAStore { .. }), "{missing}");
    open(&store, &caches.path().join("w"))
        .put(&asset(), &day(1), &b"one"[..])
        .expect("put");
    let reader = Store::builder(caches.path().join("r"))
        .object_store(store, PREFIX)
        .read_only()
        .open()
        .expect("open");
    assert!(reader.is_read_only());
    assert_eq!(value(&reader, 1), Some(b"one".to_vec()));
    let refused = reader
        .put(&asset(), &day(2), &b"no"[..])
        .expect_err("read-only");
    assert!(matches!(refused, Error::ReadOnly { .. }), "{refused}");
}

#[test]
fn rebuilding_an_index_is_unsupported_not_silent() {
    let store = in_memory();
    let caches = tempfile::tempdir().expect("tempdir");
    let writer = open(&store, &caches.path().join("w"));
    writer.put(&asset(), &day(1), &b"one"[..]).expect("put");
    let unsupported = |result: crate::Result<()>, name: &str| {
        assert!(
            matches!(result, Err(Error::Unsupported { operation, .. }) if operation == name),
            "{name}"
        );
    };
    unsupported(writer.rebuild_index().map(drop), "rebuild_index");
    writer
        .flush()
        .expect("every write is durable when it returns");
    writer.close().expect("close");
}

#[test]
fn opens_read_the_latest_checkpoint_and_the_log_after_it() {
    let store = in_memory();
    let caches = tempfile::tempdir().expect("tempdir");
    let writer = open_with_checkpoints(&store, &caches.path().join("w"), 3);
    for n in 0..7 {
        writer
            .put(&asset(), &day(n), format!("v{n}").into_bytes())
            .expect("put");
    }
    writer
        .put(&asset(), &day(2), &b"newer"[..])
        .expect("object 8");
    assert!(writer.delete(&asset(), &day(3)).expect("object 9"));
    writer
        .put(&asset(), &day(9), &b"after"[..])
        .expect("object 10");
    let reader = open(&store, &caches.path().join("r"));
    assert_eq!(
        reader.recovery().replayed_batches,
        1,
        "checkpoint 9 and log object 10 only"
    );
    let cache = reader.remote_cache().expect("remote");
    assert!(
        !cache.contains(1),
        "nothing before the checkpoint fetched yet"
    );
    assert_eq!(
        value(&reader, 0),
        Some(b"v0".to_vec()),
        "log object 1, fetched on read"
    );
    assert!(cache.contains(1));
    assert_eq!(value(&reader, 2), Some(b"newer".to_vec()));
    assert_eq!(value(&reader, 3), None);
    assert_eq!(value(&reader, 9), Some(b"after".to_vec()));
    let listed = reader.list_partitions(&asset()).expect("list");
    assert_eq!(listed, [0, 1, 2, 4, 5, 6, 9].map(day).to_vec());

    writer.checkpoint().expect("a checkpoint on demand");
    let again = open(&store, &caches.path().join("r2"));
    assert_eq!(again.recovery().replayed_batches, 0);
    assert_eq!(again.list_partitions(&asset()).expect("list"), listed);
}

#[test]
fn a_damaged_checkpoint_is_a_typed_error() {
    let store = in_memory();
    let caches = tempfile::tempdir().expect("tempdir");
    let writer = open_with_checkpoints(&store, &caches.path().join("w"), 1);
    writer.put(&asset(), &day(1), &b"one"[..]).expect("put");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let name = ObjectPath::from(format!("{PREFIX}/checkpoint/{:020}", 1));
    let mut bytes = runtime
        .block_on(async { store.get(&name).await?.bytes().await })
        .expect("the checkpoint after object 1")
        .to_vec();
    bytes[40] ^= 1;
    runtime
        .block_on(store.put(&name, PutPayload::from(bytes)))
        .expect("overwrite");
    let error = Store::builder(caches.path().join("r"))
        .object_store(store, PREFIX)
        .open()
        .expect_err("damaged checkpoint");
    assert!(matches!(error, Error::CorruptObject { .. }), "{error}");
}

#[test]
fn versions_and_history_follow_the_retention_through_checkpoints() {
    let store = in_memory();
    let caches = tempfile::tempdir().expect("tempdir");
    let open_keeping_two = |cache: &str| {
        Store::builder(caches.path().join(cache))
            .object_store(Arc::clone(&store), PREFIX)
            .object_store_retry(quick_retry())
            .retention(crate::Retention::keep_last(2))
            .remote_checkpoint_every(2)
            .open()
            .expect("open")
    };
    let writer = open_keeping_two("w");
    for n in 0..3u8 {
        writer.put(&asset(), &day(1), vec![n; 10]).expect("put");
        // Distinct creation times, for get_as_of.
        std::thread::sleep(Duration::from_millis(3));
    }
    let reader = open_keeping_two("r");
    assert_eq!(
        reader.recovery().replayed_batches,
        1,
        "checkpoint 2, then object 3"
    );
    let history = reader.history(&asset(), &day(1)).expect("history");
    let versions: Vec<u64> = history.iter().map(|v| v.version).collect();
    assert_eq!(versions.len(), 2, "keep_last(2): {versions:?}");
    assert!(versions[0] > versions[1], "newest first");
    let older = reader
        .get_version(&asset(), &day(1), versions[1])
        .expect("get_version")
        .expect("retained");
    assert_eq!(&*older, &[1u8; 10]);
    let newest = reader
        .get(&asset(), &day(1))
        .expect("get")
        .expect("present");
    assert_eq!(&*newest, &[2u8; 10]);
    let first_time = history[1].meta.created_at;
    let as_of = reader
        .get_as_of(&asset(), &day(1), first_time)
        .expect("get_as_of")
        .expect("retained");
    assert_eq!(&*as_of, &[1u8; 10]);
}

#[test]
fn a_commit_is_one_put_unless_another_writer_committed_since() {
    let inner = in_memory();
    let faulty = Arc::new(FaultyStore::new(Arc::clone(&inner)));
    let store: Arc<dyn ObjectStore> = faulty.clone();
    let caches = tempfile::tempdir().expect("tempdir");
    let writer = open(&store, &caches.path().join("w"));
    let other = open(&inner, &caches.path().join("o"));
    let requests = || (faulty.puts(), faulty.gets());
    let before = requests();
    writer.put(&asset(), &day(1), &b"one"[..]).expect("put");
    assert_eq!(requests(), (before.0 + 1, before.1), "one PUT, no GET");
    other
        .put(&asset(), &day(2), &b"two"[..])
        .expect("another writer's commit");
    other
        .put(&asset(), &day(3), &b"three"[..])
        .expect("and another");
    let before = requests();
    writer.put(&asset(), &day(4), &b"four"[..]).expect("put");
    assert_eq!(
        requests(),
        (before.0 + 2, before.1 + 3),
        "a refused PUT, the taken object read back, the next one, the end, the PUT"
    );
    assert_eq!(
        value(&writer, 3),
        Some(b"three".to_vec()),
        "it saw the commits before its own"
    );
    assert_eq!(log_objects(&inner).len(), 4);
}

#[test]
fn concurrent_commits_of_one_process_share_log_objects() {
    let inner = in_memory();
    let faulty = Arc::new(FaultyStore::new(Arc::clone(&inner)));
    faulty.inject(Faults {
        slow_puts: Some(Duration::from_millis(5)),
        ..Faults::default()
    });
    let store: Arc<dyn ObjectStore> = faulty.clone();
    let caches = tempfile::tempdir().expect("tempdir");
    let writer = open(&store, &caches.path().join("w"));
    let (threads, commits) = (8u32, 10u32);
    std::thread::scope(|scope| {
        for t in 0..threads {
            let writer = &writer;
            scope.spawn(move || {
                for n in 0..commits {
                    let mut batch = WriteBatch::new();
                    batch.put(
                        &asset(),
                        &day(t * 100 + n),
                        vec![u8::try_from(t).expect("small"); 300],
                    );
                    batch.put(
                        &AssetKey::new(["count"]).expect("asset"),
                        &day(t * 100 + n),
                        &b"x"[..],
                    );
                    writer.write(batch).expect("commit");
                }
            });
        }
    });
    let objects = log_objects(&inner).len();
    let batches = usize::try_from(threads * commits).expect("small");
    assert!(
        objects < batches,
        "{objects} log objects for {batches} commits: some were grouped"
    );
    let reader = open(&inner, &caches.path().join("r"));
    assert_eq!(reader.recovery().replayed_batches, objects as u64);
    let counted = AssetKey::new(["count"]).expect("asset");
    for handle in [&writer, &reader] {
        assert_eq!(
            handle.list_partitions(&asset()).expect("list").len(),
            batches
        );
        assert_eq!(
            handle.list_partitions(&counted).expect("list").len(),
            batches,
            "no torn batch"
        );
        for t in 0..threads {
            for n in 0..commits {
                let blob = value(handle, t * 100 + n).expect("committed");
                assert_eq!(blob, vec![u8::try_from(t).expect("small"); 300]);
            }
        }
    }
}

#[test]
fn another_writers_identical_batch_is_not_taken_for_ours() {
    // Found by the model test: the same delete at the same place in the log,
    // from two writers, encoded to the same bytes but for the writer's id.
    let store = in_memory();
    let caches = tempfile::tempdir().expect("tempdir");
    let a = open(&store, &caches.path().join("a"));
    let b = open(&store, &caches.path().join("b"));
    a.put(&asset(), &day(1), &b"one"[..]).expect("put");
    b.delete(&asset(), &day(5)).expect("delete");
    b.put(&asset(), &day(0), &b"zero"[..]).expect("put");
    a.delete(&asset(), &day(5))
        .expect("the same delete, from a");
    assert_eq!(
        log_objects(&store).len(),
        4,
        "a's delete is a commit of its own"
    );
    assert_eq!(
        value(&a, 0),
        Some(b"zero".to_vec()),
        "a saw b's commits before its own"
    );
}

/// The checkpoint objects in the store, by number.
pub(super) fn checkpoint_objects(store: &Arc<dyn ObjectStore>) -> Vec<u64> {
    use futures::TryStreamExt;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let prefix = ObjectPath::from(format!("{PREFIX}/checkpoint"));
    let listed: Vec<_> = runtime
        .block_on(store.list(Some(&prefix)).try_collect::<Vec<_>>())
        .expect("list");
    let mut ids: Vec<u64> = listed
        .into_iter()
        .filter_map(|m| m.location.filename().and_then(|n| n.parse().ok()))
        .collect();
    ids.sort_unstable();
    ids
}

#[test]
fn superseded_checkpoints_are_deleted_after_their_grace_period() {
    let store = in_memory();
    let caches = tempfile::tempdir().expect("tempdir");
    let patient = Store::builder(caches.path().join("p"))
        .object_store(Arc::clone(&store), PREFIX)
        .remote_checkpoint_every(1)
        .open()
        .expect("open");
    for n in 0..4 {
        patient.put(&asset(), &day(n), &b"v"[..]).expect("put");
    }
    assert_eq!(
        checkpoint_objects(&store),
        [1, 2, 3, 4],
        "within the grace period"
    );
    drop(patient);
    let eager = Store::builder(caches.path().join("e"))
        .object_store(Arc::clone(&store), PREFIX)
        .remote_checkpoint_every(1)
        .remote_checkpoint_grace(Duration::ZERO)
        .open()
        .expect("open");
    eager.put(&asset(), &day(4), &b"v"[..]).expect("put");
    assert_eq!(checkpoint_objects(&store), [4, 5], "the two newest stay");
    assert_eq!(
        log_objects(&store).len(),
        5,
        "log objects are never deleted"
    );
    let reader = open(&store, &caches.path().join("r"));
    assert_eq!(reader.recovery().replayed_batches, 0);
    assert_eq!(reader.list_partitions(&asset()).expect("list").len(), 5);
}

/// One step of the model test: a write through one of two handles, or a
/// refresh of one.
#[derive(Debug, Clone)]
enum Step {
    Put(usize, u32, Vec<u8>),
    Delete(usize, u32),
    Batch(usize, Vec<(u32, Option<Vec<u8>>)>),
    Refresh(usize),
}

fn step() -> impl Strategy<Value = Step> {
    let key = 0u32..6;
    let bytes = prop::collection::vec(any::<u8>(), 0..200);
    prop_oneof![
        (0usize..2, key.clone(), bytes.clone()).prop_map(|(h, k, v)| Step::Put(h, k, v)),
        (0usize..2, key.clone()).prop_map(|(h, k)| Step::Delete(h, k)),
        (
            0usize..2,
            prop::collection::vec((key, prop::option::of(bytes)), 1..4)
        )
            .prop_map(|(h, ops)| Step::Batch(h, ops)),
        (0usize..2).prop_map(Step::Refresh),
    ]
}

fn assert_matches_model(store: &Store, model: &BTreeMap<u32, Vec<u8>>) {
    for key in 0..6 {
        assert_eq!(value(store, key).as_ref(), model.get(&key), "key {key}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Two writer handles on one bucket: each commit applies in the order
    /// the calls were made; a handle sees every commit once it has written
    /// or refreshed, and a fresh open sees the model.
    #[test]
    fn two_handles_follow_the_model(steps in prop::collection::vec(step(), 1..30)) {
        let store = in_memory();
        let caches = tempfile::tempdir().expect("tempdir");
        let handles = [
            open_with_checkpoints(&store, &caches.path().join("a"), 2),
            open_with_checkpoints(&store, &caches.path().join("b"), 3),
        ];
        let mut model = BTreeMap::new();
        for step in steps {
            let handle = match &step {
                Step::Put(h, key, bytes) => {
                    handles[*h].put(&asset(), &day(*key), bytes.clone()).expect("put");
                    model.insert(*key, bytes.clone());
                    *h
                }
                Step::Delete(h, key) => {
                    handles[*h].delete(&asset(), &day(*key)).expect("delete");
                    model.remove(key);
                    *h
                }
                Step::Batch(h, ops) => {
                    let mut batch = WriteBatch::new();
                    for (key, change) in ops {
                        match change {
                            Some(bytes) => {
                                batch.put(&asset(), &day(*key), bytes.clone());
                                model.insert(*key, bytes.clone());
                            }
                            None => {
                                batch.delete(&asset(), &day(*key));
                                model.remove(key);
                            }
                        }
                    }
                    handles[*h].write(batch).expect("batch");
                    *h
                }
                Step::Refresh(h) => {
                    handles[*h].refresh().expect("refresh");
                    *h
                }
            };
            assert_matches_model(&handles[handle], &model);
        }
        assert_matches_model(&open(&store, &caches.path().join("fresh")), &model);
    }
}
