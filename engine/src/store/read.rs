//! The read path: index lookup, frame check, checksum, then a borrowed view.

use std::sync::Arc;

use super::Store;
use crate::blob::Blob;
use crate::error::{Error, Result};
use crate::key::{AssetKey, PartitionKey, encoding};
use crate::log::{FrameKind, FrameView, decode_frame, is_data_object, parse_frame};
use crate::record::{Checksum, Record, RecordMeta};
use crate::segment::Segment;

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
        encoding::with_encoded(asset, partition, |key| {
            self.read_current(key, asset, partition, &|| self.inner.lookup(key))
        })
    }

    /// Reads the record `lookup` finds. A compaction may retire the segment
    /// between the lookup and the read (after moving the version): the
    /// lookup is then repeated, and finds the moved copy.
    pub(super) fn read_current(
        &self,
        key: &[u8],
        asset: &AssetKey,
        partition: &PartitionKey,
        lookup: &dyn Fn() -> Result<Option<Arc<[u8]>>>,
    ) -> Result<Option<Blob>> {
        let corrupted = |reason: String| Error::corrupted(asset, partition, reason);
        let mut attempts = 0;
        loop {
            let Some(value) = lookup()? else {
                return Ok(None);
            };
            let record = Record::decode(&value).map_err(corrupted)?;
            let segment = self.inner.segment(record.location.segment)?;
            attempts += 1;
            if segment.is_none() && attempts < READ_ATTEMPTS {
                continue;
            }
            let read = RecordRead {
                key,
                asset,
                partition,
                verify_checksum: self.inner.verify_checksums,
            };
            return self.blob_from(&read, record, segment).map(Some);
        }
    }

    /// Whether `(asset, partition)` holds a value (an index lookup only).
    ///
    /// # Errors
    /// [`Error::Index`] if the index cannot be read.
    pub fn contains(&self, asset: &AssetKey, partition: &PartitionKey) -> Result<bool> {
        encoding::with_encoded(asset, partition, |key| {
            Ok(self.inner.lookup(key)?.is_some())
        })
    }

    /// The metadata of `(asset, partition)`, read from the index alone: the
    /// payload is not touched.
    ///
    /// # Errors
    /// [`Error::Corrupted`] if the index entry is damaged; [`Error::Index`].
    pub fn meta(&self, asset: &AssetKey, partition: &PartitionKey) -> Result<Option<RecordMeta>> {
        let Some(value) = encoding::with_encoded(asset, partition, |key| self.inner.lookup(key))?
        else {
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
        let record = Record::decode(value).map_err(|r| Error::corrupted(asset, partition, r))?;
        let segment = self.inner.segment(record.location.segment)?;
        let read = RecordRead {
            key,
            asset,
            partition,
            verify_checksum,
        };
        self.blob_from(&read, record, segment)
    }

    /// Builds the checked blob of a decoded index record, whose segment
    /// (`None`: not mapped) the caller has looked up.
    fn blob_from(
        &self,
        read: &RecordRead<'_>,
        record: Record,
        segment: Option<Arc<Segment>>,
    ) -> Result<Blob> {
        let corrupted = |reason: String| Error::corrupted(read.asset, read.partition, reason);
        let location = record.location;
        let segments = &self.inner.segments;
        let segment = segment.ok_or_else(|| {
            corrupted(match segments.quarantine_reason(location.segment) {
                Some(reason) => format!("segment {} is quarantined: {reason}", location.segment),
                None => format!("segment {} is missing", location.segment),
            })
        })?;
        // With the payload's crc32 checked below, the frame's own is redundant
        // (see `parse_frame`); without it, the frame's crc32 is the check.
        let decode = if read.verify_checksum {
            parse_frame
        } else {
            decode_frame
        };
        let frame = decode(segment.tail(location.frame_offset))
            .map_err(|r| corrupted(format!("{r} (in {})", segment.path().display())))?;
        check_frame(&frame, read.key, &record).map_err(|r| corrupted(r.to_owned()))?;
        let start = location.frame_offset + frame.header.payload_offset();
        let payload = segment.bytes(start, record.meta.len).ok_or_else(|| {
            corrupted(format!(
                "payload lies past the end of {} (truncated)",
                segment.path().display()
            ))
        })?;
        if read.verify_checksum && Checksum::of(payload) != record.meta.checksum {
            return Err(corrupted("payload fails its crc32 checksum".into()));
        }
        let (start, len) = (start as usize, payload.len());
        Ok(Blob::new(
            segment,
            (start, len),
            read.verify_checksum,
            read.asset.clone(),
            read.partition.clone(),
            record.meta,
        ))
    }
}

/// What a read is of, and whether it checks the payload's checksum.
struct RecordRead<'a> {
    key: &'a [u8],
    asset: &'a AssetKey,
    partition: &'a PartitionKey,
    verify_checksum: bool,
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
        external: false,
        ..
    } = frame.header.kind
    else {
        return Err("frame is not a put of the payload it holds");
    };
    let (version, _) = frame.put_version()?;
    // A data object's frame predates the version number (see
    // `is_data_object`): the log's external put named it.
    let version_agrees = is_data_object(record.location.segment) || version == record.seq;
    if (codec, payload_len, checksum) != (record.meta.codec, record.meta.len, record.meta.checksum)
        || !version_agrees
    {
        return Err("frame header disagrees with the index entry");
    }
    Ok(())
}
