//! The read commands on a store this process cannot write to: a read-only
//! mount and a full disk, through the built `tessera` binary.
//!
//! As root each store lives on its own tmpfs: remounted read-only (`EROFS`),
//! or filled to its last byte (`ENOSPC`); a guard unmounts it, also on
//! failure. Without the right to mount, the read-only case makes every file
//! and directory of the store read-only (`EACCES`), and the full-disk case
//! runs the binary under a file-size limit of 0 (`ulimit -f 0`: every write
//! fails with `EFBIG`), which a second test also runs as root.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

mod support;
use support::{snapshot, stderr, stdout, tessera};

const ASSET: &str = "public/weather_obs";
const DAY: &str = "2024-01-01";

/// Runs the binary with these arguments, on the test's store.
type RunCommand<'a> = dyn Fn(&[&str]) -> Output + 'a;

/// Unmounts a tmpfs on drop.
struct Tmpfs(PathBuf);

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

/// Mounts a tmpfs of `size` on `dir`, or `None` without the right to.
fn mount_tmpfs(dir: &Path, size: &str) -> Option<Tmpfs> {
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    mounted.then(|| Tmpfs(dir.to_path_buf()))
}

/// Two days of the example pipeline in `dir/store`.
fn materialize_two_days(dir: &Path) -> PathBuf {
    let store = dir.join("store");
    stdout(&tessera(
        &store,
        &["materialize", "--to", "2024-01-02", "--quiet"],
    ));
    store
}

/// Every read command, each of which must succeed and print what it read.
fn check_read_commands(run: &RunCommand<'_>, what: &str) {
    let assets = stdout(&run(&["assets"]));
    assert!(assets.contains(ASSET), "{what}: assets: {assets}");
    let partitions = stdout(&run(&["partitions", ASSET]));
    assert!(
        partitions.contains(DAY) && partitions.contains("2024-01-02"),
        "{what}: partitions: {partitions}"
    );
    let shown = stdout(&run(&["show", ASSET, DAY]));
    assert!(shown.contains("rows"), "{what}: show: {shown}");
    let verified = stdout(&run(&["verify"]));
    assert!(
        verified.contains("every checksum matches"),
        "{what}: verify: {verified}"
    );
    let stats = stdout(&run(&["stats", "--json"]));
    assert!(stats.contains("\"partitions\""), "{what}: stats: {stats}");
    let history = stdout(&run(&["history", ASSET, DAY]));
    assert!(!history.trim().is_empty(), "{what}: history is empty");
    let exported = run(&["export", ASSET, DAY, "-"]);
    let arrow = stdout(&exported);
    assert!(!arrow.is_empty(), "{what}: export to stdout wrote nothing");
}

fn set_read_only(dir: &Path, read_only: bool) {
    let mode = if read_only { "a-w" } else { "u+w" };
    let status = Command::new("chmod")
        .args(["-R", mode])
        .arg(dir)
        .status()
        .expect("chmod");
    assert!(status.success(), "chmod -R {mode}");
}

#[test]
fn read_commands_work_on_a_read_only_store() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mount = mount_tmpfs(dir.path(), "64m");
    let store = materialize_two_days(dir.path());
    let before = snapshot(&store);
    if mount.is_some() {
        println!("mode: tmpfs remounted read-only (EROFS)");
        let status = Command::new("mount")
            .args(["-o", "remount,ro"])
            .arg(dir.path())
            .status()
            .expect("remount");
        assert!(status.success(), "remount read-only");
        let writable = tessera(&store, &["materialize", "--to", "2024-01-03", "--quiet"]);
        assert_eq!(
            writable.status.code(),
            Some(2),
            "a write on a read-only mount"
        );
        assert!(
            !stderr(&writable).contains("panicked"),
            "{}",
            stderr(&writable)
        );
    } else {
        println!("mode: the store's files made read-only (no right to mount)");
        set_read_only(&store, true);
    }
    check_read_commands(&|args| tessera(&store, args), "read-only");
    let out = tempfile::tempdir().expect("out dir");
    let target = out.path().join("day.arrow");
    let target_arg = target.to_str().expect("utf-8");
    stdout(&tessera(&store, &["export", ASSET, DAY, target_arg]));
    assert!(std::fs::metadata(&target).expect("exported").len() > 0);
    assert_eq!(snapshot(&store), before, "the read commands wrote nothing");
    if mount.is_none() {
        set_read_only(&store, false);
    }
}

#[test]
fn read_commands_work_on_a_full_disk_and_a_failed_export_leaves_nothing() {
    read_commands_when_files_cannot_grow(false);
}

/// The `ulimit -f 0` mode, also as root.
#[test]
fn read_commands_work_under_a_file_size_limit_of_zero() {
    read_commands_when_files_cannot_grow(true);
}

fn read_commands_when_files_cannot_grow(force_file_size_limit: bool) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mount = if force_file_size_limit {
        None
    } else {
        mount_tmpfs(dir.path(), "24m")
    };
    let store = materialize_two_days(dir.path());
    let target = dir.path().join("day.arrow");
    let target_arg = target.to_str().expect("utf-8").to_owned();
    let run: Box<RunCommand<'_>> = if mount.is_some() {
        println!("mode: a tmpfs filled to its last byte (ENOSPC)");
        fill(dir.path());
        Box::new(|args: &[&str]| tessera(&store, args))
    } else {
        println!("mode: ulimit -f 0 on the binary (EFBIG)");
        Box::new(|args: &[&str]| without_file_growth(&store, args))
    };
    let before = snapshot(dir.path());
    check_read_commands(&*run, "full disk");
    let failed = run(&["export", ASSET, DAY, &target_arg]);
    assert_eq!(failed.status.code(), Some(2), "{}", stderr(&failed));
    let message = stderr(&failed);
    assert!(
        message.starts_with(&format!("error: cannot export to {target_arg}: ")),
        "names the path: {message}"
    );
    assert!(!message.contains("panicked"), "{message}");
    assert_eq!(
        snapshot(dir.path()),
        before,
        "no file or partial file is left"
    );
}

/// Fills the file system holding `dir` until a write fails with `ENOSPC`.
fn fill(dir: &Path) {
    use std::io::Write as _;
    let mut filler = std::fs::File::create(dir.join("filler")).expect("filler");
    let block = vec![0x5a_u8; 64 << 10];
    let mut size = block.len();
    while size > 0 {
        match filler.write(&block[..size]) {
            Ok(0) => size /= 2,
            Ok(_) => {}
            Err(e) if e.raw_os_error() == Some(28) => size /= 2,
            Err(e) => panic!("filling the disk: {e}"),
        }
    }
    let probe = std::fs::write(dir.join("probe"), [1_u8]);
    let _ = std::fs::remove_file(dir.join("probe"));
    assert!(probe.is_err(), "the disk is full");
}

/// `tessera --store STORE ARGS…` with a file-size limit of 0: every write to
/// a regular file fails with `EFBIG` (SIGXFSZ ignored).
fn without_file_growth(store: &Path, args: &[&str]) -> Output {
    Command::new("sh")
        .arg("-c")
        .arg(r#"trap "" XFSZ; ulimit -f 0 && exec "$@""#)
        .arg("sh")
        .arg(env!("CARGO_BIN_EXE_tessera"))
        .arg("--store")
        .arg(store)
        .args(args)
        .output()
        .expect("run the tessera binary under ulimit -f 0")
}
