//! A store of 10,000 segments works under `ulimit -n 256`: segments are read
//! through mappings (no file descriptor kept per segment), so a child process
//! limited to 256 open files opens such a store, reads every partition, writes
//! one more and closes it. And the active segment is reused across opens: 600
//! open/put/close cycles do not leave 600 segment files.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use tessera_engine::{AssetKey, CompactionOptions, Durability, IndexKind, PartitionKey, Store};
use tessera_tests::{backends, payload_for};

const SEGMENTS: u64 = 10_000;
const CHILD_DIR: &str = "TESSERA_MANY_SEGMENTS_DIR";
const CHILD_BACKEND: &str = "TESSERA_MANY_SEGMENTS_BACKEND";
const CHILD_COUNT: &str = "TESSERA_MANY_SEGMENTS_COUNT";

fn asset() -> AssetKey {
    AssetKey::new(["many", "segments"]).expect("valid asset")
}

fn partition(n: u64) -> PartitionKey {
    PartitionKey::new(format!("{n:06}")).expect("valid partition")
}

/// About 3 KiB, distinct per `n`: one payload fills a 4 KiB segment.
fn payload(n: u64) -> Vec<u8> {
    let mut bytes = payload_for(n);
    bytes.resize(3 << 10, (n % 251) as u8);
    bytes[..8].copy_from_slice(&n.to_le_bytes());
    bytes
}

fn backend_named(name: &str) -> IndexKind {
    backends()
        .into_iter()
        .find(|k| k.name() == name)
        .expect("known backend")
}

/// A scratch directory: on a fresh tmpfs when running as root (fsync costs
/// nothing there, so 10,000 segment creations take seconds, not minutes),
/// else a plain temporary directory. The tmpfs is unmounted on drop.
struct Scratch {
    dir: tempfile::TempDir,
    mounted: bool,
}

impl Scratch {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
        let mounted = root
            && Command::new("mount")
                .args(["-t", "tmpfs", "-o", "size=512m", "tmpfs"])
                .arg(dir.path())
                .status()
                .is_ok_and(|s| s.success());
        println!(
            "scratch on {}",
            if mounted {
                "tmpfs"
            } else {
                "the temp directory's file system"
            }
        );
        Self { dir, mounted }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if self.mounted {
            let _ = Command::new("umount").arg(self.dir.path()).status();
        }
    }
}

fn segment_files(dir: &Path) -> usize {
    std::fs::read_dir(dir.join("segments"))
        .expect("segments directory")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".seg"))
        .count()
}

/// The child: opens the store under `ulimit -n 256`, reads every partition,
/// writes one more and closes it.
#[test]
fn many_segments_child() {
    let (Ok(dir), Ok(backend), Ok(count)) = (
        std::env::var(CHILD_DIR),
        std::env::var(CHILD_BACKEND),
        std::env::var(CHILD_COUNT),
    ) else {
        return;
    };
    let count: u64 = count.parse().expect("count");
    let store = Store::builder(&dir)
        .compaction(CompactionOptions::default().background(false))
        .index(backend_named(&backend))
        .segment_capacity(4096)
        .open()
        .expect("open 10,000 segments with 256 file descriptors");
    for n in 0..count {
        let blob = store
            .get(&asset(), &partition(n))
            .expect("read")
            .expect("present");
        assert!(*blob == *payload(n), "partition {n} reads back");
    }
    store
        .put(&asset(), &partition(count), payload(count))
        .expect("one more write");
    store.close().expect("close");
    println!("CHILD OK {count}");
}

#[test]
fn ten_thousand_segments_open_under_ulimit_n_256() {
    for kind in backends() {
        let started = Instant::now();
        let dir = Scratch::new();
        let store = Store::builder(dir.path())
            .compaction(CompactionOptions::default().background(false))
            .index(kind)
            .durability(Durability::Buffered)
            .segment_capacity(4096)
            .open()
            .expect("create");
        let mut n = 0;
        while n < SEGMENTS {
            store
                .put(&asset(), &partition(n), payload(n))
                .expect("buffered put");
            n += 1;
        }
        store.close().expect("flush and close");
        let files = segment_files(dir.path());
        assert!(files >= SEGMENTS as usize, "only {files} segment files");
        let written = started.elapsed();

        let exe = std::env::current_exe().expect("test executable");
        let output = Command::new("sh")
            .arg("-c")
            .arg(r#"ulimit -n 256 && exec "$0" --exact many_segments_child --nocapture --test-threads=1"#)
            .arg(&exe)
            .env(CHILD_DIR, dir.path())
            .env(CHILD_BACKEND, kind.name())
            .env(CHILD_COUNT, n.to_string())
            .stdin(Stdio::null())
            .output()
            .expect("run the child");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success() && stdout.contains(&format!("CHILD OK {n}")),
            "{kind:?}: the child failed under ulimit -n 256: {}\n{stdout}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        let store = Store::builder(dir.path())
            .compaction(CompactionOptions::default().background(false))
            .index(kind)
            .open()
            .expect("reopen");
        assert_eq!(
            store.list_partitions(&asset()).expect("list").len() as u64,
            n + 1
        );
        println!(
            "{kind:?}: {files} segments written in {written:?}, child done at {:?}",
            started.elapsed()
        );
    }
}

#[test]
fn open_put_close_cycles_reuse_the_active_segment() {
    const CYCLES: u64 = 600;
    for kind in backends() {
        let started = Instant::now();
        let dir = Scratch::new();
        for n in 0..CYCLES {
            let store = Store::builder(dir.path())
                .compaction(CompactionOptions::default().background(false))
                .index(kind)
                .open()
                .expect("open");
            store
                .put(&asset(), &partition(n), &n.to_le_bytes()[..])
                .expect("put");
            store.close().expect("close");
        }
        let files = segment_files(dir.path());
        assert!(
            files <= 2,
            "{kind:?}: {CYCLES} open/put/close cycles left {files} segment files"
        );
        let store = Store::builder(dir.path())
            .compaction(CompactionOptions::default().background(false))
            .index(kind)
            .open()
            .expect("open");
        for n in 0..CYCLES {
            let blob = store
                .get(&asset(), &partition(n))
                .expect("read")
                .expect("present");
            assert_eq!(&*blob, &n.to_le_bytes()[..]);
        }
        println!(
            "{kind:?}: {CYCLES} cycles, {files} segment files, {:?}",
            started.elapsed()
        );
    }
}
