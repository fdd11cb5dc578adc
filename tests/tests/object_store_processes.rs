//! The store on object storage shared by several processes, each with its
//! own cache: writers racing for the log, writers killed mid-commit, the
//! backend's own refusal of a second create, eviction under a held `Blob`.
//!
//! With `TESSERA_S3_BUCKET` set (by `.ci/s3-moto`, which starts a moto
//! server on 127.0.0.1 at a free port, configures the standard `AWS_*`
//! environment and stops the server), they run against that bucket over
//! the S3 wire protocol; otherwise against a `file://` directory (the same
//! backend code, `object_store`'s file system store underneath).

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use tessera_engine::object_store::path::Path as ObjectPath;
use tessera_engine::object_store::{PutMode, PutOptions, PutPayload};
use tessera_engine::{AssetKey, DEFAULT_GC_GRACE, Error, PartitionKey, Refresh, Store, WriteBatch};
use tessera_tests::{shared_backend, shared_store_url, unique_prefix};

const CHILD_URL: &str = "TESSERA_REMOTE_CHILD_URL";
const CHILD_CACHE: &str = "TESSERA_REMOTE_CHILD_CACHE";
const CHILD_WRITER: &str = "TESSERA_REMOTE_CHILD_WRITER";
const CHILD_ACKING: &str = "TESSERA_REMOTE_CHILD_ACKING";
const CHILD_GC_GRACE_MS: &str = "TESSERA_REMOTE_CHILD_GC_GRACE_MS";
/// The collection grace of [`compaction_beside_writer_processes_loses_nothing`]:
/// every handle of a store uses the same one.
const SHORT_GC_GRACE: Duration = Duration::from_secs(3);
const WRITERS: u32 = 4;
const COMMITS: u32 = 25;
/// The writers write a checkpoint object every this many commits.
const CHECKPOINT_EVERY: u64 = 10;

fn open(url: &str, cache: &Path) -> Store {
    Store::builder(url)
        .cache_dir(cache)
        .open()
        .expect("open the store on object storage")
}

fn key(writer: u32, commit: u32) -> PartitionKey {
    PartitionKey::new(format!("w{writer}-{commit:03}")).expect("partition")
}

fn payload(writer: u32, commit: u32) -> Vec<u8> {
    format!("writer {writer} commit {commit}")
        .into_bytes()
        .repeat(50)
}

fn assets() -> [AssetKey; 2] {
    [
        AssetKey::new(["left"]).expect("asset"),
        AssetKey::new(["right"]).expect("asset"),
    ]
}

/// The asset each writer overwrites in every commit (its partition
/// `key(writer, 0)`), so old log objects fill with garbage.
fn hot() -> AssetKey {
    AssetKey::new(["hot"]).expect("asset")
}

/// One writer process of [`several_writer_processes_lose_no_commit`] and
/// [`compaction_beside_writer_processes_loses_nothing`]: it commits
/// `COMMITS` batches, each the same partition of both assets and an
/// overwrite of its partition of [`hot`].
#[test]
#[ignore = "a child process of several_writer_processes_lose_no_commit"]
fn child_writer() {
    let (Ok(url), Ok(cache), Ok(writer)) = (
        std::env::var(CHILD_URL),
        std::env::var(CHILD_CACHE),
        std::env::var(CHILD_WRITER),
    ) else {
        return;
    };
    let writer: u32 = writer.parse().expect("writer number");
    let grace = std::env::var(CHILD_GC_GRACE_MS)
        .ok()
        .and_then(|ms| ms.parse().ok())
        .map_or(DEFAULT_GC_GRACE, Duration::from_millis);
    let store = Store::builder(&url)
        .cache_dir(&cache)
        .remote_checkpoint_every(CHECKPOINT_EVERY)
        .remote_gc_grace(grace)
        .open()
        .expect("open the store on object storage");
    for commit in 0..COMMITS {
        let mut batch = WriteBatch::new();
        for asset in &assets() {
            batch.put(asset, &key(writer, commit), payload(writer, commit));
        }
        batch.put(&hot(), &key(writer, 0), payload(writer, commit));
        store.write(batch).expect("commit");
    }
}

/// Starts one [`child_writer`] process per writer on `url`, each caching
/// under `caches`, with `env` set.
fn spawn_writers(url: &str, caches: &Path, env: &[(&str, String)]) -> Vec<std::process::Child> {
    let exe = std::env::current_exe().expect("test binary");
    (0..WRITERS)
        .map(|writer| {
            Command::new(&exe)
                .args(["child_writer", "--exact", "--ignored", "--test-threads=1"])
                .env(CHILD_URL, url)
                .env(CHILD_CACHE, caches.join(format!("writer-{writer}")))
                .env(CHILD_WRITER, writer.to_string())
                .envs(env.iter().map(|(k, v)| (k, v)))
                .stdout(Stdio::null())
                .spawn()
                .expect("spawn a writer process")
        })
        .collect()
}

/// Every writer's every commit, and its last overwrite of [`hot`], read
/// from `store`.
fn assert_every_commit(store: &Store) {
    for asset in &assets() {
        assert_eq!(
            store.list_partitions(asset).expect("list").len(),
            (WRITERS * COMMITS) as usize,
            "no commit lost, no batch torn"
        );
    }
    for writer in 0..WRITERS {
        for commit in 0..COMMITS {
            for asset in &assets() {
                let blob = store
                    .get(asset, &key(writer, commit))
                    .expect("get")
                    .expect("committed");
                assert_eq!(&*blob, payload(writer, commit).as_slice());
            }
        }
        let last = store
            .get(&hot(), &key(writer, 0))
            .expect("get")
            .expect("overwritten");
        assert_eq!(&*last, payload(writer, COMMITS - 1).as_slice());
    }
}

#[test]
fn compaction_beside_writer_processes_loses_nothing() {
    let caches = tempfile::tempdir().expect("tempdir");
    let url = shared_store_url(&unique_prefix("compaction"), caches.path());
    let compactor = Store::builder(&url)
        .cache_dir(caches.path().join("compactor"))
        .remote_gc_grace(SHORT_GC_GRACE)
        .open()
        .expect("open the compactor");
    let grace_ms = SHORT_GC_GRACE.as_millis().to_string();
    let mut writers = spawn_writers(&url, caches.path(), &[(CHILD_GC_GRACE_MS, grace_ms)]);
    let mut moved = 0;
    while writers
        .iter_mut()
        .any(|w| w.try_wait().expect("poll").is_none())
    {
        moved += compactor
            .compact()
            .expect("compact beside the writers")
            .moved_versions;
        std::thread::sleep(Duration::from_millis(20));
    }
    for mut writer in writers {
        assert!(
            writer.wait().expect("wait").success(),
            "a writer process failed"
        );
    }
    compactor.refresh().expect("refresh");
    let objects_before = compactor.stats().expect("stats").segments;
    std::thread::sleep(SHORT_GC_GRACE + Duration::from_millis(500));
    let last = compactor.compact().expect("compact after the grace");
    moved += last.moved_versions;
    assert!(moved > 0, "compaction rewrote live versions of old objects");
    assert!(last.segments_reclaimed > 0, "{last:?}");
    let objects_after = compactor.stats().expect("stats").segments;
    assert!(
        objects_after < objects_before,
        "collection deleted log objects: {objects_before} -> {objects_after}"
    );
    assert_every_commit(&compactor);
    let fresh = open(&url, &caches.path().join("fresh"));
    assert_every_commit(&fresh);
    let report = fresh.verify().expect("verify");
    assert!(report.is_ok(), "{report:?}");
}

/// A writer process that commits until it is killed, printing `ACK w n`
/// after each acknowledged commit (a batch of partition `(w, n)` of both
/// assets).
#[test]
#[ignore = "a child process of killed_writer_processes_lose_no_acknowledged_commit"]
fn child_acking_writer() {
    let (Ok(url), Ok(cache), Ok(writer), Ok(_)) = (
        std::env::var(CHILD_URL),
        std::env::var(CHILD_CACHE),
        std::env::var(CHILD_WRITER),
        std::env::var(CHILD_ACKING),
    ) else {
        return;
    };
    let writer: u32 = writer.parse().expect("writer number");
    let store = open(&url, Path::new(&cache));
    let mut out = std::io::stdout().lock();
    for commit in 0..1000 {
        let mut batch = WriteBatch::new();
        for asset in &assets() {
            batch.put(asset, &key(writer, commit), payload(writer, commit));
        }
        store.write(batch).expect("commit");
        writeln!(out, "ACK {writer} {commit}").expect("report");
        out.flush().expect("report");
    }
}

#[test]
fn killed_writer_processes_lose_no_acknowledged_commit() {
    let caches = tempfile::tempdir().expect("tempdir");
    let url = shared_store_url(&unique_prefix("killed"), caches.path());
    drop(open(&url, &caches.path().join("creator")));
    let exe = std::env::current_exe().expect("test binary");
    let mut acknowledged = Vec::new();
    for round in 0..3u32 {
        let children: Vec<_> = (0..3u32)
            .map(|i| {
                let writer = round * 10 + i;
                Command::new(&exe)
                    .args(["child_acking_writer", "--exact", "--ignored", "--nocapture"])
                    .env(CHILD_URL, &url)
                    .env(CHILD_CACHE, caches.path().join(format!("writer-{writer}")))
                    .env(CHILD_WRITER, writer.to_string())
                    .env(CHILD_ACKING, "1")
                    .stdout(Stdio::piped())
                    .spawn()
                    .expect("spawn a writer process")
            })
            .collect();
        for (i, mut child) in children.into_iter().enumerate() {
            // Kills land at different moments of each writer's commits.
            std::thread::sleep(Duration::from_millis(150 + 70 * i as u64));
            child.kill().expect("SIGKILL");
            let output = child.wait_with_output().expect("reap");
            let text = String::from_utf8_lossy(&output.stdout);
            for line in text.lines() {
                let Some(ack) = line.split("ACK ").nth(1) else {
                    continue;
                };
                let mut words = ack.split(' ');
                let (Some(w), Some(n)) = (words.next(), words.next()) else {
                    continue;
                };
                if let (Ok(w), Ok(n)) = (w.parse::<u32>(), n.parse::<u32>()) {
                    acknowledged.push((w, n));
                }
            }
        }
    }
    assert!(
        acknowledged.len() >= 9,
        "the writers committed before the kills: {acknowledged:?}"
    );
    let reader = open(&url, &caches.path().join("reader"));
    for &(writer, commit) in &acknowledged {
        for asset in &assets() {
            let blob = reader
                .get(asset, &key(writer, commit))
                .expect("get")
                .unwrap_or_else(|| panic!("acknowledged commit {writer}/{commit} lost"));
            assert_eq!(&*blob, payload(writer, commit).as_slice());
        }
    }
    let [left, right] = assets();
    let on_left = reader.list_partitions(&left).expect("list");
    assert_eq!(
        on_left,
        reader.list_partitions(&right).expect("list"),
        "no torn batch"
    );
    for partition in &on_left {
        let blob = reader.get(&left, partition).expect("get").expect("listed");
        let (writer, commit) = partition
            .as_str()
            .expect("a text key")
            .trim_start_matches('w')
            .split_once('-')
            .map(|(w, n)| (w.parse().expect("writer"), n.parse().expect("commit")))
            .expect("a writer's key");
        assert_eq!(
            &*blob,
            payload(writer, commit).as_slice(),
            "no torn payload"
        );
    }
}

#[test]
fn several_writer_processes_lose_no_commit() {
    let caches = tempfile::tempdir().expect("tempdir");
    let url = shared_store_url(&unique_prefix("writers"), caches.path());
    let reader = open(&url, &caches.path().join("reader"));
    for mut child in spawn_writers(&url, caches.path(), &[]) {
        assert!(
            child.wait().expect("wait").success(),
            "a writer process failed"
        );
    }
    let batches = u64::from(WRITERS * COMMITS);
    assert_eq!(
        reader.refresh().expect("refresh"),
        Refresh::CaughtUp { batches },
        "the reader catches up with every commit"
    );
    let fresh = open(&url, &caches.path().join("fresh"));
    assert_eq!(
        fresh.recovery().replayed_batches,
        batches % CHECKPOINT_EVERY,
        "a fresh open reads the last checkpoint and the log objects after it"
    );
    assert_every_commit(&reader);
    assert_every_commit(&fresh);
}

#[test]
fn the_server_enforces_conditional_creates() {
    let prefix = unique_prefix("conditional");
    let caches = tempfile::tempdir().expect("tempdir");
    let store = open(
        &shared_store_url(&prefix, caches.path()),
        &caches.path().join("cache"),
    );
    store
        .put(&assets()[0], &key(0, 0), &b"first"[..])
        .expect("put");
    let backend = shared_backend(caches.path());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let taken = ObjectPath::from(format!("{prefix}/log/{:020}", 1));
    let create = PutOptions {
        mode: PutMode::Create,
        ..PutOptions::default()
    };
    let second = runtime.block_on(backend.put_opts(&taken, PutPayload::from_static(b"x"), create));
    assert!(
        matches!(
            second,
            Err(tessera_engine::object_store::Error::AlreadyExists { .. })
        ),
        "{second:?}"
    );
    let blob = store
        .get(&assets()[0], &key(0, 0))
        .expect("get")
        .expect("kept");
    assert_eq!(&*blob, b"first");
    let garbage = ObjectPath::from(format!("{prefix}/log/{:020}", 2));
    runtime
        .block_on(backend.put_opts(
            &garbage,
            PutPayload::from_static(b"garbage"),
            PutOptions::default(),
        ))
        .expect("put garbage");
    let error = store.refresh().expect_err("a foreign log object");
    assert!(matches!(error, Error::CorruptObject { .. }), "{error}");
}

#[test]
fn a_held_blob_outlives_the_eviction_of_its_object() {
    let caches = tempfile::tempdir().expect("tempdir");
    let url = shared_store_url(&unique_prefix("eviction"), caches.path());
    let writer = open(&url, &caches.path().join("writer"));
    for n in 0..3u8 {
        writer
            .put(&assets()[0], &key(0, n.into()), vec![n; 100_000])
            .expect("put");
    }
    let reader = Store::builder(&url)
        .cache_dir(caches.path().join("reader"))
        .cache_limit(150_000)
        .open()
        .expect("open");
    let held = reader
        .get(&assets()[0], &key(0, 0))
        .expect("get")
        .expect("present");
    assert!(
        held.is_in_mapping(held.as_ptr()),
        "zero-copy from the cache"
    );
    for n in 1..3u8 {
        let blob = reader
            .get(&assets()[0], &key(0, n.into()))
            .expect("get")
            .expect("present");
        assert!(blob.iter().all(|&b| b == n));
    }
    let cached = std::fs::read_dir(reader.path())
        .expect("cache directory")
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.file_name().to_string_lossy().ends_with(".seg"))
        })
        .count();
    assert!(
        cached < 3,
        "the cache limit evicted an object ({cached} cached)"
    );
    assert_eq!(held.len(), 100_000);
    assert!(
        held.iter().all(|&b| b == 0),
        "the held blob keeps its bytes"
    );
    let again = reader
        .get(&assets()[0], &key(0, 0))
        .expect("get")
        .expect("fetched again");
    assert!(again.iter().all(|&b| b == 0));
}
