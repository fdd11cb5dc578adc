//! Decoded schemas, cached by fingerprint: the bytes of an IPC file's schema
//! message. Every partition of an asset written with one schema starts with
//! the same schema message, so after the first read of an asset a read decodes
//! no schema: it looks the message's bytes up (a hash of a few hundred bytes)
//! and shares the cached `SchemaRef`.
//!
//! The key is the message itself, not a digest of it, so two different
//! schemas never share an entry. The cache is process-wide and bounded: when
//! it holds [`CAPACITY`] schemas it starts over.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, PoisonError, RwLock};

use ahash::RandomState;
use arrow_ipc::convert::try_fb_to_schema;
use arrow_ipc::root_as_message;
use arrow_schema::{ArrowError, SchemaRef};

use super::mark;

/// The most schemas kept.
const CAPACITY: usize = 4096;

/// The magic bytes an IPC file starts with.
const MAGIC: &[u8; 6] = b"ARROW1";

/// The most zero bytes a writer pads the magic with (arrow's largest
/// alignment is 64; this leaves room).
const MAX_MAGIC_PADDING: usize = 256;

/// A decoded schema, without Tessera's writer mark.
#[derive(Debug, Clone)]
pub(super) struct CachedSchema {
    /// The schema as the writer was given it.
    pub schema: SchemaRef,
    /// Whether the file carries Tessera's writer mark.
    pub marked: bool,
}

/// Decoded schemas by schema message.
type Schemas = HashMap<Box<[u8]>, CachedSchema, RandomState>;

static CACHE: LazyLock<RwLock<Schemas>> = LazyLock::new(|| RwLock::new(HashMap::default()));

/// The schema of the IPC file `file`, from its leading schema message.
///
/// # Errors
/// If the file does not start with the IPC magic and a schema message.
pub(super) fn schema_of(file: &[u8]) -> Result<CachedSchema, ArrowError> {
    let message = schema_message(file)?;
    if let Some(hit) = CACHE
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .get(message)
    {
        return Ok(hit.clone());
    }
    let decoded = decode(message)?;
    let mut cache = CACHE.write().unwrap_or_else(PoisonError::into_inner);
    if cache.len() >= CAPACITY {
        cache.clear();
    }
    cache.insert(message.into(), decoded.clone());
    Ok(decoded)
}

/// The bytes of the schema message's flatbuffer, right after the magic and
/// the message's length prefix.
fn schema_message(file: &[u8]) -> Result<&[u8], ArrowError> {
    let invalid = |reason: &str| ArrowError::IpcError(reason.to_owned());
    if file.get(..MAGIC.len()) != Some(MAGIC) {
        return Err(invalid("payload does not start with the Arrow IPC magic"));
    }
    let word = |at: usize| -> Result<u32, ArrowError> {
        let bytes = file
            .get(at..at + 4)
            .ok_or_else(|| invalid("IPC file ends inside its schema message"))?;
        Ok(u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
    };
    // The magic is padded with zeros to the writer's alignment (8 bytes for
    // most writers, 64 for Tessera's); a message never starts with a zero word.
    let mut at = 8;
    while word(at)? == 0 {
        at += 8;
        if at > MAX_MAGIC_PADDING {
            return Err(invalid("no IPC schema message after the magic"));
        }
    }
    // Since format 0.15 a message's length follows a 0xFFFFFFFF continuation.
    let (len, start) = match word(at)? {
        u32::MAX => (word(at + 4)?, at + 8),
        len => (len, at + 4),
    };
    let end = usize::try_from(len)
        .ok()
        .and_then(|len| start.checked_add(len))
        .ok_or_else(|| invalid("IPC schema message length overflows"))?;
    file.get(start..end)
        .ok_or_else(|| invalid("IPC schema message lies past the payload's end"))
}

fn decode(message: &[u8]) -> Result<CachedSchema, ArrowError> {
    let message = root_as_message(message)
        .map_err(|e| ArrowError::IpcError(format!("invalid IPC schema message: {e}")))?;
    let fb_schema = message.header_as_schema().ok_or_else(|| {
        ArrowError::IpcError("the IPC file's first message is not a schema".into())
    })?;
    let (schema, marked) = mark::strip(try_fb_to_schema(fb_schema)?);
    Ok(CachedSchema {
        schema: Arc::new(schema),
        marked,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_without_the_magic_or_a_whole_message_are_errors() {
        assert!(schema_of(b"not arrow at all").is_err());
        assert!(schema_of(b"ARROW1\0\0\xff\xff\xff\xff\x10\0\0\0short").is_err());
        assert!(schema_of(b"ARROW1\0\0").is_err());
    }
}
