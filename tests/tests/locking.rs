//! One store per directory: a second opener, in this process or another,
//! gets `Error::Locked`; the lock is released when the store is dropped.

use std::io::Read;

use tessera_engine::{Error, Store};
use tessera_tests::child_command;

const CHILD_DIR: &str = "TESSERA_LOCK_CHILD_DIR";

#[test]
fn lock_child_opener() {
    let Ok(dir) = std::env::var(CHILD_DIR) else {
        return;
    };
    match Store::open(&dir) {
        Err(Error::Locked { .. }) => println!("CHILD-SAW-LOCKED"),
        Err(other) => println!("CHILD-SAW-ERROR {other}"),
        Ok(_) => println!("CHILD-OPENED"),
    }
}

fn child_outcome(dir: &std::path::Path) -> String {
    let mut child = child_command(
        "lock_child_opener",
        &[(CHILD_DIR, dir.to_str().expect("utf-8"))],
    )
    .spawn()
    .expect("spawn");
    let mut out = String::new();
    child
        .stdout
        .take()
        .expect("stdout")
        .read_to_string(&mut out)
        .expect("read");
    child.wait().expect("wait");
    out
}

#[test]
fn a_second_process_gets_locked_until_the_first_closes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path()).expect("open");
    assert!(child_outcome(dir.path()).contains("CHILD-SAW-LOCKED"));
    drop(store);
    assert!(child_outcome(dir.path()).contains("CHILD-OPENED"));
}

#[test]
fn a_second_open_in_the_same_process_gets_locked() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path()).expect("open");
    let clone = store.clone();
    assert!(matches!(Store::open(dir.path()), Err(Error::Locked { .. })));
    drop(store);
    assert!(
        matches!(Store::open(dir.path()), Err(Error::Locked { .. })),
        "a clone still holds it"
    );
    drop(clone);
    Store::open(dir.path()).expect("released");
}
