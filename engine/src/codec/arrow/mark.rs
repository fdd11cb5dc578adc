//! The mark Tessera's own IPC writer leaves on the files it encodes: one
//! entry of the schema's custom metadata. A read of a marked payload whose
//! crc32 it has just verified may skip arrow-ipc's validation (see
//! [`super::decode`]); the mark never reaches the caller, who gets the schema
//! back as it was given.
//!
//! Only Tessera's encoder (`encode` and `template`, behind
//! [`Payload::arrow_with_schema`](crate::Payload::arrow_with_schema) and
//! [`WriteBatch::put_arrow`](crate::WriteBatch::put_arrow)) writes the mark. Bytes made elsewhere that carry it (a copy of a stored
//! payload, or a forgery) enter a store only after a full validating decode
//! ([`check_foreign_ipc`](super::check_foreign_ipc)).

use arrow_schema::Schema;

/// The schema metadata key of the mark.
const KEY: &str = "tessera:ipc_writer";
/// Its value: the writer and the version of this contract.
const VALUE: &str = "tessera-engine/1";

/// `schema` with the mark added to its metadata.
pub(super) fn marked(schema: &Schema) -> Schema {
    let mut metadata = schema.metadata().clone();
    metadata.insert(KEY.to_owned(), VALUE.to_owned());
    schema.clone().with_metadata(metadata)
}

/// `schema` without the mark, and whether it carried it.
pub(super) fn strip(schema: Schema) -> (Schema, bool) {
    let mut metadata = schema.metadata().clone();
    let marked = metadata.remove(KEY).is_some_and(|v| v == VALUE);
    (schema.with_metadata(metadata), marked)
}

#[cfg(test)]
mod tests {
    use arrow_schema::{DataType, Field};

    use super::*;

    #[test]
    fn marking_then_stripping_gives_the_schema_back() {
        let schema = Schema::new(vec![Field::new("id", DataType::Int64, false)])
            .with_metadata([("owner".to_owned(), "ops".to_owned())]);
        let (stripped, was_marked) = strip(marked(&schema));
        assert!(was_marked);
        assert_eq!(stripped, schema);
        let (unchanged, was_marked) = strip(schema.clone());
        assert!(!was_marked);
        assert_eq!(unchanged, schema);
    }

    #[test]
    fn another_value_under_the_key_is_not_the_mark() {
        let schema = Schema::empty().with_metadata([(KEY.to_owned(), "forged".to_owned())]);
        assert!(!strip(schema).1);
    }
}
