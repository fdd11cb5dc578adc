//! The store behaves like a `BTreeMap<(asset, partition), bytes>` under any
//! sequence of puts, overwrites, deletes, atomic batches, flushes, index
//! rebuilds and reopens, with checkpoints after every few changes or never,
//! on every index backend and on object storage.

use std::collections::BTreeMap;

use proptest::prelude::*;
use tessera_engine::{AssetKey, Durability, Error, PartitionKey, Store, WriteBatch};
use tessera_tests::{Backend, store_backends};

#[derive(Debug, Clone)]
enum Step {
    Put(usize, usize, Vec<u8>),
    Delete(usize, usize),
    Batch(Vec<(usize, usize, Option<Vec<u8>>)>),
    Flush,
    Reopen,
    RebuildIndex,
}

fn assets() -> Vec<AssetKey> {
    [
        &["a", "b"][..],
        &["a/b"],
        &["ab"],
        &["a"],
        &["public", "weather_obs"],
    ]
    .iter()
    .map(|path| AssetKey::new(path.iter().copied()).expect("valid asset"))
    .collect()
}

fn partitions() -> Vec<PartitionKey> {
    let mut keys = vec![PartitionKey::unpartitioned()];
    for key in ["2022-07-23", "2022-07-24", "2022-07-23-05:00", "x|y", "b"] {
        keys.push(PartitionKey::new(key).expect("valid partition"));
    }
    keys
}

fn step() -> impl Strategy<Value = Step> {
    let bytes = prop::collection::vec(any::<u8>(), 0..300);
    let pair = (0..5usize, 0..6usize);
    prop_oneof![
        4 => (pair.clone(), bytes.clone()).prop_map(|((a, p), b)| Step::Put(a, p, b)),
        2 => pair.clone().prop_map(|(a, p)| Step::Delete(a, p)),
        2 => prop::collection::vec((pair, prop::option::of(bytes)), 1..6)
            .prop_map(|ops| Step::Batch(ops.into_iter().map(|((a, p), b)| (a, p, b)).collect())),
        1 => Just(Step::Flush),
        1 => Just(Step::Reopen),
        1 => Just(Step::RebuildIndex),
    ]
}

type Model = BTreeMap<(AssetKey, PartitionKey), Vec<u8>>;

fn apply(
    slot: &mut Option<Store>,
    model: &mut Model,
    step: &Step,
    backend: &Backend,
    dir: &std::path::Path,
    checkpoint_every: usize,
) {
    let (assets, partitions) = (assets(), partitions());
    let store = slot.as_ref().expect("store is open");
    match step {
        Step::Put(a, p, bytes) => {
            store.put(&assets[*a], &partitions[*p], bytes).expect("put");
            model.insert((assets[*a].clone(), partitions[*p].clone()), bytes.clone());
        }
        Step::Delete(a, p) => {
            let key = (assets[*a].clone(), partitions[*p].clone());
            let existed = store.delete(&key.0, &key.1).expect("delete");
            assert_eq!(existed, model.remove(&key).is_some());
        }
        Step::Batch(ops) => {
            let mut batch = WriteBatch::new().durability(Durability::Buffered);
            for (a, p, bytes) in ops {
                let key = (assets[*a].clone(), partitions[*p].clone());
                match bytes {
                    Some(bytes) => {
                        batch.put(&key.0, &key.1, bytes.clone());
                        model.insert(key, bytes.clone());
                    }
                    None => {
                        batch.delete(&key.0, &key.1);
                        model.remove(&key);
                    }
                }
            }
            store.write(batch).expect("batch");
        }
        Step::Flush => store.flush().expect("flush"),
        Step::Reopen => {
            *slot = None;
            let store = backend.open(dir, checkpoint_every);
            assert_eq!(
                store.recovery().index_rebuilt,
                None,
                "a clean reopen trusts the index"
            );
            *slot = Some(store);
        }
        Step::RebuildIndex if backend.is_remote() => {
            let refused = store.rebuild_index();
            assert!(
                matches!(refused, Err(Error::Unsupported { .. })),
                "object storage has no index to rebuild: {refused:?}"
            );
        }
        Step::RebuildIndex => {
            let entries = store.rebuild_index().expect("rebuild");
            assert_eq!(entries, model.len() as u64);
        }
    }
}

fn check(store: &Store, model: &Model) {
    for asset in assets() {
        for partition in partitions() {
            let stored = store.get(&asset, &partition).expect("get");
            let expected = model.get(&(asset.clone(), partition.clone()));
            assert_eq!(
                stored.as_deref(),
                expected.map(Vec::as_slice),
                "{asset:?} {partition:?}"
            );
            assert_eq!(
                store.contains(&asset, &partition).expect("contains"),
                expected.is_some()
            );
        }
        let listed = store.list_partitions(&asset).expect("list partitions");
        let expected: Vec<_> = model
            .keys()
            .filter(|(a, _)| *a == asset)
            .map(|(_, p)| p.clone())
            .collect();
        assert_eq!(listed, expected, "partitions of {asset:?}");
    }
    let mut expected_assets: Vec<_> = model.keys().map(|(a, _)| a.clone()).collect();
    expected_assets.dedup();
    assert_eq!(store.list_assets().expect("list assets"), expected_assets);
    let report = store.verify().expect("verify");
    assert!(report.is_ok(), "index and log disagree: {report:?}");
    assert_eq!(report.checked, model.len() as u64);
    let stats = store.stats().expect("stats");
    assert_eq!(stats.partitions, model.len() as u64);
    assert_eq!(
        stats.payload_bytes,
        model.values().map(|v| v.len() as u64).sum::<u64>()
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn store_matches_a_btreemap_model(steps in prop::collection::vec(step(), 1..40),
                                      checkpoint_every in prop_oneof![1usize..4, Just(1 << 20)]) {
        for backend in store_backends() {
            let dir = tempfile::tempdir().expect("tempdir");
            let mut store = Some(backend.open(dir.path(), checkpoint_every));
            let mut model = Model::new();
            for step in &steps {
                apply(&mut store, &mut model, step, &backend, dir.path(), checkpoint_every);
                check(store.as_ref().expect("store is open"), &model);
            }
        }
    }
}
