//! Damaged or unusual store files are detected and handled, never misread:
//! a torn tail of the last segment (garbage, zeros or a truncated frame) is
//! cut at open (`recovery().cut_tail`) and everything committed before it
//! stays (a checkpointed put whose commit frame was cut away reads exactly or
//! as corrupted, never as absent, and `verify` reports it), and the store keeps working across reopens; a deleted segment makes
//! its entries read `Err(Corrupted)` (never `Ok(None)`) and `verify()` fail,
//! while the others read fine; a read-only open writes nothing, works beside
//! a writer holding the lock and on a read-only mount; a store without its
//! `FORMAT` file is refused (`MissingFormat`) untouched; a read-only open of a
//! directory that is not a store fails with `NotAStore`.

use std::collections::BTreeMap;
use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

use tessera_engine::{AssetKey, Error, IndexKind, PartitionKey, Store};
use tessera_tests::{backends, payload_for};

fn asset() -> AssetKey {
    AssetKey::new(["fault", "files"]).expect("valid asset")
}

fn partition(n: u64) -> PartitionKey {
    PartitionKey::new(format!("{n:04}")).expect("valid partition")
}

fn payload(n: u64) -> Vec<u8> {
    let mut bytes = payload_for(n + 77);
    bytes.truncate(3 << 10);
    bytes
}

/// Writes partitions `range`, one put (one batch) each, and closes.
fn write_and_close(dir: &Path, kind: IndexKind, capacity: u64, range: std::ops::Range<u64>) {
    let store = Store::builder(dir)
        .index(kind)
        .segment_capacity(capacity)
        .open()
        .expect("open");
    for n in range {
        store.put(&asset(), &partition(n), payload(n)).expect("put");
    }
    store.close().expect("close");
}

fn segments(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join("segments"))
        .expect("segments")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "seg"))
        .collect();
    files.sort();
    files
}

fn assert_present(store: &Store, n: u64, what: &str) {
    let blob = store
        .get(&asset(), &partition(n))
        .unwrap_or_else(|e| panic!("{what}: read {n}: {e}"))
        .unwrap_or_else(|| panic!("{what}: partition {n} missing"));
    assert!(
        *blob == *payload(n),
        "{what}: partition {n} reads other bytes"
    );
}

#[derive(Debug, Clone, Copy)]
enum Tear {
    Garbage,
    Zeros,
    TruncateMidFrame,
}

#[test]
fn a_torn_tail_of_garbage_is_cut() {
    torn_tail(Tear::Garbage);
}

#[test]
fn a_torn_tail_of_zeros_is_harmless() {
    torn_tail(Tear::Zeros);
}

#[test]
fn a_truncated_last_frame_is_cut() {
    torn_tail(Tear::TruncateMidFrame);
}

/// The store opens, every batch before the tear reads back, the tear is
/// reported, and a new write then a reopen keep everything.
fn torn_tail(tear: Tear) {
    for kind in backends() {
        {
            let what = format!("{kind:?} {tear:?}");
            let dir = tempfile::tempdir().expect("tempdir");
            write_and_close(dir.path(), kind, 1 << 20, 0..20);
            let last = segments(dir.path()).pop().expect("a segment");
            let len = std::fs::metadata(&last).expect("stat").len();
            match tear {
                Tear::Garbage => {
                    let mut file = OpenOptions::new().append(true).open(&last).expect("open");
                    let garbage: Vec<u8> = (0..1000u32).map(|i| (i * 7 + 3) as u8).collect();
                    file.write_all(&garbage).expect("append");
                }
                Tear::Zeros => {
                    let file = OpenOptions::new().write(true).open(&last).expect("open");
                    file.set_len(len + 8192).expect("extend");
                }
                Tear::TruncateMidFrame => {
                    let file = OpenOptions::new().write(true).open(&last).expect("open");
                    file.set_len(len - 10).expect("truncate");
                }
            }
            // The last put's commit frame is cut by the truncation.
            let intact = match tear {
                Tear::TruncateMidFrame => 19,
                _ => 20,
            };
            {
                let store = Store::builder(dir.path()).index(kind).open().expect("open");
                if !matches!(tear, Tear::Zeros) {
                    assert!(
                        store.recovery().cut_tail.is_some(),
                        "{what}: cut_tail not reported: {:?}",
                        store.recovery()
                    );
                }
                for n in 0..intact {
                    assert_present(&store, n, &what);
                }
                if intact < 20 {
                    // The cut commit frame was checkpointed: the index holds
                    // the put, whose own frame is intact. It reads exactly
                    // (or as corrupted), never as absent.
                    match store.get(&asset(), &partition(19)) {
                        Ok(Some(blob)) => assert!(*blob == *payload(19), "{what}: other bytes"),
                        Err(Error::Corrupted { .. }) => {}
                        other => panic!("{what}: partition 19 read {other:?}"),
                    }
                }
                store
                    .put(&asset(), &partition(100), payload(100))
                    .expect("put");
                store.close().expect("close");
            }
            let store = Store::builder(dir.path())
                .index(kind)
                .open()
                .expect("reopen");
            assert!(store.recovery().cut_tail.is_none(), "{what}: a second cut");
            for n in (0..intact).chain([100]) {
                assert_present(&store, n, &what);
            }
            let report = store.verify().expect("verify");
            if intact < 20 {
                assert!(
                    report
                        .index_mismatches
                        .iter()
                        .any(|m| m.partition == Some(partition(19))),
                    "{what}: verify must report the put whose commit frame is gone: {report:?}"
                );
            } else {
                assert!(report.is_ok(), "{what}: verify {report:?}");
            }
        }
    }
}

#[test]
fn a_deleted_segment_reads_as_corrupted_never_as_absent() {
    for kind in backends() {
        let dir = tempfile::tempdir().expect("tempdir");
        write_and_close(dir.path(), kind, 4096, 0..12);
        let all = segments(dir.path());
        assert!(all.len() >= 10, "{kind:?}: one segment per put");
        std::fs::remove_file(&all[4]).expect("delete a segment");
        let store = Store::builder(dir.path())
            .index(kind)
            .open()
            .expect("open without one segment");
        let mut corrupted = 0;
        for n in 0..12 {
            match store.get(&asset(), &partition(n)) {
                Ok(Some(blob)) => assert!(*blob == *payload(n), "{kind:?}: {n} other bytes"),
                Ok(None) => panic!("{kind:?}: partition {n} reads as absent"),
                Err(Error::Corrupted { .. }) => corrupted += 1,
                Err(other) => panic!("{kind:?}: partition {n}: {other}"),
            }
        }
        assert!(
            corrupted >= 1,
            "{kind:?}: no partition lived in the deleted segment"
        );
        assert!(
            corrupted <= 1,
            "{kind:?}: {corrupted} partitions lost with one segment"
        );
        assert!(
            !store.verify().expect("verify").is_ok(),
            "{kind:?}: verify passes"
        );
    }
}

type Tree = BTreeMap<PathBuf, (u64, Option<SystemTime>)>;

fn tree(dir: &Path) -> Tree {
    fn walk(dir: &Path, out: &mut Tree) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries {
            let entry = entry.expect("entry");
            let meta = entry.metadata().expect("metadata");
            out.insert(entry.path(), (meta.len(), meta.modified().ok()));
            if meta.is_dir() {
                walk(&entry.path(), out);
            }
        }
    }
    let mut out = Tree::new();
    walk(dir, &mut out);
    out
}

#[test]
fn a_read_only_open_writes_nothing_and_works_beside_a_writer() {
    for kind in backends() {
        let dir = tempfile::tempdir().expect("tempdir");
        write_and_close(dir.path(), kind, 1 << 20, 0..10);
        let before = tree(dir.path());
        {
            let reader = Store::builder(dir.path())
                .index(kind)
                .read_only()
                .open()
                .expect("read-only open");
            for n in 0..10 {
                assert_present(&reader, n, "read-only");
            }
            assert!(matches!(
                reader.put(&asset(), &partition(50), &b"x"[..]),
                Err(Error::ReadOnly { .. })
            ));
            assert!(matches!(reader.flush(), Err(Error::ReadOnly { .. })));
            reader.close().expect("close read-only");
        }
        assert_eq!(tree(dir.path()), before, "{kind:?}: a read-only open wrote");

        let writer = Store::builder(dir.path())
            .index(kind)
            .open()
            .expect("writer");
        writer
            .put(&asset(), &partition(10), payload(10))
            .expect("put");
        let reader = Store::builder(dir.path())
            .index(kind)
            .read_only()
            .open()
            .expect("read-only open beside the writer");
        for n in 0..=10 {
            assert_present(&reader, n, "beside a writer");
        }
    }
}

/// Unmounts its tmpfs on drop.
struct Mount(PathBuf);

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

fn run(args: &[&str], at: &Path) {
    let status = Command::new(args[0])
        .args(&args[1..])
        .arg(at)
        .status()
        .expect("run mount");
    assert!(status.success(), "{args:?} failed");
}

#[test]
fn a_read_only_mount_opens_read_only() {
    if !tessera_tests::can_mount_tmpfs() {
        println!(
            "cannot mount a tmpfs here: no read-only mount; a_read_only_open_writes_nothing covers read_only()"
        );
        return;
    }
    println!("root: testing on a tmpfs remounted read-only");
    for kind in backends() {
        let dir = tempfile::tempdir().expect("tempdir");
        run(
            &["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs"],
            dir.path(),
        );
        let mount = Mount(dir.path().to_path_buf());
        let store_dir = dir.path().join("store");
        write_and_close(&store_dir, kind, 1 << 20, 0..10);
        run(&["mount", "-o", "remount,ro"], dir.path());
        let writable = Store::builder(&store_dir).index(kind).open();
        assert!(
            writable.is_err(),
            "{kind:?}: a writable open on a read-only mount"
        );
        drop(writable);
        let reader = Store::builder(&store_dir)
            .index(kind)
            .read_only()
            .open()
            .expect("read-only open on a read-only mount");
        for n in 0..10 {
            assert_present(&reader, n, "read-only mount");
        }
        assert!(matches!(
            reader.put(&asset(), &partition(50), &b"x"[..]),
            Err(Error::ReadOnly { .. })
        ));
        drop(reader);
        drop(mount);
    }
}

#[test]
fn a_missing_format_file_is_refused_and_nothing_is_created() {
    for kind in backends() {
        let dir = tempfile::tempdir().expect("tempdir");
        write_and_close(dir.path(), kind, 1 << 20, 0..5);
        std::fs::remove_file(dir.path().join("FORMAT")).expect("remove FORMAT");
        let before = tree(dir.path());
        let result = Store::builder(dir.path()).index(kind).open();
        assert!(
            matches!(result, Err(Error::MissingFormat { .. })),
            "{kind:?}: {result:?}"
        );
        assert_eq!(
            tree(dir.path()),
            before,
            "{kind:?}: the refused open changed files"
        );
        assert!(!dir.path().join("FORMAT").exists());
    }
}

#[test]
fn a_read_only_open_of_a_non_store_is_refused() {
    for kind in backends() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("notes.txt"), b"not a store").expect("write");
        for path in [dir.path().to_path_buf(), dir.path().join("missing")] {
            let before = tree(dir.path());
            let result = Store::builder(&path).index(kind).read_only().open();
            assert!(
                matches!(result, Err(Error::NotAStore { .. })),
                "{kind:?} {}: {result:?}",
                path.display()
            );
            assert_eq!(tree(dir.path()), before, "{kind:?}: the refused open wrote");
        }
    }
}
