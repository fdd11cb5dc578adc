//! `materialize --select` (with `+` expansion) and `--partitions`, `wipe`,
//! `--json` on every listing command and the run summary, `-v` showing what
//! computes logged, `stats` keeping internal entries apart, and shell
//! completions, all through the built binary.

use std::process::Output;

use serde_json::Value;

mod support;
use support::{stdout, tessera};

fn json(output: &Output) -> Value {
    serde_json::from_str(&stdout(output)).expect("one JSON value")
}

/// `(asset, materialized)` per asset of a `--json` run summary.
fn materialized_per_asset(summary: &Value) -> Vec<(String, u64)> {
    summary["assets"]
        .as_array()
        .expect("assets")
        .iter()
        .map(|row| {
            let asset: Vec<&str> = row["asset"]
                .as_array()
                .expect("components")
                .iter()
                .map(|c| c.as_str().expect("text"))
                .collect();
            (
                asset.join("/"),
                row["materialized"].as_u64().expect("count"),
            )
        })
        .collect()
}

#[test]
fn select_expands_upstream_and_downstream() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("store");
    let only = json(&tessera(
        &store,
        &[
            "--json",
            "materialize",
            "--partitions",
            "2024-01-01..2024-01-02",
            "--select",
            "public/weather_obs",
        ],
    ));
    assert_eq!(
        materialized_per_asset(&only),
        [("public/weather_obs".to_owned(), 2)]
    );
    let upstream = json(&tessera(
        &store,
        &[
            "--json",
            "materialize",
            "--partitions",
            "2024-01-03",
            "--select",
            "+public/rolling_7d_stats",
        ],
    ));
    assert_eq!(
        materialized_per_asset(&upstream),
        [
            ("public/weather_obs".to_owned(), 1),
            ("public/rolling_7d_stats".to_owned(), 1)
        ]
    );
    let downstream = json(&tessera(
        &store,
        &[
            "--json",
            "materialize",
            "--partitions",
            "2024-01-02",
            "--select",
            "public/rolling_7d_stats+",
        ],
    ));
    assert_eq!(
        materialized_per_asset(&downstream),
        [
            ("public/rolling_7d_stats".to_owned(), 1),
            ("public/summary".to_owned(), 1)
        ]
    );
    let unknown = tessera(&store, &["materialize", "--select", "public/nothing"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("public/nothing"));
}

#[test]
fn wipe_makes_partitions_missing_and_materialize_runs_them_again() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("store");
    stdout(&tessera(
        &store,
        &["materialize", "--to", "2024-01-04", "--quiet"],
    ));
    let wiped = stdout(&tessera(
        &store,
        &[
            "wipe",
            "public/weather_obs",
            "--partitions",
            "2024-01-02..2024-01-03",
        ],
    ));
    assert!(
        wiped.contains("wiped 2 partitions of public/weather_obs"),
        "{wiped}"
    );
    let listed = json(&tessera(
        &store,
        &["--json", "partitions", "public/weather_obs"],
    ));
    let keys: Vec<&str> = listed
        .as_array()
        .expect("rows")
        .iter()
        .map(|row| row["partition"].as_str().expect("key"))
        .collect();
    assert_eq!(keys, ["2024-01-01", "2024-01-04"]);
    let again = json(&tessera(
        &store,
        &[
            "--json",
            "materialize",
            "--to",
            "2024-01-04",
            "--missing-or-stale",
        ],
    ));
    assert_eq!(
        materialized_per_asset(&again)[0],
        ("public/weather_obs".to_owned(), 2),
        "{again}"
    );
}

#[test]
fn json_listings_and_stats_keep_internal_entries_apart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("store");
    stdout(&tessera(
        &store,
        &["materialize", "--to", "2024-01-02", "--quiet"],
    ));
    let assets = json(&tessera(&store, &["--json", "assets"]));
    assert_eq!(assets.as_array().expect("rows").len(), 3, "{assets}");
    let stats = json(&tessera(&store, &["--json", "stats"]));
    assert_eq!(stats["user"]["assets"], 3, "{stats}");
    assert_eq!(stats["user"]["partitions"], 2 + 2 + 1, "{stats}");
    assert!(
        stats["internal"]["assets"].as_u64().expect("count") >= 3,
        "{stats}"
    );
    let show = json(&tessera(
        &store,
        &["--json", "show", "public/rolling_7d_stats", "2024-01-02"],
    ));
    assert_eq!(show["rows"], 10, "{show}");
    assert_eq!(show["materialization"]["code_version"], "1", "{show}");
    let verify = json(&tessera(&store, &["--json", "verify"]));
    assert_eq!(verify["ok"], true, "{verify}");
    assert_eq!(
        verify["checked"],
        stats["user"]["partitions"].as_u64().expect("n")
            + stats["internal"]["partitions"].as_u64().expect("n")
    );
}

#[test]
fn verbose_shows_what_computes_logged() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("store");
    let quiet = stdout(&tessera(
        &store,
        &["materialize", "--to", "2024-01-01", "--quiet"],
    ));
    assert!(!quiet.contains("log: "), "{quiet}");
    let verbose = stdout(&tessera(
        &store,
        &[
            "-v",
            "materialize",
            "--partitions",
            "2024-01-01",
            "--select",
            "public/weather_obs",
            "--quiet",
        ],
    ));
    assert!(
        verbose.contains("log: public/weather_obs 2024-01-01: generated 100000 observations"),
        "{verbose}"
    );
}

#[test]
fn completions_name_every_command() {
    let dir = tempfile::tempdir().expect("tempdir");
    for shell in ["bash", "zsh", "fish"] {
        let script = stdout(&tessera(dir.path(), &["completions", shell]));
        for command in ["materialize", "wipe", "export", "completions"] {
            assert!(script.contains(command), "{shell} lacks {command}");
        }
    }
}
