//! The layout of materialization records before they named store versions
//! (layout 1): still read, converted to [`MaterializationRecord`] with no
//! versions.
//!
//! rkyv archives carry no schema, so a record's layout is said by its
//! payload's metadata ([`LAYOUT`]): absent means layout 1.

use super::record::{InputProvenance, MaterializationRecord};
use crate::metadata::Metadata;

/// The payload metadata key naming a record's layout.
pub(crate) const LAYOUT: &str = "tessera/record_layout";
/// The layout written now: records with store versions.
pub(crate) const CURRENT_LAYOUT: &str = "2";

/// A layout-1 materialization record.
#[derive(Debug, Clone, PartialEq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
pub(crate) struct MaterializationRecordV1 {
    pub(crate) run_id: String,
    pub(crate) started_at_micros: i64,
    pub(crate) duration_micros: u64,
    pub(crate) code_version: String,
    pub(crate) data_version: String,
    pub(crate) data_version_user_provided: bool,
    pub(crate) metadata: Metadata,
    pub(crate) inputs: Vec<InputProvenanceV1>,
}

/// A layout-1 input provenance.
#[derive(Debug, Clone, PartialEq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
pub(crate) struct InputProvenanceV1 {
    pub(crate) asset: Vec<String>,
    pub(crate) partitions: Vec<(String, String)>,
    pub(crate) data_version: String,
}

impl From<MaterializationRecordV1> for MaterializationRecord {
    fn from(old: MaterializationRecordV1) -> Self {
        Self {
            run_id: old.run_id,
            started_at_micros: old.started_at_micros,
            duration_micros: old.duration_micros,
            code_version: old.code_version,
            data_version: old.data_version,
            data_version_user_provided: old.data_version_user_provided,
            metadata: old.metadata,
            inputs: old.inputs.into_iter().map(Into::into).collect(),
            stored_version: None,
        }
    }
}

impl From<InputProvenanceV1> for InputProvenance {
    fn from(old: InputProvenanceV1) -> Self {
        Self {
            asset: old.asset,
            partitions: old.partitions,
            data_version: old.data_version,
            stored_versions: Vec::new(),
            as_of: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use tessera_engine::{AssetKey, PartitionKey, Payload, Store};

    use super::*;
    use crate::records::{RESERVED_PREFIX, RecordStore};

    #[test]
    fn a_layout_one_record_reads_back_without_versions() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Arc::new(Store::open(dir.path()).expect("open"));
        let asset = AssetKey::new(["obs"]).expect("key");
        let old = MaterializationRecordV1 {
            run_id: "run-1".to_owned(),
            started_at_micros: 7,
            duration_micros: 9,
            code_version: "1".to_owned(),
            data_version: "abc".to_owned(),
            data_version_user_provided: false,
            metadata: Metadata::new(),
            inputs: vec![InputProvenanceV1 {
                asset: vec!["up".to_owned()],
                partitions: vec![("d".to_owned(), "v".to_owned())],
                data_version: "w".to_owned(),
            }],
        };
        let namespaced = asset
            .with_prefix([RESERVED_PREFIX, "materializations"])
            .expect("key");
        let day = PartitionKey::new("d").expect("key");
        store
            .put(&namespaced, &day, Payload::rkyv(&old).expect("archive"))
            .expect("put");
        let records = RecordStore::new(store);
        let read = records
            .materialization(&asset, Some("d"))
            .expect("read")
            .expect("a record");
        assert_eq!(read, MaterializationRecord::from(old));
        assert_eq!(read.stored_version, None);
        assert!(read.inputs[0].stored_versions.is_empty());
        assert_eq!(
            read.inputs[0].partitions,
            [("d".to_owned(), "v".to_owned())]
        );
        let version = records.data_version(&asset, Some("d")).expect("read");
        assert_eq!(version.as_deref(), Some("abc"));
    }
}
