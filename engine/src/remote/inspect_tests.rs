//! [`Store::verify`] and [`Store::stats`] on a store on object storage: every
//! partition and every log object a retained version needs is checked
//! through the cache, and the counts match what the bucket holds.

use std::sync::Arc;

use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};

use super::tests::{PREFIX, asset, day, in_memory, log_objects, open, open_with_checkpoints};
use crate::Store;

/// The bytes of every log object in the store.
fn log_bytes(store: &Arc<dyn ObjectStore>) -> u64 {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
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

#[test]
fn verify_checks_every_partition_and_the_objects_it_needs() {
    let store = in_memory();
    let caches = tempfile::tempdir().expect("tempdir");
    let writer = open_with_checkpoints(&store, &caches.path().join("w"), 1);
    writer.put(&asset(), &day(1), &[1u8; 300][..]).expect("put");
    writer.put(&asset(), &day(2), &[2u8; 500][..]).expect("put");
    writer
        .put(&asset(), &day(1), &[3u8; 700][..])
        .expect("overwrite");
    writer.delete(&asset(), &day(2)).expect("delete");
    writer.put(&asset(), &day(3), &[4u8; 100][..]).expect("put");

    let report = writer.verify().expect("verify");
    assert!(report.is_ok(), "{report:?}");
    assert_eq!(report.checked, 2, "day 1 and day 3 hold values");
    assert_eq!(report.bytes, 800);

    // Damage the payload of day 3 in the bucket: a reader opened from the
    // latest checkpoint fetches that object only when verify asks for it.
    let name = format!("{PREFIX}/log/{:020}", 5);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let path = ObjectPath::from(name);
    let mut bytes = runtime
        .block_on(async { store.get(&path).await?.bytes().await })
        .expect("get")
        .to_vec();
    let payload_at = bytes.iter().position(|&b| b == 4).expect("payload");
    bytes[payload_at] ^= 0xff;
    runtime
        .block_on(store.put(&path, PutPayload::from(bytes)))
        .expect("damage");
    let reader = open(&store, &caches.path().join("r"));
    let report = reader.verify().expect("verify");
    assert!(!report.is_ok());
    assert_eq!(report.damaged.len(), 1, "{report:?}");
    assert_eq!(report.damaged[0].partition, Some(day(3)));
    assert_eq!(
        report.quarantined.iter().map(|q| q.id).collect::<Vec<_>>(),
        [5]
    );
    assert!(
        report.quarantined[0].reason.contains("crc32"),
        "{:?}",
        report.quarantined[0]
    );

    // An object a retained version needs, deleted behind the store's back.
    let needed = ObjectPath::from(format!("{PREFIX}/log/{:020}", 3));
    runtime.block_on(store.delete(&needed)).expect("delete");
    let fresh = open(&store, &caches.path().join("r2"));
    let report = fresh.verify().expect("verify");
    let missing: Vec<_> = report
        .quarantined
        .iter()
        .filter(|q| q.reason.contains("missing"))
        .map(|q| q.id)
        .collect();
    assert_eq!(missing, [3], "{report:?}");
    assert!(
        report.damaged.iter().any(|d| d.partition == Some(day(1))),
        "day 1's newest version lived in object 3: {report:?}"
    );
}

#[test]
fn stats_count_the_view_and_the_objects_in_the_bucket() {
    let store = in_memory();
    let caches = tempfile::tempdir().expect("tempdir");
    let writer = open(&store, &caches.path().join("w"));
    writer
        .put(&asset(), &day(1), &[1u8; 1000][..])
        .expect("put");
    writer
        .put(&asset(), &day(2), &[2u8; 2000][..])
        .expect("put");
    writer
        .put(&asset(), &day(1), &[3u8; 3000][..])
        .expect("overwrite");
    let stats = writer.stats().expect("stats");
    assert_eq!(stats.assets, 1);
    assert_eq!(stats.partitions, 2);
    assert_eq!(
        stats.old_versions, 0,
        "the default retention keeps the latest only"
    );
    assert_eq!(stats.payload_bytes, 5000);
    assert_eq!(stats.segments, 3, "one log object per commit");
    assert_eq!(stats.segment_bytes, log_bytes(&store));
    assert!(
        stats.garbage_bytes >= 1000,
        "the overwritten payload is garbage: {stats:?}"
    );
    assert_eq!(stats.reclaimable_bytes, stats.garbage_bytes);

    // A reader whose cache holds none of the objects computes the same.
    let reader = Store::builder(caches.path().join("r"))
        .object_store(Arc::clone(&store), PREFIX)
        .remote_checkpoint_every(1)
        .open()
        .expect("open");
    reader.checkpoint().expect("checkpoint");
    let fresh = open(&store, &caches.path().join("r2"));
    let counted = fresh.stats().expect("stats");
    assert_eq!(counted.live_bytes, stats.live_bytes);
    assert_eq!(counted.segment_bytes, stats.segment_bytes);
}
