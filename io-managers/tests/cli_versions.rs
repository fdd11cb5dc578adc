//! The `tessera` binary's versions and space commands, run as a user runs
//! them: `history`, `show --version` / `--as-of`, `export --version`,
//! `stats` and `compact`, with the retention given by `--keep-last`.

use std::path::Path;

mod support;
use support::{failure, stdout, tessera};

const DAY: &str = "2024-01-01";
const ASSET: &str = "public/weather_obs";

fn materialize_day(store: &Path, keep: &str) -> String {
    stdout(&tessera(
        store,
        &[
            "--keep-last",
            keep,
            "materialize",
            "--from",
            DAY,
            "--to",
            DAY,
            "--quiet",
        ],
    ))
}

/// The version numbers of `history`'s table, newest first.
fn versions(history: &str) -> Vec<u64> {
    history
        .lines()
        .skip(2)
        .filter(|line| line.contains("Z "))
        .filter_map(|line| line.split_whitespace().next()?.parse().ok())
        .collect()
}

/// The `stored at` cell of the line of `version`.
fn stored_at(history: &str, version: u64) -> String {
    let line = history
        .lines()
        .find(|line| line.split_whitespace().next() == Some(&version.to_string()))
        .expect("the version's line");
    line.split_whitespace().nth(1).expect("a time").to_owned()
}

#[test]
fn history_lists_the_retained_versions_and_show_and_export_read_an_old_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("store");
    for _ in 0..3 {
        materialize_day(&store, "2");
    }
    let history = stdout(&tessera(
        &store,
        &["--keep-last", "2", "history", ASSET, DAY],
    ));
    let listed = versions(&history);
    assert_eq!(listed.len(), 2, "keep-last 2: {history}");
    assert!(listed[0] > listed[1], "newest first: {history}");
    assert!(history.contains("newest"), "{history}");
    assert!(history.contains("2 retained versions"), "{history}");

    let latest = stdout(&tessera(
        &store,
        &["--keep-last", "2", "history", ASSET, DAY],
    ));
    let default_retention = stdout(&tessera(&store, &["history", ASSET, DAY]));
    assert_eq!(
        versions(&default_retention),
        [listed[0]],
        "{default_retention}"
    );
    assert_eq!(latest, history, "inspecting changes nothing");

    let old = listed[1];
    let show = stdout(&tessera(
        &store,
        &[
            "--keep-last",
            "2",
            "show",
            ASSET,
            DAY,
            "--version",
            &old.to_string(),
        ],
    ));
    assert!(show.contains(&format!("version:      {old}")), "{show}");
    assert!(show.contains("rows:         100000"), "{show}");

    let time = stored_at(&history, old);
    let as_of = stdout(&tessera(
        &store,
        &["--keep-last", "2", "show", ASSET, DAY, "--as-of", &time],
    ));
    assert!(as_of.contains(&format!("version:      {old}")), "{as_of}");

    let file = dir.path().join("old.arrow");
    let file_arg = file.to_str().expect("utf-8 path");
    let export = stdout(&tessera(
        &store,
        &[
            "--keep-last",
            "2",
            "export",
            ASSET,
            DAY,
            file_arg,
            "--version",
            &old.to_string(),
        ],
    ));
    assert!(export.contains(&format!("(version {old})")), "{export}");
    let reader =
        arrow_ipc::reader::FileReader::try_new(std::fs::File::open(&file).expect("exported"), None)
            .expect("an Arrow IPC file");
    let rows: usize = reader.map(|b| b.expect("batch").num_rows()).sum();
    assert_eq!(rows, 100_000);

    let dropped = failure(&tessera(
        &store,
        &["show", ASSET, DAY, "--version", &old.to_string()],
    ));
    assert!(
        dropped.contains(&format!("at version {old}")),
        "the default retention keeps the newest only: {dropped}"
    );
    let both = failure(&tessera(
        &store,
        &[
            "show",
            ASSET,
            DAY,
            "--version",
            "1",
            "--as-of",
            "2024-01-01T00:00:00Z",
        ],
    ));
    assert!(both.contains("cannot be used with"), "{both}");
    let bad_time = failure(&tessera(&store, &["show", ASSET, DAY, "--as-of", "noon"]));
    assert!(bad_time.contains("is not a time"), "{bad_time}");
    let bad_age = failure(&tessera(&store, &["--keep-for", "3y", "stats"]));
    assert!(bad_age.contains("the unit must be"), "{bad_age}");
}

/// `tessera --json stats` under the retention flags `keep`.
fn stats(store: &Path, keep: &[&str]) -> serde_json::Value {
    let mut args = keep.to_vec();
    args.extend(["--json", "stats"]);
    serde_json::from_str(&stdout(&tessera(store, &args))).expect("stats as JSON")
}

fn number(stats: &serde_json::Value, field: &str) -> u64 {
    stats[field]
        .as_u64()
        .unwrap_or_else(|| panic!("{field} in {stats}"))
}

/// A store of 4 partitions of 64 KiB, each written 40 times, in 1 MiB
/// segments (the CLI's own opens use the default size: the sealed small
/// segments stay as they are), closed.
fn overwritten_store(dir: &Path) {
    let store = tessera_engine::Store::builder(dir)
        .segment_capacity(1 << 20)
        .compaction(tessera_engine::CompactionOptions::default().background(false))
        .open()
        .expect("open");
    let asset = tessera_engine::AssetKey::parse("raw/blobs").expect("asset");
    for round in 0..40_u8 {
        for partition in ["a", "b", "c", "d"] {
            let key = tessera_engine::PartitionKey::new(partition).expect("key");
            let payload = tessera_engine::Payload::raw(vec![round; 64 << 10]);
            store.put(&asset, &key, payload).expect("put");
        }
    }
    store.close().expect("close");
}

#[test]
fn compact_reclaims_the_overwritten_versions_that_stats_reports() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("store");
    overwritten_store(&store);
    let kept = stats(&store, &["--keep-last", "3"]);
    assert_eq!(
        number(&kept, "old_versions"),
        8,
        "2 older versions x 4: {kept}"
    );
    let before = stats(&store, &[]);
    assert_eq!(number(&before, "old_versions"), 0, "{before}");
    assert_eq!(before["user"]["partitions"], 4, "{before}");
    assert!(number(&before, "reclaimable_bytes") > 0, "{before}");
    let kept_before = stdout(&tessera(
        &store,
        &["--keep-last", "3", "history", "raw/blobs", "a"],
    ));
    assert_eq!(versions(&kept_before).len(), 3, "{kept_before}");

    let compact = stdout(&tessera(&store, &["compact", "--quiet"]));
    for line in ["bytes before:", "bytes after:", "reclaimed:", "dropped:"] {
        assert!(compact.contains(line), "{compact}");
    }
    assert!(!compact.contains("reclaimed:       0 B"), "{compact}");
    let after = stats(&store, &[]);
    assert!(
        number(&after, "segments") < number(&before, "segments"),
        "{before}\n{after}"
    );
    assert!(
        number(&after, "segment_bytes") * 4 < number(&before, "segment_bytes"),
        "the overwritten versions' space is gone: {before}\n{after}"
    );
    assert!(number(&after, "garbage_bytes") < number(&before, "garbage_bytes"));
    let history = stdout(&tessera(
        &store,
        &["--keep-last", "3", "history", "raw/blobs", "a"],
    ));
    assert!(
        versions(&history).len() < 3,
        "compaction under the default retention dropped the old versions of the segments it reclaimed: {history}"
    );
    let again: serde_json::Value =
        serde_json::from_str(&stdout(&tessera(&store, &["--json", "compact"])))
            .expect("compact as JSON");
    assert_eq!(
        again["segments_reclaimed"], 0,
        "nothing left to reclaim: {again}"
    );
    let listed: serde_json::Value = serde_json::from_str(&stdout(&tessera(
        &store,
        &["--json", "history", "raw/blobs", "a"],
    )))
    .expect("history as JSON");
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");
    assert_eq!(listed[0]["bytes"], 64 << 10, "{listed}");
    let verify = stdout(&tessera(&store, &["verify"]));
    assert!(verify.contains("every checksum matches"), "{verify}");
}
