//! A power loss at any recorded instant of a workload leaves a store that
//! keeps the crash contract. Each workload (Immediate puts of new keys,
//! Buffered puts with flushes, overwrites of hot keys, deletes, multi-partition
//! batches, segment rollover) runs once on every index backend through a
//! [`RecordingFileIo`]; the test then rebuilds, with the power-loss simulator,
//! the states a crash may leave at every sync point (and the events right
//! before and after it, and after each index checkpoint) and at random events
//! in between, several seeds each, with the index either the last
//! checkpoint's copy or lost. Each state is opened with the plain OS file
//! system and must: open without manual repair and without panicking; show,
//! for every key whose last durable version (an acknowledged `Immediate`
//! write, or any acknowledged write followed by an acknowledged `flush`) is
//! `v`, exactly `v`'s bytes or a version tried after `v` (for a durable
//! delete: absent, or a later tried version) — never an older version, never
//! absent, never `Corrupted`; show, for a key with no durable version, absence
//! or one of its tried versions; apply each batch whose keys were not touched
//! again all or nothing; never show another key's bytes; and pass
//! [`Store::verify`] without damaged partitions or index mismatches.
//!
//! The checker returns its violations instead of panicking, and two tests run
//! it against deliberately broken stores (a seam that acknowledges syncs
//! without syncing, and a checkpoint written before the segments it covers
//! are synced) and require it to report violations: the checks can fail.
//!
//! A default run simulates at least [`MIN_CRASHES_TOTAL`] crashes over the
//! workload tests; `TESSERA_POWER_LOSS_SCALE` (an integer, default 1)
//! multiplies the seeds and random crash points for a longer run. Crash
//! images live in `/dev/shm` when it exists: the stores opened on them sync
//! for real, and on a disk those syncs would dominate the run time.

use std::collections::{BTreeSet, HashMap};
use std::hash::{DefaultHasher, Hasher};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tessera_engine::{
    AssetKey, BrokenOrdering, CompactionOptions, Durability, IndexKind, PartitionKey, Store,
    WriteBatch,
};
use tessera_tests::power_loss::{EventOp, History, IndexChoice, Mode, RecordingFileIo};
use tessera_tests::{backends, payload_for};

/// Crashes simulated by a default run of the six original workload tests together.
const MIN_CRASHES_TOTAL: usize = 10_000;
/// Crashes each workload test simulates at least (over both backends).
const MIN_CRASHES_PER_WORKLOAD: usize = MIN_CRASHES_TOTAL / 6 + 1;

use Durability::{Buffered, Immediate};

/// One step of a workload.
#[derive(Debug, Clone)]
enum Op {
    /// A put of a fresh payload.
    Put { key: usize, durability: Durability },
    /// A delete.
    Delete { key: usize, durability: Durability },
    /// A batch: `(key, is_put)` per change; keys are distinct.
    Batch {
        changes: Vec<(usize, bool)>,
        durability: Durability,
    },
    /// `Store::flush`.
    Flush,
    /// `Store::compact`: reclaims segments, moving live versions.
    Compact,
}

/// A workload and the store options it runs with.
#[derive(Debug, Clone)]
struct Workload {
    name: &'static str,
    ops: Vec<Op>,
    keys: usize,
    segment_capacity: u64,
    checkpoint_every: usize,
    /// First payload number (payloads are `payload_for(first + write)`).
    first_payload: u64,
    broken: Option<BrokenOrdering>,
    ack_without_sync: bool,
}

impl Workload {
    fn new(name: &'static str, keys: usize, ops: Vec<Op>) -> Self {
        Self {
            name,
            ops,
            keys,
            segment_capacity: 128 << 10,
            checkpoint_every: 7,
            first_payload: 1,
            broken: None,
            ack_without_sync: false,
        }
    }
}

/// A tiny deterministic generator for building workloads.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn durability(&mut self) -> Durability {
        if self.below(2) == 0 {
            Immediate
        } else {
            Buffered
        }
    }
}

/// The `(asset, partition)` of key number `key`: spread over three assets.
fn key_of(key: usize) -> (AssetKey, PartitionKey) {
    let asset = AssetKey::new(["power", &format!("asset{}", key % 3)]).expect("valid asset");
    let partition = PartitionKey::new(format!("p{key:04}")).expect("valid partition");
    (asset, partition)
}

fn hash_bytes(bytes: &[u8]) -> u64 {
    let mut hasher = DefaultHasher::new();
    hasher.write(bytes);
    hasher.write_usize(bytes.len());
    hasher.finish()
}

/// One version of a key: a put (payload number) or a delete.
#[derive(Debug, Clone)]
struct Version {
    payload: Option<u64>,
    /// The mark just before the write was issued.
    tried: u64,
    /// The mark from which on the version is durable, if it became so.
    durable: Option<u64>,
}

/// A workload's run: its history and the model of what was written.
struct Run {
    name: String,
    kind: IndexKind,
    history: History,
    /// Versions per key, in the order they were tried.
    versions: Vec<Vec<Version>>,
    /// Each batch's changes: `(key, version index)`.
    batches: Vec<Vec<(usize, usize)>>,
    /// Payload hash -> `(key, version index)`.
    by_hash: HashMap<u64, (usize, usize)>,
}

/// Runs `workload` once through a recorder, marking each try and ack.
fn record(workload: &Workload, kind: IndexKind) -> Run {
    let root = temp_dir();
    let recorder = Arc::new(RecordingFileIo::new(root.path()).expect("recorder"));
    let mut builder = Store::builder(root.path().join("store"))
        .index(kind)
        .durability(Buffered)
        .segment_capacity(workload.segment_capacity)
        .checkpoint_every(workload.checkpoint_every)
        .compaction(CompactionOptions::default().background(false))
        .file_io(recorder.clone());
    if let Some(broken) = workload.broken {
        builder = builder.deliberately_broken(broken);
    }
    let store = builder.open().expect("open the recorded store");
    if workload.ack_without_sync {
        recorder.set_mode(Mode::AckWithoutSync);
    }
    let mut versions: Vec<Vec<Version>> = vec![Vec::new(); workload.keys];
    let mut batches = Vec::new();
    let mut by_hash = HashMap::new();
    let mut next_payload = workload.first_payload;
    // Acknowledged versions waiting for a flush to become durable.
    let mut waiting: Vec<(usize, usize)> = Vec::new();
    for (i, op) in workload.ops.iter().enumerate() {
        let (changes, durability) = match op {
            Op::Compact => {
                recorder.mark(format!("try {i} compact"));
                store.compact().expect("compact");
                recorder.mark(format!("ack {i} compact"));
                continue;
            }
            Op::Flush => {
                recorder.mark(format!("try {i} flush"));
                store.flush().expect("flush");
                let acked = recorder.mark(format!("ack {i} flush"));
                for (key, v) in waiting.drain(..) {
                    versions[key][v].durable = Some(acked);
                }
                continue;
            }
            Op::Put { key, durability } => (vec![(*key, true)], *durability),
            Op::Delete { key, durability } => (vec![(*key, false)], *durability),
            Op::Batch {
                changes,
                durability,
            } => (changes.clone(), *durability),
        };
        let tried = recorder.mark(format!("try {i} {op:?}"));
        let mut batch = WriteBatch::new().durability(durability);
        let mut touched = Vec::new();
        for &(key, is_put) in &changes {
            let (asset, partition) = key_of(key);
            let payload = is_put.then(|| {
                let n = next_payload;
                next_payload += 1;
                n
            });
            match payload {
                Some(n) => {
                    let bytes = payload_for(n);
                    by_hash.insert(hash_bytes(&bytes), (key, versions[key].len()));
                    batch.put(&asset, &partition, bytes);
                }
                None => {
                    batch.delete(&asset, &partition);
                }
            }
            touched.push((key, versions[key].len()));
            versions[key].push(Version {
                payload,
                tried,
                durable: None,
            });
        }
        match op {
            Op::Delete { key, .. } => {
                let (asset, partition) = key_of(*key);
                if durability == Immediate {
                    store.write(batch).expect("delete");
                } else {
                    store.delete(&asset, &partition).expect("delete");
                }
            }
            Op::Put { key, .. } if durability == Buffered => {
                // The store's default durability is Buffered: `Store::put`.
                let (asset, partition) = key_of(*key);
                let n = versions[*key].last().and_then(|v| v.payload);
                store
                    .put(&asset, &partition, payload_for(n.expect("a put")))
                    .expect("put");
            }
            _ => store.write(batch).expect("write"),
        }
        let acked = recorder.mark(format!("ack {i}"));
        if durability == Immediate {
            for &(key, v) in &touched {
                versions[key][v].durable = Some(acked);
            }
        } else {
            waiting.extend(touched.iter().copied());
        }
        if matches!(op, Op::Batch { .. }) {
            batches.push(touched);
        }
    }
    recorder.mark("try close");
    store.close().expect("close");
    let acked = recorder.mark("ack close");
    for (key, v) in waiting.drain(..) {
        versions[key][v].durable = Some(acked);
    }
    Run {
        name: workload.name.to_owned(),
        kind,
        history: recorder.history(),
        versions,
        batches,
        by_hash,
    }
}

/// A contract violation at one crash.
#[derive(Debug, Clone)]
struct Violation {
    at_event: u64,
    seed: u64,
    what: String,
}

/// Which versions of a key a read is consistent with (`None` = the key's
/// initial absence).
type Candidates = Vec<Option<usize>>;

impl Run {
    /// Materializes the crash `(at_event, seed)` and checks the contract on
    /// it; returns what it violates.
    fn check_crash(&self, at_event: u64, seed: u64, choice: IndexChoice) -> Vec<String> {
        let dir = temp_dir();
        let image = match self.history.crash_image(at_event, seed, choice, dir.path()) {
            Ok(image) => image,
            Err(e) => return vec![format!("crash image failed: {e}")],
        };
        let mut found = Vec::new();
        if !image.anomalies.is_empty() {
            found.push(format!("simulator anomalies: {:?}", image.anomalies));
        }
        let store_dir = dir.path().join("store");
        match catch_unwind(AssertUnwindSafe(|| self.check_store(&store_dir, at_event))) {
            Ok(v) => found.extend(v),
            Err(panic) => {
                let msg = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                    .unwrap_or_default();
                found.push(format!("panicked: {msg}"));
            }
        }
        if !found.is_empty() {
            found.push(format!("image: {image}"));
        }
        found
    }

    fn check_store(&self, store_dir: &Path, at_event: u64) -> Vec<String> {
        let mut found = Vec::new();
        let store = match Store::builder(store_dir).index(self.kind).open() {
            Ok(store) => store,
            Err(e) => return vec![format!("open failed: {e}")],
        };
        let mut candidates: Vec<Candidates> = Vec::with_capacity(self.versions.len());
        for (key, versions) in self.versions.iter().enumerate() {
            let tried = versions.iter().take_while(|v| v.tried < at_event).count();
            let durable = versions[..tried]
                .iter()
                .rposition(|v| v.durable.is_some_and(|d| d < at_event));
            let start = durable.unwrap_or(0);
            let (asset, partition) = key_of(key);
            let describe = |v: Option<usize>| match v {
                None => "nothing".to_owned(),
                Some(v) => match versions[v].payload {
                    Some(n) => format!("version {v} (payload {n})"),
                    None => format!("version {v} (delete)"),
                },
            };
            let mut ok: Candidates = Vec::new();
            match store.get(&asset, &partition) {
                Err(e) => found.push(format!(
                    "key {key}: read failed: {e}; last durable is {}",
                    describe(durable)
                )),
                Ok(None) => {
                    if durable.is_none() {
                        ok.push(None);
                    }
                    ok.extend(
                        (start..tried)
                            .filter(|&v| versions[v].payload.is_none())
                            .map(Some),
                    );
                    if ok.is_empty() {
                        found.push(format!(
                            "key {key}: absent, but the last durable is {} and {} were tried",
                            describe(durable),
                            tried
                        ));
                    }
                }
                Ok(Some(blob)) => match self.by_hash.get(&hash_bytes(&blob)) {
                    Some(&(k, v)) if k == key && v >= start && v < tried => ok.push(Some(v)),
                    Some(&(k, v)) if k == key && v < start => found.push(format!(
                        "key {key}: reads the older {}, but the last durable is {}",
                        describe(Some(v)),
                        describe(durable)
                    )),
                    Some(&(k, v)) if k == key => found.push(format!(
                        "key {key}: reads {}, which was not tried before the crash",
                        describe(Some(v))
                    )),
                    Some(&(k, v)) => found.push(format!(
                        "key {key}: reads key {k}'s version {v}; last durable is {}",
                        describe(durable)
                    )),
                    None => found.push(format!(
                        "key {key}: reads {} unknown bytes; last durable is {}",
                        blob.len(),
                        describe(durable)
                    )),
                },
            }
            candidates.push(ok);
        }
        for (b, batch) in self.batches.iter().enumerate() {
            let latest = batch.iter().all(|&(key, v)| {
                let versions = &self.versions[key];
                versions[v].tried < at_event
                    && versions
                        .get(v + 1)
                        .is_none_or(|next| next.tried >= at_event)
            });
            if !latest {
                continue;
            }
            let applied = |&&(key, v): &&(usize, usize)| candidates[key] == [Some(v)];
            let missing = |&&(key, v): &&(usize, usize)| {
                !candidates[key].is_empty() && !candidates[key].contains(&Some(v))
            };
            if batch.iter().any(|c| applied(&c)) && batch.iter().any(|c| missing(&c)) {
                found.push(format!(
                    "batch {b} half applied: changes (key, version) {batch:?}, reads {:?}",
                    batch
                        .iter()
                        .map(|&(key, _)| &candidates[key])
                        .collect::<Vec<_>>()
                ));
            }
        }
        match store.verify() {
            Ok(report) => {
                if !report.damaged.is_empty() || !report.index_mismatches.is_empty() {
                    found.push(format!(
                        "verify: damaged {:?}, index mismatches {:?}",
                        report.damaged, report.index_mismatches
                    ));
                }
            }
            Err(e) => found.push(format!("verify failed: {e}")),
        }
        found
    }

    /// The crash points: every sync point and index checkpoint with the
    /// events around it, the end, and `random` random events.
    fn crash_points(&self, random: usize, seed: u64) -> Vec<u64> {
        let len = self.history.len();
        let mut points = BTreeSet::from([0, len]);
        for (n, event) in (0u64..).zip(self.history.events()) {
            let interesting =
                event.is_sync_point() || matches!(event.op, EventOp::IndexCheckpoint { .. });
            if interesting {
                for p in [n.saturating_sub(1), n, n + 1, n + 2] {
                    points.insert(p.min(len));
                }
            }
        }
        let mut rng = Gen(seed | 1);
        for _ in 0..random {
            points.insert(rng.below(len + 1));
        }
        points.into_iter().collect()
    }

    /// Checks every `(point, seed)` on all cores; stops early once
    /// `stop_after` violations are found. Returns crashes checked and the
    /// violations.
    fn check_all(
        &self,
        points: &[u64],
        seeds: u64,
        choice: IndexChoice,
        stop_after: usize,
    ) -> (usize, Vec<Violation>) {
        let work: Vec<(u64, u64)> = points
            .iter()
            .flat_map(|&p| (0..seeds).map(move |s| (p, s)))
            .collect();
        let next = AtomicUsize::new(0);
        let done = AtomicUsize::new(0);
        let stop = AtomicBool::new(false);
        let violations = Mutex::new(Vec::new());
        let threads =
            std::thread::available_parallelism().map_or(2, |n| (2 * n.get()).clamp(4, 16));
        std::thread::scope(|scope| {
            for _ in 0..threads {
                scope.spawn(|| {
                    while !stop.load(Ordering::Relaxed) {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(&(at_event, seed)) = work.get(i) else {
                            break;
                        };
                        let found = self.check_crash(at_event, seed, choice);
                        done.fetch_add(1, Ordering::Relaxed);
                        if !found.is_empty() {
                            let mut all = violations.lock().expect("violations lock");
                            all.push(Violation {
                                at_event,
                                seed,
                                what: found.join("\n    "),
                            });
                            if all.len() >= stop_after {
                                stop.store(true, Ordering::Relaxed);
                            }
                        }
                    }
                });
            }
        });
        let mut violations = violations.into_inner().expect("violations lock");
        violations.sort_by_key(|v| (v.at_event, v.seed));
        (done.into_inner(), violations)
    }

    /// A failure message for `violation`: what failed and the events before
    /// the crash (the last 60).
    fn explain(&self, violation: &Violation) -> String {
        let described = self.history.describe(violation.at_event);
        let lines: Vec<&str> = described.lines().collect();
        let tail = lines[lines.len().saturating_sub(60)..].join("\n");
        format!(
            "{} on {:?}: crash at event {} seed {}:\n    {}\nevents before the crash (last 60):\n{tail}",
            self.name, self.kind, violation.at_event, violation.seed, violation.what
        )
    }
}

/// A temporary directory, in memory (`/dev/shm`) where there is one: the
/// stores opened on crash images sync for real, and syncs to a disk would
/// dominate the run time.
fn temp_dir() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    if shm.is_dir()
        && let Ok(dir) = tempfile::tempdir_in(shm)
    {
        return dir;
    }
    tempfile::tempdir().expect("temp dir")
}

/// The scale factor from `TESSERA_POWER_LOSS_SCALE`.
fn scale() -> u64 {
    std::env::var("TESSERA_POWER_LOSS_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1u64)
        .max(1)
}

/// Runs `workload` on every backend and checks crashes at its crash points
/// with `seeds` seeds each; panics on any violation. Returns crashes checked.
fn run_correct(workload: &Workload, seeds: u64, random_points: usize) -> usize {
    let started = Instant::now();
    let scale = scale();
    let mut crashes = 0;
    for kind in backends() {
        let run = record(workload, kind);
        let points = run.crash_points(random_points * scale as usize, 0x5EED);
        let (checked, violations) =
            run.check_all(&points, seeds * scale, IndexChoice::Random, usize::MAX);
        crashes += checked;
        if let Some(first) = violations.first() {
            panic!(
                "{} of {checked} crashes violate the contract; the first:\n{}",
                violations.len(),
                run.explain(first)
            );
        }
        eprintln!(
            "{} on {kind:?}: {} events, {} crash points, {checked} crashes, no violation",
            workload.name,
            run.history.len(),
            points.len(),
        );
    }
    eprintln!(
        "{}: {crashes} crashes in {:.1?}",
        workload.name,
        started.elapsed()
    );
    assert!(
        crashes >= MIN_CRASHES_PER_WORKLOAD,
        "{}: only {crashes} crashes simulated",
        workload.name
    );
    crashes
}

/// Runs a broken `workload` on every backend and returns the violations
/// found (with the run they belong to), stopping early once some are found.
/// Only crash points after the first mark labelled `after_mark` (if given)
/// are checked.
fn run_broken(workload: &Workload, seeds: u64, after_mark: Option<&str>) -> (usize, Vec<String>) {
    let mut crashes = 0;
    let mut found = Vec::new();
    for kind in backends() {
        let run = record(workload, kind);
        let from = after_mark.map_or(0, |label| {
            run.history
                .marks()
                .into_iter()
                .find(|(_, l)| *l == label)
                .map(|(n, _)| n + 1)
                .expect("the mark to start from")
        });
        let mut points = run.crash_points(50, 0xBAD);
        points.retain(|&p| p >= from);
        let (checked, violations) = run.check_all(&points, seeds, IndexChoice::Random, 4);
        crashes += checked;
        eprintln!(
            "{} on {kind:?}: {checked} crashes, {} violations",
            workload.name,
            violations.len()
        );
        if let Some(first) = violations.first() {
            eprintln!("as expected:\n{}", run.explain(first));
        }
        found.extend(violations.iter().map(|v| run.explain(v)));
    }
    (crashes, found)
}

// ---------------------------------------------------------------- workloads

fn immediate_new_keys() -> Workload {
    let ops = (0..24)
        .map(|key| Op::Put {
            key,
            durability: Immediate,
        })
        .collect();
    Workload::new("immediate puts of new keys", 24, ops)
}

fn buffered_with_flushes() -> Workload {
    let mut ops = Vec::new();
    for key in 0..28 {
        ops.push(Op::Put {
            key,
            durability: Buffered,
        });
        if key % 4 == 3 {
            ops.push(Op::Flush);
        }
    }
    let mut w = Workload::new("buffered puts with flushes", 28, ops);
    w.first_payload = 1_000;
    w
}

fn hot_overwrites() -> Workload {
    let mut rng = Gen(0x407);
    let mut ops = Vec::new();
    for i in 0..36 {
        ops.push(Op::Put {
            key: rng.below(4) as usize,
            durability: rng.durability(),
        });
        if i % 5 == 4 {
            ops.push(Op::Flush);
        }
    }
    let mut w = Workload::new("overwrites of hot keys", 4, ops);
    w.first_payload = 2_000;
    w.checkpoint_every = 3;
    w
}

fn deletes() -> Workload {
    let mut rng = Gen(0xDE1);
    let mut ops = Vec::new();
    for key in 0..12 {
        ops.push(Op::Put {
            key,
            durability: rng.durability(),
        });
    }
    ops.push(Op::Flush);
    for i in 0..24 {
        let key = rng.below(12) as usize;
        let durability = rng.durability();
        if i % 3 == 2 {
            ops.push(Op::Put { key, durability });
        } else {
            ops.push(Op::Delete { key, durability });
        }
        if i % 6 == 5 {
            ops.push(Op::Flush);
        }
    }
    let mut w = Workload::new("deletes", 12, ops);
    w.first_payload = 3_000;
    w.checkpoint_every = 5;
    w
}

fn batches() -> Workload {
    let mut rng = Gen(0xBA7C);
    let keys = 12;
    let mut ops = Vec::new();
    for i in 0..16 {
        let n = 2 + rng.below(4) as usize;
        let mut chosen: Vec<usize> = Vec::new();
        while chosen.len() < n {
            let key = rng.below(keys as u64) as usize;
            if !chosen.contains(&key) {
                chosen.push(key);
            }
        }
        let changes = chosen
            .into_iter()
            .map(|key| (key, i < 3 || rng.below(4) != 0))
            .collect();
        ops.push(Op::Batch {
            changes,
            durability: rng.durability(),
        });
        if i % 3 == 2 {
            ops.push(Op::Flush);
        }
    }
    let mut w = Workload::new("multi-partition batches", keys, ops);
    w.first_payload = 4_000;
    w.checkpoint_every = 9;
    w
}

fn rollover() -> Workload {
    let mut rng = Gen(0x5E6);
    let mut ops = Vec::new();
    for i in 0..48 {
        ops.push(Op::Put {
            key: rng.below(32) as usize,
            durability: rng.durability(),
        });
        if i % 8 == 7 {
            ops.push(Op::Flush);
        }
    }
    let mut w = Workload::new("segment rollover", 32, ops);
    w.first_payload = 5_000;
    w.segment_capacity = 64 << 10;
    w.checkpoint_every = 12;
    w
}

fn compaction() -> Workload {
    let mut rng = Gen(0xC0C0);
    let mut ops = Vec::new();
    for i in 0..60 {
        let key = rng.below(6) as usize;
        let durability = rng.durability();
        if i % 7 == 6 {
            ops.push(Op::Delete { key, durability });
        } else {
            ops.push(Op::Put { key, durability });
        }
        if i % 10 == 9 {
            ops.push(Op::Compact);
        }
        if i % 15 == 14 {
            ops.push(Op::Flush);
        }
    }
    let mut w = Workload::new("overwrites and deletes with compaction", 6, ops);
    w.first_payload = 6_000;
    w.segment_capacity = 32 << 10;
    w.checkpoint_every = 8;
    w
}

// -------------------------------------------------------------------- tests

#[test]
fn immediate_puts_of_new_keys_survive_power_loss() {
    run_correct(&immediate_new_keys(), 6, 300);
}

#[test]
fn buffered_puts_with_flushes_survive_power_loss() {
    run_correct(&buffered_with_flushes(), 6, 300);
}

#[test]
fn overwrites_of_hot_keys_survive_power_loss() {
    run_correct(&hot_overwrites(), 6, 300);
}

#[test]
fn deletes_survive_power_loss() {
    run_correct(&deletes(), 6, 300);
}

#[test]
fn multi_partition_batches_are_all_or_nothing_after_power_loss() {
    run_correct(&batches(), 6, 300);
}

#[test]
fn segment_rollover_survives_power_loss() {
    run_correct(&rollover(), 6, 300);
}

#[test]
fn compaction_survives_power_loss() {
    run_correct(&compaction(), 4, 200);
}

#[test]
fn checker_catches_a_compaction_that_removes_segments_before_its_checkpoint() {
    // Keys 0-5 in the first segment, checkpointed; 0-2 deleted after the
    // checkpoint, in that same segment; 3-5 overwritten until it is mostly
    // garbage. Reclaiming it removes the deletes (no older segment needs
    // them carried): only the checkpoint that comes first makes that safe.
    let mut ops: Vec<Op> = (0..6)
        .map(|key| Op::Put {
            key,
            durability: Immediate,
        })
        .collect();
    ops.push(Op::Flush);
    for key in 0..3 {
        ops.push(Op::Delete {
            key,
            durability: Immediate,
        });
    }
    for i in 0..60 {
        ops.push(Op::Put {
            key: 3 + i % 3,
            durability: Immediate,
        });
    }
    ops.push(Op::Compact);
    let mut workload = Workload::new("compaction, segments removed before the checkpoint", 6, ops);
    workload.first_payload = 7_000;
    workload.segment_capacity = 1 << 20;
    workload.checkpoint_every = 1_000;
    let (_, correct) = run_broken(&workload, 16, Some("try 70 compact"));
    assert!(
        correct.is_empty(),
        "the correct order violates: {correct:?}"
    );
    workload.broken = Some(BrokenOrdering::RetireBeforeCheckpoint);
    let (crashes, found) = run_broken(&workload, 16, Some("try 70 compact"));
    assert!(
        !found.is_empty(),
        "{crashes} crashes of a compaction that removes segments before its checkpoint \
         showed no violation"
    );
}

#[test]
fn checker_catches_a_seam_that_acks_without_syncing() {
    let mut workload = immediate_new_keys();
    workload.name = "immediate puts, syncs acknowledged without syncing";
    workload.ack_without_sync = true;
    let (crashes, found) = run_broken(&workload, 4, None);
    assert!(
        !found.is_empty(),
        "no violation in {crashes} crashes of a store whose syncs do nothing"
    );
}

#[test]
fn checker_catches_a_checkpoint_before_the_segment_sync() {
    let mut rng = Gen(0xC4EC);
    let mut ops = Vec::new();
    for key in 0..4 {
        ops.push(Op::Put {
            key,
            durability: Buffered,
        });
    }
    ops.push(Op::Flush);
    for i in 0..16 {
        ops.push(Op::Put {
            key: rng.below(4) as usize,
            durability: Buffered,
        });
        if i % 2 == 1 {
            ops.push(Op::Flush);
        }
    }
    let mut workload = Workload::new(
        "buffered overwrites, checkpoint before segment sync",
        4,
        ops,
    );
    workload.first_payload = 6_000;
    workload.checkpoint_every = 1_000;
    workload.broken = Some(BrokenOrdering::CheckpointBeforeSegmentSync);
    // Crashes after the first flush only: every key then has a durable
    // version, which an overwrite's checkpointed but torn frame must not hide.
    let (crashes, found) = run_broken(&workload, 64, Some("ack 4 flush"));
    assert!(
        found.iter().any(|v| v.contains("last durable is version")),
        "no violation on a durable key in {crashes} crashes of a store that checkpoints \
         before syncing segments; found {found:#?}"
    );
}
