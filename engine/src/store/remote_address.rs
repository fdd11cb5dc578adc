//! Addresses of stores on object storage: what `Store::builder(address)`
//! accepts in place of a directory, and the [`ObjectStore`] each one names.
//!
//! | address | backend | configured from |
//! |---|---|---|
//! | `s3://bucket/prefix` (or `s3a://`) | S3 and S3-compatible servers | `AWS_*` variables |
//! | `gs://bucket/prefix` | Google Cloud Storage | `GOOGLE_*` variables |
//! | `az://container/prefix` (or `azure://`, `abfs://`, `abfss://`, `adl://`) | Azure Blob Storage | `AZURE_*` variables |
//! | `file:///absolute/dir` | a shared local or network file system | nothing (writes are fsynced) |
//!
//! `memory://` is refused: each open would get its own empty store. Give
//! [`StoreBuilder::object_store`](super::StoreBuilder::object_store) a shared
//! `InMemory` instead.

use std::sync::Arc;

use object_store::ObjectStore;
use object_store::ObjectStoreScheme;
use object_store::aws::AmazonS3Builder;
use object_store::azure::MicrosoftAzureBuilder;
use object_store::gcp::GoogleCloudStorageBuilder;
use object_store::local::LocalFileSystem;

use crate::error::{Error, Result};

/// The object store `address` names and the prefix its objects go under.
pub(super) fn object_store_at(address: &str) -> Result<(Arc<dyn ObjectStore>, String)> {
    let unusable = |reason: String| Error::ObjectStore {
        operation: "configure",
        object: address.to_owned(),
        reason,
    };
    let url = url::Url::parse(address).map_err(|e| unusable(e.to_string()))?;
    let (scheme, path) = ObjectStoreScheme::parse(&url).map_err(|e| unusable(e.to_string()))?;
    let prefix = path.as_ref().trim_matches('/').to_owned();
    // A process has one TLS crypto provider; one installed before stays.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let store: Arc<dyn ObjectStore> = match scheme {
        ObjectStoreScheme::AmazonS3 => Arc::new(
            AmazonS3Builder::from_env()
                .with_url(address)
                .build()
                .map_err(|e| unusable(e.to_string()))?,
        ),
        ObjectStoreScheme::GoogleCloudStorage => Arc::new(
            GoogleCloudStorageBuilder::from_env()
                .with_url(address)
                .build()
                .map_err(|e| unusable(e.to_string()))?,
        ),
        ObjectStoreScheme::MicrosoftAzure => Arc::new(
            MicrosoftAzureBuilder::from_env()
                .with_url(address)
                .build()
                .map_err(|e| unusable(e.to_string()))?,
        ),
        ObjectStoreScheme::Local => return local_store(url.path()).map_err(unusable),
        _ => {
            return Err(unusable(
                "not an s3://, gs://, az:// or file:// address".into(),
            ));
        }
    };
    if url.host_str().is_none_or(str::is_empty) {
        return Err(unusable("the address names no bucket".into()));
    }
    Ok((store, prefix))
}

/// A file-system object store rooted at `dir` (created if missing), which
/// syncs every object and its directory before a put returns, as the other
/// backends' puts are durable when they return.
fn local_store(dir: &str) -> std::result::Result<(Arc<dyn ObjectStore>, String), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {dir}: {e}"))?;
    let store = LocalFileSystem::new_with_prefix(dir)
        .map_err(|e| e.to_string())?
        .with_fsync(true)
        .with_automatic_cleanup(true);
    Ok((Arc::new(store), String::new()))
}

#[cfg(test)]
mod tests {
    use super::object_store_at;
    use crate::{AssetKey, Error, PartitionKey, Store, is_object_store_address};

    #[test]
    fn addresses_of_every_backend_are_told_from_directories() {
        for address in [
            "s3://bucket/p",
            "s3a://bucket",
            "gs://bucket/p",
            "az://container/p",
            "abfss://container@account.dfs.core.windows.net/p",
            "file:///shared/store",
        ] {
            assert!(is_object_store_address(address), "{address}");
        }
        for dir in ["tessera-data", "/tmp/s3://x", "s3:/bucket", "memory://"] {
            assert!(!is_object_store_address(dir), "{dir}");
        }
    }

    #[test]
    fn an_address_without_a_bucket_or_of_another_scheme_is_a_typed_error() {
        for address in ["s3:///prefix", "gs://", "http://example.com/x", "not a url"] {
            assert!(
                matches!(
                    object_store_at(address),
                    Err(Error::ObjectStore {
                        operation: "configure",
                        ..
                    })
                ),
                "{address}"
            );
        }
    }

    #[test]
    fn a_file_address_is_a_store_every_handle_on_it_shares() {
        let shared = tempfile::tempdir().expect("tempdir");
        let address = format!("file://{}/store", shared.path().display());
        let open = |cache: &std::path::Path| {
            Store::builder(&address)
                .cache_dir(cache)
                .open()
                .expect("open the file:// store")
        };
        let (cache_a, cache_b) = (
            tempfile::tempdir().expect("cache a"),
            tempfile::tempdir().expect("cache b"),
        );
        let asset = AssetKey::new(["public", "weather_obs"]).expect("asset");
        let day = PartitionKey::new("2022-07-23").expect("partition");
        open(cache_a.path())
            .put(&asset, &day, b"observed")
            .expect("put");
        let reader = open(cache_b.path());
        assert_eq!(
            reader.get(&asset, &day).expect("get").as_deref(),
            Some(&b"observed"[..])
        );
        assert!(shared.path().join("store/log").is_dir());
    }
}
