//! Processes that share a store one operation at a time: an open with
//! `wait_for_lock` waits for the holder instead of failing `Locked`, sees every
//! batch committed before it opened, and no write of any process is lost or
//! torn. Without the option (or past its timeout) the open still fails `Locked`.

use std::io::Read;
use std::time::{Duration, Instant};

use tessera_engine::{AssetKey, Error, PartitionKey, Payload, Store};
use tessera_tests::child_command;

const CHILD_DIR: &str = "TESSERA_LOCK_WAIT_DIR";
const CHILD_ID: &str = "TESSERA_LOCK_WAIT_ID";
const WRITERS: usize = 4;
const WRITES_EACH: usize = 25;
const WAIT: Duration = Duration::from_secs(60);

fn asset() -> AssetKey {
    AssetKey::new(["shared", "counter"]).expect("asset")
}

/// The payload writer `child` stores under partition `write`: distinct per
/// write and long enough that a torn write could not pass for another.
fn payload(child: &str, write: usize) -> Vec<u8> {
    format!("{child}:{write}:").repeat(200).into_bytes()
}

/// Child: `WRITES_EACH` cycles of open (waiting) → put → close.
#[test]
fn lock_wait_child_writer() {
    let (Ok(dir), Ok(id)) = (std::env::var(CHILD_DIR), std::env::var(CHILD_ID)) else {
        return;
    };
    for write in 0..WRITES_EACH {
        let store = Store::builder(&dir)
            .wait_for_lock(WAIT)
            .open()
            .expect("a waiting open succeeds");
        let partition = PartitionKey::new(format!("{id}-{write:03}")).expect("partition");
        store
            .put(&asset(), &partition, Payload::raw(payload(&id, write)))
            .expect("put");
        store.close().expect("close");
    }
    println!("CHILD-DONE");
}

#[test]
fn writers_in_several_processes_lose_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dir_text = dir.path().to_str().expect("utf-8");
    let children: Vec<_> = (0..WRITERS)
        .map(|child| {
            let id = format!("w{child}");
            child_command(
                "lock_wait_child_writer",
                &[(CHILD_DIR, dir_text), (CHILD_ID, id.as_str())],
            )
            .spawn()
            .expect("spawn")
        })
        .collect();
    for mut child in children {
        let mut out = String::new();
        child
            .stdout
            .take()
            .expect("stdout")
            .read_to_string(&mut out)
            .expect("read");
        assert!(child.wait().expect("wait").success(), "child failed: {out}");
        assert!(out.contains("CHILD-DONE"), "child output: {out}");
    }
    let store = Store::open(dir.path()).expect("open");
    assert_eq!(
        store.list_partitions(&asset()).expect("list").len(),
        WRITERS * WRITES_EACH
    );
    for child in 0..WRITERS {
        let id = format!("w{child}");
        for write in 0..WRITES_EACH {
            let partition = PartitionKey::new(format!("{id}-{write:03}")).expect("partition");
            let blob = store
                .get(&asset(), &partition)
                .expect("get")
                .expect("stored");
            assert_eq!(&*blob, payload(&id, write).as_slice(), "{partition}");
        }
    }
}

#[test]
fn a_waiting_open_gets_the_store_when_the_holder_closes_and_sees_its_writes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let holder = Store::open(dir.path()).expect("open");
    let day = PartitionKey::new("2022-07-23").expect("partition");
    holder
        .put(&asset(), &day, Payload::raw(&b"first"[..]))
        .expect("put");
    let path = dir.path().to_path_buf();
    let waiter = std::thread::spawn(move || {
        let started = Instant::now();
        let store = Store::builder(&path).wait_for_lock(WAIT).open();
        (store, started.elapsed())
    });
    std::thread::sleep(Duration::from_millis(600));
    holder.close().expect("close");
    let (store, waited) = waiter.join().expect("join");
    let store = store.expect("the waiting open succeeds once the holder closed");
    assert!(
        waited >= Duration::from_millis(500),
        "it waited for the holder"
    );
    let blob = store.get(&asset(), &day).expect("get").expect("stored");
    assert_eq!(&*blob, b"first");
}

#[test]
fn an_open_past_its_wait_fails_locked() {
    let dir = tempfile::tempdir().expect("tempdir");
    let _holder = Store::open(dir.path()).expect("open");
    let outcome = Store::builder(dir.path())
        .wait_for_lock(Duration::from_millis(300))
        .open();
    assert!(matches!(outcome, Err(Error::Locked { .. })));
}
