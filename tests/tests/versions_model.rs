//! Versions, retention and compaction against a model: under any sequence of
//! puts, overwrites, deletes, atomic batches, compactions, index rebuilds
//! and reopens, every `get`, `get_version`, `get_as_of`, `history` and
//! listing agrees with an in-memory model of every retained version, on
//! every index backend, with small segments so compaction has work, and on
//! object storage.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, TimeDelta, Utc};
use proptest::prelude::*;
use tessera_engine::{
    AssetKey, Clock, CompactionOptions, Durability, Error, PartitionKey, Retention, Store,
    WriteBatch,
};
use tessera_tests::{Backend, store_backends};

#[derive(Debug, Clone)]
enum Step {
    Put(usize, usize, Vec<u8>),
    Delete(usize, usize),
    Batch(Vec<(usize, usize, Option<Vec<u8>>)>),
    Compact,
    Reopen,
    RebuildIndex,
    Tick,
}

fn assets() -> Vec<AssetKey> {
    [&["a", "b"][..], &["a/b"], &["public", "weather_obs"]]
        .iter()
        .map(|path| AssetKey::new(path.iter().copied()).expect("valid asset"))
        .collect()
}

fn partitions() -> Vec<PartitionKey> {
    let mut keys = vec![PartitionKey::unpartitioned()];
    for key in ["2022-07-23", "2022-07-24", "x|y"] {
        keys.push(PartitionKey::new(key).expect("valid partition"));
    }
    keys
}

fn step() -> impl Strategy<Value = Step> {
    let bytes = prop::collection::vec(any::<u8>(), 0..700);
    let pair = (0..3usize, 0..4usize);
    prop_oneof![
        6 => (pair.clone(), bytes.clone()).prop_map(|((a, p), b)| Step::Put(a, p, b)),
        2 => pair.clone().prop_map(|(a, p)| Step::Delete(a, p)),
        2 => prop::collection::vec((pair, prop::option::of(bytes)), 1..5)
            .prop_map(|ops| Step::Batch(ops.into_iter().map(|((a, p), b)| (a, p, b)).collect())),
        3 => Just(Step::Compact),
        1 => Just(Step::Reopen),
        1 => Just(Step::RebuildIndex),
        1 => Just(Step::Tick),
    ]
}

/// Every version written since the last delete, oldest first, with its time.
type Model = BTreeMap<(usize, usize), Vec<(Vec<u8>, DateTime<Utc>)>>;

/// A clock the test moves by hand (seconds since the epoch).
#[derive(Clone)]
struct TestClock(Arc<AtomicI64>);

impl TestClock {
    fn now(&self) -> DateTime<Utc> {
        DateTime::from_timestamp(self.0.load(Ordering::SeqCst), 0).expect("time")
    }

    fn clock(&self) -> Clock {
        let seconds = Arc::clone(&self.0);
        Arc::new(move || DateTime::from_timestamp(seconds.load(Ordering::SeqCst), 0).expect("time"))
    }
}

struct Harness {
    dir: tempfile::TempDir,
    backend: Backend,
    retention: Retention,
    clock: TestClock,
    store: Option<Store>,
    model: Model,
}

impl Harness {
    fn new(backend: Backend, retention: Retention) -> Self {
        let clock = TestClock(Arc::new(AtomicI64::new(1_700_000_000)));
        let dir = tempfile::tempdir().expect("tempdir");
        let mut harness = Self {
            dir,
            backend,
            retention,
            clock,
            store: None,
            model: Model::new(),
        };
        harness.store = Some(harness.open());
        harness
    }

    fn open(&self) -> Store {
        self.backend
            .builder(self.dir.path(), 3)
            .segment_capacity(4096)
            .retention(self.retention)
            .clock(self.clock.clock())
            .compaction(CompactionOptions::default().background(false))
            .open()
            .expect("open")
    }

    fn store(&self) -> &Store {
        self.store.as_ref().expect("open")
    }

    fn apply(&mut self, step: &Step) {
        let (assets, partitions) = (assets(), partitions());
        let now = self.clock.now();
        match step {
            Step::Put(a, p, bytes) => {
                self.store()
                    .put(&assets[*a], &partitions[*p], bytes)
                    .expect("put");
                self.model
                    .entry((*a, *p))
                    .or_default()
                    .push((bytes.clone(), now));
            }
            Step::Delete(a, p) => {
                let existed = self
                    .store()
                    .delete(&assets[*a], &partitions[*p])
                    .expect("delete");
                assert_eq!(existed, self.model.remove(&(*a, *p)).is_some());
            }
            Step::Batch(ops) => {
                let mut batch = WriteBatch::new().durability(Durability::Buffered);
                for (a, p, bytes) in ops {
                    match bytes {
                        Some(bytes) => {
                            batch.put(&assets[*a], &partitions[*p], bytes.clone());
                            self.model
                                .entry((*a, *p))
                                .or_default()
                                .push((bytes.clone(), now));
                        }
                        None => {
                            batch.delete(&assets[*a], &partitions[*p]);
                            self.model.remove(&(*a, *p));
                        }
                    }
                }
                self.store().write(batch).expect("batch");
            }
            Step::Compact => {
                self.store().compact().expect("compact");
            }
            Step::Reopen => {
                self.store = None;
                let store = self.open();
                assert_eq!(store.recovery().index_rebuilt, None, "a clean reopen");
                self.store = Some(store);
            }
            Step::RebuildIndex if self.backend.is_remote() => {
                let refused = self.store().rebuild_index();
                assert!(
                    matches!(refused, Err(Error::Unsupported { .. })),
                    "{refused:?}"
                );
            }
            Step::RebuildIndex => {
                let partitions = self.store().rebuild_index().expect("rebuild");
                assert_eq!(partitions, self.model.len() as u64);
            }
            Step::Tick => {
                self.clock.0.fetch_add(1800, Ordering::SeqCst);
            }
        }
    }

    /// The versions the model says are retained, newest first.
    fn retained(&self, versions: &[(Vec<u8>, DateTime<Utc>)]) -> Vec<(Vec<u8>, DateTime<Utc>)> {
        let now = self.clock.now();
        versions
            .iter()
            .rev()
            .enumerate()
            .filter(|(rank, (_, at))| self.retention.keeps(*rank, *at, now))
            .map(|(_, v)| v.clone())
            .collect()
    }

    fn check(&self) {
        let (assets, partitions) = (assets(), partitions());
        let store = self.store();
        for (a, asset) in assets.iter().enumerate() {
            let listed = store.list_partitions(asset).expect("list");
            let expected: Vec<_> = (0..partitions.len())
                .filter(|p| self.model.contains_key(&(a, *p)))
                .map(|p| partitions[p].clone())
                .collect();
            let mut listed_sorted = listed.clone();
            listed_sorted.sort();
            let mut expected_sorted = expected.clone();
            expected_sorted.sort();
            assert_eq!(listed_sorted, expected_sorted, "partitions of {asset}");
            for (p, partition) in partitions.iter().enumerate() {
                self.check_key(store, asset, partition, self.model.get(&(a, p)));
            }
        }
    }

    fn check_key(
        &self,
        store: &Store,
        asset: &AssetKey,
        partition: &PartitionKey,
        versions: Option<&Vec<(Vec<u8>, DateTime<Utc>)>>,
    ) {
        let latest = store.get(asset, partition).expect("get");
        assert_eq!(
            latest.as_deref(),
            versions.and_then(|v| v.last()).map(|(b, _)| b.as_slice()),
            "get {asset} {partition}"
        );
        let history = store.history(asset, partition).expect("history");
        let retained = versions.map(|v| self.retained(v)).unwrap_or_default();
        assert_eq!(
            history.len(),
            retained.len(),
            "history of {asset} {partition}"
        );
        for (info, (bytes, at)) in history.iter().zip(&retained) {
            assert_eq!(info.meta.created_at, *at);
            let blob = store
                .get_version(asset, partition, info.version)
                .expect("get_version")
                .expect("a listed version reads");
            assert_eq!(&*blob, bytes.as_slice());
            assert_eq!(blob.meta().version, info.version);
        }
        assert!(history.windows(2).all(|w| w[0].version > w[1].version));
        if let Some(newest) = history.first() {
            let as_of = store
                .get_as_of(asset, partition, self.clock.now())
                .expect("as of")
                .expect("a version as of now");
            assert_eq!(as_of.meta().version, newest.version);
        }
    }
}

fn run(steps: &[Step], retention: Retention) {
    for backend in store_backends() {
        let mut harness = Harness::new(backend.clone(), retention);
        for step in steps {
            harness.apply(step);
            harness.check();
        }
        let report = harness.store().verify().expect("verify");
        assert!(report.is_ok(), "{backend:?}: {report:?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn latest_only_matches_the_model(steps in prop::collection::vec(step(), 1..40)) {
        run(&steps, Retention::default());
    }

    #[test]
    fn last_three_matches_the_model(steps in prop::collection::vec(step(), 1..40)) {
        run(&steps, Retention::keep_last(3));
    }

    #[test]
    fn an_hour_matches_the_model(steps in prop::collection::vec(step(), 1..40)) {
        run(&steps, Retention::latest_only().and_keep_for(TimeDelta::hours(1)));
    }
}
