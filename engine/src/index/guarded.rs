//! A backend wrapper that turns panics into errors.
//!
//! sled and redb trust their own files: a damaged page can make them panic.
//! The index is a cache of the log, so a panic is one more way for it to be
//! damaged: it must reach the store as an error (and, at open, a rebuild),
//! never unwind through a reader or a commit.

use std::ops::Bound;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use super::{IndexBackend, IndexOp, Visit};
use crate::error::{Error, Result};

/// Runs every call of the inner backend under `catch_unwind`.
pub(crate) struct Guarded {
    inner: Box<dyn IndexBackend>,
    backend: &'static str,
}

impl Guarded {
    pub(crate) fn new(inner: Box<dyn IndexBackend>, backend: &'static str) -> Self {
        Self { inner, backend }
    }

    fn call<T>(&self, what: &str, f: impl FnOnce(&dyn IndexBackend) -> Result<T>) -> Result<T> {
        catch_unwind(AssertUnwindSafe(|| {
            #[cfg(test)]
            inject::maybe_panic();
            f(&*self.inner)
        }))
        .unwrap_or_else(|panic| {
            Err(Error::Index {
                backend: self.backend,
                message: format!("{what} panicked: {}", panic_message(&*panic)),
            })
        })
    }
}

/// Test-only: make the next index calls of this thread panic, as a backend
/// reading a damaged page does.
#[cfg(test)]
pub(crate) mod inject {
    use std::cell::Cell;

    thread_local! {
        static PANICS_LEFT: Cell<u32> = const { Cell::new(0) };
    }

    /// The next `calls` guarded index calls on this thread panic.
    pub(crate) fn panic_next(calls: u32) {
        PANICS_LEFT.with(|left| left.set(calls));
    }

    pub(super) fn maybe_panic() {
        let left = PANICS_LEFT.with(Cell::get);
        if left > 0 {
            PANICS_LEFT.with(|cell| cell.set(left - 1));
            panic!("injected index panic (a damaged page)");
        }
    }
}

/// The text of a panic payload, when it has one.
pub(crate) fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = panic.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = panic.downcast_ref::<String>() {
        text.clone()
    } else {
        "(no message)".to_owned()
    }
}

impl IndexBackend for Guarded {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.call("get", |index| index.get(key))
    }

    fn get_shared(&self, key: &[u8]) -> Result<Option<Arc<[u8]>>> {
        self.call("get", |index| index.get_shared(key))
    }

    fn get_many(&self, keys: &[&[u8]]) -> Result<Vec<Option<Vec<u8>>>> {
        self.call("get", |index| index.get_many(keys))
    }

    fn apply(&self, ops: &[IndexOp]) -> Result<()> {
        self.call("apply", |index| index.apply(ops))
    }

    fn scan(&self, start: Bound<&[u8]>, end: Bound<&[u8]>, visit: Visit<'_>) -> Result<()> {
        self.call("scan", |index| index.scan(start, end, visit))
    }

    fn sync(&self) -> Result<()> {
        self.call("sync", |index| index.sync())
    }
}

/// The index of a read-only open: empty, since the whole log is replayed
/// into memory instead (sled cannot open a database without writing to it).
pub(crate) struct EmptyIndex;

impl IndexBackend for EmptyIndex {
    fn get(&self, _key: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(None)
    }

    fn apply(&self, _ops: &[IndexOp]) -> Result<()> {
        Ok(())
    }

    fn scan(&self, _start: Bound<&[u8]>, _end: Bound<&[u8]>, _visit: Visit<'_>) -> Result<()> {
        Ok(())
    }

    fn sync(&self) -> Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Panicking;

    impl IndexBackend for Panicking {
        fn get(&self, _key: &[u8]) -> Result<Option<Vec<u8>>> {
            panic!("damaged page")
        }
        fn apply(&self, _ops: &[IndexOp]) -> Result<()> {
            panic!("damaged page")
        }
        fn scan(&self, _s: Bound<&[u8]>, _e: Bound<&[u8]>, _v: Visit<'_>) -> Result<()> {
            panic!("damaged page")
        }
        fn sync(&self) -> Result<()> {
            panic!("damaged page")
        }
    }

    #[test]
    fn panics_become_index_errors() {
        let index = Guarded::new(Box::new(Panicking), "test");
        let error = index.get(b"k").expect_err("panicked");
        assert!(
            matches!(&error, Error::Index { message, .. } if message.contains("damaged page")),
            "{error}"
        );
        assert!(index.apply(&[]).is_err());
        assert!(index.sync().is_err());
        let mut visit = |_: &[u8], _: &[u8]| Ok(true);
        assert!(
            index
                .scan(Bound::Unbounded, Bound::Unbounded, &mut visit)
                .is_err()
        );
    }
}
