//! `tessera --store s3://bucket/prefix` against a moto S3 server that
//! `.ci/s3-moto` starts on 127.0.0.1 and stops (the bucket is
//! `TESSERA_S3_BUCKET`). Ignored in plain `cargo test` runs: they need the
//! server; `.ci/s3-moto` runs them with `--ignored`.

mod support;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use support::{failure, stdout, tessera};

fn store_url(test: &str) -> String {
    let bucket = std::env::var("TESSERA_S3_BUCKET").expect("TESSERA_S3_BUCKET (run .ci/s3-moto)");
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("s3://{bucket}/{test}-{}-{nanos}", std::process::id())
}

#[test]
#[ignore = "needs a moto server: run .ci/s3-moto"]
fn materialize_and_read_back_on_s3() {
    let url = store_url("cli");
    let store = Path::new(&url);
    let run = stdout(&tessera(
        store,
        &[
            "materialize",
            "--from",
            "2024-01-01",
            "--to",
            "2024-01-02",
            "--quiet",
        ],
    ));
    assert!(run.contains("materialized 5 partitions"), "{run}");

    let partitions = stdout(&tessera(store, &["partitions", "public/weather_obs"]));
    for day in ["2024-01-01", "2024-01-02"] {
        assert!(partitions.contains(day), "{partitions}");
    }
    let show = stdout(&tessera(
        store,
        &[
            "show",
            "public/rolling_7d_stats",
            "2024-01-02",
            "--rows",
            "2",
        ],
    ));
    assert!(show.contains("mean_temp_c: Float64"), "{show}");

    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("day.arrow");
    stdout(&tessera(
        store,
        &[
            "export",
            "public/weather_obs",
            "2024-01-02",
            file.to_str().expect("utf-8 path"),
        ],
    ));
    let reader =
        arrow_ipc::reader::FileReader::try_new(std::fs::File::open(&file).expect("exported"), None)
            .expect("an Arrow IPC file");
    let rows: usize = reader.map(|b| b.expect("batch").num_rows()).sum();
    assert_eq!(rows, 100_000);

    let verify = stdout(&tessera(store, &["verify"]));
    assert!(verify.contains("every checksum matches"), "{verify}");
}

#[test]
#[ignore = "needs a moto server: run .ci/s3-moto"]
fn a_missing_store_on_s3_is_named() {
    let url = store_url("missing");
    let error = failure(&tessera(Path::new(&url), &["assets"]));
    assert!(error.contains("is not a Tessera store"), "{error}");
}
