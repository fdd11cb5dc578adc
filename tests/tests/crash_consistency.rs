//! After a SIGKILL at any instant, the store opens without repair, every
//! acknowledged `Immediate` write reads back bit-identical, an overwrite reads
//! as its last acknowledged version or a later attempted one (never neither),
//! and nothing fails its checksum.
//!
//! A child process (this test binary, re-run) writes and reports each
//! acknowledged write over a pipe; the parent kills it at random moments.
//! `TESSERA_CRASH_KILLS` sets the number of kills (default 50).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::time::Duration;

use tessera_engine::{AssetKey, Durability, IndexKind, PartitionKey, Store};
use tessera_tests::{backends, child_command, payload_for};

const CHILD_DIR: &str = "TESSERA_CRASH_CHILD_DIR";
const CHILD_START: &str = "TESSERA_CRASH_CHILD_START";
const CHILD_BACKEND: &str = "TESSERA_CRASH_CHILD_BACKEND";
const HOT_SLOTS: u64 = 7;
/// Threads of the child that write new keys beside the main writer.
const COLD_WRITERS: u64 = 3;
/// Key numbers apart between the child's writers (more than one child writes).
const WRITER_SPAN: u64 = 100_000;

fn asset() -> AssetKey {
    AssetKey::new(["crash", "events"]).expect("valid asset")
}

fn cold_key(n: u64) -> PartitionKey {
    PartitionKey::new(format!("{n:012}")).expect("valid partition")
}

fn hot_key(slot: u64) -> PartitionKey {
    PartitionKey::new(format!("hot-{slot}")).expect("valid partition")
}

fn backend_named(name: &str) -> IndexKind {
    backends()
        .into_iter()
        .find(|k| k.name() == name)
        .expect("known backend")
}

/// The child: writes until killed, printing `ACK cold n` / `ACK hot slot n`
/// after each write returns, and `TRY hot slot n` before each overwrite.
/// Besides the main writer, [`COLD_WRITERS`] threads write new keys at the same
/// time, so acknowledged writes also come from shared (group) commits.
#[test]
fn crash_child_writer() {
    let (Ok(dir), Ok(start), Ok(backend)) = (
        std::env::var(CHILD_DIR),
        std::env::var(CHILD_START),
        std::env::var(CHILD_BACKEND),
    ) else {
        return;
    };
    let start: u64 = start.parse().expect("start number");
    let store = Store::builder(&dir)
        .index(backend_named(&backend))
        .durability(Durability::Immediate)
        .segment_capacity(1 << 20)
        .open()
        .expect("child opens the store");
    std::thread::scope(|scope| {
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
        for n in start.. {
            if n % 3 == 0 {
                let slot = n % HOT_SLOTS;
                report(&format!("TRY hot {slot} {n}"));
                store
                    .put(&asset(), &hot_key(slot), payload_for(n))
                    .expect("put");
                report(&format!("ACK hot {slot} {n}"));
            } else {
                store
                    .put(&asset(), &cold_key(n), payload_for(n))
                    .expect("put");
                report(&format!("ACK cold {n}"));
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

#[derive(Default)]
struct Acknowledged {
    cold: Vec<u64>,
    /// Per hot slot: the last acknowledged version and every attempted one.
    hot_acked: BTreeMap<u64, u64>,
    hot_tried: BTreeMap<u64, Vec<u64>>,
}

fn run_child_and_kill(
    dir: &std::path::Path,
    start: u64,
    backend: &str,
    after: Duration,
    acks: &mut Acknowledged,
) {
    let dir_text = dir.to_str().expect("utf-8 path");
    let start_text = start.to_string();
    let mut child = child_command(
        "crash_child_writer",
        &[
            (CHILD_DIR, dir_text),
            (CHILD_START, &start_text),
            (CHILD_BACKEND, backend),
        ],
    )
    .spawn()
    .expect("spawn child");
    let stdout = child.stdout.take().expect("child stdout");
    let reader = std::thread::spawn(move || {
        BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .collect::<Vec<_>>()
    });
    std::thread::sleep(after);
    child.kill().expect("SIGKILL");
    child.wait().expect("reap child");
    for line in reader.join().expect("reader thread") {
        // libtest may print its own text in front of the first line.
        let report = ["ACK ", "TRY "]
            .iter()
            .filter_map(|tag| line.find(tag))
            .min();
        let Some(start) = report else { continue };
        let words: Vec<&str> = line[start..].split_whitespace().collect();
        match words.as_slice() {
            ["ACK", "cold", n] => acks.cold.push(n.parse().expect("number")),
            ["ACK", "hot", slot, n] => {
                acks.hot_acked
                    .insert(slot.parse().expect("slot"), n.parse().expect("number"));
            }
            ["TRY", "hot", slot, n] => acks
                .hot_tried
                .entry(slot.parse().expect("slot"))
                .or_default()
                .push(n.parse().expect("number")),
            _ => {}
        }
    }
}

fn check_after_crash(dir: &std::path::Path, kind: IndexKind, acks: &Acknowledged) {
    let store = Store::builder(dir)
        .index(kind)
        .open()
        .expect("store opens after a kill without repair");
    for &n in &acks.cold {
        let blob = store
            .get(&asset(), &cold_key(n))
            .expect("readable")
            .expect("acknowledged write present");
        assert_eq!(
            &*blob,
            payload_for(n).as_slice(),
            "write {n} reads back bit-identical"
        );
    }
    for (&slot, &acked) in &acks.hot_acked {
        let blob = store
            .get(&asset(), &hot_key(slot))
            .expect("readable")
            .expect("overwritten key present");
        let allowed: Vec<u64> = acks.hot_tried[&slot]
            .iter()
            .copied()
            .filter(|&v| v >= acked)
            .collect();
        assert!(
            allowed.iter().any(|&v| *blob == *payload_for(v)),
            "hot slot {slot}: neither the acknowledged version {acked} nor a later attempt"
        );
    }
    let report = store.verify().expect("verify");
    assert!(report.is_ok(), "damaged after crash: {:?}", report.damaged);
}

#[test]
fn acknowledged_writes_survive_sigkill() {
    let kills: u64 = std::env::var("TESSERA_CRASH_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50);
    let backends = backends();
    let mut seed: u64 = 0x5EED;
    let mut acknowledged = 0;
    for kill in 0..kills {
        let kind = backends[(kill as usize) % backends.len()];
        let dir = tempfile::tempdir().expect("tempdir");
        let mut acks = Acknowledged::default();
        for round in 0..3u64 {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let after = Duration::from_millis(20 + (seed >> 33) % 120);
            let start = (kill * 3 + round) * (COLD_WRITERS + 1) * WRITER_SPAN;
            run_child_and_kill(dir.path(), start, kind.name(), after, &mut acks);
            check_after_crash(dir.path(), kind, &acks);
        }
        acknowledged += acks.cold.len() + acks.hot_acked.len();
    }
    assert!(
        acknowledged as u64 >= kills,
        "the children acknowledged only {acknowledged} writes"
    );
}
