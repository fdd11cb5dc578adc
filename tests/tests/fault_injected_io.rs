//! An I/O error from the file-system seam never corrupts the store or loses an
//! acknowledged write. The N-th `write_at`, `sync_data`, `set_len`, `create`
//! or `sync_dir` (N = 1, 2, 3, ..., SQLite-style) fails with `EIO` or `ENOSPC`
//! during a workload of `Immediate` and `Buffered` puts, deletes and batches:
//! the failing call returns that error; a failed sync poisons the store (every
//! later write and flush returns `Error::Poisoned` and no sync is tried
//! again); a failed write, create or resize leaves the store usable; a failed
//! call is invisible to readers of the live store; and reopening the
//! directory with the OS file system gives every acknowledged write exactly,
//! and each failed batch all or nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use tessera_engine::{
    AssetKey, DEFAULT_CHECKPOINT_EVERY, Durability, Error, IndexKind, PartitionKey, Store,
    WriteBatch,
};
use tessera_tests::power_loss::{Fault, FaultError, OpKind, RecordingFileIo};
use tessera_tests::{backends, payload_for};

fn asset() -> AssetKey {
    AssetKey::new(["fault", "io"]).expect("valid asset")
}

fn key(name: &str) -> PartitionKey {
    PartitionKey::new(name).expect("valid partition")
}

/// Up to 3 KiB of `payload_for(n)`: segments of 16 KiB roll over often.
fn small_payload(n: u64) -> Vec<u8> {
    let mut bytes = payload_for(n);
    bytes.truncate(3 << 10);
    bytes
}

/// Opens with the recorder. The sweeps keep the default `checkpoint_every`
/// (no checkpoint runs inside a write; see
/// [`a_write_whose_checkpoint_fails_is_invisible`]).
fn open_recorded(
    dir: &Path,
    kind: IndexKind,
    recorder: &Arc<RecordingFileIo>,
    checkpoint_every: usize,
) -> Store {
    Store::builder(dir)
        .index(kind)
        .durability(Durability::Immediate)
        .segment_capacity(16 << 10)
        .checkpoint_every(checkpoint_every)
        .file_io(Arc::clone(recorder) as Arc<dyn tessera_engine::io::FileIo>)
        .open()
        .expect("open with the recorder")
}

/// One change of a batch: key, value before, value the batch writes.
type Change = (String, Option<Vec<u8>>, Option<Vec<u8>>);

/// What the test knows: the acknowledged value of each key (`None`: deleted)
/// and the failed batches (all or nothing after a reopen).
#[derive(Default)]
struct Model {
    acked: BTreeMap<String, Option<Vec<u8>>>,
    failed: Vec<Vec<Change>>,
    tainted: BTreeSet<String>,
}

impl Model {
    /// A key acknowledged present and never part of a failed batch.
    fn deletable(&self, skip: usize) -> Option<String> {
        self.acked
            .iter()
            .filter(|(k, v)| v.is_some() && !self.tainted.contains(*k))
            .map(|(k, _)| k.clone())
            .nth(skip)
    }
}

/// A workload step.
enum Step {
    Write(Durability, Vec<Change>),
    Flush,
}

fn plan_step(i: u64, model: &Model) -> Step {
    let put = |n: u64| -> Change {
        (
            format!("k{i:03}-{n}"),
            None,
            Some(small_payload(i * 10 + n)),
        )
    };
    let delete = |skip: usize| -> Option<Change> {
        let k = model.deletable(skip)?;
        let old = model.acked.get(&k).cloned().flatten();
        Some((k, old, None))
    };
    match i % 6 {
        0 => Step::Write(Durability::Immediate, vec![put(0)]),
        1 => Step::Write(Durability::Buffered, vec![put(0)]),
        2 => match delete(0) {
            Some(d) => Step::Write(Durability::Immediate, vec![d]),
            None => Step::Write(Durability::Immediate, vec![put(0)]),
        },
        3 => {
            let mut changes = vec![put(0), put(1), put(2)];
            changes.extend(delete(1));
            Step::Write(Durability::Immediate, changes)
        }
        4 => {
            let mut changes = vec![put(0), put(1)];
            changes.extend(delete(0));
            Step::Write(Durability::Buffered, changes)
        }
        _ => Step::Flush,
    }
}

fn apply(store: &Store, durability: Durability, changes: &[Change]) -> tessera_engine::Result<()> {
    let mut batch = WriteBatch::new().durability(durability);
    for (k, _, new) in changes {
        match new {
            Some(bytes) => batch.put(&asset(), &key(k), bytes.as_slice()),
            None => batch.delete(&asset(), &key(k)),
        };
    }
    store.write(batch)
}

fn read(store: &Store, k: &str) -> Option<Vec<u8>> {
    store
        .get(&asset(), &key(k))
        .unwrap_or_else(|e| panic!("{k}: read failed: {e}"))
        .map(|blob| blob.to_vec())
}

/// A short description of a value, for messages.
fn show(value: &Option<Vec<u8>>) -> String {
    match value {
        None => "absent".into(),
        Some(bytes) => format!(
            "{} bytes starting {:02x?}",
            bytes.len(),
            &bytes[..bytes.len().min(8)]
        ),
    }
}

/// Panics unless `k` reads as `expected`.
fn assert_reads(store: &Store, k: &str, expected: &Option<Vec<u8>>, context: &str) {
    let found = read(store, k);
    assert!(
        &found == expected,
        "{context}: {k} reads {}, expected {}",
        show(&found),
        show(expected)
    );
}

fn is_sync(op: OpKind) -> bool {
    matches!(op, OpKind::SyncData | OpKind::SyncDir)
}

/// Whether `error` is the injected one (or the same kind, for a follower).
fn is_injected(error: &Error, injected: FaultError) -> bool {
    let expected = injected.to_io_error();
    match error {
        Error::Io { source, .. } => {
            source.raw_os_error() == expected.raw_os_error() || source.kind() == expected.kind()
        }
        _ => false,
    }
}

const STEPS: u64 = 36;

/// Runs the workload with `fault` armed after the open; returns whether it fired.
fn run_once(kind: IndexKind, fault: Fault) -> bool {
    let root = tempfile::tempdir().expect("tempdir");
    let dir = root.path().join("store");
    let recorder = Arc::new(RecordingFileIo::new(root.path()).expect("recorder"));
    let store = open_recorded(&dir, kind, &recorder, DEFAULT_CHECKPOINT_EVERY);
    recorder.inject(fault);
    let what = format!("{kind:?} {fault:?}");
    let mut model = Model::default();
    // Set once the fault fired: (was a sync, sync calls at that moment).
    let mut fired: Option<(u64, u64)> = None;
    for i in 0..STEPS {
        let step = plan_step(i, &model);
        let result = match &step {
            Step::Write(durability, changes) => apply(&store, *durability, changes),
            Step::Flush => store.flush(),
        };
        if let Some((syncs, dir_syncs)) = fired.filter(|_| is_sync(fault.op)) {
            assert!(
                matches!(result, Err(Error::Poisoned { .. })),
                "{what}: step {i} after a failed sync must be Poisoned, got {result:?}"
            );
            assert_eq!(
                (
                    recorder.calls(OpKind::SyncData),
                    recorder.calls(OpKind::SyncDir)
                ),
                (syncs, dir_syncs),
                "{what}: a sync was tried again after the failed one"
            );
            if let Step::Write(_, changes) = &step {
                for (k, old, _) in changes {
                    assert_reads(&store, k, old, &format!("{what}: refused write visible"));
                }
            }
            continue;
        }
        let fired_now = fired.is_none() && recorder.armed_faults() == 0;
        if fired_now {
            let error = result
                .as_ref()
                .expect_err("the call hit by the fault fails");
            assert!(
                is_injected(error, fault.error),
                "{what}: step {i} returned {error:?}, not the injected error"
            );
            fired = Some((
                recorder.calls(OpKind::SyncData),
                recorder.calls(OpKind::SyncDir),
            ));
        } else if let Err(error) = &result {
            panic!("{what}: step {i} failed without a fault: {error:?}");
        }
        let Step::Write(_, changes) = step else {
            continue;
        };
        if result.is_ok() {
            for (k, _, new) in changes {
                model.acked.insert(k, new);
            }
        } else {
            for (k, old, _) in &changes {
                assert_reads(
                    &store,
                    k,
                    old,
                    &format!("{what}: step {i}: the failed write is visible to readers"),
                );
                model.tainted.insert(k.clone());
                model.acked.remove(k);
            }
            model.failed.push(changes);
        }
    }
    if fired.is_some() && is_sync(fault.op) {
        assert!(
            matches!(store.flush(), Err(Error::Poisoned { .. })),
            "{what}: flush after a failed sync"
        );
    }
    // Live reads agree with the model.
    for (k, value) in &model.acked {
        assert_reads(&store, k, value, &format!("{what}: live read"));
    }
    drop(store);
    check_reopened(&dir, kind, &model, &what);
    fired.is_some()
}

fn check_reopened(dir: &Path, kind: IndexKind, model: &Model, what: &str) {
    let store = Store::builder(dir)
        .index(kind)
        .open()
        .unwrap_or_else(|e| panic!("{what}: reopen with the OS file system: {e}"));
    for (k, value) in &model.acked {
        assert_eq!(
            &read(&store, k),
            value,
            "{what}: acknowledged {k} after reopen"
        );
    }
    for batch in &model.failed {
        let now: Vec<Option<Vec<u8>>> = batch.iter().map(|(k, _, _)| read(&store, k)).collect();
        let all_old = batch.iter().zip(&now).all(|((_, old, _), n)| n == old);
        let all_new = batch.iter().zip(&now).all(|((_, _, new), n)| n == new);
        assert!(
            all_old || all_new,
            "{what}: a failed batch is partly applied after reopen: {:?}",
            batch.iter().map(|(k, _, _)| k).collect::<Vec<_>>()
        );
    }
    let report = store.verify().expect("verify");
    assert!(
        report.is_ok(),
        "{what}: verify after reopen: {:?} {:?}",
        report.damaged,
        report.index_mismatches
    );
    // Still writable after the reopen.
    store
        .put(&asset(), &key("after-reopen"), &b"x"[..])
        .expect("write after reopen");
}

/// Fails call 1, 2, 3, ... of `op` until the workload makes no such call.
fn sweep(op: OpKind, error: FaultError, prefix: usize) {
    for kind in backends() {
        let started = Instant::now();
        let mut n = 1;
        loop {
            let fault = Fault::new(op, n, error).with_written_prefix(prefix);
            if !run_once(kind, fault) {
                break;
            }
            n += 1;
            assert!(n < 500, "the workload makes too many {op:?} calls");
        }
        println!(
            "{kind:?} {op:?} {error:?}: failed calls 1..{n} in {:?}",
            started.elapsed()
        );
        assert!(n > 1, "{kind:?}: the workload never called {op:?}");
    }
}

#[test]
fn eio_on_write_at() {
    sweep(OpKind::WriteAt, FaultError::EIO, 0);
}

#[test]
fn enospc_on_write_at_with_a_partial_write() {
    sweep(OpKind::WriteAt, FaultError::ENOSPC, 100);
}

#[test]
fn eio_on_sync_data() {
    sweep(OpKind::SyncData, FaultError::EIO, 0);
}

#[test]
fn enospc_on_sync_data() {
    sweep(OpKind::SyncData, FaultError::ENOSPC, 0);
}

#[test]
fn enospc_on_set_len() {
    sweep(OpKind::SetLen, FaultError::ENOSPC, 0);
}

#[test]
fn eio_on_create() {
    sweep(OpKind::Create, FaultError::EIO, 0);
}

#[test]
fn enospc_on_create() {
    sweep(OpKind::Create, FaultError::ENOSPC, 0);
}

#[test]
fn eio_on_sync_dir() {
    sweep(OpKind::SyncDir, FaultError::EIO, 0);
}

/// Several threads doing `Immediate` puts while a sync fails: none hangs;
/// each put returns Ok or the sync's error (the leader and followers of the
/// failed group sync get its kind, later writers `Poisoned`), and every
/// acknowledged put survives a reopen.
#[test]
fn concurrent_immediate_puts_when_a_sync_fails() {
    const THREADS: u64 = 6;
    const PUTS: u64 = 40;
    for kind in backends() {
        for nth in [1, 3, 8, 20] {
            let root = tempfile::tempdir().expect("tempdir");
            let dir = root.path().join("store");
            let recorder = Arc::new(RecordingFileIo::new(root.path()).expect("recorder"));
            let store = open_recorded(&dir, kind, &recorder, 8);
            recorder.inject(Fault::eio(OpKind::SyncData, nth));
            let eio_kind = FaultError::EIO.to_io_error().kind();
            let (done, finished) = mpsc::channel();
            let threads: Vec<_> = (0..THREADS)
                .map(|t| {
                    let store = store.clone();
                    let done = done.clone();
                    std::thread::spawn(move || {
                        let mut acked = Vec::new();
                        for n in 0..PUTS {
                            let k = format!("t{t}-{n}");
                            match store.put(&asset(), &key(&k), small_payload(t * 1000 + n)) {
                                Ok(()) => acked.push((k, t * 1000 + n)),
                                Err(Error::Io { source, .. }) => {
                                    assert_eq!(source.kind(), eio_kind, "sync error kind");
                                }
                                Err(Error::Poisoned { kind, .. }) => {
                                    assert_eq!(kind, eio_kind, "poison kind");
                                }
                                Err(other) => panic!("unexpected error {other:?}"),
                            }
                        }
                        done.send(()).expect("report");
                        acked
                    })
                })
                .collect();
            let deadline = Instant::now() + Duration::from_secs(60);
            for _ in 0..THREADS {
                let left = deadline.saturating_duration_since(Instant::now());
                finished
                    .recv_timeout(left)
                    .expect("a writer hangs after a failed sync");
            }
            let acked: Vec<(String, u64)> = threads
                .into_iter()
                .flat_map(|t| t.join().expect("writer thread"))
                .collect();
            assert_eq!(recorder.armed_faults(), 0, "the fault fired");
            assert!(matches!(store.flush(), Err(Error::Poisoned { .. })));
            drop(store);
            let store = Store::builder(&dir).index(kind).open().expect("reopen");
            for (k, n) in &acked {
                assert_reads(
                    &store,
                    k,
                    &Some(small_payload(*n)),
                    &format!("{kind:?} sync {nth} fails: acknowledged"),
                );
            }
            println!(
                "{kind:?} sync {nth} fails: {} puts acknowledged",
                acked.len()
            );
        }
    }
}

/// A write that returns an error is invisible: here a `Buffered` put whose
/// own frames were written fine, but whose automatic checkpoint (run inside
/// `Store::write`, `checkpoint_every(4)`) fails its segment sync. The put must
/// not return `Err` and still be visible (and survive a reopen).
#[test]
fn a_write_whose_checkpoint_fails_is_invisible() {
    for kind in backends() {
        let root = tempfile::tempdir().expect("tempdir");
        let dir = root.path().join("store");
        let recorder = Arc::new(RecordingFileIo::new(root.path()).expect("recorder"));
        let store = open_recorded(&dir, kind, &recorder, 4);
        // The first write creates the first segment (and syncs it).
        store
            .put(&asset(), &key("first"), &b"x"[..])
            .expect("first put");
        recorder.inject(Fault::eio(OpKind::SyncData, 1));
        let mut failed = false;
        for n in 0..16u64 {
            let k = format!("b{n}");
            let batch_result = {
                let mut batch = WriteBatch::new().durability(Durability::Buffered);
                batch.put(&asset(), &key(&k), small_payload(n));
                store.write(batch)
            };
            if let Err(error) = batch_result {
                assert_reads(
                    &store,
                    &k,
                    &None,
                    &format!("{kind:?}: put {n} returned {error}, yet"),
                );
                failed = true;
                break;
            }
        }
        assert!(failed, "{kind:?}: no write failed");
    }
}
