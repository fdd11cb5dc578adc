//! Segment files: the append-only log, read through `mmap`.
//!
//! A store keeps its log in `segments/<id>.seg`. Each file starts with a
//! 64-byte [`header`](file) naming it, followed by frames (see `log`), every
//! payload 64-byte aligned. Segments are never rewritten in place: an
//! overwrite or delete leaves its old frame as garbage that compaction can
//! reclaim while readers still map it.

mod file;
mod set;
mod stream;

pub(crate) use file::{OpenFailure, SEGMENT_HEADER_LEN, Segment};
#[cfg(feature = "object-store")]
pub(crate) use file::{encode_header_version, segment_file_name};
pub use set::QuarantinedSegment;
pub(crate) use set::{AppendedBatch, ChangeFrame, SegmentSet, segment_files};
pub(crate) use stream::StreamedPayload;
