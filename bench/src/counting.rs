//! What one operation costs besides time: heap allocations (a counting global
//! allocator), bytes the kernel copied for `read`/`write`-type system calls and
//! their number (`/proc/self/io`), and the calls a store made through
//! Tessera's file-system seam ([`CountingIo`]).

use std::alloc::System;
use std::fs::File;
use std::io;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use tessera_engine::io::{FileIo, OsFileIo};

/// The bench binary's allocator: the system's, counting every call.
#[global_allocator]
static ALLOCATOR: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// The cost of one operation, averaged over many.
#[derive(Debug, Clone, Copy, Default)]
pub struct PerOp {
    /// Heap allocations per operation.
    pub allocations: f64,
    /// Heap bytes allocated per operation.
    pub heap_bytes: f64,
    /// `read`/`write`-type system calls per operation.
    pub syscalls: f64,
    /// Bytes copied by those calls per operation.
    pub kernel_copied: f64,
}

/// Runs `f`, which performs `ops` operations, and returns its cost per
/// operation. The allocator's counters are process-wide, so background threads
/// of the system measured count too (as they should: they work for it).
///
/// # Errors
/// Whatever `f` returns, or `/proc/self/io` being unreadable.
pub fn per_op(
    ops: usize,
    f: impl FnOnce() -> crate::error::Result<()>,
) -> crate::error::Result<PerOp> {
    let region = Region::new(ALLOCATOR);
    let before = kernel_io()?;
    f()?;
    let after = kernel_io()?;
    let heap = region.change();
    let n = ops.max(1) as f64;
    // `after` counts the reading that took `before` (one `read` of its text),
    // not its own: that is what to take off.
    let delta = |a: u64, b: u64, own: u64| a.saturating_sub(b).saturating_sub(own) as f64 / n;
    let growth = u64::try_from(heap.bytes_reallocated.max(0)).unwrap_or(0);
    Ok(PerOp {
        allocations: (heap.allocations + heap.reallocations) as f64 / n,
        heap_bytes: (heap.bytes_allocated as u64 + growth) as f64 / n,
        syscalls: delta(after.syscalls, before.syscalls, 1),
        kernel_copied: delta(after.bytes, before.bytes, before.text_len),
    })
}

/// One reading of `/proc/self/io`.
struct KernelIo {
    /// `syscr + syscw`.
    syscalls: u64,
    /// `rchar + wchar`.
    bytes: u64,
    /// The bytes this reading's one `read` call returned.
    text_len: u64,
}

/// This process's `/proc/self/io`, read with exactly one `read` call (the
/// file is a few hundred bytes), so that what the reading itself adds to the
/// counters is known: one call and the text's length.
fn kernel_io() -> crate::error::Result<KernelIo> {
    use std::io::Read;
    let mut buffer = [0u8; 4096];
    let len = std::fs::File::open("/proc/self/io")?.read(&mut buffer)?;
    if len == buffer.len() {
        return Err("/proc/self/io is longer than one read".into());
    }
    let text = String::from_utf8_lossy(&buffer[..len]);
    let field = |name: &str| -> u64 {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    };
    Ok(KernelIo {
        syscalls: field("syscr:") + field("syscw:"),
        bytes: field("rchar:") + field("wchar:"),
        text_len: len as u64,
    })
}

/// A [`FileIo`] that performs every call on the real file system and counts
/// them: the system calls a store makes on its own files.
#[derive(Debug, Default)]
pub struct CountingIo {
    writes: AtomicU64,
    written_bytes: AtomicU64,
    syncs: AtomicU64,
    other: AtomicU64,
}

/// What a [`CountingIo`] counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SeamCounts {
    /// `pwrite` calls.
    pub writes: u64,
    /// Bytes those calls wrote.
    pub written_bytes: u64,
    /// `fdatasync` and directory `fsync` calls.
    pub syncs: u64,
    /// Creates, resizes, renames, removals and directory creations.
    pub other: u64,
}

impl CountingIo {
    /// The counts so far.
    #[must_use]
    pub fn counts(&self) -> SeamCounts {
        SeamCounts {
            writes: self.writes.load(Ordering::Relaxed),
            written_bytes: self.written_bytes.load(Ordering::Relaxed),
            syncs: self.syncs.load(Ordering::Relaxed),
            other: self.other.load(Ordering::Relaxed),
        }
    }

    fn count_other(&self) {
        self.other.fetch_add(1, Ordering::Relaxed);
    }
}

impl FileIo for CountingIo {
    fn create(&self, path: &Path) -> io::Result<File> {
        self.count_other();
        OsFileIo.create(path)
    }

    fn write_at(&self, file: &File, path: &Path, bytes: &[u8], offset: u64) -> io::Result<()> {
        self.writes.fetch_add(1, Ordering::Relaxed);
        self.written_bytes
            .fetch_add(bytes.len() as u64, Ordering::Relaxed);
        OsFileIo.write_at(file, path, bytes, offset)
    }

    fn set_len(&self, file: &File, path: &Path, len: u64) -> io::Result<()> {
        self.count_other();
        OsFileIo.set_len(file, path, len)
    }

    fn sync_data(&self, file: &File, path: &Path) -> io::Result<()> {
        self.syncs.fetch_add(1, Ordering::Relaxed);
        OsFileIo.sync_data(file, path)
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        self.count_other();
        OsFileIo.rename(from, to)
    }

    fn remove_file(&self, path: &Path) -> io::Result<()> {
        self.count_other();
        OsFileIo.remove_file(path)
    }

    fn create_dir(&self, path: &Path) -> io::Result<()> {
        self.count_other();
        OsFileIo.create_dir(path)
    }

    fn sync_dir(&self, path: &Path) -> io::Result<()> {
        self.syncs.fetch_add(1, Ordering::Relaxed);
        OsFileIo.sync_dir(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `per_op` reads process-wide counters: the tests that call it or do
    /// file I/O run one at a time, or one's reads and writes land in the
    /// other's measurement.
    static PROCESS_COUNTERS: std::sync::Mutex<()> = std::sync::Mutex::new(());

    fn counters_to_myself() -> std::sync::MutexGuard<'static, ()> {
        PROCESS_COUNTERS
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    #[test]
    fn allocations_are_counted_per_op() -> crate::error::Result<()> {
        let _alone = counters_to_myself();
        let cost = per_op(10, || {
            for i in 0..10 {
                std::hint::black_box(vec![i as u8; 1000]);
            }
            Ok(())
        })?;
        assert!(cost.allocations >= 1.0, "{cost:?}");
        assert!(cost.heap_bytes >= 1000.0, "{cost:?}");
        Ok(())
    }

    #[test]
    fn kernel_copies_are_counted() -> crate::error::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("f");
        let _alone = counters_to_myself();
        let cost = per_op(1, || {
            std::fs::write(&path, vec![7u8; 4096])?;
            Ok(())
        })?;
        assert!(cost.syscalls >= 1.0, "{cost:?}");
        assert!(cost.kernel_copied >= 4096.0, "{cost:?}");
        Ok(())
    }

    #[test]
    fn the_seam_counts_each_kind_of_call() -> std::io::Result<()> {
        // Its file I/O would land in the other tests' process-wide counters.
        let _alone = counters_to_myself();
        let dir = tempfile::tempdir()?;
        let io = CountingIo::default();
        let path = dir.path().join("segment");
        let file = io.create(&path)?;
        io.write_at(&file, &path, b"hello", 0)?;
        io.write_at(&file, &path, b"!", 5)?;
        io.sync_data(&file, &path)?;
        assert_eq!(
            io.counts(),
            SeamCounts {
                writes: 2,
                written_bytes: 6,
                syncs: 1,
                other: 1
            }
        );
        assert_eq!(std::fs::read(&path)?, b"hello!");
        Ok(())
    }
}
