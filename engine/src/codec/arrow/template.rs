//! The schema encoded once per schema, not once per write. An IPC file of one
//! record batch is, around that batch's message, the same bytes for every
//! batch of a schema: the magic, the schema message, and the footer (the
//! schema again and one block whose only varying fields are two lengths).
//! The first write of a schema has arrow-ipc's `FileWriter` write the file of
//! an empty batch and keeps those bytes; later writes encode only their
//! batch's message and copy the rest, patching the block's lengths: the bytes
//! are those `FileWriter` writes for the same batch (a test compares them).
//!
//! Schemas with dictionary-encoded fields are not templated (their files
//! hold dictionary batches too); the cache is process-wide, keyed by the
//! schema itself, and starts over when it holds [`CAPACITY`] schemas.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, PoisonError, RwLock};

use arrow_array::RecordBatch;
use arrow_ipc::writer::{
    DictionaryTracker, FileWriter, IpcDataGenerator, IpcWriteContext, IpcWriteOptions,
    write_message,
};
use arrow_schema::{ArrowError, DataType, SchemaRef};

use super::mark;

/// The most schemas kept.
const CAPACITY: usize = 1024;

/// The end-of-stream marker before the footer: a continuation, length 0.
const END_OF_STREAM: [u8; 8] = [0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0];

/// The footer's length (i32) and the magic that end the file.
const TRAILER_LEN: usize = 10;

/// In a footer's record batch block: where the metadata length (i32) and
/// the body length (i64) lie.
const BLOCK_METADATA_LEN_AT: usize = 8;
const BLOCK_BODY_LEN_AT: usize = 16;

/// The bytes of one schema's single-batch file, but the batch's message.
#[derive(Debug)]
struct Template {
    /// The magic, its padding and the schema message.
    prefix: Box<[u8]>,
    /// The footer and the trailer.
    footer: Box<[u8]>,
    /// Where, in `footer`, the record batch block starts.
    block_at: usize,
}

static TEMPLATES: LazyLock<RwLock<HashMap<SchemaRef, Option<Arc<Template>>>>> =
    LazyLock::new(|| RwLock::new(HashMap::new()));

/// The IPC file of `batch` alone under `schema` (marked as Tessera's), or
/// `None` when the schema is not templated.
///
/// # Errors
/// The IPC writer's errors.
pub(super) fn encode_single(
    schema: &SchemaRef,
    batch: &RecordBatch,
) -> Result<Option<Vec<u8>>, ArrowError> {
    let Some(template) = template_of(schema)? else {
        return Ok(None);
    };
    let options = IpcWriteOptions::default();
    let (dictionaries, message) = IpcDataGenerator::default().encode(
        batch,
        &mut DictionaryTracker::new(false),
        &options,
        &mut IpcWriteContext::default(),
    )?;
    if !dictionaries.is_empty() {
        return Ok(None);
    }
    let mut file = Vec::with_capacity(
        template.prefix.len()
            + message.ipc_message.len()
            + message.arrow_data.len()
            + 128
            + END_OF_STREAM.len()
            + template.footer.len(),
    );
    file.extend_from_slice(&template.prefix);
    let (metadata_len, body_len) = write_message(&mut file, message, &options)?;
    file.extend_from_slice(&END_OF_STREAM);
    let block = file.len() + template.block_at;
    file.extend_from_slice(&template.footer);
    let metadata_len = i32::try_from(metadata_len)
        .map_err(|_| ArrowError::IpcError("record batch metadata over 2 GiB".into()))?;
    let body_len = i64::try_from(body_len)
        .map_err(|_| ArrowError::IpcError("record batch body over 2^63 bytes".into()))?;
    file[block + BLOCK_METADATA_LEN_AT..][..4].copy_from_slice(&metadata_len.to_le_bytes());
    file[block + BLOCK_BODY_LEN_AT..][..8].copy_from_slice(&body_len.to_le_bytes());
    Ok(Some(file))
}

fn template_of(schema: &SchemaRef) -> Result<Option<Arc<Template>>, ArrowError> {
    if let Some(hit) = TEMPLATES
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .get(schema)
    {
        return Ok(hit.clone());
    }
    let made = if schema
        .fields()
        .iter()
        .any(|f| has_dictionary(f.data_type()))
    {
        None
    } else {
        Some(Arc::new(make_template(schema)?))
    };
    let mut templates = TEMPLATES.write().unwrap_or_else(PoisonError::into_inner);
    if templates.len() >= CAPACITY {
        templates.clear();
    }
    templates.insert(Arc::clone(schema), made.clone());
    Ok(made)
}

/// `FileWriter`'s file of one empty batch, cut around the batch's message.
fn make_template(schema: &SchemaRef) -> Result<Template, ArrowError> {
    let mut writer = FileWriter::try_new(Vec::new(), &mark::marked(schema))?;
    writer.write(&RecordBatch::new_empty(Arc::clone(schema)))?;
    let file = writer.into_inner()?;
    let invalid = |what: &str| ArrowError::IpcError(format!("IPC file template: {what}"));
    let trailer_at = file
        .len()
        .checked_sub(TRAILER_LEN)
        .ok_or_else(|| invalid("too short"))?;
    let mut len = [0u8; 4];
    len.copy_from_slice(&file[trailer_at..trailer_at + 4]);
    let footer_at = usize::try_from(i32::from_le_bytes(len))
        .ok()
        .and_then(|len| trailer_at.checked_sub(len))
        .ok_or_else(|| invalid("footer length"))?;
    let footer = arrow_ipc::root_as_footer(&file[footer_at..trailer_at])
        .map_err(|e| invalid(&e.to_string()))?;
    let blocks = footer
        .recordBatches()
        .filter(|blocks| blocks.len() == 1)
        .ok_or_else(|| invalid("not one record batch"))?;
    if footer.dictionaries().is_some_and(|d| !d.is_empty()) {
        return Err(invalid("dictionary batches"));
    }
    let block_at = blocks.bytes().as_ptr() as usize - file[footer_at..].as_ptr() as usize;
    let message_at = usize::try_from(blocks.get(0).offset())
        .ok()
        .filter(|&at| at <= footer_at)
        .ok_or_else(|| invalid("block offset"))?;
    if file.get(footer_at - END_OF_STREAM.len()..footer_at) != Some(&END_OF_STREAM[..]) {
        return Err(invalid("no end-of-stream marker before the footer"));
    }
    Ok(Template {
        prefix: file[..message_at].into(),
        footer: file[footer_at..].into(),
        block_at,
    })
}

/// Whether `data_type` is, or holds, a dictionary-encoded type.
fn has_dictionary(data_type: &DataType) -> bool {
    match data_type {
        DataType::Dictionary(..) => true,
        DataType::List(field)
        | DataType::LargeList(field)
        | DataType::ListView(field)
        | DataType::LargeListView(field)
        | DataType::FixedSizeList(field, _)
        | DataType::Map(field, _) => has_dictionary(field.data_type()),
        DataType::Struct(fields) => fields.iter().any(|f| has_dictionary(f.data_type())),
        DataType::Union(fields, _) => fields.iter().any(|(_, f)| has_dictionary(f.data_type())),
        DataType::RunEndEncoded(run_ends, values) => {
            has_dictionary(run_ends.data_type()) || has_dictionary(values.data_type())
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::builder::{ListBuilder, StringBuilder};
    use arrow_array::types::Int32Type;
    use arrow_array::{
        ArrayRef, DictionaryArray, Float64Array, Int32Array, Int64Array, StringArray, StructArray,
    };
    use arrow_schema::{Field, Schema};

    use super::*;

    /// The file arrow-ipc's `FileWriter` writes for `batch` under `schema`, marked.
    fn file_writer_bytes(schema: &SchemaRef, batch: &RecordBatch) -> Vec<u8> {
        let mut writer = FileWriter::try_new(Vec::new(), &mark::marked(schema)).expect("writer");
        writer.write(batch).expect("write");
        writer.into_inner().expect("finish")
    }

    fn batch_of(columns: Vec<(&str, ArrayRef)>) -> RecordBatch {
        RecordBatch::try_from_iter(columns).expect("batch")
    }

    #[test]
    fn templated_files_are_the_bytes_file_writer_writes() {
        let mut lists = ListBuilder::new(StringBuilder::new());
        lists.values().append_value("a");
        lists.append(true);
        lists.append(false);
        lists.values().append_value("bc");
        lists.values().append_null();
        lists.append(true);
        let structs = StructArray::from(vec![(
            Arc::new(Field::new("x", DataType::Float64, true)),
            Arc::new(Float64Array::from(vec![Some(1.5), None, Some(-2.0)])) as ArrayRef,
        )]);
        let batches = [
            batch_of(vec![(
                "id",
                Arc::new(Int64Array::from(vec![1, 2, 3])) as ArrayRef,
            )]),
            batch_of(vec![(
                "id",
                Arc::new(Int64Array::from(Vec::<i64>::new())) as ArrayRef,
            )]),
            batch_of(vec![
                (
                    "s",
                    Arc::new(StringArray::from(vec![Some("x"), None, Some("yz")])) as ArrayRef,
                ),
                ("l", Arc::new(lists.finish()) as ArrayRef),
                ("t", Arc::new(structs) as ArrayRef),
            ]),
            batch_of(vec![(
                "sliced",
                Arc::new(
                    StringArray::from_iter_values((0..1000).map(|i| format!("v{i}")))
                        .slice(17, 400),
                ) as ArrayRef,
            )]),
        ];
        for batch in &batches {
            // The same schema twice: a miss that builds the template, then a hit.
            let schema = batch.schema();
            for _ in 0..2 {
                let templated = encode_single(&schema, batch)
                    .expect("encode")
                    .expect("templated");
                assert_eq!(templated, file_writer_bytes(&schema, batch), "{schema}");
            }
        }
        let with_metadata = Arc::new(
            Schema::new(vec![Field::new("v", DataType::Int32, false)])
                .with_metadata([("owner".to_owned(), "ops".to_owned())]),
        );
        let batch = RecordBatch::try_new(
            Arc::clone(&with_metadata),
            vec![Arc::new(Int32Array::from(vec![7; 100]))],
        )
        .expect("batch");
        let templated = encode_single(&with_metadata, &batch)
            .expect("encode")
            .expect("templated");
        assert_eq!(templated, file_writer_bytes(&with_metadata, &batch));
    }

    #[test]
    fn dictionary_schemas_are_not_templated() {
        let keys: DictionaryArray<Int32Type> = vec!["a", "b", "a"].into_iter().collect();
        let batch = batch_of(vec![("d", Arc::new(keys) as ArrayRef)]);
        assert!(
            encode_single(&batch.schema(), &batch)
                .expect("encode")
                .is_none()
        );
    }
}
