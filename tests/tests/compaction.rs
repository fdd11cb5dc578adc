//! Compaction and retention: space comes back, held blobs keep their bytes,
//! deleted partitions stay deleted through compaction and index rebuilds,
//! and compaction runs safely beside readers and writers (on every index
//! backend and on object storage).

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta};
use tessera_engine::{
    AssetKey, CompactionOptions, DEFAULT_CHECKPOINT_EVERY, Durability, IndexKind, PartitionKey,
    Retention, Store,
};
use tessera_tests::{Backend, backends, payload_for, store_backends};

fn asset(name: &str) -> AssetKey {
    AssetKey::new([name]).expect("asset")
}

fn day(n: u32) -> PartitionKey {
    PartitionKey::new(format!("2024-01-{n:02}")).expect("partition")
}

fn manual(dir: &Path, kind: IndexKind, capacity: u64) -> Store {
    manual_on(&Backend::Local(kind), dir, capacity)
}

/// A store on `backend` whose compaction runs only when called.
fn manual_on(backend: &Backend, dir: &Path, capacity: u64) -> Store {
    backend
        .builder(dir, DEFAULT_CHECKPOINT_EVERY)
        .segment_capacity(capacity)
        .durability(Durability::Buffered)
        .compaction(CompactionOptions::default().background(false))
        .open()
        .expect("open")
}

/// Segment files in the store's directory.
fn segment_files(dir: &Path) -> usize {
    std::fs::read_dir(dir.join("segments"))
        .expect("list")
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "seg"))
        })
        .count()
}

#[test]
fn overwrites_of_one_partition_stay_within_twice_the_live_bytes_plus_one_segment() {
    const VALUE: usize = 1 << 20;
    const CAPACITY: u64 = 64 << 20;
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::builder(dir.path())
        .segment_capacity(CAPACITY)
        .durability(Durability::Buffered)
        .compaction(CompactionOptions::default().interval(Duration::from_millis(20)))
        .open()
        .expect("open");
    let key = (asset("big"), PartitionKey::unpartitioned());
    let mut value = vec![0u8; VALUE];
    for round in 0..10_000u32 {
        value[..4].copy_from_slice(&round.to_le_bytes());
        store.put(&key.0, &key.1, &value).expect("put");
    }
    let bound = |stats: &tessera_engine::StoreStats| 2 * stats.live_bytes + CAPACITY;
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut stats = store.stats().expect("stats");
    while stats.segment_bytes > bound(&stats) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
        stats = store.stats().expect("stats");
    }
    assert!(
        stats.segment_bytes <= bound(&stats),
        "segments hold {} bytes for {} live bytes",
        stats.segment_bytes,
        stats.live_bytes
    );
    let blob = store.get(&key.0, &key.1).expect("get").expect("value");
    assert_eq!(&blob[..4], &9_999u32.to_le_bytes());
    drop(blob);
    store.wipe_asset(&key.0).expect("wipe");
    store.compact().expect("compact");
    store.close().expect("close");
    let store = Store::open(dir.path()).expect("reopen");
    assert!(store.get(&key.0, &key.1).expect("get").is_none());
}

#[test]
fn a_held_blob_keeps_its_bytes_and_its_file_until_dropped() {
    for kind in backends() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = manual(dir.path(), kind, 64 << 10);
        let first = payload_for(1);
        store.put(&asset("a"), &day(1), &first).expect("put");
        let held = store
            .get(&asset("a"), &day(1))
            .expect("get")
            .expect("value");
        for n in 2..200 {
            store
                .put(&asset("a"), &day(1), payload_for(n))
                .expect("put");
        }
        let before = segment_files(dir.path());
        let report = store.compact().expect("compact");
        assert!(report.segments_reclaimed > 0, "{kind}: {report:?}");
        assert_eq!(
            &*held,
            first.as_slice(),
            "{kind}: a held blob reads its bytes"
        );
        let kept = segment_files(dir.path());
        assert!(
            kept < before,
            "{kind}: reclaimed segments no reader holds are removed"
        );
        assert_eq!(
            kept as u64,
            store.stats().expect("stats").segments + 1,
            "{kind}: the held segment's file stays"
        );
        drop(held);
        assert_eq!(
            segment_files(dir.path()) as u64,
            store.stats().expect("stats").segments,
            "{kind}: dropping the last blob removes the file"
        );
        let latest = store
            .get(&asset("a"), &day(1))
            .expect("get")
            .expect("value");
        assert_eq!(&*latest, payload_for(199).as_slice());
    }
}

#[test]
fn deleted_partitions_stay_deleted_through_compaction_and_rebuilds() {
    for kind in backends() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = manual(dir.path(), kind, 1 << 20);
        store
            .put(&asset("gone"), &day(1), payload_for(7))
            .expect("put");
        for n in 0..20 {
            let value = vec![n as u8; 30 << 10];
            store.put(&asset("kept"), &day(n + 1), value).expect("put");
        }
        store
            .put(&asset("churn"), &day(1), vec![0u8; 512 << 10])
            .expect("a put that starts the next segment");
        store.delete(&asset("gone"), &day(1)).expect("delete");
        for n in 0..200 {
            store
                .put(&asset("churn"), &day(1), payload_for(n))
                .expect("put");
        }
        let report = store.compact().expect("compact");
        assert!(report.segments_reclaimed > 0, "{kind}: {report:?}");
        assert!(report.carried_deletes > 0, "{kind}: {report:?}");
        store.rebuild_index().expect("rebuild");
        assert!(
            store.get(&asset("gone"), &day(1)).expect("get").is_none(),
            "{kind}"
        );
        store.close().expect("close");
        std::fs::remove_dir_all(dir.path().join("index")).expect("drop index");
        let store = manual(dir.path(), kind, 1 << 20);
        assert!(store.recovery().index_rebuilt.is_some(), "{kind}");
        assert!(
            store.get(&asset("gone"), &day(1)).expect("get").is_none(),
            "{kind}"
        );
        for n in 0..20 {
            let blob = store
                .get(&asset("kept"), &day(n + 1))
                .expect("get")
                .expect("kept");
            assert_eq!(&*blob, vec![n as u8; 30 << 10].as_slice(), "{kind}");
        }
        let churn = store
            .get(&asset("churn"), &day(1))
            .expect("get")
            .expect("churn");
        assert_eq!(&*churn, payload_for(199).as_slice(), "{kind}");
        assert!(store.verify().expect("verify").is_ok(), "{kind}");
    }
}

#[test]
fn retention_by_count_and_by_age_with_an_injected_clock() {
    let seconds = Arc::new(AtomicI64::new(1_700_000_000));
    let clock_seconds = Arc::clone(&seconds);
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::builder(dir.path())
        .segment_capacity(16 << 10)
        .retention(Retention::keep_last(2))
        .asset_retention(
            asset("recent"),
            Retention::latest_only().and_keep_for(TimeDelta::hours(3)),
        )
        .clock(Arc::new(move || {
            DateTime::from_timestamp(clock_seconds.load(Ordering::SeqCst), 0).expect("time")
        }))
        .compaction(CompactionOptions::default().background(false))
        .open()
        .expect("open");
    for n in 0..5 {
        store
            .put(&asset("counted"), &day(1), payload_for(n))
            .expect("put");
        store
            .put(&asset("recent"), &day(1), payload_for(n))
            .expect("put");
        seconds.fetch_add(3600, Ordering::SeqCst);
    }
    let counted = store.history(&asset("counted"), &day(1)).expect("history");
    assert_eq!(counted.len(), 2);
    let newest = store
        .get_version(&asset("counted"), &day(1), counted[1].version)
        .expect("read")
        .expect("retained");
    assert_eq!(&*newest, payload_for(3).as_slice());
    let recent = store.history(&asset("recent"), &day(1)).expect("history");
    assert_eq!(
        recent.len(),
        2,
        "written 1 h and 2 h ago: the 2 h one is out"
    );
    let two_hours_ago =
        DateTime::from_timestamp(seconds.load(Ordering::SeqCst) - 2 * 3600, 0).expect("time");
    let as_of = store
        .get_as_of(&asset("recent"), &day(1), two_hours_ago)
        .expect("as of")
        .expect("a version then");
    assert_eq!(&*as_of, payload_for(3).as_slice());
    let stats = store.stats().expect("stats");
    assert_eq!(stats.old_versions, 2);
    store.compact().expect("compact");
    seconds.fetch_add(24 * 3600, Ordering::SeqCst);
    assert_eq!(
        store
            .history(&asset("recent"), &day(1))
            .expect("history")
            .len(),
        1
    );
    assert_eq!(
        store
            .history(&asset("counted"), &day(1))
            .expect("history")
            .len(),
        2
    );
}

#[test]
fn compaction_beside_readers_and_writers_loses_nothing() {
    for backend in store_backends() {
        let kind = format!("{backend:?}");
        let dir = tempfile::tempdir().expect("tempdir");
        let store = manual_on(&backend, dir.path(), 64 << 10);
        let stop = Arc::new(AtomicBool::new(false));
        let writers: Vec<_> = (0..2u32)
            .map(|w| {
                let store = store.clone();
                std::thread::spawn(move || {
                    let mut last = Vec::new();
                    for n in 0..300u64 {
                        let partition = day(w * 10 + (n % 5) as u32 + 1);
                        let value = payload_for(u64::from(w) * 100_000 + n);
                        store.put(&asset("w"), &partition, &value).expect("put");
                        last.push((partition, value));
                        if n % 37 == 0 {
                            store.delete(&asset("w"), &day(w * 10 + 9)).expect("delete");
                        }
                    }
                    last
                })
            })
            .collect();
        let readers: Vec<_> = (0..2)
            .map(|_| {
                let store = store.clone();
                let stop = Arc::clone(&stop);
                std::thread::spawn(move || {
                    let mut reads = 0u64;
                    while !stop.load(Ordering::SeqCst) {
                        for n in 1..=25 {
                            if let Some(blob) = store.get(&asset("w"), &day(n)).expect("read") {
                                assert!(!blob.is_empty());
                                reads += 1;
                            }
                        }
                    }
                    reads
                })
            })
            .collect();
        let compactor = {
            let store = store.clone();
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                let mut reclaimed = 0;
                while !stop.load(Ordering::SeqCst) {
                    reclaimed += store.compact().expect("compact").segments_reclaimed;
                }
                reclaimed
            })
        };
        let mut expected = std::collections::BTreeMap::new();
        for writer in writers {
            for (partition, value) in writer.join().expect("writer") {
                expected.insert(partition, value);
            }
        }
        stop.store(true, Ordering::SeqCst);
        for reader in readers {
            assert!(reader.join().expect("reader") > 0);
        }
        assert!(
            compactor.join().expect("compactor") > 0,
            "{kind}: nothing reclaimed"
        );
        store.compact().expect("compact");
        for (partition, value) in &expected {
            let blob = store
                .get(&asset("w"), partition)
                .expect("get")
                .expect("value");
            assert_eq!(&*blob, value.as_slice(), "{kind}: {partition}");
        }
        assert!(store.verify().expect("verify").is_ok(), "{kind}");
        store.close().expect("close");
        let store = manual_on(&backend, dir.path(), 64 << 10);
        assert_eq!(store.recovery().index_rebuilt, None);
        for (partition, value) in &expected {
            let blob = store
                .get(&asset("w"), partition)
                .expect("get")
                .expect("value");
            assert_eq!(&*blob, value.as_slice(), "{kind}: {partition} after reopen");
        }
    }
}
