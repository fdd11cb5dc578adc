//! `tessera stale [ASSET]`, run as a user runs it: the missing and stale
//! partitions with their causes, as a table and as JSON; fresh partitions are
//! not listed.

use std::path::Path;

mod support;
use support::{stdout, tessera};

fn materialized_store(dir: &Path) -> std::path::PathBuf {
    let store = dir.join("store");
    let args = [
        "materialize",
        "--from",
        "2024-01-01",
        "--to",
        "2024-01-03",
        "--quiet",
    ];
    stdout(&tessera(&store, &args));
    store
}

#[test]
fn stale_json_lists_missing_partitions_with_the_upstream_they_lack_and_not_fresh_ones() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = materialized_store(dir.path());
    let text = stdout(&tessera(
        &store,
        &["stale", "public/rolling_7d_stats", "--json"],
    ));
    let json: serde_json::Value = serde_json::from_str(&text).expect("one JSON document");
    let assets = json["assets"].as_array().expect("assets");
    assert_eq!(assets.len(), 1);
    assert_eq!(
        assets[0]["asset"],
        serde_json::json!(["public", "rolling_7d_stats"])
    );
    let partitions = assets[0]["partitions"].as_array().expect("partitions");
    let listed: Vec<&str> = partitions
        .iter()
        .map(|p| p["partition"].as_str().expect("a key"))
        .collect();
    for fresh in ["2024-01-01", "2024-01-02", "2024-01-03"] {
        assert!(!listed.contains(&fresh), "{fresh} is fresh: {listed:?}");
    }
    let fourth = partitions
        .iter()
        .find(|p| p["partition"] == "2024-01-04")
        .expect("2024-01-04 is missing");
    assert_eq!(fourth["status"], "missing");
    let lacks: Vec<&str> = fourth["causes"]
        .as_array()
        .expect("causes")
        .iter()
        .filter(|c| c["category"] == "missing upstream")
        .map(|c| c["upstream_partition"].as_str().expect("a partition"))
        .collect();
    assert_eq!(lacks, ["2024-01-04"]);
}

#[test]
fn stale_prints_a_table_of_every_asset_without_an_asset_argument() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = materialized_store(dir.path());
    let table = stdout(&tessera(&store, &["stale"]));
    let header = table.lines().next().expect("a header");
    for column in ["asset", "partition", "status", "causes"] {
        assert!(header.contains(column), "{header}");
    }
    let row = table
        .lines()
        .find(|l| l.starts_with("public/weather_obs") && l.contains("2024-01-04"))
        .expect("the first missing weather day");
    assert!(row.contains("missing"), "{row}");
    assert!(
        !table
            .lines()
            .any(|l| l.contains("2024-01-02 ") && l.starts_with("public/weather_obs")),
        "a fresh day is not listed"
    );
    let summary = table.lines().last().expect("a summary line");
    assert!(summary.starts_with("0 stale and "), "{summary}");
    assert!(summary.ends_with("in 3 asset(s)"), "{summary}");
}
