//! The index: an ordered map from encoded keys to records, behind a narrow
//! trait. It is a checkpointed cache of the log (see `store::checkpoint`).
//!
//! A backend offers point gets, atomic batches, ordered range scans and a durable
//! commit. Applying a batch makes it visible and atomic (after a crash, all of it
//! or none of it) but not necessarily durable; [`IndexBackend::sync`] makes every
//! batch applied before it durable.

mod cached;
pub(crate) mod checkpoint;
mod guarded;
#[cfg(feature = "redb")]
mod redb_backend;
mod sled_backend;

#[cfg(test)]
pub(crate) use guarded::inject;
pub(crate) use guarded::{EmptyIndex, Guarded, panic_message};

use std::fmt;
use std::ops::Bound;
use std::path::Path;
use std::sync::Arc;

use crate::error::Result;

/// One change in an atomic index batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum IndexOp {
    Put { key: Vec<u8>, value: Vec<u8> },
    Delete { key: Vec<u8> },
}

/// Whether a scan should go on after the entry just visited.
pub(crate) type Visit<'a> = &'a mut dyn FnMut(&[u8], &[u8]) -> Result<bool>;

/// The operations the store needs of an ordered key-value index.
pub(crate) trait IndexBackend: Send + Sync {
    /// The value under `key`.
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>>;
    /// The value under `key`, shared: a cache hands out its copy without
    /// copying it again.
    fn get_shared(&self, key: &[u8]) -> Result<Option<Arc<[u8]>>> {
        Ok(self.get(key)?.map(Arc::from))
    }
    /// The values under each of `keys`, in order. Backends with read
    /// transactions read them all in one.
    fn get_many(&self, keys: &[&[u8]]) -> Result<Vec<Option<Vec<u8>>>> {
        keys.iter().map(|key| self.get(key)).collect()
    }
    /// Applies every op, atomically.
    fn apply(&self, ops: &[IndexOp]) -> Result<()>;
    /// Visits entries in `(start, end)` in key order while `visit` returns `true`.
    fn scan(&self, start: Bound<&[u8]>, end: Bound<&[u8]>, visit: Visit<'_>) -> Result<()>;
    /// Makes every applied batch durable.
    fn sync(&self) -> Result<()>;
}

/// Which index backend a store uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum IndexKind {
    /// sled 0.34 (the default when the `redb` feature is off).
    #[cfg_attr(not(feature = "redb"), default)]
    Sled,
    /// redb (cargo feature `redb`, on by default): the default index. It
    /// leads the crash-relevant benchmarks: index rebuild and open at 10^6
    /// partitions, 1-thread `Immediate` and `Buffered` writes.
    #[cfg(feature = "redb")]
    #[cfg_attr(feature = "redb", default)]
    Redb,
}

impl IndexKind {
    /// The name recorded in the store's format file.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Sled => "sled",
            #[cfg(feature = "redb")]
            Self::Redb => "redb",
        }
    }

    /// The backend a format file names, if this build has it.
    pub(crate) fn from_name(name: &[u8]) -> Option<Self> {
        match name {
            b"sled" => Some(Self::Sled),
            #[cfg(feature = "redb")]
            b"redb" => Some(Self::Redb),
            _ => None,
        }
    }

    pub(crate) fn open(self, dir: &Path) -> Result<Box<dyn IndexBackend>> {
        match self {
            Self::Sled => Ok(Box::new(sled_backend::SledIndex::open(dir)?)),
            #[cfg(feature = "redb")]
            Self::Redb => Ok(Box::new(redb_backend::RedbIndex::open(dir)?)),
        }
    }

    /// Opens the index with every call guarded against panics (a panic
    /// while opening is an error too), its point reads cached.
    pub(crate) fn open_guarded(self, dir: &Path) -> Result<Guarded> {
        let opened = std::panic::catch_unwind(|| self.open(dir)).unwrap_or_else(|panic| {
            Err(crate::error::Error::Index {
                backend: self.name(),
                message: format!("open panicked: {}", panic_message(&*panic)),
            })
        })?;
        Ok(Guarded::new(
            Box::new(cached::Cached::new(opened)),
            self.name(),
        ))
    }
}

impl fmt::Display for IndexKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod conformance {
    //! One suite every backend passes.

    use std::collections::BTreeMap;
    use std::ops::Bound;

    use proptest::prelude::*;

    use super::{IndexBackend, IndexKind, IndexOp};

    fn kinds() -> Vec<IndexKind> {
        vec![
            IndexKind::Sled,
            #[cfg(feature = "redb")]
            IndexKind::Redb,
        ]
    }

    fn scan_all(
        index: &dyn IndexBackend,
        start: Bound<&[u8]>,
        end: Bound<&[u8]>,
    ) -> Vec<(Vec<u8>, Vec<u8>)> {
        let mut out = Vec::new();
        index
            .scan(start, end, &mut |k, v| {
                out.push((k.to_vec(), v.to_vec()));
                Ok(true)
            })
            .expect("scan");
        out
    }

    fn op_strategy() -> impl Strategy<Value = IndexOp> {
        let key = prop::collection::vec(0u8..4, 0..4);
        prop_oneof![
            (key.clone(), prop::collection::vec(any::<u8>(), 0..8))
                .prop_map(|(key, value)| IndexOp::Put { key, value }),
            key.prop_map(|key| IndexOp::Delete { key }),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        #[test]
        fn matches_a_btreemap(batches in prop::collection::vec(prop::collection::vec(op_strategy(), 1..6), 1..8),
                              lo in prop::collection::vec(0u8..4, 0..3)) {
            for kind in kinds() {
                let dir = tempfile::tempdir().expect("tempdir");
                let index = kind.open(dir.path()).expect("open");
                let mut model = BTreeMap::new();
                for batch in &batches {
                    index.apply(batch).expect("apply");
                    for op in batch {
                        match op {
                            IndexOp::Put { key, value } => { model.insert(key.clone(), value.clone()); }
                            IndexOp::Delete { key } => { model.remove(key); }
                        }
                    }
                    index.sync().expect("sync");
                }
                for key in model.keys() {
                    let stored = index.get(key).expect("get");
                    prop_assert_eq!(stored.as_ref(), model.get(key));
                }
                let expected: Vec<_> = model.range(lo.clone()..).map(|(k, v)| (k.clone(), v.clone())).collect();
                prop_assert_eq!(scan_all(&*index, Bound::Included(&lo), Bound::Unbounded), expected);
            }
        }
    }

    #[test]
    fn reopens_at_once_after_each_drop() {
        for kind in kinds() {
            let dir = tempfile::tempdir().expect("tempdir");
            for round in 0u8..25 {
                let index = kind.open(dir.path()).expect("reopen");
                if round > 0 {
                    assert_eq!(
                        index.get(&[round - 1]).expect("get"),
                        Some(vec![round - 1]),
                        "{kind}"
                    );
                }
                let put = IndexOp::Put {
                    key: vec![round],
                    value: vec![round],
                };
                index.apply(&[put]).expect("apply");
                index.sync().expect("sync");
            }
        }
    }

    #[test]
    fn scan_stops_when_asked_and_survives_reopen() {
        for kind in kinds() {
            let dir = tempfile::tempdir().expect("tempdir");
            {
                let index = kind.open(dir.path()).expect("open");
                let ops: Vec<_> = (0u8..10)
                    .map(|i| IndexOp::Put {
                        key: vec![i],
                        value: vec![i; 3],
                    })
                    .collect();
                index.apply(&ops).expect("apply");
                index.sync().expect("sync");
            }
            let index = kind.open(dir.path()).expect("reopen");
            let mut seen = Vec::new();
            index
                .scan(
                    Bound::Excluded(&[2u8][..]),
                    Bound::Excluded(&[8u8][..]),
                    &mut |k, _| {
                        seen.push(k[0]);
                        Ok(seen.len() < 3)
                    },
                )
                .expect("scan");
            assert_eq!(seen, vec![3, 4, 5], "{kind}");
            assert_eq!(index.get(&[9]).expect("get"), Some(vec![9; 3]));
        }
    }
}
