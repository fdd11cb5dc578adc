//! [`RecoveryReport`]: what an open found and repaired.

use std::path::PathBuf;

use crate::segment::QuarantinedSegment;

/// Why and how an open rebuilt the index from the segments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexRebuild {
    /// What was wrong with the index.
    pub reason: String,
    /// Partitions (keys with a stored value) the rebuilt index holds.
    pub entries: u64,
}

/// Where a segment's valid frames end before the end of its file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CutTail {
    /// The segment file.
    pub path: PathBuf,
    /// Offset of the first byte that is not part of a committed batch.
    pub offset: u64,
    /// What stopped the reading there (a torn frame, a failed checksum, the
    /// end of the written frames, ...).
    pub reason: &'static str,
}

/// What [`StoreBuilder::open`](crate::StoreBuilder::open) found and repaired;
/// see [`Store::recovery`](crate::Store::recovery). Every repair is also
/// logged (crate `log`, level warn).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecoveryReport {
    /// Set when the index was rebuilt from the segments.
    pub index_rebuilt: Option<IndexRebuild>,
    /// Committed batches replayed from the log after the index's checkpoint.
    pub replayed_batches: u64,
    /// Batches whose commit frame never reached the disk: dropped, all of
    /// each.
    pub uncommitted_batches: u64,
    /// The tail cut from the segment that takes appends again: bytes after
    /// its last committed batch (a torn write, an uncommitted batch).
    pub cut_tail: Option<CutTail>,
    /// Sealed segments whose frames stop before the end of the file: the
    /// rest of such a file is damaged and not read.
    pub damaged_segments: Vec<CutTail>,
    /// Segments whose header is damaged: entries into them read as
    /// corrupted.
    pub quarantined: Vec<QuarantinedSegment>,
    /// Files in `segments/` that are not segments: left alone.
    pub stray_files: Vec<PathBuf>,
}
