//! The `tessera` binary, run as a user runs it.

mod support;
use support::{stdout, tessera};

#[test]
fn materialize_then_read_every_partition_back_with_the_cli() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("store");
    let run = stdout(&tessera(
        &store,
        &[
            "materialize",
            "--from",
            "2024-01-01",
            "--to",
            "2024-01-03",
            "--quiet",
        ],
    ));
    assert!(run.contains("materialized 7 partitions"), "{run}");
    assert!(run.contains("public/weather_obs       3"), "{run}");

    let assets = stdout(&tessera(&store, &["assets"]));
    for asset in [
        "public/weather_obs",
        "public/rolling_7d_stats",
        "public/summary",
    ] {
        assert!(assets.contains(asset), "{assets}");
    }
    assert!(
        !assets.contains("__tessera__"),
        "reserved assets are hidden: {assets}"
    );

    let partitions = stdout(&tessera(&store, &["partitions", "public/weather_obs"]));
    for day in ["2024-01-01", "2024-01-02", "2024-01-03"] {
        assert!(partitions.contains(day), "{partitions}");
    }
    assert_eq!(
        partitions.matches("materialized").count(),
        4,
        "header + 3 days: {partitions}"
    );

    let show = stdout(&tessera(
        &store,
        &[
            "show",
            "public/rolling_7d_stats",
            "2024-01-03",
            "--rows",
            "2",
        ],
    ));
    assert!(show.contains("dagster/row_count = 10"), "{show}");
    assert!(show.contains("mean_temp_c: Float64"), "{show}");

    let file = dir.path().join("day.arrow");
    let file_arg = file.to_str().expect("utf-8 path");
    stdout(&tessera(
        &store,
        &["export", "public/weather_obs", "2024-01-02", file_arg],
    ));
    let reader =
        arrow_ipc::reader::FileReader::try_new(std::fs::File::open(&file).expect("exported"), None)
            .expect("an Arrow IPC file");
    let rows: usize = reader.map(|b| b.expect("batch").num_rows()).sum();
    assert_eq!(rows, 100_000);

    let verify = stdout(&tessera(&store, &["verify"]));
    assert!(verify.contains("every checksum matches"), "{verify}");
    std::fs::remove_dir_all(store.join("index")).expect("lose the index");
    let repair = stdout(&tessera(&store, &["repair"]));
    assert!(
        repair.contains("the open rebuilt the index: the index directory is missing"),
        "{repair}"
    );
    assert!(
        repair.contains("index rebuilt from the segments"),
        "{repair}"
    );
    let verify = stdout(&tessera(&store, &["verify"]));
    assert!(verify.contains("the index agrees with the log"), "{verify}");
    let stats = stdout(&tessera(&store, &["stats"]));
    assert!(stats.contains("segments"), "{stats}");
}

#[test]
fn errors_print_one_line_and_exit_non_zero() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = tessera(&dir.path().join("nowhere"), &["assets"]);
    assert_eq!(missing.status.code(), Some(2));
    let message = String::from_utf8_lossy(&missing.stderr);
    assert_eq!(message.lines().count(), 1, "{message}");
    assert!(
        message.starts_with("error: ") && message.contains("not a Tessera store"),
        "{message}"
    );

    let store = dir.path().join("store");
    stdout(&tessera(
        &store,
        &[
            "materialize",
            "--from",
            "2024-01-01",
            "--to",
            "2024-01-01",
            "--quiet",
        ],
    ));
    let unknown = tessera(&store, &["show", "public/weather_obs", "1999-01-01"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("has no partition"));
    let bad_range = tessera(
        &store,
        &[
            "materialize",
            "--from",
            "2024-13-01",
            "--to",
            "2024-01-01",
            "--quiet",
        ],
    );
    assert_eq!(bad_range.status.code(), Some(2));
}

#[test]
fn errors_speak_in_the_users_terms_not_the_parsers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("store");
    stdout(&tessera(
        &store,
        &["materialize", "--to", "2024-01-01", "--quiet"],
    ));
    let cases: [(&[&str], &str); 6] = [
        (
            &["materialize", "--to", "2024-01"],
            "it ends before the format does",
        ),
        (
            &["materialize", "--from", "2024-13-01"],
            "a field is out of range",
        ),
        (&["materialize", "--to", "2024-02-30"], "no such date"),
        (
            &["materialize", "--partitions", "2024-01-01..2024-01"],
            "look like \"2024-01-31\"",
        ),
        (
            &[
                "show",
                "public/weather_obs",
                "2024-01-01",
                "--version",
                "abc",
            ],
            "is not a version number",
        ),
        (
            &[
                "wipe",
                "public/weather_obs",
                "--partitions",
                "2024-01-05..2024-01-01",
            ],
            "the first partition comes after the last",
        ),
    ];
    for (args, expected) in cases {
        let output = tessera(&store, args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let message = String::from_utf8_lossy(&output.stderr);
        assert!(message.contains(expected), "{args:?}: {message}");
        for internal in [
            "premature end of input",
            "invalid digit",
            "input is out of range",
        ] {
            assert!(!message.contains(internal), "{args:?}: {message}");
        }
    }
    let listed = stdout(&tessera(&store, &["partitions", "public/weather_obs"]));
    assert!(
        listed.contains("2024-01-01"),
        "a refused wipe wipes nothing: {listed}"
    );
}

#[test]
fn asset_keys_print_in_one_form_that_every_command_reads_back() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store_dir = dir.path().join("store");
    {
        let store = tessera_engine::Store::open(&store_dir).expect("open");
        let unpartitioned = tessera_engine::PartitionKey::unpartitioned();
        for (components, value) in [
            (vec!["a", "b"], b"two components".as_slice()),
            (vec!["a/b"], b"one component".as_slice()),
            (vec!["bell\u{7}"], b"control".as_slice()),
        ] {
            let asset = tessera_engine::AssetKey::new(components).expect("key");
            store
                .put(&asset, &unpartitioned, tessera_engine::Payload::raw(value))
                .expect("put");
        }
    }
    let assets = stdout(&tessera(&store_dir, &["assets"]));
    let names: Vec<&str> = assets
        .lines()
        .skip(2)
        .filter_map(|line| line.split_whitespace().next())
        .collect();
    assert_eq!(names, ["a/b", "a\\/b", "bell\\u{7}"], "{assets}");
    assert!(!assets.contains('\u{7}'), "no raw control character");
    for (printed, size) in [("a/b", "14"), ("a\\/b", "13"), ("bell\\u{7}", "7")] {
        let show = stdout(&tessera(&store_dir, &["show", printed]));
        assert!(
            show.contains(&format!("asset:        {printed}\n")),
            "{show}"
        );
        assert!(show.contains(&format!("bytes:        {size} ")), "{show}");
    }
}
