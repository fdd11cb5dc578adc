//! Large values on object storage: a payload of at least the threshold goes
//! to its own data object through a multipart upload and reads back zero
//! copy from the cached data object; a failed upload (a part or the
//! complete) commits nothing and leaves the store usable; GETs of data
//! objects are retried; an orphan data object is collected after the grace
//! period while a committed one stays as long as a checkpoint needs it.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};

use super::faults::{Faults, FaultyStore};
use super::faults_multipart::MultipartPlan;
use super::tests::{PREFIX, asset, day, in_memory, log_objects, quick_retry, value};
use super::{data_object_name, new_data_object_id};
use crate::{Error, Store, WriteBatch};

/// 12 MiB: above the default threshold, three parts of 5 MiB.
const LARGE: usize = 12 << 20;

fn large(seed: u8) -> Vec<u8> {
    (0..LARGE)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

fn handle(store: &Arc<dyn ObjectStore>, cache: &Path, grace: Duration) -> Store {
    Store::builder(cache)
        .object_store(Arc::clone(store), PREFIX)
        .object_store_retry(quick_retry())
        .remote_gc_grace(grace)
        .open()
        .expect("open the store on object storage")
}

/// A handle whose values of `threshold` bytes or more go to data objects.
fn with_threshold(store: &Arc<dyn ObjectStore>, cache: &Path, threshold: u64) -> Store {
    Store::builder(cache)
        .object_store(Arc::clone(store), PREFIX)
        .object_store_retry(quick_retry())
        .remote_large_value_threshold(threshold)
        .open()
        .expect("open the store on object storage")
}

fn faulty() -> (Arc<FaultyStore>, Arc<dyn ObjectStore>) {
    let faulty = Arc::new(FaultyStore::new(in_memory()));
    let store: Arc<dyn ObjectStore> = Arc::clone(&faulty) as Arc<dyn ObjectStore>;
    (faulty, store)
}

/// The data objects in the store, by name, with their sizes.
/// `error` is the typed failure of an upload whose retries are spent.
fn assert_upload_failed(error: &Error) {
    assert!(
        matches!(
            error,
            Error::ObjectStore {
                operation: "upload",
                ..
            }
        ),
        "{error:?}"
    );
}

fn data_objects(store: &Arc<dyn ObjectStore>) -> Vec<(String, u64)> {
    use futures::TryStreamExt;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let prefix = ObjectPath::from(format!("{PREFIX}/data"));
    let listed: Vec<_> = runtime
        .block_on(store.list(Some(&prefix)).try_collect::<Vec<_>>())
        .expect("list");
    let mut objects: Vec<(String, u64)> = listed
        .into_iter()
        .map(|meta| (meta.location.to_string(), meta.size))
        .collect();
    objects.sort();
    objects
}

#[test]
fn a_large_value_is_uploaded_in_parts_and_read_zero_copy_from_its_data_object() {
    let (faulty, store) = faulty();
    let caches = tempfile::tempdir().expect("tempdir");
    let writer = handle(&store, &caches.path().join("w"), Duration::from_secs(600));
    let payload = large(1);
    let puts = faulty.puts();
    let mut batch = WriteBatch::new();
    batch.put(&asset(), &day(1), &payload[..]);
    batch.put(&asset(), &day(2), &b"small"[..]);
    writer.write(batch).expect("write");

    assert_eq!(faulty.puts() - puts, 1, "one PUT: the log object");
    assert_eq!(faulty.multipart().parts(), 3, "12 MiB in parts of 5 MiB");
    assert_eq!(faulty.multipart().completes(), 1);
    let data = data_objects(&store);
    assert_eq!(data.len(), 1, "the small value stays in the log object");
    assert!(data[0].1 > LARGE as u64 && data[0].1 < LARGE as u64 + 512);
    let logs = log_objects(&store);
    assert_eq!(logs.len(), 1);
    let log = runtime()
        .block_on(store.head(&ObjectPath::from(logs[0].as_str())))
        .expect("head");
    assert!(log.size < 1024, "the log object holds no payload: {log:?}");

    let gets = faulty.gets();
    let reader = handle(&store, &caches.path().join("r"), Duration::from_secs(600));
    let opened = faulty.gets();
    let blob = reader
        .get(&asset(), &day(1))
        .expect("get")
        .expect("present");
    assert_eq!(faulty.gets() - opened, 1, "one GET: the data object");
    assert!(opened > gets);
    assert!(*blob == payload[..], "bit-identical");
    assert!(blob.checksum_verified());
    assert!(
        blob.is_in_mapping(blob.as_ptr()),
        "borrowed from the mapping"
    );
    assert_eq!(blob.meta().len, LARGE as u64);
    assert_eq!(value(&reader, 2), Some(b"small".to_vec()));
    let again = reader
        .get(&asset(), &day(1))
        .expect("get")
        .expect("present");
    assert_eq!(
        faulty.gets() - opened,
        1,
        "the second read is from the cache"
    );
    assert_eq!(again.as_ptr(), blob.as_ptr(), "the same mapping");
    let cache = reader.remote_cache().expect("remote");
    assert!(
        cache.total() > LARGE as u64,
        "the cache counts the data object"
    );
    assert!(reader.verify().expect("verify").is_ok());
    assert!(writer.verify().expect("verify").is_ok());
    let stats = reader.stats().expect("stats");
    assert_eq!(stats.segments, 2, "the log object and the data object");
    assert_eq!(stats.segment_bytes, log.size + data[0].1);
    assert!(stats.garbage_bytes < 4096, "{stats:?}");
    drop((blob, again, reader));

    let reopened = handle(&store, &caches.path().join("r"), Duration::from_secs(600));
    let gets = faulty.gets();
    assert_eq!(
        value(&reopened, 1),
        Some(payload),
        "from the cache directory"
    );
    assert_eq!(
        faulty.gets(),
        gets,
        "no GET: the cached data object is reused"
    );
}

#[test]
fn a_damaged_data_object_is_an_error_never_data() {
    let store = in_memory();
    let caches = tempfile::tempdir().expect("tempdir");
    let writer = handle(&store, &caches.path().join("w"), Duration::from_secs(600));
    writer.put(&asset(), &day(1), large(2)).expect("put");
    let (name, _) = data_objects(&store).remove(0);
    let path = ObjectPath::from(name.as_str());
    let runtime = runtime();
    let mut bytes = runtime
        .block_on(async { store.get(&path).await?.bytes().await })
        .expect("get")
        .to_vec();
    let last = bytes.len() - 100;
    bytes[last] ^= 0xff;
    runtime
        .block_on(store.put(&path, PutPayload::from(bytes)))
        .expect("damage it");

    let reader = handle(&store, &caches.path().join("r"), Duration::from_secs(600));
    match reader.get(&asset(), &day(1)) {
        Err(Error::Corrupted { .. }) => {}
        other => panic!(
            "expected Corrupted, got {:?}",
            other.map(|b| b.map(|b| b.len()))
        ),
    }
    let report = reader.verify().expect("verify");
    assert!(
        report
            .quarantined
            .iter()
            .any(|q| q.path.to_string_lossy() == name),
        "verify names the data object: {:?}",
        report.quarantined
    );
}

#[test]
fn a_failed_part_aborts_the_upload_and_commits_nothing() {
    let (faulty, store) = faulty();
    let caches = tempfile::tempdir().expect("tempdir");
    let writer = handle(&store, &caches.path().join("w"), Duration::from_secs(600));
    writer.put(&asset(), &day(1), &b"before"[..]).expect("put");
    faulty.multipart().inject(MultipartPlan {
        parts_before_failures: 1,
        failed_parts: u32::MAX,
        failed_completes: 0,
    });
    let error = writer
        .put(&asset(), &day(2), large(3))
        .expect_err("every upload fails at its second part");
    assert_upload_failed(&error);
    let attempts = u64::from(quick_retry().attempts);
    assert_eq!(faulty.multipart().aborts(), attempts, "every try aborted");
    assert_eq!(faulty.multipart().completes(), 0);
    assert!(data_objects(&store).is_empty(), "no data object");
    assert_eq!(log_objects(&store).len(), 1, "nothing committed");
    assert_eq!(value(&writer, 2), None);

    faulty.multipart().inject(MultipartPlan::default());
    let payload = large(4);
    writer
        .put(&asset(), &day(2), &payload[..])
        .expect("usable after");
    let reader = handle(&store, &caches.path().join("r"), Duration::from_secs(600));
    assert_eq!(value(&reader, 2), Some(payload));
    assert_eq!(value(&reader, 1), Some(b"before".to_vec()));
}

#[test]
fn a_part_failing_once_is_retried_with_a_new_upload() {
    let (faulty, store) = faulty();
    let caches = tempfile::tempdir().expect("tempdir");
    let writer = handle(&store, &caches.path().join("w"), Duration::from_secs(600));
    faulty.multipart().inject(MultipartPlan {
        parts_before_failures: 2,
        failed_parts: 1,
        failed_completes: 0,
    });
    let payload = large(5);
    writer.put(&asset(), &day(1), &payload[..]).expect("put");
    assert_eq!(faulty.multipart().aborts(), 1);
    assert_eq!(faulty.multipart().completes(), 1);
    assert_eq!(faulty.multipart().parts(), 6, "three, then three again");
    assert_eq!(data_objects(&store).len(), 1);
    let reader = handle(&store, &caches.path().join("r"), Duration::from_secs(600));
    assert_eq!(value(&reader, 1), Some(payload));
}

#[test]
fn a_failed_complete_aborts_and_commits_nothing() {
    let (faulty, store) = faulty();
    let caches = tempfile::tempdir().expect("tempdir");
    let writer = handle(&store, &caches.path().join("w"), Duration::from_secs(600));
    faulty.multipart().inject(MultipartPlan {
        failed_completes: u32::MAX,
        ..MultipartPlan::default()
    });
    let error = writer
        .put(&asset(), &day(1), large(6))
        .expect_err("no upload completes");
    assert_upload_failed(&error);
    assert_eq!(
        faulty.multipart().aborts(),
        u64::from(quick_retry().attempts)
    );
    assert!(data_objects(&store).is_empty());
    assert!(log_objects(&store).is_empty(), "nothing committed");
    faulty.multipart().inject(MultipartPlan::default());
    writer
        .put(&asset(), &day(1), large(7))
        .expect("usable after");
    assert_eq!(value(&writer, 1), Some(large(7)));
}

#[test]
fn gets_of_a_data_object_that_fail_or_crawl_are_retried() {
    let (faulty, store) = faulty();
    let caches = tempfile::tempdir().expect("tempdir");
    let writer = handle(&store, &caches.path().join("w"), Duration::from_secs(600));
    let payload = large(8);
    writer.put(&asset(), &day(1), &payload[..]).expect("put");
    let reader = handle(&store, &caches.path().join("r"), Duration::from_secs(600));
    faulty.inject(Faults {
        failed_gets: 2,
        slow_gets: Some(Duration::from_millis(30)),
        ..Faults::default()
    });
    let gets = faulty.gets();
    assert_eq!(value(&reader, 1), Some(payload));
    assert_eq!(faulty.gets() - gets, 3, "two 503s, then the data object");

    let other = handle(&store, &caches.path().join("o"), Duration::from_secs(600));
    faulty.inject(Faults {
        failed_gets: u32::MAX,
        ..Faults::default()
    });
    assert!(
        matches!(
            other.get(&asset(), &day(1)),
            Err(Error::ObjectStore {
                operation: "get",
                ..
            })
        ),
        "GETs that keep failing are a typed error"
    );
}

#[test]
fn an_orphan_data_object_is_collected_and_a_committed_one_kept_while_needed() {
    let store = in_memory();
    let caches = tempfile::tempdir().expect("tempdir");
    let grace = Duration::from_secs(1);
    let writer = handle(&store, &caches.path().join("w"), grace);
    let payload = large(9);
    writer.put(&asset(), &day(1), &payload[..]).expect("put");
    writer.checkpoint().expect("checkpoint");
    let committed = data_objects(&store);
    // A crash between an upload and its commit leaves a data object no log
    // object names.
    let orphan = ObjectPath::from(format!(
        "{PREFIX}/{}",
        data_object_name(new_data_object_id(12_345))
    ));
    runtime()
        .block_on(store.put(&orphan, PutPayload::from(vec![1u8; 4096])))
        .expect("plant the orphan");
    assert_eq!(data_objects(&store).len(), 2);

    writer.compact().expect("compact");
    assert_eq!(data_objects(&store).len(), 2, "both younger than the grace");
    std::thread::sleep(grace + Duration::from_millis(50));
    writer.compact().expect("collect");
    assert_eq!(data_objects(&store), committed, "the orphan went");
    let fresh = handle(&store, &caches.path().join("fresh"), grace);
    assert_eq!(value(&fresh, 1), Some(payload), "the committed one stayed");

    writer
        .put(&asset(), &day(1), &b"small now"[..])
        .expect("put");
    writer.checkpoint().expect("checkpoint");
    writer.compact().expect("compact");
    std::thread::sleep(grace + Duration::from_millis(50));
    writer.compact().expect("collect");
    assert!(
        data_objects(&store).is_empty(),
        "the overwritten large value's object went once no checkpoint needed it"
    );
    let fresh = handle(&store, &caches.path().join("fresh2"), grace);
    assert_eq!(value(&fresh, 1), Some(b"small now".to_vec()));
}

#[test]
fn a_data_object_committed_after_the_newest_checkpoint_is_kept() {
    let store = in_memory();
    let caches = tempfile::tempdir().expect("tempdir");
    let grace = Duration::from_secs(1);
    let writer = handle(&store, &caches.path().join("w"), grace);
    writer.put(&asset(), &day(1), &b"small"[..]).expect("put");
    writer.checkpoint().expect("checkpoint");
    let payload = large(11);
    writer.put(&asset(), &day(2), &payload[..]).expect("put");
    std::thread::sleep(grace + Duration::from_millis(50));
    // The checkpoint is now old enough to anchor a collection, and the data
    // object old enough to go: only its log object, after the checkpoint,
    // names it.
    writer.compact().expect("collect");
    assert_eq!(data_objects(&store).len(), 1, "kept");
    let fresh = handle(&store, &caches.path().join("fresh"), grace);
    assert_eq!(value(&fresh, 2), Some(payload));
}

#[test]
fn a_commit_is_refused_once_its_upload_is_older_than_half_the_grace() {
    let store = in_memory();
    let caches = tempfile::tempdir().expect("tempdir");
    let writer = handle(&store, &caches.path().join("w"), Duration::ZERO);
    let error = writer
        .put(&asset(), &day(1), large(10))
        .expect_err("any upload is older than no grace at all");
    assert!(
        matches!(
            error,
            Error::ObjectStore {
                operation: "commit",
                ..
            }
        ),
        "{error:?}"
    );
    assert!(log_objects(&store).is_empty(), "nothing committed");
    assert_eq!(data_objects(&store).len(), 1, "an orphan is left");
    writer
        .put(&asset(), &day(2), &b"small"[..])
        .expect("small puts go on");
    writer.checkpoint().expect("checkpoint");
    writer.compact().expect("collect");
    assert!(
        data_objects(&store).is_empty(),
        "collection took the orphan"
    );
    assert_eq!(value(&writer, 2), Some(b"small".to_vec()));
}

#[test]
fn the_threshold_is_an_option() {
    let (faulty, store) = faulty();
    let caches = tempfile::tempdir().expect("tempdir");
    let writer = with_threshold(&store, &caches.path().join("w"), 1000);
    writer.put(&asset(), &day(1), vec![4u8; 999]).expect("put");
    assert!(data_objects(&store).is_empty(), "below the threshold");
    writer.put(&asset(), &day(2), vec![5u8; 1000]).expect("put");
    assert_eq!(data_objects(&store).len(), 1, "at the threshold");
    assert_eq!(faulty.multipart().parts(), 1);
    let reader = handle(&store, &caches.path().join("r"), Duration::from_secs(600));
    assert_eq!(value(&reader, 1), Some(vec![4u8; 999]));
    assert_eq!(value(&reader, 2), Some(vec![5u8; 1000]));
}

#[test]
fn compaction_moves_a_large_value_out_of_a_log_object_into_a_data_object() {
    let store = in_memory();
    let caches = tempfile::tempdir().expect("tempdir");
    let old = with_threshold(&store, &caches.path().join("old"), 1 << 20);
    old.put(&asset(), &day(1), vec![6u8; 5000]).expect("put");
    old.put(&asset(), &day(2), vec![7u8; 10]).expect("put");
    old.put(&asset(), &day(2), vec![8u8; 10]).expect("put");
    assert!(data_objects(&store).is_empty(), "all inline");

    let compactor = with_threshold(&store, &caches.path().join("new"), 4096);
    let report = compactor.compact().expect("compact");
    assert_eq!(report.moved_versions, 2);
    assert_eq!(data_objects(&store).len(), 1, "the 5000 bytes moved out");
    let fresh = with_threshold(&store, &caches.path().join("fresh"), 1 << 20);
    assert_eq!(value(&fresh, 1), Some(vec![6u8; 5000]));
    assert_eq!(value(&fresh, 2), Some(vec![8u8; 10]));
    assert_eq!(
        fresh.meta(&asset(), &day(1)).expect("meta").map(|m| m.len),
        Some(5000)
    );
    assert!(fresh.verify().expect("verify").is_ok());
    old.refresh().expect("refresh");
    assert_eq!(
        value(&old, 1),
        Some(vec![6u8; 5000]),
        "read from the data object"
    );
}

#[test]
fn threads_committing_large_values_together_lose_none() {
    let store = in_memory();
    let caches = tempfile::tempdir().expect("tempdir");
    let writer = with_threshold(&store, &caches.path().join("w"), 1000);
    let payload = |thread: u32, n: u32| vec![u8::try_from(thread * 10 + n).expect("small"); 3000];
    std::thread::scope(|scope| {
        for thread in 0..6u32 {
            let writer = &writer;
            scope.spawn(move || {
                for n in 0..8u32 {
                    let mut batch = WriteBatch::new();
                    batch.put(&asset(), &day(thread * 100 + n), payload(thread, n));
                    batch.put(&asset(), &day(thread * 100 + n + 50), &b"small"[..]);
                    writer.write(batch).expect("write");
                }
            });
        }
    });
    assert_eq!(
        data_objects(&store).len(),
        48,
        "one data object per large put"
    );
    assert!(
        log_objects(&store).len() <= 48,
        "grouped commits at most one each"
    );
    let reader = handle(&store, &caches.path().join("r"), Duration::from_secs(600));
    for thread in 0..6u32 {
        for n in 0..8u32 {
            assert_eq!(value(&reader, thread * 100 + n), Some(payload(thread, n)));
            assert_eq!(
                value(&reader, thread * 100 + n + 50),
                Some(b"small".to_vec())
            );
        }
    }
    assert!(reader.verify().expect("verify").is_ok());
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime")
}
