//! What a process kill (SIGKILL) at any instant may and may not do to a store.
//!
//! A child process (this test binary, re-run) writes and reports each write
//! over a pipe: `TRY ...` before it starts a write, `ACK ...` after the write
//! call returned `Ok`. The parent kills it at a random moment, reopens the
//! store and checks, over every child run so far on that store:
//!
//! * the store opens without repair and [`Store::verify`] finds nothing
//!   damaged;
//! * every acknowledged `Immediate` put (from several threads, so also from
//!   shared group commits) and every acknowledged `Buffered` put of a new key
//!   reads back bit-identical, unless a delete of it was attempted later;
//! * an overwritten key (`Immediate` and `Buffered` hot slots) reads as its
//!   last acknowledged version or a later attempted one, never neither;
//! * an acknowledged delete stays deleted (the key reads `None`); an attempted
//!   one leaves the key either deleted or bit-identical;
//! * a multi-partition [`WriteBatch`] of 2 to 4 new keys is all or nothing:
//!   either every key reads back with its bytes or none exists, and an
//!   acknowledged batch is all there;
//!
//! all while a thread of the child compacts the store in a loop (and the
//! background compactor runs too), so kills land inside compactions.
//!
//! This proves the contract for a **process kill only**: the operating system
//! survives, so what the engine handed it (a `Buffered` write included) must
//! not be lost. It proves nothing about power loss or a kernel crash, where
//! unsynced writes may vanish; `power_loss.rs` covers that.
//!
//! `TESSERA_CRASH_KILLS` sets the number of kills (default 50, about half a
//! minute; `TESSERA_CRASH_KILLS=1000` is the long mode). Each kill is three
//! child runs on one store, with the backends taking turns.
//!
//! The checker reports violations as a list instead of panicking, so it is
//! itself tested: [`the_check_catches_lost_acknowledged_writes`] runs it
//! against a deliberately broken child (`TESSERA_CRASH_CHILD_BROKEN`) that
//! acknowledges `Buffered` puts before writing them, or without writing them,
//! and requires a reported lost write.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::path::Path;
use std::time::Duration;

use tessera_engine::{AssetKey, Durability, IndexKind, PartitionKey, Store, WriteBatch};
use tessera_tests::{backends, child_command, payload_for};

const CHILD_DIR: &str = "TESSERA_CRASH_CHILD_DIR";
const CHILD_START: &str = "TESSERA_CRASH_CHILD_START";
const CHILD_BACKEND: &str = "TESSERA_CRASH_CHILD_BACKEND";
/// Makes the child break the contract on purpose: `ack-before-write` prints
/// the `ACK` of each `Buffered` put, waits a little, then writes it;
/// `skip-write` acknowledges every fourth `Buffered` put without writing it.
const CHILD_BROKEN: &str = "TESSERA_CRASH_CHILD_BROKEN";
const HOT_SLOTS: u64 = 7;
/// Threads of the child that write new keys (`Immediate`) beside the main
/// writer.
const COLD_WRITERS: u64 = 3;
/// Threads of the child that write new keys (`Buffered`) beside the main
/// writer.
const BUFFERED_WRITERS: u64 = 1;
/// Key numbers apart between the child's writers (more than one child writes).
const WRITER_SPAN: u64 = 100_000;
/// Key numbers one child run may use.
const RUN_SPAN: u64 = (1 + COLD_WRITERS + BUFFERED_WRITERS) * WRITER_SPAN;

fn asset() -> AssetKey {
    AssetKey::new(["crash", "events"]).expect("valid asset")
}

/// A new key written once (by a put of either durability), maybe deleted.
fn cold_key(n: u64) -> PartitionKey {
    PartitionKey::new(format!("{n:012}")).expect("valid partition")
}

/// A key overwritten again and again; `family` is `hot` (`Immediate`) or
/// `bhot` (`Buffered`).
fn hot_key(family: &str, slot: u64) -> PartitionKey {
    PartitionKey::new(format!("{family}-{slot}")).expect("valid partition")
}

/// Key `i` of batch `id`.
fn batch_key(id: u64, i: u64) -> PartitionKey {
    PartitionKey::new(format!("batch-{id:012}-{i}")).expect("valid partition")
}

fn batch_payload(id: u64, i: u64) -> Vec<u8> {
    payload_for(id.wrapping_mul(8).wrapping_add(i) ^ 0xBA7C_0000_0000)
}

fn backend_named(name: &str) -> IndexKind {
    backends()
        .into_iter()
        .find(|k| k.name() == name)
        .expect("known backend")
}

fn put_with(store: &Store, key: &PartitionKey, n: u64, durability: Durability) {
    let mut batch = WriteBatch::new().durability(durability);
    batch.put(&asset(), key, payload_for(n));
    store.write(batch).expect("put");
}

/// How a child breaks the contract, if asked to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Broken {
    No,
    AckBeforeWrite,
    SkipWrite,
}

/// A `Buffered` put of the new key `n`, reported as `ACK buf n` (correctly
/// after the write, or broken as asked). Returns whether the key was written.
fn buffered_put(store: &Store, n: u64, broken: Broken) -> bool {
    match broken {
        Broken::No => {
            put_with(store, &cold_key(n), n, Durability::Buffered);
            report(&format!("ACK buf {n}"));
            true
        }
        Broken::AckBeforeWrite => {
            report(&format!("ACK buf {n}"));
            std::thread::sleep(Duration::from_millis(2));
            put_with(store, &cold_key(n), n, Durability::Buffered);
            true
        }
        Broken::SkipWrite => {
            let write = !n.is_multiple_of(4);
            if write {
                put_with(store, &cold_key(n), n, Durability::Buffered);
            }
            report(&format!("ACK buf {n}"));
            write
        }
    }
}

/// The child: writes until killed. [`COLD_WRITERS`] threads put new keys with
/// `Immediate` durability (`ACK cold n`), [`BUFFERED_WRITERS`] threads with
/// `Buffered` (`ACK buf n`), and the main writer mixes new keys of both
/// durabilities, overwrites of hot slots of both durabilities (`TRY hot slot
/// n` / `ACK hot slot n`, `bhot` for `Buffered`), deletes of keys it put
/// earlier, `Immediate` or `Buffered` (`TRY del n` / `ACK del n`), and batches
/// of 2 to 4 new keys, `Immediate` or `Buffered` (`TRY batch id k...` / `ACK
/// batch id`, the `k` being the key indexes `0..` in the batch).
#[test]
fn crash_child_writer() {
    let (Ok(dir), Ok(start), Ok(backend)) = (
        std::env::var(CHILD_DIR),
        std::env::var(CHILD_START),
        std::env::var(CHILD_BACKEND),
    ) else {
        return;
    };
    let broken = match std::env::var(CHILD_BROKEN).as_deref() {
        Ok("ack-before-write") => Broken::AckBeforeWrite,
        Ok("skip-write") => Broken::SkipWrite,
        Ok(other) => panic!("unknown {CHILD_BROKEN} mode {other:?}"),
        Err(_) => Broken::No,
    };
    let start: u64 = start.parse().expect("start number");
    let store = Store::builder(&dir)
        .index(backend_named(&backend))
        .durability(Durability::Immediate)
        .segment_capacity(1 << 20)
        .open()
        .expect("child opens the store");
    std::thread::scope(|scope| {
        let compacting = &store;
        scope.spawn(move || {
            loop {
                compacting.compact().expect("compact");
                std::thread::sleep(Duration::from_millis(5));
            }
        });
        for writer in 1..=COLD_WRITERS {
            let store = &store;
            scope.spawn(move || {
                for n in start + writer * WRITER_SPAN.. {
                    store
                        .put(&asset(), &cold_key(n), payload_for(n))
                        .expect("put");
                    report(&format!("ACK cold {n}"));
                }
            });
        }
        for writer in 1..=BUFFERED_WRITERS {
            let store = &store;
            scope.spawn(move || {
                for n in start + (COLD_WRITERS + writer) * WRITER_SPAN.. {
                    buffered_put(store, n, broken);
                }
            });
        }
        // Keys this writer put and saw acknowledged, not yet deleted.
        let mut written: Vec<u64> = Vec::new();
        for n in start.. {
            match n % 8 {
                0 => {
                    let slot = n % HOT_SLOTS;
                    report(&format!("TRY hot {slot} {n}"));
                    put_with(&store, &hot_key("hot", slot), n, Durability::Immediate);
                    report(&format!("ACK hot {slot} {n}"));
                }
                1 => {
                    let slot = n % HOT_SLOTS;
                    report(&format!("TRY bhot {slot} {n}"));
                    put_with(&store, &hot_key("bhot", slot), n, Durability::Buffered);
                    report(&format!("ACK bhot {slot} {n}"));
                }
                2 | 5 => {
                    if buffered_put(&store, n, broken) {
                        written.push(n);
                    }
                }
                3 => {
                    let id = n;
                    let size = 2 + (n / 8) % 3;
                    let keys: Vec<String> = (0..size).map(|i| i.to_string()).collect();
                    report(&format!("TRY batch {id} {}", keys.join(" ")));
                    let durability = if (n / 8) % 2 == 0 {
                        Durability::Buffered
                    } else {
                        Durability::Immediate
                    };
                    let mut batch = WriteBatch::new().durability(durability);
                    for i in 0..size {
                        batch.put(&asset(), &batch_key(id, i), batch_payload(id, i));
                    }
                    store.write(batch).expect("batch");
                    report(&format!("ACK batch {id}"));
                }
                6 if written.len() > 4 => {
                    let victim = written.swap_remove((n as usize / 8) % written.len());
                    report(&format!("TRY del {victim}"));
                    if (n / 8) % 2 == 0 {
                        store.delete(&asset(), &cold_key(victim)).expect("delete");
                    } else {
                        let mut batch = WriteBatch::new().durability(Durability::Buffered);
                        batch.delete(&asset(), &cold_key(victim));
                        store.write(batch).expect("delete");
                    }
                    report(&format!("ACK del {victim}"));
                }
                _ => {
                    store
                        .put(&asset(), &cold_key(n), payload_for(n))
                        .expect("put");
                    report(&format!("ACK cold {n}"));
                    written.push(n);
                }
            }
        }
    });
}

/// Writes one whole line to the parent.
fn report(line: &str) {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}").expect("pipe");
    out.flush().expect("pipe");
}

/// What the children reported, over every run on one store.
#[derive(Default)]
struct Reported {
    /// New keys whose put was acknowledged, with its durability (`cold` or
    /// `buf`).
    puts: BTreeMap<u64, &'static str>,
    /// Per hot slot (`hot` or `bhot`, slot): the last acknowledged version and
    /// every attempted one.
    hot_acked: BTreeMap<(&'static str, u64), u64>,
    hot_tried: BTreeMap<(&'static str, u64), Vec<u64>>,
    /// Keys whose delete was attempted, and acknowledged.
    deletes_tried: BTreeSet<u64>,
    deletes_acked: BTreeSet<u64>,
    /// Per batch id: its key count and whether it was acknowledged.
    batches: BTreeMap<u64, (u64, bool)>,
}

impl Reported {
    /// Counts of acknowledged changes by kind, for the test's output.
    fn add_counts(&self, counts: &mut BTreeMap<&'static str, usize>) {
        for kind in self.puts.values() {
            *counts.entry(kind).or_default() += 1;
        }
        *counts.entry("hot/bhot slots").or_default() += self.hot_acked.len();
        *counts.entry("del").or_default() += self.deletes_acked.len();
        *counts.entry("del unacknowledged").or_default() +=
            self.deletes_tried.len() - self.deletes_acked.len();
        for &(_, acked) in self.batches.values() {
            *counts
                .entry(if acked {
                    "batch"
                } else {
                    "batch unacknowledged"
                })
                .or_default() += 1;
        }
    }

    fn take(&mut self, line: &str) {
        let number = |word: &str| -> u64 { word.parse().expect("number") };
        let family = |word: &str| -> &'static str { if word == "hot" { "hot" } else { "bhot" } };
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["ACK", "cold", n] => {
                self.puts.insert(number(n), "cold");
            }
            ["ACK", "buf", n] => {
                self.puts.insert(number(n), "buf");
            }
            ["ACK", fam @ ("hot" | "bhot"), slot, n] => {
                self.hot_acked
                    .insert((family(fam), number(slot)), number(n));
            }
            ["TRY", fam @ ("hot" | "bhot"), slot, n] => self
                .hot_tried
                .entry((family(fam), number(slot)))
                .or_default()
                .push(number(n)),
            ["TRY", "del", n] => {
                self.deletes_tried.insert(number(n));
            }
            ["ACK", "del", n] => {
                self.deletes_acked.insert(number(n));
            }
            ["TRY", "batch", id, keys @ ..] => {
                self.batches.insert(number(id), (keys.len() as u64, false));
            }
            ["ACK", "batch", id] => {
                self.batches
                    .get_mut(&number(id))
                    .expect("a batch is tried before it is acknowledged")
                    .1 = true;
            }
            _ => panic!("unknown report {line:?}"),
        }
    }
}

/// Runs one child on `dir` for `after`, kills it (SIGKILL) and adds what it
/// reported to `reported`.
fn run_child_and_kill(
    dir: &Path,
    start: u64,
    backend: &str,
    broken: Option<&str>,
    after: Duration,
    reported: &mut Reported,
) {
    let dir_text = dir.to_str().expect("utf-8 path");
    let start_text = start.to_string();
    let mut env = vec![
        (CHILD_DIR, dir_text),
        (CHILD_START, start_text.as_str()),
        (CHILD_BACKEND, backend),
    ];
    if let Some(mode) = broken {
        env.push((CHILD_BROKEN, mode));
    }
    let mut child = child_command("crash_child_writer", &env)
        .spawn()
        .expect("spawn child");
    let mut stdout = child.stdout.take().expect("child stdout");
    let reader = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        stdout.read_to_end(&mut bytes).expect("read the pipe");
        bytes
    });
    std::thread::sleep(after);
    child.kill().expect("SIGKILL");
    child.wait().expect("reap child");
    let bytes = reader.join().expect("reader thread");
    let text = String::from_utf8_lossy(&bytes);
    let mut lines: Vec<&str> = text.split('\n').collect();
    // The piece after the last newline is empty or a line cut by the kill.
    lines.pop();
    for line in lines {
        // libtest may print its own text in front of the first line.
        let report = ["ACK ", "TRY "]
            .iter()
            .filter_map(|tag| line.find(tag))
            .min();
        if let Some(start) = report {
            reported.take(&line[start..]);
        }
    }
}

/// Reopens the store after a kill and returns every broken promise (empty if
/// none).
fn check_after_crash(dir: &Path, kind: IndexKind, reported: &Reported) -> Vec<String> {
    let mut violations = Vec::new();
    let store = match Store::builder(dir).index(kind).open() {
        Ok(store) => store,
        Err(error) => return vec![format!("the store does not open after a kill: {error}")],
    };
    let mut read = |key: &PartitionKey| match store.get(&asset(), key) {
        Ok(blob) => blob.map(|b| b.to_vec()),
        Err(error) => {
            violations.push(format!("{key:?} unreadable: {error}"));
            None
        }
    };
    let mut found = Vec::new();
    for (&n, &kind) in &reported.puts {
        let value = read(&cold_key(n));
        let exact = value.as_deref() == Some(payload_for(n).as_slice());
        if reported.deletes_acked.contains(&n) {
            if value.is_some() {
                found.push(format!(
                    "acknowledged delete of {n} undone: the key is back"
                ));
            }
        } else if reported.deletes_tried.contains(&n) {
            if value.is_some() && !exact {
                found.push(format!(
                    "{kind} write {n} (delete attempted) has other bytes"
                ));
            }
        } else if value.is_none() {
            found.push(format!("acknowledged {kind} write {n} lost"));
        } else if !exact {
            found.push(format!("acknowledged {kind} write {n} has other bytes"));
        }
    }
    for (&(family, slot), &acked) in &reported.hot_acked {
        let value = read(&hot_key(family, slot));
        let allowed = reported.hot_tried[&(family, slot)]
            .iter()
            .filter(|&&v| v >= acked)
            .any(|&v| value.as_deref() == Some(payload_for(v).as_slice()));
        if !allowed {
            let tried = &reported.hot_tried[&(family, slot)];
            let which = tried
                .iter()
                .find(|&&v| value.as_deref() == Some(payload_for(v).as_slice()));
            found.push(format!(
                "{family} slot {slot}: neither the acknowledged version {acked} nor a later \
                 attempt (present: {}, it is the tried version {which:?}; tried: {tried:?})",
                value.is_some()
            ));
        }
    }
    for (&id, &(size, acked)) in &reported.batches {
        let mut present = 0;
        for i in 0..size {
            match read(&batch_key(id, i)) {
                Some(value) if value == batch_payload(id, i) => present += 1,
                Some(_) => found.push(format!("batch {id} key {i} has other bytes")),
                None => {}
            }
        }
        if acked && present != size {
            found.push(format!(
                "acknowledged batch {id}: {present} of {size} keys present"
            ));
        } else if present != 0 && present != size {
            found.push(format!(
                "attempted batch {id} torn: {present} of {size} keys present"
            ));
        }
    }
    violations.extend(found);
    match store.verify() {
        Ok(report) if report.is_ok() => {}
        Ok(report) => violations.push(format!("damaged after a kill: {:?}", report.damaged)),
        Err(error) => violations.push(format!("verify failed: {error}")),
    }
    violations
}

/// What [`kill_and_check`] saw.
struct Outcome {
    violations: Vec<String>,
    /// Acknowledged changes by kind, over every store.
    counts: BTreeMap<&'static str, usize>,
    /// Child runs killed (three a store).
    runs: u64,
}

/// Kills children `kills` times three (three runs a store, backends taking
/// turns), checks after each run, and collects the violations; with
/// `stop_at_first`, returns at the first check that finds one.
fn kill_and_check(kills: u64, broken: Option<&str>, stop_at_first: bool) -> Outcome {
    let backends = backends();
    let mut seed: u64 = 0x5EED;
    let mut outcome = Outcome {
        violations: Vec::new(),
        counts: BTreeMap::new(),
        runs: 0,
    };
    for kill in 0..kills {
        let kind = backends[(kill as usize) % backends.len()];
        let dir = tempfile::tempdir().expect("tempdir");
        let mut reported = Reported::default();
        for round in 0..3u64 {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let after = Duration::from_millis(20 + (seed >> 33) % 120);
            let start = (kill * 3 + round) * RUN_SPAN;
            run_child_and_kill(dir.path(), start, kind.name(), broken, after, &mut reported);
            outcome.runs += 1;
            let found = check_after_crash(dir.path(), kind, &reported);
            let stop = stop_at_first && !found.is_empty();
            outcome.violations.extend(
                found
                    .into_iter()
                    .map(|v| format!("kill {kill} round {round} ({}): {v}", kind.name())),
            );
            if stop {
                reported.add_counts(&mut outcome.counts);
                return outcome;
            }
        }
        reported.add_counts(&mut outcome.counts);
    }
    outcome
}

#[test]
fn acknowledged_writes_survive_sigkill() {
    let kills: u64 = std::env::var("TESSERA_CRASH_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50);
    let outcome = kill_and_check(kills, None, false);
    eprintln!(
        "{} child runs killed; acknowledged: {:?}",
        outcome.runs, outcome.counts
    );
    assert!(
        outcome.violations.is_empty(),
        "{} violations:\n{}",
        outcome.violations.len(),
        outcome.violations.join("\n")
    );
    if kills > 0 {
        for kind in ["cold", "buf", "hot/bhot slots", "del", "batch"] {
            assert!(
                outcome.counts.get(kind).copied().unwrap_or(0) > 0,
                "the children acknowledged no {kind} change: {:?}",
                outcome.counts
            );
        }
    }
}

/// The check is not vacuous: a child that acknowledges `Buffered` puts it has
/// not written (yet, or ever) is caught losing one within a few kills.
#[test]
fn the_check_catches_lost_acknowledged_writes() {
    const KILLS: u64 = 10;
    for mode in ["skip-write", "ack-before-write"] {
        let outcome = kill_and_check(KILLS, Some(mode), true);
        eprintln!(
            "{mode}: caught after {} child runs: {:?}",
            outcome.runs,
            outcome.violations.first()
        );
        assert!(
            outcome
                .violations
                .iter()
                .any(|v| v.contains("acknowledged buf write") && v.contains("lost")),
            "{mode}: no lost acknowledged write reported in {KILLS} kills: {:?}",
            outcome.violations
        );
    }
}
