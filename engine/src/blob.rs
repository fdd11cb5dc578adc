//! [`Blob`]: a read handle that borrows a payload from its mapped segment.

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use crate::codec::Codec;
use crate::error::{Error, Result};
use crate::key::{AssetKey, PartitionKey};
use crate::record::RecordMeta;
use crate::segment::Segment;

/// A stored payload, borrowed in place from the segment's mapping: no copy.
///
/// Derefs to the payload bytes. Cloning is two reference-count increments; the
/// handle keeps its segment mapped (even after an overwrite, a delete or a
/// compaction) for as long as it or a clone lives. `Send + Sync`.
#[derive(Clone)]
pub struct Blob {
    segment: Arc<Segment>,
    start: usize,
    len: usize,
    checksum_verified: bool,
    entry: Arc<BlobEntry>,
}

/// What a blob was stored under and with.
struct BlobEntry {
    asset: AssetKey,
    partition: PartitionKey,
    meta: RecordMeta,
}

impl Blob {
    /// `segment`'s bytes at `start..start + len` must exist (checked by the
    /// caller); `checksum_verified` says whether the caller has just found
    /// their crc32 equal to the recorded checksum.
    pub(crate) fn new(
        segment: Arc<Segment>,
        (start, len): (usize, usize),
        checksum_verified: bool,
        asset: AssetKey,
        partition: PartitionKey,
        meta: RecordMeta,
    ) -> Self {
        let entry = Arc::new(BlobEntry {
            asset,
            partition,
            meta,
        });
        Self {
            segment,
            start,
            len,
            checksum_verified,
            entry,
        }
    }

    /// The payload's metadata.
    #[must_use]
    pub fn meta(&self) -> &RecordMeta {
        &self.entry.meta
    }

    /// Whether the read that made this handle verified the payload's crc32
    /// (it did unless the store was opened with `verify_checksums(false)`).
    #[must_use]
    pub fn checksum_verified(&self) -> bool {
        self.checksum_verified
    }

    /// The payload's codec.
    #[must_use]
    pub fn codec(&self) -> Codec {
        self.entry.meta.codec
    }

    /// The asset the payload belongs to.
    #[must_use]
    pub fn asset(&self) -> &AssetKey {
        &self.entry.asset
    }

    /// The partition the payload belongs to.
    #[must_use]
    pub fn partition(&self) -> &PartitionKey {
        &self.entry.partition
    }

    /// Whether `address` lies inside the mapping this blob borrows from; used to
    /// prove that decoded views point into the store rather than into copies.
    #[must_use]
    pub fn is_in_mapping(&self, address: *const u8) -> bool {
        self.segment.mapped_range().contains(&(address as usize))
    }

    /// Fails with [`Error::CodecMismatch`] unless the payload has `expected` codec.
    ///
    /// # Errors
    /// [`Error::CodecMismatch`].
    pub fn expect_codec(&self, expected: Codec) -> Result<()> {
        if self.codec() == expected {
            return Ok(());
        }
        Err(Error::CodecMismatch {
            asset: self.asset().clone(),
            partition: self.partition().clone(),
            expected,
            found: self.codec(),
        })
    }
}

impl Deref for Blob {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        // The range was bounds-checked against the mapping when the blob was made.
        self.segment
            .bytes(self.start as u64, self.len as u64)
            .unwrap_or_default()
    }
}

impl AsRef<[u8]> for Blob {
    fn as_ref(&self) -> &[u8] {
        self
    }
}

impl fmt::Debug for Blob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Blob")
            .field("asset", self.asset())
            .field("partition", self.partition())
            .field("segment", &self.segment.id())
            .field("offset", &self.start)
            .field("meta", self.meta())
            .finish()
    }
}
