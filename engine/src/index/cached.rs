//! A read cache in front of an index backend.
//!
//! A point read of a checkpointed key costs the backend a read transaction
//! and a copy of the value (redb: eight allocations, several hundred
//! nanoseconds), more than the rest of a small read together. The cache keeps
//! the records of data keys last checkpointed or read in memory, shared
//! (`Arc<[u8]>`), so such a read copies and allocates nothing.
//!
//! Only [`IndexBackend::get_shared`] (the read path) reads the cache; owned
//! reads go to the backend.
//!
//! The cache is exact: it only ever holds what the backend holds. Applies
//! are serialized; each first changes the backend, then advances a
//! generation counter, then stores the values it put and evicts the keys it
//! deleted. A reader notes the generation before it asks the backend and
//! caches what it got only if the generation has not moved, checked under
//! the lock of the shard it inserts into, so a value read before a change is
//! never cached after that change.

use std::collections::HashMap;
use std::ops::Bound;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use ahash::RandomState;

use super::{IndexBackend, IndexOp, Visit};
use crate::error::Result;
use crate::key::encoding::DATA_TAG;

/// Shards of the cache (independent locks, so concurrent readers rarely
/// contend).
const SHARDS: usize = 16;

/// Entries one shard holds before it is emptied (64 Ki entries in all: a few
/// megabytes of small index records).
const SHARD_CAPACITY: usize = 4096;

type Shard = HashMap<Box<[u8]>, Arc<[u8]>, RandomState>;

/// An index backend whose point reads go through an in-memory cache.
pub(crate) struct Cached {
    inner: Box<dyn IndexBackend>,
    hasher: RandomState,
    shards: Vec<RwLock<Shard>>,
    /// Advanced by every apply, after the backend changed.
    generation: AtomicU64,
    /// Held while an apply changes the backend and then the cache, so two
    /// applies never store their values out of order.
    applying: Mutex<()>,
}

impl Cached {
    /// Wraps `inner` with an empty cache.
    pub(crate) fn new(inner: Box<dyn IndexBackend>) -> Self {
        Self {
            inner,
            hasher: RandomState::new(),
            shards: (0..SHARDS).map(|_| RwLock::new(Shard::default())).collect(),
            generation: AtomicU64::new(0),
            applying: Mutex::new(()),
        }
    }

    fn shard(&self, key: &[u8]) -> &RwLock<Shard> {
        let hash = self.hasher.hash_one(key);
        // Truncation is fine: the hash only picks a shard.
        #[allow(clippy::cast_possible_truncation)]
        &self.shards[hash as usize % SHARDS]
    }

    fn cached(&self, key: &[u8]) -> Option<Arc<[u8]>> {
        let shard = self
            .shard(key)
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        shard.get(key).cloned()
    }

    /// Caches `value`, read from the backend at `generation`, unless an
    /// apply has happened since.
    fn remember(&self, key: &[u8], value: &Arc<[u8]>, generation: u64) {
        let mut shard = self
            .shard(key)
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        if self.generation.load(Ordering::SeqCst) == generation {
            insert(&mut shard, key, Arc::clone(value));
        }
    }

    /// Caches what an apply has just put under `key`.
    fn store(&self, key: &[u8], value: &[u8]) {
        let mut shard = self
            .shard(key)
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        insert(&mut shard, key, value.into());
    }

    fn evict(&self, key: &[u8]) {
        let mut shard = self
            .shard(key)
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        shard.remove(key);
    }
}

/// Inserts into a shard, emptying it first when it is full.
fn insert(shard: &mut Shard, key: &[u8], value: Arc<[u8]>) {
    if shard.len() >= SHARD_CAPACITY && !shard.contains_key(key) {
        shard.clear();
    }
    shard.insert(key.into(), value);
}

/// Whether `key` is a data key (the only keys reads look up; the older
/// versions' rows and the checkpoint record are never cached).
fn is_data_key(key: &[u8]) -> bool {
    key.first() == Some(&DATA_TAG)
}

impl IndexBackend for Cached {
    /// An owned copy, for checkpoints and scans of versions: read from the
    /// backend, not cached (the keys a checkpoint reads are about to change).
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.inner.get(key)
    }

    fn get_many(&self, keys: &[&[u8]]) -> Result<Vec<Option<Vec<u8>>>> {
        self.inner.get_many(keys)
    }

    fn get_shared(&self, key: &[u8]) -> Result<Option<Arc<[u8]>>> {
        if let Some(value) = self.cached(key) {
            return Ok(Some(value));
        }
        let generation = self.generation.load(Ordering::SeqCst);
        let Some(value) = self.inner.get(key)? else {
            return Ok(None);
        };
        let value: Arc<[u8]> = value.into();
        self.remember(key, &value, generation);
        Ok(Some(value))
    }

    fn apply(&self, ops: &[IndexOp]) -> Result<()> {
        let _serial = self.applying.lock().unwrap_or_else(PoisonError::into_inner);
        let applied = self.inner.apply(ops);
        self.generation.fetch_add(1, Ordering::SeqCst);
        for op in ops {
            match op {
                IndexOp::Put { key, value } if applied.is_ok() && is_data_key(key) => {
                    self.store(key, value);
                }
                IndexOp::Put { key, .. } | IndexOp::Delete { key } => self.evict(key),
            }
        }
        applied
    }

    fn scan(&self, start: Bound<&[u8]>, end: Bound<&[u8]>, visit: Visit<'_>) -> Result<()> {
        self.inner.scan(start, end, visit)
    }

    fn sync(&self) -> Result<()> {
        self.inner.sync()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Mutex;

    use super::*;

    /// A backend over a map that counts its point reads.
    #[derive(Default)]
    struct Counting {
        map: Mutex<BTreeMap<Vec<u8>, Vec<u8>>>,
        gets: AtomicU64,
    }

    impl IndexBackend for Arc<Counting> {
        fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
            self.gets.fetch_add(1, Ordering::SeqCst);
            Ok(self.map.lock().expect("map").get(key).cloned())
        }

        fn apply(&self, ops: &[IndexOp]) -> Result<()> {
            let mut map = self.map.lock().expect("map");
            for op in ops {
                match op {
                    IndexOp::Put { key, value } => map.insert(key.clone(), value.clone()),
                    IndexOp::Delete { key } => map.remove(key),
                };
            }
            Ok(())
        }

        fn scan(&self, _s: Bound<&[u8]>, _e: Bound<&[u8]>, _v: Visit<'_>) -> Result<()> {
            Ok(())
        }

        fn sync(&self) -> Result<()> {
            Ok(())
        }
    }

    fn shared(cached: &Cached, key: &[u8]) -> Option<Vec<u8>> {
        cached
            .get_shared(key)
            .expect("get")
            .map(|value| value.to_vec())
    }

    fn put(key: &[u8], value: &[u8]) -> IndexOp {
        IndexOp::Put {
            key: key.to_vec(),
            value: value.to_vec(),
        }
    }

    /// A data key (leading tag 1) named `name`.
    fn data(name: &[u8]) -> Vec<u8> {
        [&[DATA_TAG][..], name].concat()
    }

    #[test]
    fn checkpointed_and_read_records_are_served_from_the_cache() {
        let backend = Arc::new(Counting::default());
        let cached = Cached::new(Box::new(Arc::clone(&backend)));
        let (key, row) = (data(b"k"), b"\x02row".to_vec());
        cached
            .apply(&[put(&key, b"v1"), put(&row, b"r")])
            .expect("apply");
        for _ in 0..3 {
            assert_eq!(shared(&cached, &key), Some(b"v1".to_vec()));
        }
        assert_eq!(
            backend.gets.load(Ordering::SeqCst),
            0,
            "stored by the apply"
        );
        for _ in 0..3 {
            assert_eq!(shared(&cached, &row), Some(b"r".to_vec()));
        }
        assert_eq!(
            backend.gets.load(Ordering::SeqCst),
            1,
            "cached by the first read"
        );
        assert_eq!(cached.get(&key).expect("get"), Some(b"v1".to_vec()));
        assert_eq!(
            backend.gets.load(Ordering::SeqCst),
            2,
            "owned reads bypass it"
        );
    }

    #[test]
    fn applies_replace_and_evict_what_they_change() {
        let backend = Arc::new(Counting::default());
        let cached = Cached::new(Box::new(Arc::clone(&backend)));
        let (key, other) = (data(b"k"), data(b"other"));
        cached
            .apply(&[put(&key, b"v1"), put(&other, b"x")])
            .expect("apply");
        assert_eq!(shared(&cached, &key), Some(b"v1".to_vec()));
        cached.apply(&[put(&key, b"v2")]).expect("apply");
        assert_eq!(shared(&cached, &key), Some(b"v2".to_vec()));
        cached
            .apply(&[IndexOp::Delete { key: key.clone() }])
            .expect("apply");
        assert_eq!(shared(&cached, &key), None);
        assert_eq!(shared(&cached, &other), Some(b"x".to_vec()));
    }

    #[test]
    fn a_value_read_before_an_apply_is_not_cached_after_it() {
        let backend = Arc::new(Counting::default());
        let cached = Cached::new(Box::new(Arc::clone(&backend)));
        let key = data(b"k");
        cached.apply(&[put(&key, b"old")]).expect("apply");
        let generation = cached.generation.load(Ordering::SeqCst);
        let stale: Arc<[u8]> = Arc::from(&b"old"[..]);
        cached.apply(&[put(&key, b"new")]).expect("apply");
        cached.remember(&key, &stale, generation);
        assert_eq!(shared(&cached, &key), Some(b"new".to_vec()));
    }

    #[test]
    fn a_full_shard_is_emptied_not_grown() {
        let backend = Arc::new(Counting::default());
        let cached = Cached::new(Box::new(Arc::clone(&backend)));
        let keys: Vec<Vec<u8>> = (0..SHARDS * SHARD_CAPACITY * 2)
            .map(|i| data(&i.to_le_bytes()))
            .collect();
        let ops: Vec<IndexOp> = keys.iter().map(|key| put(key, b"v")).collect();
        cached.apply(&ops).expect("apply");
        for key in &keys {
            assert_eq!(shared(&cached, key), Some(b"v".to_vec()));
        }
        for shard in &cached.shards {
            assert!(shard.read().expect("shard").len() <= SHARD_CAPACITY);
        }
    }
}
