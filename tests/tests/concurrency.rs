//! `Store` and `Blob` are `Send + Sync`; many threads writing durably and
//! reading at once see every acknowledged write, on every index backend and
//! on object storage.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tessera_engine::{AssetKey, Blob, DEFAULT_CHECKPOINT_EVERY, Durability, PartitionKey, Store};
use tessera_tests::{payload_for, store_backends};

const fn assert_send_sync<T: Send + Sync>() {}
const _: () = assert_send_sync::<Store>();
const _: () = assert_send_sync::<Blob>();

fn key(n: u64) -> PartitionKey {
    PartitionKey::new(format!("{n:06}")).expect("valid partition")
}

#[test]
fn concurrent_immediate_writers_and_readers() {
    for backend in store_backends() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = backend
            .builder(dir.path(), DEFAULT_CHECKPOINT_EVERY)
            .durability(Durability::Immediate)
            .open()
            .expect("open");
        let asset = AssetKey::new(["concurrent"]).expect("asset");
        let written = Arc::new(AtomicU64::new(0));
        std::thread::scope(|scope| {
            for thread in 0..8u64 {
                let (store, asset, written) = (store.clone(), asset.clone(), Arc::clone(&written));
                scope.spawn(move || {
                    for i in 0..40 {
                        let n = thread * 1000 + i;
                        store.put(&asset, &key(n), payload_for(n)).expect("put");
                        written.fetch_add(1, Ordering::SeqCst);
                    }
                });
            }
            for _ in 0..2 {
                let (store, asset) = (store.clone(), asset.clone());
                scope.spawn(move || {
                    for round in 0..200u64 {
                        let n = (round % 8) * 1000 + round % 40;
                        if let Some(blob) = store.get(&asset, &key(n)).expect("get") {
                            assert_eq!(&*blob, payload_for(n).as_slice());
                        }
                    }
                });
            }
        });
        assert_eq!(written.load(Ordering::SeqCst), 320);
        assert_eq!(store.list_partitions(&asset).expect("list").len(), 320);
        drop(store);
        let reopened = backend.open(dir.path(), DEFAULT_CHECKPOINT_EVERY);
        for thread in 0..8u64 {
            for i in 0..40 {
                let n = thread * 1000 + i;
                let blob = reopened
                    .get(&asset, &key(n))
                    .expect("get")
                    .expect("present");
                assert_eq!(&*blob, payload_for(n).as_slice());
            }
        }
    }
}
