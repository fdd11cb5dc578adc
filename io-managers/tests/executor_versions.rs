//! Materialization records name the store version each run wrote and the
//! versions its inputs read; an input defined `as_of` an earlier version
//! loads it, and its record says so.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{TimeZone, Utc};
use tessera_engine::{AssetKey, PartitionKey, Retention, Store};
use tessera_io_managers::executor::{
    AssetDefinition, AssetInput, AssetSelection, DEFAULT_IO_MANAGER_KEY, Definitions,
    MaterializeRequest, Output, PartitionSelection,
};
use tessera_io_managers::partitions::TimeWindowPartitionsDefinition;
use tessera_io_managers::records::MaterializationRecord;
use tessera_io_managers::{AsOf, IoManagers, RkyvIoManager};

const DAY: &str = "2024-01-01";

fn key(name: &str) -> AssetKey {
    AssetKey::new([name]).expect("valid key")
}

fn store() -> (tempfile::TempDir, Arc<Store>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::builder(dir.path())
        .retention(Retention::keep_last(4))
        .open()
        .expect("open");
    (dir, Arc::new(store))
}

/// `obs` yields 1, 2, 3… on successive runs; `copy` stores what it read of
/// `obs`, as of `as_of` when given.
fn definitions(store: &Arc<Store>, runs: Arc<AtomicU64>, as_of: Option<AsOf>) -> Definitions {
    let daily = TimeWindowPartitionsDefinition::daily(DAY).expect("valid");
    let obs = AssetDefinition::new(key("obs"), move |_, _| {
        Ok(Output::new(runs.fetch_add(1, Ordering::SeqCst) + 1))
    })
    .partitions(daily.clone());
    let input = AssetInput::new("obs", key("obs"));
    let copy = AssetDefinition::new(key("copy"), |_, inputs| {
        let value = inputs.take::<u64>("obs")?.into_one().ok_or("no value")?;
        Ok(Output::new(value))
    })
    .partitions(daily)
    .input(match as_of {
        Some(as_of) => input.as_of(as_of),
        None => input,
    });
    Definitions::builder(store.clone())
        .asset(obs)
        .asset(copy)
        .managers(IoManagers::new().with_io_manager(
            DEFAULT_IO_MANAGER_KEY,
            RkyvIoManager::<u64>::new(store.clone()),
        ))
        .build()
        .expect("valid")
}

fn run(definitions: &Definitions, assets: &[&str]) {
    let request = MaterializeRequest::new()
        .assets(AssetSelection::Assets(
            assets.iter().map(|a| key(a)).collect(),
        ))
        .partitions(PartitionSelection::Range(DAY.to_owned(), DAY.to_owned()))
        .now(
            Utc.with_ymd_and_hms(2024, 2, 1, 0, 0, 0)
                .single()
                .expect("time"),
        );
    let result = definitions.materialize(&request).expect("run");
    assert!(result.is_success(), "{result:?}");
}

fn record(definitions: &Definitions, asset: &str) -> MaterializationRecord {
    definitions
        .records()
        .materialization(&key(asset), Some(DAY))
        .expect("read the record")
        .expect("a record")
}

fn newest_version(store: &Store, asset: &str) -> u64 {
    store
        .meta(&key(asset), &PartitionKey::new(DAY).expect("key"))
        .expect("meta")
        .expect("stored")
        .version
}

fn stored(store: &Store, asset: &str, version: u64) -> u64 {
    let blob = store
        .get_version(&key(asset), &PartitionKey::new(DAY).expect("key"), version)
        .expect("read")
        .expect("retained");
    let value = blob.rkyv::<u64>().expect("a u64 archive");
    value.to_native()
}

#[test]
fn records_name_the_version_written_and_the_versions_read() {
    let (_dir, store) = store();
    let defs = definitions(&store, Arc::default(), None);
    run(&defs, &["obs", "copy"]);
    let obs_first = record(&defs, "obs");
    assert_eq!(
        obs_first.stored_version,
        Some(newest_version(&store, "obs"))
    );
    let copy_first = record(&defs, "copy");
    assert_eq!(
        copy_first.stored_version,
        Some(newest_version(&store, "copy"))
    );
    assert_eq!(
        copy_first.inputs[0].stored_versions,
        [(DAY.to_owned(), obs_first.stored_version.expect("versioned"))]
    );
    assert_eq!(copy_first.inputs[0].as_of, None);

    run(&defs, &["obs", "copy"]);
    let obs_second = record(&defs, "obs");
    assert!(obs_second.stored_version > obs_first.stored_version);
    let copy_second = record(&defs, "copy");
    assert_eq!(
        copy_second.inputs[0].stored_versions,
        [(
            DAY.to_owned(),
            obs_second.stored_version.expect("versioned")
        )]
    );
    let written = copy_second.stored_version.expect("versioned");
    assert_eq!(
        stored(&store, "copy", written),
        2,
        "the second run copied obs = 2"
    );
}

#[test]
fn an_input_defined_as_of_a_version_loads_it_and_the_record_says_so() {
    let (_dir, store) = store();
    let runs = Arc::new(AtomicU64::new(0));
    let latest = definitions(&store, runs.clone(), None);
    run(&latest, &["obs"]);
    let first = record(&latest, "obs").stored_version.expect("versioned");
    run(&latest, &["obs"]);
    run(&latest, &["obs"]);
    assert_eq!(stored(&store, "obs", newest_version(&store, "obs")), 3);

    let pinned = definitions(&store, runs, Some(AsOf::Version(first)));
    run(&pinned, &["copy"]);
    let copy = record(&pinned, "copy");
    assert_eq!(
        stored(&store, "copy", copy.stored_version.expect("versioned")),
        1
    );
    assert_eq!(copy.inputs[0].stored_versions, [(DAY.to_owned(), first)]);
    assert_eq!(
        copy.inputs[0].as_of.as_deref(),
        Some(format!("version {first}").as_str())
    );
    let obs_first_data_version = store
        .get_version(&key("obs"), &PartitionKey::new(DAY).expect("key"), first)
        .expect("read")
        .expect("retained")
        .meta()
        .data_version
        .clone()
        .expect("the executor stores a data version");
    assert_eq!(
        copy.inputs[0].partitions,
        [(DAY.to_owned(), obs_first_data_version)],
        "the data version recorded is the one of the version read"
    );
}
