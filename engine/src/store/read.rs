//! The read path: index lookup, frame check, checksum, then a borrowed view.

use super::Store;
use crate::blob::Blob;
use crate::error::{Error, Result};
use crate::key::{AssetKey, PartitionKey, encoding};
use crate::record::{Checksum, Record, RecordMeta};
use crate::segment::{FrameHeader, payload_offset};

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
        match self.inner.index.get(&key)? {
            None => Ok(None),
            Some(value) => self
                .blob_for(&key, &value, asset, partition, self.inner.verify_checksums)
                .map(Some),
        }
    }

    /// Whether `(asset, partition)` holds a value (an index lookup only).
    ///
    /// # Errors
    /// [`Error::Index`] if the index cannot be read.
    pub fn contains(&self, asset: &AssetKey, partition: &PartitionKey) -> Result<bool> {
        let key = encoding::encode(asset, partition);
        Ok(self.inner.index.get(&key)?.is_some())
    }

    /// The metadata of `(asset, partition)`, read from the index alone: the
    /// payload is not touched.
    ///
    /// # Errors
    /// [`Error::Corrupted`] if the index entry is damaged; [`Error::Index`].
    pub fn meta(&self, asset: &AssetKey, partition: &PartitionKey) -> Result<Option<RecordMeta>> {
        let key = encoding::encode(asset, partition);
        let Some(value) = self.inner.index.get(&key)? else {
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
        let segment = self
            .inner
            .segments
            .get(location.segment)
            .ok_or_else(|| corrupted(format!("segment {} is missing", location.segment)))?;
        let header_len = payload_offset(key.len());
        let frame = segment
            .bytes(location.frame_offset, header_len)
            .ok_or_else(|| {
                corrupted(format!(
                    "frame lies past the end of {} (truncated)",
                    segment.path().display()
                ))
            })?;
        check_frame(frame, key, &record.meta).map_err(|r| corrupted(r.to_owned()))?;
        let start = location.frame_offset + header_len;
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
            start,
            len,
            asset.clone(),
            partition.clone(),
            record.meta,
        ))
    }
}

/// Checks that a frame is the one the index entry describes.
fn check_frame(frame: &[u8], key: &[u8], meta: &RecordMeta) -> Result<(), &'static str> {
    let (header, frame_key) = FrameHeader::decode(frame)?;
    if frame_key != key {
        return Err("frame belongs to another key");
    }
    if header.codec != meta.codec
        || header.payload_len != meta.len
        || header.checksum != meta.checksum
    {
        return Err("frame header disagrees with the index entry");
    }
    Ok(())
}
