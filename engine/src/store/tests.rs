//! Store-level fault tests that need the engine's insides: a panicking index
//! backend, and a seam whose syncs fail.

use std::fs::File;
use std::io;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use crate::index::inject;
use crate::io::{FileIo, OsFileIo};
use crate::{AssetKey, Durability, Error, IndexKind, PartitionKey, Store};

fn asset() -> AssetKey {
    AssetKey::new(["faults"]).expect("asset")
}

fn key(n: u32) -> PartitionKey {
    PartitionKey::new(format!("p{n:03}")).expect("partition")
}

fn kinds() -> Vec<IndexKind> {
    vec![
        IndexKind::Sled,
        #[cfg(feature = "redb")]
        IndexKind::Redb,
    ]
}

fn populate(dir: &Path, kind: IndexKind, n: u32) {
    let store = Store::builder(dir)
        .index(kind)
        .checkpoint_every(4)
        .open()
        .expect("open");
    for i in 0..n {
        store
            .put(&asset(), &key(i), format!("value {i}").into_bytes())
            .expect("put");
    }
    store.close().expect("close");
}

fn assert_all_present(store: &Store, n: u32) {
    for i in 0..n {
        let blob = store.get(&asset(), &key(i)).expect("get").expect("present");
        assert_eq!(&*blob, format!("value {i}").as_bytes());
    }
}

#[test]
fn an_index_that_panics_at_open_is_rebuilt_from_the_log() {
    for kind in kinds() {
        let dir = tempfile::tempdir().expect("tempdir");
        populate(dir.path(), kind, 20);
        inject::panic_next(1);
        let store = Store::builder(dir.path()).index(kind).open().expect("open");
        let rebuilt = store.recovery().index_rebuilt.clone().expect("rebuilt");
        assert!(
            rebuilt.reason.contains("injected index panic"),
            "{rebuilt:?}"
        );
        assert_eq!(rebuilt.entries, 20);
        assert_all_present(&store, 20);
        assert!(store.verify().expect("verify").is_ok());
    }
}

#[test]
fn an_index_that_panics_in_a_checkpoint_costs_no_write() {
    for kind in kinds() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::builder(dir.path()).index(kind).open().expect("open");
        for i in 0..10 {
            store
                .put(&asset(), &key(i), format!("value {i}").into_bytes())
                .expect("put");
        }
        inject::panic_next(1);
        let error = store.flush().expect_err("the checkpoint panicked");
        assert!(matches!(error, Error::Index { .. }), "{error}");
        assert_all_present(&store, 10);
        store
            .put(&asset(), &key(10), b"value 10".to_vec())
            .expect("writes go on: the log holds them");
        drop(store);
        let store = Store::builder(dir.path())
            .index(kind)
            .open()
            .expect("reopen");
        assert_all_present(&store, 11);
    }
}

/// The real file system, but `sync_data` fails from the `fail_from`-th call on.
#[derive(Debug)]
struct FailingSyncs {
    calls: AtomicU32,
    fail_from: u32,
}

impl FileIo for FailingSyncs {
    fn create(&self, path: &Path) -> io::Result<File> {
        OsFileIo.create(path)
    }
    fn write_at(&self, file: &File, path: &Path, bytes: &[u8], offset: u64) -> io::Result<()> {
        OsFileIo.write_at(file, path, bytes, offset)
    }
    fn set_len(&self, file: &File, path: &Path, len: u64) -> io::Result<()> {
        OsFileIo.set_len(file, path, len)
    }
    fn sync_data(&self, file: &File, path: &Path) -> io::Result<()> {
        if self.calls.fetch_add(1, Ordering::SeqCst) + 1 >= self.fail_from {
            return Err(io::Error::from_raw_os_error(5));
        }
        OsFileIo.sync_data(file, path)
    }
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        OsFileIo.rename(from, to)
    }
    fn remove_file(&self, path: &Path) -> io::Result<()> {
        OsFileIo.remove_file(path)
    }
    fn create_dir(&self, path: &Path) -> io::Result<()> {
        OsFileIo.create_dir(path)
    }
    fn sync_dir(&self, path: &Path) -> io::Result<()> {
        OsFileIo.sync_dir(path)
    }
}

#[test]
fn a_failed_sync_poisons_the_store_until_it_is_reopened() {
    let dir = tempfile::tempdir().expect("tempdir");
    let io = Arc::new(FailingSyncs {
        calls: AtomicU32::new(0),
        fail_from: 6,
    });
    let store = Store::builder(dir.path())
        .durability(Durability::Immediate)
        .file_io(io.clone())
        .open()
        .expect("open");
    let mut acknowledged = 0;
    let failure = loop {
        match store.put(
            &asset(),
            &key(acknowledged),
            format!("value {acknowledged}").into_bytes(),
        ) {
            Ok(()) => acknowledged += 1,
            Err(error) => break error,
        }
    };
    assert!(
        matches!(&failure, Error::Io { source, .. } if source.raw_os_error() == Some(5)),
        "{failure}"
    );
    let syncs = io.calls.load(Ordering::SeqCst);
    let later = store.put(&asset(), &key(99), b"later".to_vec());
    assert!(matches!(later, Err(Error::Poisoned { .. })), "{later:?}");
    assert!(matches!(store.flush(), Err(Error::Poisoned { .. })));
    assert_eq!(io.calls.load(Ordering::SeqCst), syncs, "no sync is retried");
    drop(store);
    let store = Store::open(dir.path()).expect("reopen recovers");
    assert_all_present(&store, acknowledged);
    assert!(store.get(&asset(), &key(99)).expect("get").is_none());
}

#[test]
fn an_unset_backend_opens_the_stores_own_and_another_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    populate(dir.path(), IndexKind::Sled, 3);
    let store = Store::open(dir.path()).expect("opens with the store's backend");
    assert_eq!(store.index_kind(), IndexKind::Sled);
    assert_all_present(&store, 3);
    drop(store);
    #[cfg(feature = "redb")]
    assert!(matches!(
        Store::builder(dir.path()).index(IndexKind::Redb).open(),
        Err(Error::BackendMismatch { .. })
    ));
    let fresh = tempfile::tempdir().expect("tempdir");
    let store = Store::open(fresh.path()).expect("new store");
    assert_eq!(store.index_kind(), IndexKind::default());
}

#[test]
fn oversized_keys_and_metadata_are_typed_errors_and_write_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path()).expect("open");
    let long = "k".repeat(1000);
    let components: Vec<&str> = (0..10).map(|_| long.as_str()).collect();
    let huge_asset = AssetKey::new(components).expect("a valid asset key");
    let error = store
        .put(&huge_asset, &key(0), b"x".to_vec())
        .expect_err("key too large");
    assert!(
        matches!(error, Error::KeyTooLarge { max, .. } if max == crate::MAX_KEY_LEN),
        "{error}"
    );
    let payload = crate::Payload::raw(b"x".to_vec()).with_metadata("notes", "n".repeat(70_000));
    let error = store
        .put(&asset(), &key(1), payload)
        .expect_err("metadata too large");
    assert!(
        matches!(error, Error::MetadataTooLarge { max, .. } if max == crate::MAX_METADATA_LEN),
        "{error}"
    );
    assert!(store.list_assets().expect("list").is_empty());
    assert_eq!(store.stats().expect("stats").segments, 0, "nothing written");
}

#[test]
fn a_compaction_told_to_stop_starts_no_further_segment_and_keeps_what_it_reclaimed() {
    use std::sync::atomic::AtomicUsize;

    use crate::CompactionOptions;

    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::builder(dir.path())
        .segment_capacity(64 << 10)
        .compaction(CompactionOptions::default().background(false))
        .durability(Durability::Buffered)
        .open()
        .expect("open");
    let value = vec![7_u8; 8 << 10];
    for round in 0..6 {
        for i in 0..8 {
            let mut payload = value.clone();
            payload[0] = round;
            store.put(&asset(), &key(i), payload).expect("put");
        }
    }
    let started = AtomicUsize::new(0);
    let one_segment = || started.fetch_add(1, Ordering::SeqCst) == 0;
    let first = store
        .compact_while(&mut |_| {}, &one_segment)
        .expect("compact one segment");
    assert_eq!(first.segments_reclaimed, 1, "{first:?}");
    let rest = store.compact().expect("compact the rest");
    assert!(
        rest.segments_reclaimed >= 1,
        "more was left to reclaim: {rest:?}"
    );
    for i in 0..8 {
        let blob = store.get(&asset(), &key(i)).expect("get").expect("present");
        assert_eq!(blob[0], 5, "the newest value of {i}");
        assert_eq!(blob.len(), value.len());
    }
}
