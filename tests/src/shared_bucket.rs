//! Where the several-process object-storage tests put their stores: the S3
//! bucket `.ci/s3-moto` names (`TESSERA_S3_BUCKET`, a moto server it starts
//! on 127.0.0.1), or else a `file://` directory every process of a test
//! shares (the same backend code, `object_store`'s file system store
//! underneath).

use std::path::Path;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use tessera_engine::object_store::ObjectStore;
use tessera_engine::object_store::aws::AmazonS3Builder;
use tessera_engine::object_store::local::LocalFileSystem;

/// The S3 bucket to run against, if `.ci/s3-moto` named one.
fn bucket() -> Option<String> {
    std::env::var("TESSERA_S3_BUCKET").ok()
}

/// A prefix starting with `test` that no other test or run uses.
#[must_use]
pub fn unique_prefix(test: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{test}-{}-{nanos}", std::process::id())
}

/// The address of a store under `prefix`: in the S3 bucket, or else in the
/// directory `root` (which every process of the test shares).
#[must_use]
pub fn shared_store_url(prefix: &str, root: &Path) -> String {
    match bucket() {
        Some(bucket) => format!("s3://{bucket}/{prefix}"),
        None => format!("file://{}/{prefix}", root.display()),
    }
}

/// A client of the backend itself (no Tessera), rooted where
/// [`shared_store_url`]'s addresses are.
///
/// # Panics
/// If the client cannot be made (no S3 configuration, a missing `root`).
#[must_use]
pub fn shared_backend(root: &Path) -> Arc<dyn ObjectStore> {
    match bucket() {
        Some(bucket) => Arc::new(
            AmazonS3Builder::from_env()
                .with_bucket_name(bucket)
                .build()
                .expect("S3 client"),
        ),
        None => Arc::new(LocalFileSystem::new_with_prefix(root).expect("file system store")),
    }
}
