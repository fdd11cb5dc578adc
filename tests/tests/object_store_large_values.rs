//! A large value on object storage goes up through a multipart upload as its
//! own data object, the log object that commits it stays small, and another
//! handle with its own cache reads it back bit-identical, zero-copy from its
//! cached mapping.
//!
//! With `TESSERA_S3_BUCKET` set (by `.ci/s3-moto`, which starts a moto
//! server on 127.0.0.1 at a free port and stops it), against that bucket
//! over the S3 wire protocol (S3's own multipart API: create, parts,
//! complete); otherwise against a `file://` directory.

use std::sync::Arc;

use tessera_engine::object_store::path::Path as ObjectPath;
use tessera_engine::object_store::{ObjectMeta, ObjectStore};
use tessera_engine::{AssetKey, PartitionKey, Store};
use tessera_tests::{shared_backend, shared_store_url, unique_prefix};

/// 20 MiB: four parts of 5 MiB.
const LEN: usize = 20 << 20;

fn listed(backend: &Arc<dyn ObjectStore>, prefix: &str) -> Vec<ObjectMeta> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let path = ObjectPath::from(prefix);
    runtime
        .block_on(backend.list_with_delimiter(Some(&path)))
        .expect("list")
        .objects
}

#[test]
fn a_20_mib_value_goes_up_in_parts_and_reads_back_zero_copy() {
    let root = tempfile::tempdir().expect("tempdir");
    let prefix = unique_prefix("large");
    let url = shared_store_url(&prefix, root.path());
    let payload: Vec<u8> = (0..LEN).map(|i| (i % 251) as u8).collect();
    let asset = AssetKey::new(["large"]).expect("asset");
    let partition = PartitionKey::new("2026-12-01").expect("partition");
    let writer = Store::builder(&url)
        .cache_dir(root.path().join("writer-cache"))
        .open()
        .expect("open");
    writer.put(&asset, &partition, &payload[..]).expect("put");

    let backend = shared_backend(root.path());
    let data = listed(&backend, &format!("{prefix}/data"));
    assert_eq!(data.len(), 1, "one data object");
    assert!(data[0].size > LEN as u64 && data[0].size < LEN as u64 + 512);
    let logs = listed(&backend, &format!("{prefix}/log"));
    assert_eq!(logs.len(), 1, "one log object");
    assert!(logs[0].size < 1024, "the log object holds no payload");

    let reader = Store::builder(&url)
        .cache_dir(root.path().join("reader-cache"))
        .open()
        .expect("open");
    let blob = reader
        .get(&asset, &partition)
        .expect("get")
        .expect("present");
    assert!(*blob == payload[..], "bit-identical");
    assert!(blob.checksum_verified());
    assert!(blob.is_in_mapping(blob.as_ptr()), "zero-copy");
    assert!(reader.verify().expect("verify").is_ok());
}
