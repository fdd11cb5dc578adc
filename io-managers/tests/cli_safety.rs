//! The `tessera` binary cannot hurt a store: `export` refuses paths inside
//! it and never leaves a partial file; read commands write nothing and work
//! beside a running `materialize`; `--store` refuses to turn a directory of
//! other files into a store; `--threads` is bounded; Ctrl-C stops a run
//! cleanly (summary printed, store intact, exit 130).

use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod support;
use support::{snapshot, stderr, stdout, tessera};

/// A store with two days of the example pipeline.
fn small_store(dir: &Path) -> PathBuf {
    let store = dir.join("store");
    stdout(&tessera(
        &store,
        &["materialize", "--to", "2024-01-02", "--quiet"],
    ));
    store
}

/// The path of a segment file of `store` (a small store has one).
fn first_segment(store: &Path) -> PathBuf {
    std::fs::read_dir(store.join("segments"))
        .expect("segments")
        .next()
        .expect("one segment")
        .expect("entry")
        .path()
}

#[test]
fn export_refuses_every_path_inside_the_store() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = small_store(dir.path());
    let segment = first_segment(&store);
    std::os::unix::fs::symlink(store.join("segments"), dir.path().join("link")).expect("symlink");
    let before = snapshot(&store);
    for target in [
        segment.clone(),
        store.join("index").join("db"),
        store.join("new-file.arrow"),
        dir.path().join("link").join("x.arrow"),
    ] {
        let target_arg = target.to_str().expect("utf-8");
        let refused = tessera(
            &store,
            &["export", "public/weather_obs", "2024-01-01", target_arg],
        );
        assert_eq!(refused.status.code(), Some(2), "{target:?}");
        let message = stderr(&refused);
        assert!(
            message.contains("refusing to export into the store") && message.contains(target_arg),
            "{message}"
        );
    }
    assert_eq!(snapshot(&store), before, "the store's files are untouched");
    assert!(stdout(&tessera(&store, &["verify"])).contains("every checksum matches"));
}

#[test]
fn export_dash_writes_the_file_to_stdout() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = small_store(dir.path());
    let output = Command::new(env!("CARGO_BIN_EXE_tessera"))
        .current_dir(dir.path())
        .arg("--store")
        .arg(&store)
        .args(["export", "public/weather_obs", "2024-01-02", "-"])
        .output()
        .expect("run");
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(!dir.path().join("-").exists(), "no file named -");
    let reader = arrow_ipc::reader::FileReader::try_new(std::io::Cursor::new(output.stdout), None)
        .expect("stdout holds an Arrow IPC file");
    let rows: usize = reader.map(|b| b.expect("batch").num_rows()).sum();
    assert_eq!(rows, 100_000);
}

#[test]
fn a_failed_export_names_the_path_and_leaves_no_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = small_store(dir.path());
    let out_dir = dir.path().join("out");
    std::fs::create_dir(&out_dir).expect("out dir");
    let blocked = out_dir.join("day.arrow");
    std::fs::create_dir(&blocked).expect("a directory where the file should go");
    let blocked_arg = blocked.to_str().expect("utf-8");
    let failed = tessera(
        &store,
        &["export", "public/weather_obs", "2024-01-01", blocked_arg],
    );
    assert_eq!(failed.status.code(), Some(2));
    assert!(stderr(&failed).contains(blocked_arg), "{}", stderr(&failed));
    let left: Vec<_> = std::fs::read_dir(&out_dir)
        .expect("out dir")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(left, ["day.arrow"], "no temporary file is left behind");
}

#[test]
fn read_commands_write_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = small_store(dir.path());
    let before = snapshot(&store);
    let out = dir.path().join("day.arrow");
    let out_arg = out.to_str().expect("utf-8");
    for args in [
        vec!["assets"],
        vec!["partitions", "public/weather_obs"],
        vec!["show", "public/summary"],
        vec!["export", "public/weather_obs", "2024-01-01", out_arg],
        vec!["verify"],
        vec!["stats"],
    ] {
        stdout(&tessera(&store, &args));
    }
    assert_eq!(snapshot(&store), before);
}

#[test]
fn store_refuses_a_directory_of_other_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let other = dir.path().join("photos");
    std::fs::create_dir(&other).expect("dir");
    std::fs::write(other.join("cat.jpg"), b"not a store").expect("file");
    let refused = tessera(&other, &["materialize", "--to", "2024-01-01", "--quiet"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        stderr(&refused).contains("not a Tessera store and not empty"),
        "{}",
        stderr(&refused)
    );
    let names: Vec<_> = std::fs::read_dir(&other)
        .expect("dir")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(names, ["cat.jpg"], "nothing was left behind");

    let made = stdout(&tessera(&other, &["init"]));
    assert!(made.contains("made a Tessera store"), "{made}");
    stdout(&tessera(
        &other,
        &["materialize", "--to", "2024-01-01", "--quiet"],
    ));

    let forced = dir.path().join("music");
    std::fs::create_dir(&forced).expect("dir");
    std::fs::write(forced.join("song.mp3"), b"x").expect("file");
    stdout(&tessera(
        &forced,
        &["--create", "materialize", "--to", "2024-01-01", "--quiet"],
    ));
    assert!(forced.join("FORMAT").is_file());
}

#[test]
fn too_many_threads_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("store");
    let refused = tessera(&store, &["materialize", "--threads", "100000", "--quiet"]);
    assert_eq!(refused.status.code(), Some(2));
    let message = stderr(&refused);
    assert!(
        message.starts_with("error: --threads 100000: give 1 to "),
        "{message}"
    );
    assert!(!message.contains("panicked"), "{message}");
    assert!(!store.exists(), "nothing is created for a refused run");
}

/// Starts a month-long materialize and waits until it has stored something.
fn running_materialize(store: &Path) -> Child {
    let child = Command::new(env!("CARGO_BIN_EXE_tessera"))
        .arg("--store")
        .arg(store)
        .args(["materialize", "--threads", "1", "--quiet"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start materialize");
    let deadline = Instant::now() + Duration::from_secs(60);
    while stored_bytes(store) < 8 << 20 {
        assert!(
            Instant::now() < deadline,
            "materialize stored nothing in 60 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

fn stored_bytes(store: &Path) -> u64 {
    std::fs::read_dir(store.join("segments"))
        .map(|entries| {
            entries
                .filter_map(|e| e.ok()?.metadata().ok())
                .map(|m| m.blocks() * 512)
                .sum()
        })
        .unwrap_or(0)
}

#[test]
fn read_commands_work_while_materialize_runs_and_ctrl_c_stops_it_cleanly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("store");
    let child = running_materialize(&store);

    let assets = stdout(&tessera(&store, &["assets"]));
    assert!(assets.contains("public/weather_obs"), "{assets}");
    stdout(&tessera(&store, &["stats"]));

    let pid = child.id().to_string();
    let kill = Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .expect("kill");
    assert!(kill.success());
    let output = child.wait_with_output().expect("materialize ends");
    assert_eq!(output.status.code(), Some(130), "{}", stderr(&output));
    let summary = String::from_utf8_lossy(&output.stdout);
    assert!(
        summary.contains("public/weather_obs"),
        "the summary prints: {summary}"
    );
    assert!(summary.contains("interrupted: "), "{summary}");
    assert!(!summary.contains("materialized 63 partitions"), "{summary}");

    let verify = stdout(&tessera(&store, &["verify"]));
    assert!(verify.contains("every checksum matches"), "{verify}");
    let again = stdout(&tessera(
        &store,
        &["materialize", "--missing-or-stale", "--quiet"],
    ));
    assert!(
        !again.contains("materialized 0 partitions"),
        "the rest runs later: {again}"
    );
}

#[test]
fn a_damaged_log_is_reported_by_read_commands_and_fails_verify() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = small_store(dir.path());
    let segment = first_segment(&store);
    let mut bytes = std::fs::read(&segment).expect("read segment");
    let run_id = b"__tessera__";
    let at = bytes
        .windows(run_id.len())
        .rposition(|w| w == run_id)
        .expect("a record key in the log");
    bytes[at + 2] ^= 0xff;
    std::fs::write(&segment, bytes).expect("damage the log");

    let verify = tessera(&store, &["verify"]);
    assert_eq!(verify.status.code(), Some(1), "{}", stderr(&verify));
    let report = String::from_utf8_lossy(&verify.stdout);
    assert!(report.contains("unreadable log: "), "{report}");
    assert!(!report.contains("every checksum matches"), "{report}");
    let assets = tessera(&store, &["assets"]);
    assert!(assets.status.success());
    assert!(
        stderr(&assets).contains("the log cannot be read past byte"),
        "{}",
        stderr(&assets)
    );
}

#[test]
fn an_unreadable_record_is_named_by_partitions_and_show_instead_of_failing_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store_dir = small_store(dir.path());
    {
        let store = tessera_engine::Store::open(&store_dir).expect("open");
        let record = tessera_engine::AssetKey::new([
            "__tessera__",
            "materializations",
            "public",
            "weather_obs",
        ])
        .expect("key");
        store
            .put(
                &record,
                &tessera_engine::PartitionKey::new("2024-01-01").expect("key"),
                tessera_engine::Payload::raw(&b"not a record"[..]),
            )
            .expect("overwrite the record");
    }
    let partitions = stdout(&tessera(&store_dir, &["partitions", "public/weather_obs"]));
    let day = partitions
        .lines()
        .find(|line| line.starts_with("2024-01-01"))
        .expect("the day is listed");
    assert!(day.contains("record damaged"), "{partitions}");
    let show = stdout(&tessera(
        &store_dir,
        &["show", "public/weather_obs", "2024-01-01"],
    ));
    assert!(
        show.contains("the materialization record cannot be read"),
        "{show}"
    );
    assert!(
        show.contains("rows:         100000"),
        "the value still shows: {show}"
    );
}
