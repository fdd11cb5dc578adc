//! Tests of the simulator on its own, without a store.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tessera_engine::io::FileIo;

use super::tree::TreeSnapshot;
use super::*;

/// A crash image read back: file path -> contents, and the directories.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Tree {
    files: BTreeMap<PathBuf, Vec<u8>>,
    dirs: BTreeSet<PathBuf>,
}

impl Tree {
    fn read(dir: &Path) -> Self {
        let snapshot = TreeSnapshot::read(dir).expect("read image");
        Self {
            files: snapshot
                .files
                .into_iter()
                .map(|(p, b)| (p, b.to_vec()))
                .collect(),
            dirs: snapshot.dirs.into_iter().collect(),
        }
    }

    fn file(&self, path: &str) -> Option<&[u8]> {
        self.files.get(Path::new(path)).map(Vec::as_slice)
    }
}

/// A recorder in a fresh temporary root.
struct Fixture {
    root: tempfile::TempDir,
    rec: RecordingFileIo,
}

impl Fixture {
    fn new() -> Self {
        let root = tempfile::tempdir().expect("temp root");
        let rec = RecordingFileIo::new(root.path()).expect("recorder");
        Self { root, rec }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.root.path().join(rel)
    }

    fn create(&self, rel: &str) -> File {
        self.rec.create(&self.path(rel)).expect("create")
    }

    fn write(&self, file: &File, rel: &str, bytes: &[u8], offset: u64) {
        self.rec
            .write_at(file, &self.path(rel), bytes, offset)
            .expect("write");
    }

    fn sync(&self, file: &File, rel: &str) {
        self.rec
            .sync_data(file, &self.path(rel))
            .expect("sync_data");
    }

    fn sync_dir(&self, rel: &str) {
        self.rec.sync_dir(&self.path(rel)).expect("sync_dir");
    }

    fn create_dir(&self, rel: &str) {
        self.rec.create_dir(&self.path(rel)).expect("create_dir");
    }

    /// A durable empty file: created, its directory synced.
    fn durable_empty_file(&self, rel: &str) -> File {
        let file = self.create(rel);
        self.sync(&file, rel);
        self.sync_dir(namespace::parent(Path::new(rel)).to_str().expect("utf-8"));
        file
    }

    /// The crash images at `at_event` for seeds `0..n`.
    fn images(&self, at_event: u64, n: u64) -> Vec<Tree> {
        images(
            &self.rec.history(),
            at_event,
            n,
            IndexChoice::LastCheckpoint,
        )
    }

    /// The crash images after the last event.
    fn final_images(&self, n: u64) -> Vec<Tree> {
        self.images(self.rec.events_len(), n)
    }
}

fn images(history: &History, at_event: u64, n: u64, index: IndexChoice) -> Vec<Tree> {
    (0..n)
        .map(|seed| {
            let target = tempfile::tempdir().expect("image dir");
            history
                .crash_image(at_event, seed, index, target.path())
                .expect("crash image");
            Tree::read(target.path())
        })
        .collect()
}

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| seed.wrapping_add((i % 251) as u8) | 1)
        .collect()
}

#[test]
fn a_synced_write_survives_every_crash_image() {
    let fx = Fixture::new();
    let file = fx.durable_empty_file("seg");
    let synced = pattern(10_000, 3);
    fx.write(&file, "seg", &synced, 0);
    fx.sync(&file, "seg");
    fx.write(&file, "seg", &pattern(5000, 9), 10_000);
    for image in fx.final_images(300) {
        let content = image.file("seg").expect("a durable file never vanishes");
        assert!(content.len() >= 10_000);
        assert_eq!(&content[..10_000], synced.as_slice());
    }
}

#[test]
fn an_unsynced_write_is_sometimes_whole_sometimes_missing_sometimes_torn() {
    let fx = Fixture::new();
    let file = fx.durable_empty_file("seg");
    let bytes = vec![0xAB; 8192];
    fx.write(&file, "seg", &bytes, 0);
    let (mut whole, mut missing, mut torn) = (0, 0, 0);
    for image in fx.final_images(300) {
        match image.file("seg").expect("durable file") {
            c if c == bytes.as_slice() => whole += 1,
            [] => missing += 1,
            _ => torn += 1,
        }
    }
    assert!(
        whole > 0 && missing > 0 && torn > 0,
        "{whole} {missing} {torn}"
    );
}

#[test]
fn torn_writes_change_whole_sectors_at_absolute_offsets() {
    let fx = Fixture::new();
    let file = fx.durable_empty_file("seg");
    let base = vec![0x11; 8192];
    fx.write(&file, "seg", &base, 0);
    fx.sync(&file, "seg");
    fx.write(&file, "seg", &vec![0xAB; 3000], 700);
    for image in fx.final_images(300) {
        let c = image.file("seg").expect("durable file");
        assert_eq!(c.len(), 8192);
        assert!(c[..700].iter().chain(&c[3700..]).all(|&b| b == 0x11));
        for sector in [
            700..1024,
            1024..1536,
            1536..2048,
            2048..2560,
            2560..3072,
            3072..3584,
            3584..3700,
        ] {
            // Kept, dropped or zeroed whole; or garbage, never a mix.
            let s = &c[sector];
            let plain = s.iter().all(|b| [0x11, 0xAB, 0].contains(b));
            assert!(!plain || s.iter().all(|&b| b == s[0]), "{s:?}");
        }
    }
}

#[test]
fn a_file_created_without_a_directory_sync_sometimes_vanishes() {
    let fx = Fixture::new();
    let file = fx.create("seg");
    fx.write(&file, "seg", b"hello", 0);
    fx.sync(&file, "seg");
    let images = fx.final_images(100);
    assert!(images.iter().any(|i| i.file("seg").is_none()));
    assert!(images.iter().any(|i| i.file("seg") == Some(b"hello")));
    fx.sync_dir("");
    for image in fx.final_images(100) {
        assert_eq!(image.file("seg"), Some(&b"hello"[..]));
    }
}

#[test]
fn a_file_in_a_directory_whose_creation_was_lost_is_lost_too() {
    let fx = Fixture::new();
    fx.create_dir("store");
    let file = fx.durable_empty_file("store/seg");
    fx.write(&file, "store/seg", b"x", 0);
    fx.sync(&file, "store/seg");
    let images = fx.final_images(100);
    assert!(
        images
            .iter()
            .any(|i| i.files.is_empty() && i.dirs.is_empty())
    );
    assert!(images.iter().any(|i| i.file("store/seg") == Some(b"x")));
    fx.sync_dir("");
    assert!(
        fx.final_images(50)
            .iter()
            .all(|i| i.file("store/seg") == Some(b"x"))
    );
}

#[test]
fn a_rename_is_atomic_and_durable_after_the_directory_sync() {
    let fx = Fixture::new();
    let file = fx.durable_empty_file("FORMAT.tmp");
    fx.write(&file, "FORMAT.tmp", b"v1", 0);
    fx.sync(&file, "FORMAT.tmp");
    fx.rec
        .rename(&fx.path("FORMAT.tmp"), &fx.path("FORMAT"))
        .expect("rename");
    let before_sync = fx.final_images(100);
    for image in &before_sync {
        let names: Vec<_> = image.files.keys().collect();
        assert_eq!(names.len(), 1, "exactly one name: {names:?}");
        assert_eq!(
            image.files.values().next().map(Vec::as_slice),
            Some(&b"v1"[..])
        );
    }
    assert!(before_sync.iter().any(|i| i.file("FORMAT").is_some()));
    assert!(before_sync.iter().any(|i| i.file("FORMAT.tmp").is_some()));
    fx.sync_dir("");
    for image in fx.final_images(100) {
        assert_eq!(
            image.files.keys().collect::<Vec<_>>(),
            [Path::new("FORMAT")]
        );
        assert_eq!(image.file("FORMAT"), Some(&b"v1"[..]));
    }
}

#[test]
fn a_removal_without_a_directory_sync_may_be_undone() {
    let fx = Fixture::new();
    let file = fx.durable_empty_file("old");
    fx.write(&file, "old", b"data", 0);
    fx.sync(&file, "old");
    fx.rec.remove_file(&fx.path("old")).expect("remove");
    let images = fx.final_images(100);
    assert!(images.iter().any(|i| i.file("old") == Some(b"data")));
    assert!(images.iter().any(|i| i.file("old").is_none()));
    fx.sync_dir("");
    assert!(fx.final_images(50).iter().all(|i| i.files.is_empty()));
}

#[test]
fn creating_an_existing_file_truncates_the_same_inode() {
    let fx = Fixture::new();
    let file = fx.durable_empty_file("f");
    fx.write(&file, "f", b"old contents", 0);
    fx.sync(&file, "f");
    let again = fx.create("f");
    fx.write(&again, "f", b"new", 0);
    let images = fx.final_images(200);
    let seen: BTreeSet<Vec<u8>> = images
        .iter()
        .filter_map(|i| i.file("f").map(<[u8]>::to_vec))
        .collect();
    assert_eq!(
        images.len(),
        images.iter().filter(|i| i.file("f").is_some()).count()
    );
    assert!(seen.contains(&b"old contents"[..]));
    assert!(seen.contains(&b"new"[..]));
    assert!(seen.contains(&b"new contents"[..]));
    fx.sync(&again, "f");
    assert!(
        fx.final_images(50)
            .iter()
            .all(|i| i.file("f") == Some(b"new"))
    );
}

#[test]
fn a_pending_set_len_is_applied_or_not() {
    let fx = Fixture::new();
    let file = fx.durable_empty_file("seg");
    fx.rec
        .set_len(&file, &fx.path("seg"), 1 << 20)
        .expect("set_len");
    let lens: BTreeSet<usize> = fx
        .final_images(100)
        .iter()
        .map(|i| i.file("seg").expect("durable").len())
        .collect();
    assert_eq!(lens, [0, 1 << 20].into());
}

#[test]
fn ack_without_sync_loses_acknowledged_writes() {
    let fx = Fixture::new();
    fx.rec.set_mode(Mode::AckWithoutSync);
    let file = fx.durable_empty_file("seg");
    fx.write(&file, "seg", b"acknowledged", 0);
    fx.sync(&file, "seg");
    assert!(
        fx.rec
            .events()
            .iter()
            .any(|e| e.outcome == Outcome::AckedWithoutSync)
    );
    let images = fx.final_images(100);
    assert!(
        images
            .iter()
            .any(|i| i.file("seg") != Some(b"acknowledged"))
    );
    fx.rec.set_mode(Mode::Honest);
    fx.sync(&file, "seg");
    fx.sync_dir("");
    assert!(
        fx.final_images(50)
            .iter()
            .all(|i| i.file("seg") == Some(b"acknowledged"))
    );
}

#[test]
fn the_nth_call_fault_fires_exactly_once() {
    let fx = Fixture::new();
    let file = fx.create("seg");
    fx.rec
        .inject(Fault::eio(OpKind::WriteAt, 2).with_written_prefix(3));
    let results: Vec<io::Result<()>> = (0..4u64)
        .map(|i| fx.rec.write_at(&file, &fx.path("seg"), b"abcdef", 10 * i))
        .collect();
    let failed: Vec<usize> = (0..4).filter(|&i| results[i].is_err()).collect();
    assert_eq!(failed, [1]);
    let error = results[1].as_ref().expect_err("second write fails");
    assert_eq!(error.raw_os_error(), Some(5));
    assert_eq!(fx.rec.calls(OpKind::WriteAt), 4);
    assert_eq!(fx.rec.armed_faults(), 0);
    let real = std::fs::read(fx.path("seg")).expect("read back");
    assert_eq!(&real[10..16], b"abc\0\0\0", "only the prefix was written");
    let Some(Event {
        op: EventOp::Write { bytes, .. },
        outcome,
    }) = fx.rec.history().event(2).cloned()
    else {
        panic!("event 2 is the failed write");
    };
    assert_eq!(&bytes[..], b"abc");
    assert!(!outcome.acknowledged());
}

#[test]
fn faults_count_from_injection_and_carry_their_error() {
    let fx = Fixture::new();
    let file = fx.create("seg");
    fx.sync(&file, "seg");
    fx.rec.inject(Fault::enospc(OpKind::SyncData, 1));
    fx.rec.inject(Fault::new(
        OpKind::SetLen,
        1,
        FaultError::Kind(io::ErrorKind::Other),
    ));
    let sync = fx
        .rec
        .sync_data(&file, &fx.path("seg"))
        .expect_err("ENOSPC");
    assert_eq!(sync.raw_os_error(), Some(28));
    let set_len = fx
        .rec
        .set_len(&file, &fx.path("seg"), 10)
        .expect_err("Other");
    assert_eq!(set_len.kind(), io::ErrorKind::Other);
    assert_eq!(std::fs::metadata(fx.path("seg")).expect("meta").len(), 0);
    fx.sync(&file, "seg");
    fx.rec
        .set_len(&file, &fx.path("seg"), 10)
        .expect("fault fired once");
}

#[test]
fn data_covered_by_a_failed_sync_may_be_lost_even_after_a_later_sync() {
    let fx = Fixture::new();
    let file = fx.durable_empty_file("seg");
    fx.write(&file, "seg", b"first", 0);
    fx.rec.inject(Fault::eio(OpKind::SyncData, 1));
    assert!(fx.rec.sync_data(&file, &fx.path("seg")).is_err());
    fx.write(&file, "seg", b"second", 4096);
    fx.sync(&file, "seg");
    let images = fx.final_images(100);
    for image in &images {
        let c = image.file("seg").expect("durable");
        assert_eq!(
            &c[4096..],
            b"second",
            "the later sync covered its own write"
        );
    }
    assert!(
        images
            .iter()
            .any(|i| !i.file("seg").is_some_and(|c| c.starts_with(b"first")))
    );
}

#[test]
fn a_sync_covers_only_what_was_recorded_before_it_started() {
    let initial = Arc::new(TreeSnapshot::default());
    let ok = |op| Event {
        op,
        outcome: Outcome::Ok,
    };
    let events = vec![
        ok(EventOp::Create { path: "f".into() }),
        ok(EventOp::SyncDir {
            path: PathBuf::new(),
            covers: 1,
        }),
        // A sync that started before the write was recorded, ended after.
        ok(EventOp::Write {
            path: "f".into(),
            offset: 0,
            bytes: b"late".as_slice().into(),
        }),
        ok(EventOp::SyncData {
            path: "f".into(),
            covers: 2,
        }),
    ];
    let history = History::new(initial, events);
    let seen: BTreeSet<Vec<u8>> = images(&history, 4, 100, IndexChoice::Lost)
        .iter()
        .map(|i| i.file("f").expect("durable").to_vec())
        .collect();
    assert!(
        seen.contains(&Vec::new()),
        "the write may be lost: {seen:?}"
    );
}

#[test]
fn marks_order_the_test_s_events_with_the_file_operations() {
    let fx = Fixture::new();
    assert_eq!(fx.rec.mark("start"), 0);
    let file = fx.durable_empty_file("seg");
    fx.write(&file, "seg", b"v", 0);
    fx.sync(&file, "seg");
    let acked = fx.rec.mark("put acknowledged");
    assert_eq!(acked, fx.rec.events_len() - 1);
    let history = fx.rec.history();
    assert_eq!(history.marks(), [(0, "start"), (acked, "put acknowledged")]);
    assert_eq!(fx.rec.sync_points(), history.sync_points());
    assert_eq!(history.sync_points().len(), 3);
    for image in fx.images(acked + 1, 50) {
        assert_eq!(image.file("seg"), Some(&b"v"[..]));
    }
    assert!(fx.images(1, 20).iter().all(|i| i.files.is_empty()));
}

#[test]
fn crash_images_are_deterministic_for_a_seed() {
    let fx = Fixture::new();
    fx.create_dir("store");
    let file = fx.create("store/seg");
    for i in 0..20 {
        fx.write(&file, "store/seg", &pattern(1500, i), u64::from(i) * 1000);
    }
    let history = fx.rec.history();
    let a = images(&history, history.len(), 30, IndexChoice::Random);
    let b = images(&history, history.len(), 30, IndexChoice::Random);
    assert_eq!(a, b);
    let distinct: BTreeSet<_> = a.iter().map(|t| format!("{t:?}")).collect();
    assert!(distinct.len() > 10, "seeds give different images");
}

#[test]
fn the_index_is_the_last_checkpoint_copy_or_lost() {
    let fx = Fixture::new();
    let index = fx.path("store/index");
    std::fs::create_dir_all(index.join("blobs")).expect("index dir");
    std::fs::write(index.join("db"), b"one").expect("index file");
    let before = fx.rec.mark("before");
    fx.rec.index_checkpointed(&index);
    std::fs::write(index.join("db"), b"two").expect("index file");
    std::fs::write(index.join("blobs/b"), b"blob").expect("index file");
    let middle = fx.rec.mark("middle");
    fx.rec.index_checkpointed(&index);
    std::fs::write(index.join("db"), b"three, not checkpointed").expect("index file");
    let history = fx.rec.history();
    assert_eq!(history.index_dirs(), [Path::new("store/index")]);
    let db = |t: &Tree| t.file("store/index/db").map(<[u8]>::to_vec);
    let last = IndexChoice::LastCheckpoint;
    assert!(
        images(&history, before + 1, 5, last)
            .iter()
            .all(|t| t.files.is_empty() && t.dirs.is_empty())
    );
    assert!(
        images(&history, middle, 5, last)
            .iter()
            .all(|t| db(t) == Some(b"one".to_vec()))
    );
    for t in images(&history, history.len(), 5, last) {
        assert_eq!(db(&t), Some(b"two".to_vec()));
        assert_eq!(t.file("store/index/blobs/b"), Some(&b"blob"[..]));
    }
    assert!(
        images(&history, history.len(), 5, IndexChoice::Lost)
            .iter()
            .all(|t| t.files.is_empty())
    );
    let random = images(&history, history.len(), 40, IndexChoice::Random);
    assert!(random.iter().any(|t| t.files.is_empty()));
    assert!(random.iter().any(|t| db(t).is_some()));
}

#[test]
fn what_the_root_held_at_the_start_is_durable() {
    let root = tempfile::tempdir().expect("root");
    std::fs::create_dir(root.path().join("store")).expect("dir");
    std::fs::write(root.path().join("store/FORMAT"), b"1").expect("file");
    let rec = RecordingFileIo::new(root.path()).expect("recorder");
    for image in images(&rec.history(), 0, 10, IndexChoice::Lost) {
        assert_eq!(image.file("store/FORMAT"), Some(&b"1"[..]));
    }
}

#[test]
fn bad_arguments_are_errors() {
    let fx = Fixture::new();
    let outside = fx.rec.create(Path::new("/definitely/not/under/root"));
    assert_eq!(
        outside.expect_err("outside").kind(),
        io::ErrorKind::InvalidInput
    );
    let history = fx.rec.history();
    let target = tempfile::tempdir().expect("target");
    let past = history.crash_image(1, 0, IndexChoice::Lost, target.path());
    assert_eq!(
        past.expect_err("past the end").kind(),
        io::ErrorKind::InvalidInput
    );
    std::fs::write(target.path().join("x"), b"").expect("file");
    let full = history.crash_image(0, 0, IndexChoice::Lost, target.path());
    assert_eq!(
        full.expect_err("not empty").kind(),
        io::ErrorKind::AlreadyExists
    );
}

#[test]
fn the_report_counts_what_the_crash_did() {
    let fx = Fixture::new();
    let file = fx.create("a");
    fx.write(&file, "a", b"x", 0);
    let history = fx.rec.history();
    let target = tempfile::tempdir().expect("target");
    let report = (0..)
        .map(|seed| {
            let t = target.path().join(seed.to_string());
            history
                .crash_image(2, seed, IndexChoice::Lost, &t)
                .expect("image")
        })
        .find(|r| r.namespace_ops.kept == 1)
        .expect("some image keeps the file");
    assert_eq!(report.files, [PathBuf::from("a")]);
    assert_eq!(
        report.data_ops.kept + report.data_ops.dropped + report.data_ops.torn,
        1
    );
    assert!(report.anomalies.is_empty());
    assert!(report.to_string().starts_with("crash at event 2 seed"));
}
