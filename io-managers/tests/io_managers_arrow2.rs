//! With the `arrow2` feature, tables stored by the Arrow I/O manager load as
//! arrow2 chunks whose buffers lie in the store's mapping; bytes that arrow2's
//! checked reader refuses (here: invalid UTF-8 behind a valid checksum) are
//! an error, never mapped.
#![cfg(feature = "arrow2")]

use std::sync::Arc;

use arrow_array::{Float64Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use arrow2::array::{Array, PrimitiveArray, Utf8Array};
use tessera_engine::{AssetKey, Blob, Codec, PartitionKey, Payload, Store};
use tessera_io_managers::{
    Arrow2InputManager, Arrow2Partition, ArrowIoManager, Error, InputContext, InputManager,
    IoManager, OutputContext,
};

fn table(offset: i64) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("value", DataType::Float64, true),
        Field::new("station", DataType::Utf8, false),
    ]));
    RecordBatch::try_new(
        schema,
        vec![
            Arc::new(Int64Array::from_iter_values(offset..offset + 4)),
            Arc::new(Float64Array::from(vec![
                Some(1.5),
                None,
                Some(3.5),
                Some(4.5),
            ])),
            Arc::new(StringArray::from(vec!["alpha", "beta", "gamma", "delta"])),
        ],
    )
    .expect("a valid batch")
}

fn store() -> (tempfile::TempDir, Arc<Store>) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = Arc::new(Store::open(dir.path()).expect("open the store"));
    (dir, store)
}

fn load(
    store: &Arc<Store>,
    asset: &AssetKey,
    columns: Option<&[&str]>,
) -> Result<Arrow2Partition, Error> {
    let mut input = InputContext::builder(asset.clone()).asset_partition_keys(["p"]);
    if let Some(columns) = columns {
        input = input.columns(columns.iter().copied());
    }
    Arrow2InputManager::new(Arc::clone(store))
        .load_input(&input.build())
        .map(|loaded| loaded.into_one().expect("one partition"))
}

fn assert_in_mapping(blob: &Blob, array: &dyn Array) {
    if let Some(validity) = array.validity() {
        assert!(
            blob.is_in_mapping(validity.as_slice().0.as_ptr()),
            "validity copied"
        );
    }
    let any = array.as_any();
    if let Some(ints) = any.downcast_ref::<PrimitiveArray<i64>>() {
        assert!(
            blob.is_in_mapping(ints.values().as_ptr().cast()),
            "i64 values copied"
        );
    } else if let Some(floats) = any.downcast_ref::<PrimitiveArray<f64>>() {
        assert!(
            blob.is_in_mapping(floats.values().as_ptr().cast()),
            "f64 values copied"
        );
    } else if let Some(strings) = any.downcast_ref::<Utf8Array<i32>>() {
        assert!(
            blob.is_in_mapping(strings.values().as_ptr()),
            "utf8 values copied"
        );
        assert!(
            blob.is_in_mapping(strings.offsets().buffer().as_ptr().cast()),
            "utf8 offsets copied"
        );
    } else {
        panic!("unexpected array type {:?}", array.data_type());
    }
}

#[test]
fn stored_tables_load_as_chunks_borrowed_from_the_mapping() {
    let (_dir, store) = store();
    let asset = AssetKey::new(["tables"]).expect("asset key");
    ArrowIoManager::new(Arc::clone(&store))
        .handle_output(
            &OutputContext::builder(asset.clone())
                .partition_key("p")
                .build(),
            vec![table(0), table(100)],
        )
        .expect("handle_output");
    let partition = load(&store, &asset, None).expect("load");
    let names: Vec<&str> = partition
        .schema
        .fields
        .iter()
        .map(|f| f.name.as_str())
        .collect();
    assert_eq!(names, ["id", "value", "station"]);
    assert_eq!(partition.chunks.len(), 2);

    let second = &partition.chunks[1];
    let ids = second.arrays()[0]
        .as_any()
        .downcast_ref::<PrimitiveArray<i64>>()
        .expect("an i64 column");
    assert_eq!(ids.values().as_slice(), [100, 101, 102, 103]);
    let values = second.arrays()[1]
        .as_any()
        .downcast_ref::<PrimitiveArray<f64>>()
        .expect("an f64 column");
    assert_eq!(
        values.iter().map(|v| v.copied()).collect::<Vec<_>>(),
        [Some(1.5), None, Some(3.5), Some(4.5)]
    );
    let stations = second.arrays()[2]
        .as_any()
        .downcast_ref::<Utf8Array<i32>>()
        .expect("a utf8 column");
    assert_eq!(
        stations.values_iter().collect::<Vec<_>>(),
        ["alpha", "beta", "gamma", "delta"]
    );

    let blob = store
        .get(&asset, &PartitionKey::new("p").expect("key"))
        .expect("get")
        .expect("stored");
    for chunk in &partition.chunks {
        for array in chunk.arrays() {
            assert_in_mapping(&blob, array.as_ref());
        }
    }
}

#[test]
fn columns_project_the_chunks() {
    let (_dir, store) = store();
    let asset = AssetKey::new(["tables"]).expect("asset key");
    ArrowIoManager::new(Arc::clone(&store))
        .handle_output(
            &OutputContext::builder(asset.clone())
                .partition_key("p")
                .build(),
            vec![table(0)],
        )
        .expect("handle_output");
    let partition = load(&store, &asset, Some(&["station", "id"])).expect("load");
    let names: Vec<&str> = partition
        .schema
        .fields
        .iter()
        .map(|f| f.name.as_str())
        .collect();
    assert_eq!(names, ["station", "id"]);
    assert_eq!(partition.chunks[0].arrays().len(), 2);
    assert_eq!(
        partition.chunks[0].arrays()[1].data_type(),
        &arrow2::datatypes::DataType::Int64
    );
    let error = load(&store, &asset, Some(&["humidity"])).expect_err("no such column");
    assert!(
        matches!(&error, Error::Column { column, .. } if column == "humidity"),
        "{error:?}"
    );
}

#[test]
fn bytes_the_checked_reader_refuses_are_never_mapped() {
    let (_dir, store) = store();
    let asset = AssetKey::new(["tables"]).expect("asset key");
    let key = PartitionKey::new("p").expect("key");
    // An IPC file made elsewhere (without Tessera's writer mark, which a store
    // would refuse on damaged bytes): stored as it is, checked when read.
    let mut writer =
        arrow_ipc::writer::FileWriter::try_new(Vec::new(), &table(0).schema()).expect("writer");
    writer.write(&table(0)).expect("write");
    let mut bytes = writer.into_inner().expect("finish");
    let at = bytes
        .windows(5)
        .position(|w| w == b"alpha")
        .expect("the string data is in the file");
    bytes[at] = 0xFF;
    store
        .put(&asset, &key, Payload::encoded(Codec::ArrowIpc, bytes))
        .expect("stored with a valid checksum");
    let error = load(&store, &asset, None).expect_err("invalid UTF-8");
    assert!(
        matches!(
            error,
            Error::Engine(tessera_engine::Error::ArrowDecode { .. })
        ),
        "{error:?}"
    );

    store
        .put(
            &asset,
            &key,
            Payload::encoded(Codec::ArrowIpc, b"not an IPC file".to_vec()),
        )
        .expect("stored");
    let error = load(&store, &asset, None).expect_err("garbage");
    assert!(
        matches!(
            error,
            Error::Engine(tessera_engine::Error::ArrowDecode { .. })
        ),
        "{error:?}"
    );
}

#[test]
fn a_payload_of_another_codec_is_a_codec_mismatch() {
    let (_dir, store) = store();
    let asset = AssetKey::new(["tables"]).expect("asset key");
    store
        .put(
            &asset,
            &PartitionKey::new("p").expect("key"),
            Payload::raw(b"raw".to_vec()),
        )
        .expect("stored");
    let error = load(&store, &asset, None).expect_err("raw bytes are not Arrow");
    assert!(
        matches!(
            error,
            Error::Engine(tessera_engine::Error::CodecMismatch { .. })
        ),
        "{error:?}"
    );
}
