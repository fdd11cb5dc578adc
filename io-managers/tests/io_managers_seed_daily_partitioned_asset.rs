//! The seed's partitioned asset: materializing partition `2022-07-23` of
//! `my_daily_partitioned_asset` through the filesystem I/O manager stores it at
//! `<base_dir>/my_daily_partitioned_asset/2022-07-23`, as a plain Arrow IPC file
//! that any Arrow reader opens, and the partition loads back as the bare value.

use std::fs::File;
use std::sync::Arc;

use arrow_array::{Float64Array, RecordBatch, StringArray};
use arrow_ipc::reader::FileReader;
use arrow_schema::{DataType, Field, Schema};
use tessera_engine::AssetKey;
use tessera_io_managers::metadata::{PATH, ROW_COUNT};
use tessera_io_managers::{
    FilesystemIoManager, InputContext, InputManager, IoManager, MetadataValue, OutputContext,
};

/// What `pd.read_csv(f"...weather_obs&date={partition_date_str}")` returns.
fn weather_obs(date: &str) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("date", DataType::Utf8, false),
        Field::new("temperature", DataType::Float64, false),
    ]));
    RecordBatch::try_new(
        schema,
        vec![
            Arc::new(StringArray::from(vec![date; 3])),
            Arc::new(Float64Array::from(vec![21.5, 22.0, 19.8])),
        ],
    )
    .expect("a valid batch")
}

#[test]
fn partition_2022_07_23_is_stored_at_the_dagster_path() {
    let base = tempfile::tempdir().expect("temporary directory");
    let manager = FilesystemIoManager::new(base.path());
    let asset = AssetKey::new(["my_daily_partitioned_asset"]).expect("asset key");
    let context = OutputContext::builder(asset)
        .partition_key("2022-07-23")
        .build();
    let batch = weather_obs(context.partition_key().expect("one partition key"));
    manager
        .handle_output(&context, vec![batch.clone()])
        .expect("handle_output");

    let path = base
        .path()
        .join("my_daily_partitioned_asset")
        .join("2022-07-23");
    let reader = FileReader::try_new(File::open(&path).expect("the partition's file"), None)
        .expect("an Arrow IPC file");
    let read: Vec<RecordBatch> = reader.collect::<Result<_, _>>().expect("readable batches");
    assert_eq!(read, vec![batch]);

    let metadata = context.output_metadata();
    assert_eq!(
        metadata.get(PATH),
        Some(&MetadataValue::Path(path.display().to_string()))
    );
    assert_eq!(metadata.get(ROW_COUNT), Some(&MetadataValue::Int(3)));
}

#[test]
fn the_downstream_run_of_the_same_day_loads_the_bare_partition() {
    let base = tempfile::tempdir().expect("temporary directory");
    let manager = FilesystemIoManager::new(base.path());
    let asset = AssetKey::new(["my_daily_partitioned_asset"]).expect("asset key");
    for day in ["2022-07-22", "2022-07-23"] {
        let context = OutputContext::builder(asset.clone())
            .partition_key(day)
            .build();
        manager
            .handle_output(&context, vec![weather_obs(day)])
            .expect("handle_output");
    }

    let input = InputContext::builder(asset)
        .partition_key("2022-07-23")
        .asset_partition_keys(["2022-07-23"])
        .build();
    let partition = manager
        .load_input(&input)
        .expect("load_input")
        .into_one()
        .expect("one partition gives the bare value");
    assert_eq!(partition.batches, vec![weather_obs("2022-07-23")]);
}
