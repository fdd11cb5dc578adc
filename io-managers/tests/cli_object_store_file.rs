//! Every CLI command on a store on object storage, through a `file://`
//! address (the object-store backend on a shared directory, no server
//! needed): what it prints, and that the objects land under the address,
//! not in the cache.

mod support;
use std::path::{Path, PathBuf};

use support::{failure, stdout, tessera};

/// A `file://` store address in `root`, and the CLI's cache directory kept
/// inside `root` too (through TMPDIR) so the test leaves nothing behind.
fn address(root: &Path) -> PathBuf {
    PathBuf::from(format!("file://{}/bucket/weather", root.display()))
}

fn run(root: &Path, args: &[&str]) -> std::process::Output {
    let cache = root.join("tmp");
    std::fs::create_dir_all(&cache).expect("cache dir");
    support::tessera_with_env(&address(root), args, &[("TMPDIR", cache.as_os_str())])
}

#[test]
fn every_command_works_on_a_file_address() {
    let root = tempfile::tempdir().expect("tempdir");
    let root = root.path();
    let materialized = stdout(&run(
        root,
        &[
            "materialize",
            "--from",
            "2024-01-01",
            "--to",
            "2024-01-02",
            "--quiet",
        ],
    ));
    assert!(
        materialized.contains("materialized 5 partitions"),
        "{materialized}"
    );
    assert!(
        materialized.contains(&format!("into {}", address(root).display())),
        "the summary names the address, not the cache: {materialized}"
    );
    assert!(root.join("bucket/weather/FORMAT").is_file());
    assert!(root.join("bucket/weather/log").is_dir());

    let assets = stdout(&run(root, &["assets"]));
    for asset in [
        "public/weather_obs",
        "public/rolling_7d_stats",
        "public/summary",
    ] {
        assert!(assets.contains(asset), "{assets}");
    }
    let partitions = stdout(&run(root, &["partitions", "public/weather_obs"]));
    assert!(partitions.contains("2024-01-02") && partitions.contains("100000"));
    let show = stdout(&run(
        root,
        &["show", "public/rolling_7d_stats", "2024-01-02"],
    ));
    assert!(show.contains("mean_temp_c: Float64"), "{show}");
    let history = stdout(&run(root, &["history", "public/weather_obs", "2024-01-01"]));
    assert!(history.contains("1 retained version"), "{history}");

    let verify = stdout(&run(root, &["verify"]));
    assert!(verify.contains("every checksum matches"), "{verify}");
    let stats = stdout(&run(root, &["stats"]));
    assert!(
        stats.contains("user assets             3       5"),
        "{stats}"
    );

    let export = root.join("day.arrow");
    stdout(&run(
        root,
        &[
            "export",
            "public/weather_obs",
            "2024-01-02",
            export.to_str().expect("utf-8"),
        ],
    ));
    let reader = arrow_ipc::reader::FileReader::try_new(
        std::fs::File::open(&export).expect("exported"),
        None,
    )
    .expect("an Arrow IPC file");
    assert_eq!(
        reader.map(|b| b.expect("batch").num_rows()).sum::<usize>(),
        100_000
    );

    let wiped = stdout(&run(
        root,
        &["wipe", "public/weather_obs", "--partitions", "2024-01-01"],
    ));
    assert!(wiped.contains("wiped 1 partitions"), "{wiped}");
    let stale = stdout(&run(root, &["stale"]));
    assert!(stale.contains("2024-01-01  missing"), "{stale}");
    let refill = stdout(&run(
        root,
        &[
            "materialize",
            "--from",
            "2024-01-01",
            "--to",
            "2024-01-02",
            "--missing-or-stale",
            "--quiet",
        ],
    ));
    assert!(refill.contains("materialized 4 partitions"), "{refill}");

    let compacted = stdout(&run(root, &["compact", "--quiet"]));
    assert!(compacted.contains("moved:"), "{compacted}");
    let after = stdout(&run(root, &["verify"]));
    assert!(after.contains("every checksum matches"), "{after}");
    let partitions = stdout(&run(root, &["partitions", "public/weather_obs"]));
    let days = partitions.lines().filter(|l| l.starts_with("2024-01-0"));
    assert_eq!(
        days.count(),
        2,
        "both days kept through compaction: {partitions}"
    );

    let repair = failure(&run(root, &["repair"]));
    assert!(repair.contains("not supported"), "{repair}");
}

#[test]
fn a_missing_store_at_a_file_address_is_named_and_not_created() {
    let root = tempfile::tempdir().expect("tempdir");
    let error = failure(&tessera(&address(root.path()), &["assets"]));
    assert!(error.contains("is not a Tessera store"), "{error}");
    assert!(!root.path().join("bucket/weather/FORMAT").exists());
}
