//! The read path: index lookup, frame check, checksum, then a borrowed view.

use super::Store;
use crate::blob::Blob;
use crate::error::{Error, Result};
use crate::key::{AssetKey, PartitionKey, encoding};
use crate::log::{FrameKind, FrameView, decode_frame};
use crate::record::{Checksum, Record, RecordMeta};

/// Lookups a read makes before a missing segment counts as damage.
const READ_ATTEMPTS: u32 = 4;

impl Store {
    /// The payload under `(asset, partition)`, borrowed from the mapped segment
    /// without copying, or `None` if there is none.
    ///
    /// The frame around the payload is checked against the index entry (same
    /// key, codec, length and checksum) and, unless checksums are turned off,
    /// the payload's crc32 is recomputed.
    ///
    /// # Errors
    /// [`Error::Corrupted`] if any check fails (the bytes are never returned);
    /// [`Error::Index`] if the index cannot be read.
    pub fn get(&self, asset: &AssetKey, partition: &PartitionKey) -> Result<Option<Blob>> {
        let key = encoding::encode(asset, partition);
        self.read_current(&key, asset, partition, &|| self.inner.lookup(&key))
    }

    /// Reads the record `lookup` finds. A compaction may retire the segment
    /// between the lookup and the read (after moving the version): the
    /// lookup is then repeated, and finds the moved copy.
    pub(super) fn read_current(
        &self,
        key: &[u8],
        asset: &AssetKey,
        partition: &PartitionKey,
        lookup: &dyn Fn() -> Result<Option<Vec<u8>>>,
    ) -> Result<Option<Blob>> {
        let mut attempts = 0;
        loop {
            let Some(value) = lookup()? else {
                return Ok(None);
            };
            let retired = Record::decode(&value)
                .is_ok_and(|record| self.inner.segments.get(record.location.segment).is_none());
            attempts += 1;
            if retired && attempts < READ_ATTEMPTS {
                continue;
            }
            return self
                .blob_for(key, &value, asset, partition, self.inner.verify_checksums)
                .map(Some);
        }
    }

    /// Whether `(asset, partition)` holds a value (an index lookup only).
    ///
    /// # Errors
    /// [`Error::Index`] if the index cannot be read.
    pub fn contains(&self, asset: &AssetKey, partition: &PartitionKey) -> Result<bool> {
        let key = encoding::encode(asset, partition);
        Ok(self.inner.lookup(&key)?.is_some())
    }

    /// The metadata of `(asset, partition)`, read from the index alone: the
    /// payload is not touched.
    ///
    /// # Errors
    /// [`Error::Corrupted`] if the index entry is damaged; [`Error::Index`].
    pub fn meta(&self, asset: &AssetKey, partition: &PartitionKey) -> Result<Option<RecordMeta>> {
        let key = encoding::encode(asset, partition);
        let Some(value) = self.inner.lookup(&key)? else {
            return Ok(None);
        };
        let record = Record::decode(&value).map_err(|r| Error::corrupted(asset, partition, r))?;
        Ok(Some(record.meta))
    }

    /// Builds the checked blob an index entry points at.
    pub(super) fn blob_for(
        &self,
        key: &[u8],
        value: &[u8],
        asset: &AssetKey,
        partition: &PartitionKey,
        verify_checksum: bool,
    ) -> Result<Blob> {
        let corrupted = |reason: String| Error::corrupted(asset, partition, reason);
        let record = Record::decode(value).map_err(&corrupted)?;
        let location = record.location;
        let segments = &self.inner.segments;
        let segment = segments.get(location.segment).ok_or_else(|| {
            corrupted(match segments.quarantine_reason(location.segment) {
                Some(reason) => format!("segment {} is quarantined: {reason}", location.segment),
                None => format!("segment {} is missing", location.segment),
            })
        })?;
        let frame = decode_frame(segment.tail(location.frame_offset))
            .map_err(|r| corrupted(format!("{r} (in {})", segment.path().display())))?;
        check_frame(&frame, key, &record).map_err(|r| corrupted(r.to_owned()))?;
        let start = location.frame_offset + frame.header.payload_offset();
        let payload = segment.bytes(start, record.meta.len).ok_or_else(|| {
            corrupted(format!(
                "payload lies past the end of {} (truncated)",
                segment.path().display()
            ))
        })?;
        if verify_checksum && Checksum::of(payload) != record.meta.checksum {
            return Err(corrupted("payload fails its crc32 checksum".into()));
        }
        let (start, len) = (start as usize, payload.len());
        Ok(Blob::new(
            segment,
            (start, len),
            verify_checksum,
            asset.clone(),
            partition.clone(),
            record.meta,
        ))
    }
}

/// Checks that a frame is the put (or moved put) of the version the index
/// entry describes.
fn check_frame(frame: &FrameView<'_>, key: &[u8], record: &Record) -> Result<(), &'static str> {
    if frame.key != key {
        return Err("frame belongs to another key");
    }
    let FrameKind::Put {
        codec,
        payload_len,
        checksum,
        ..
    } = frame.header.kind
    else {
        return Err("frame is not a put");
    };
    let (version, _) = frame.put_version()?;
    if (codec, payload_len, checksum) != (record.meta.codec, record.meta.len, record.meta.checksum)
        || version != record.seq
    {
        return Err("frame header disagrees with the index entry");
    }
    Ok(())
}
