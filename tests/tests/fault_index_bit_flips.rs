//! The index is a cache: one flipped bit anywhere in its files never makes a
//! read lie. For 200 seeds per backend, a checkpointed store of 30 partitions
//! (some with metadata) gets one seeded bit flipped in one of its index files
//! (chosen weighted by size); the reopen succeeds without panicking (a damaged
//! index is rebuilt from the log), and every partition reads back exactly, or
//! as `Err(Corrupted)`: never `Ok(None)`, never other bytes, never a panic.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::Instant;

use tessera_engine::{AssetKey, Error, IndexKind, PartitionKey, Payload, Store};
use tessera_tests::{backends, payload_for};

const SEEDS: u64 = 200;
const PARTITIONS: u64 = 30;

fn asset(n: u64) -> AssetKey {
    AssetKey::new(["flips", if n.is_multiple_of(2) { "even" } else { "odd" }]).expect("valid asset")
}

fn partition(n: u64) -> PartitionKey {
    PartitionKey::new(format!("p{n:03}")).expect("valid partition")
}

fn payload(n: u64) -> Vec<u8> {
    let mut bytes = payload_for(n + 1000);
    bytes.truncate(4096);
    bytes
}

fn populate(dir: &Path, kind: IndexKind) {
    let store = Store::builder(dir).index(kind).open().expect("create");
    for n in 0..PARTITIONS {
        let mut p = Payload::raw(payload(n));
        if n.is_multiple_of(3) {
            p = p
                .with_data_version(format!("v{n}"))
                .with_metadata("n", n.to_string());
        }
        store.put(&asset(n), &partition(n), p).expect("put");
    }
    store.close().expect("close checkpoints the index");
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

fn files_under(dir: &Path, out: &mut Vec<(PathBuf, u64)>) {
    for entry in std::fs::read_dir(dir).expect("read_dir") {
        let entry = entry.expect("entry");
        let meta = entry.metadata().expect("metadata");
        if meta.is_dir() {
            files_under(&entry.path(), out);
        } else if meta.len() > 0 {
            out.push((entry.path(), meta.len()));
        }
    }
}

/// splitmix64.
fn next(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Flips one bit of one index file; returns a description.
fn flip_one_bit(store_dir: &Path, seed: u64) -> String {
    let mut files = Vec::new();
    files_under(&store_dir.join("index"), &mut files);
    let total: u64 = files.iter().map(|(_, len)| len).sum();
    assert!(total > 0, "the index has files");
    let mut state = seed;
    let mut at = next(&mut state) % (total * 8);
    for (path, len) in files {
        if at < len * 8 {
            let mut bytes = std::fs::read(&path).expect("read index file");
            bytes[(at / 8) as usize] ^= 1 << (at % 8);
            std::fs::write(&path, &bytes).expect("write index file");
            return format!("bit {} of {}", at, path.display());
        }
        at -= len * 8;
    }
    unreachable!("the bit lies in some file")
}

/// Opens and reads everything; returns whether the index was rebuilt.
fn reopen_and_read(dir: &Path, kind: IndexKind, what: &str) -> bool {
    let store = Store::builder(dir)
        .index(kind)
        .open()
        .unwrap_or_else(|e| panic!("{what}: open failed: {e}"));
    for n in 0..PARTITIONS {
        match store.get(&asset(n), &partition(n)) {
            Ok(Some(blob)) => {
                assert!(
                    *blob == *payload(n),
                    "{what}: partition {n} reads other bytes"
                );
                if n.is_multiple_of(3) {
                    assert_eq!(
                        blob.meta().data_version.as_deref(),
                        Some(format!("v{n}").as_str()),
                        "{what}: partition {n} metadata"
                    );
                }
            }
            Ok(None) => panic!("{what}: partition {n} reads as absent"),
            Err(Error::Corrupted { .. }) => {}
            Err(other) => panic!("{what}: partition {n}: unexpected error {other}"),
        }
    }
    store.recovery().index_rebuilt.is_some()
}

#[test]
fn one_flipped_index_bit_never_makes_a_read_lie() {
    // The backends panic on some damage (the engine catches it and rebuilds);
    // keep their messages out of the output. A panic reaching this test is
    // still reported with its message below.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let outcome = catch_unwind(run_all_seeds);
    std::panic::set_hook(default_hook);
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

fn run_all_seeds() {
    for kind in backends() {
        let started = Instant::now();
        let template = tempfile::tempdir().expect("tempdir");
        populate(template.path(), kind);
        let mut rebuilt = 0;
        for seed in 0..SEEDS {
            let work = tempfile::tempdir().expect("tempdir");
            copy_tree(template.path(), work.path());
            let flipped = flip_one_bit(work.path(), seed ^ 0xF11B);
            let what = format!("{kind:?} seed {seed} ({flipped})");
            let outcome = catch_unwind(AssertUnwindSafe(|| {
                reopen_and_read(work.path(), kind, &what)
            }));
            match outcome {
                Ok(true) => rebuilt += 1,
                Ok(false) => {}
                Err(panic) => {
                    let message = panic
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_string()))
                        .unwrap_or_default();
                    panic!("{what}: panicked: {message}");
                }
            }
        }
        println!(
            "{kind:?}: {rebuilt} of {SEEDS} flipped bits led to an index rebuild ({:?})",
            started.elapsed()
        );
    }
}
