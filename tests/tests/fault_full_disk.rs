//! A real full disk never corrupts the store: writing `Buffered` then
//! `Immediate` puts until the file system refuses, the refused write returns a
//! typed error (`Error::Io` with `ENOSPC`/`EFBIG`), is invisible to readers,
//! and once space is back a reopen reads every acknowledged write exactly.
//! (When only the index's files hit the limit, writes go on: they are in the
//! log, and the failed checkpoint is logged and retried later.)
//!
//! As root the store lives on a 4 MiB tmpfs (unmounted by a guard, also on
//! panic), with a ballast file removed before the reopen. A second test (and
//! the only one when not root) runs a child process under
//! `trap "" XFSZ; ulimit -f 4096`: segments are preallocated, so a per-file
//! limit refuses the write whose payload needs a segment larger than 4 MiB,
//! with `EFBIG`. The mode that ran is printed; both assert the same contract.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use tessera_engine::{AssetKey, Durability, Error, IndexKind, PartitionKey, Store, WriteBatch};
use tessera_tests::{backends, payload_for};

const CHILD_DIR: &str = "TESSERA_FULL_DISK_DIR";
const CHILD_BACKEND: &str = "TESSERA_FULL_DISK_BACKEND";

fn asset() -> AssetKey {
    AssetKey::new(["full", "disk"]).expect("valid asset")
}

fn partition(n: u64) -> PartitionKey {
    PartitionKey::new(format!("{n:06}")).expect("valid partition")
}

fn payload(n: u64) -> Vec<u8> {
    let mut bytes = payload_for(n);
    bytes.resize(16 << 10, (n % 253) as u8);
    bytes
}

fn backend_named(name: &str) -> IndexKind {
    backends()
        .into_iter()
        .find(|k| k.name() == name)
        .expect("known backend")
}

/// Puts until one fails (Buffered first, then Immediate); returns the
/// acknowledged numbers and the refused one. Asserts the error is typed and
/// the refused write invisible.
/// Writes until one write is refused; with `oversized_at`, that write
/// carries a payload larger than the file-size limit of the `ulimit` mode.
fn fill(dir: &Path, kind: IndexKind, oversized_at: Option<u64>) -> (Vec<u64>, u64) {
    let store = Store::builder(dir)
        .index(kind)
        .segment_capacity(1 << 20)
        .open()
        .expect("open");
    let mut acked = Vec::new();
    for n in 0.. {
        let durability = if n < 100 {
            Durability::Buffered
        } else {
            Durability::Immediate
        };
        let mut batch = WriteBatch::new().durability(durability);
        if oversized_at == Some(n) {
            batch.put(&asset(), &partition(n), vec![7u8; OVERSIZED]);
        } else {
            batch.put(&asset(), &partition(n), payload(n));
        }
        match store.write(batch) {
            Ok(()) => acked.push(n),
            Err(error) => {
                match &error {
                    Error::Io { source, .. } => assert!(
                        matches!(source.raw_os_error(), Some(28 | 27)),
                        "{kind:?}: not ENOSPC/EFBIG: {error}"
                    ),
                    // The index's own files hit the limit during a checkpoint.
                    Error::Index { message, .. } => assert!(
                        message.contains("too large") || message.contains("space"),
                        "{kind:?}: index error not about space: {error}"
                    ),
                    other => panic!("{kind:?}: the first refused write: {other}"),
                }
                let visible = store.get(&asset(), &partition(n));
                assert!(
                    matches!(visible, Ok(None)),
                    "{kind:?}: the refused write is visible: {visible:?}"
                );
                for &a in &acked {
                    let blob = store
                        .get(&asset(), &partition(a))
                        .expect("read")
                        .expect("acked");
                    assert!(*blob == *payload(a), "{kind:?}: live read of {a}");
                }
                println!("{kind:?}: write {n} ({durability:?}) refused: {error}");
                return (acked, n);
            }
        }
        assert!(n < 100_000, "the file system never filled up");
    }
    unreachable!()
}

fn check_reopened(dir: &Path, kind: IndexKind, acked: &[u64], refused: u64) {
    let store = Store::builder(dir).index(kind).open().expect("reopen");
    for &a in acked {
        let blob = store
            .get(&asset(), &partition(a))
            .expect("read")
            .unwrap_or_else(|| panic!("{kind:?}: acknowledged {a} lost"));
        assert!(*blob == *payload(a), "{kind:?}: {a} reads other bytes");
    }
    assert!(
        store
            .get(&asset(), &partition(refused))
            .expect("read")
            .is_none(),
        "{kind:?}: the refused write appeared after reopen"
    );
    assert!(store.verify().expect("verify").is_ok(), "{kind:?}: verify");
}

/// The child of the `ulimit -f` mode: fills, prints `ACKED a b c ... REFUSED n`.
#[test]
fn full_disk_child() {
    let (Ok(dir), Ok(backend)) = (std::env::var(CHILD_DIR), std::env::var(CHILD_BACKEND)) else {
        return;
    };
    let (acked, refused) = fill(Path::new(&dir), backend_named(&backend), Some(OVERSIZED_AT));
    let list: Vec<String> = acked.iter().map(u64::to_string).collect();
    println!("RESULT {refused} {}", list.join(" "));
}

/// The `ulimit -f` mode's limit on any one file (in 1 KiB blocks: 4 MiB).
const FILE_SIZE_LIMIT_BLOCKS: u64 = 4096;
/// A payload larger than that limit: its segment cannot be created.
const OVERSIZED: usize = 6 << 20;
/// Which write of the `ulimit` mode carries it.
const OVERSIZED_AT: u64 = 50;

/// Unmounts the tmpfs on drop.
struct Tmpfs(PathBuf);

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn a_full_disk_refuses_writes_cleanly() {
    let ulimit_mode =
        !tessera_tests::can_mount_tmpfs() || std::env::var("TESSERA_FULL_DISK_ULIMIT").is_ok();
    full_disk(ulimit_mode);
}

/// The `ulimit -f` mode even as root.
#[test]
fn a_file_size_limit_refuses_writes_cleanly() {
    full_disk(true);
}

fn full_disk(ulimit_mode: bool) {
    for kind in backends() {
        let dir = tempfile::tempdir().expect("tempdir");
        if ulimit_mode {
            println!("{kind:?}: mode ulimit -f (EFBIG) in a child process");
            let exe = std::env::current_exe().expect("test executable");
            let output = Command::new("sh")
                .arg("-c")
                .arg(format!(r#"trap "" XFSZ; ulimit -f {FILE_SIZE_LIMIT_BLOCKS} && exec "$0" --exact full_disk_child --nocapture --test-threads=1"#))
                .arg(&exe)
                .env(CHILD_DIR, dir.path())
                .env(CHILD_BACKEND, kind.name())
                .stdin(Stdio::null())
                .output()
                .expect("run child");
            let stdout = String::from_utf8_lossy(&output.stdout);
            assert!(output.status.success(), "{kind:?}: child failed: {stdout}");
            let line = stdout
                .lines()
                .find_map(|l| l.find("RESULT ").map(|at| &l[at + 7..]))
                .expect("the child's result");
            let mut numbers = line
                .split_whitespace()
                .map(|w| w.parse::<u64>().expect("number"));
            let refused = numbers.next().expect("refused");
            let acked: Vec<u64> = numbers.collect();
            assert!(!acked.is_empty(), "{kind:?}: nothing fit");
            check_reopened(dir.path(), kind, &acked, refused);
        } else {
            println!("{kind:?}: mode 4 MiB tmpfs (ENOSPC)");
            let status = Command::new("mount")
                .args(["-t", "tmpfs", "-o", "size=4m", "tmpfs"])
                .arg(dir.path())
                .status()
                .expect("mount");
            assert!(status.success(), "mount tmpfs");
            let _mount = Tmpfs(dir.path().to_path_buf());
            let ballast = dir.path().join("ballast");
            std::fs::write(&ballast, vec![1u8; 1 << 20]).expect("ballast");
            let store_dir = dir.path().join("store");
            let (acked, refused) = fill(&store_dir, kind, None);
            assert!(!acked.is_empty(), "{kind:?}: nothing fit");
            std::fs::remove_file(&ballast).expect("free space");
            check_reopened(&store_dir, kind, &acked, refused);
        }
    }
}
