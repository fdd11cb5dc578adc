//! What the CLI tests share: running the built `tessera` binary on a store
//! and reading its output. Each test file uses part of it.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::SystemTime;

/// Runs `tessera --store STORE ARGS…` and waits for it.
pub fn tessera(store: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tessera"))
        .arg("--store")
        .arg(store)
        .args(args)
        .output()
        .expect("run the tessera binary")
}

/// Runs `tessera --store STORE ARGS…` with `env` set, and waits for it.
pub fn tessera_with_env(store: &Path, args: &[&str], env: &[(&str, &std::ffi::OsStr)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tessera"))
        .arg("--store")
        .arg(store)
        .args(args)
        .envs(env.iter().copied())
        .output()
        .expect("run the tessera binary")
}

/// The standard output of a run that must have succeeded.
pub fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "exit {:?}: {}",
        output.status.code(),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The standard error of a run, whatever its status.
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The standard error of a run that must have failed with status 2 (a
/// command's error).
pub fn failure(output: &Output) -> String {
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    stderr(output)
}

/// Every file under `dir` with its length and modification time.
pub fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (u64, SystemTime)> {
    let mut files = BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(at) = pending.pop() {
        for entry in std::fs::read_dir(&at).expect("read dir") {
            let entry = entry.expect("entry");
            let meta = entry.metadata().expect("metadata");
            if meta.is_dir() {
                pending.push(entry.path());
            } else {
                files.insert(entry.path(), (meta.len(), meta.modified().expect("mtime")));
            }
        }
    }
    files
}
