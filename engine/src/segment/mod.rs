//! Segment files: append-only payload storage read through `mmap`.
//!
//! A store keeps its payloads in `segments/<id>.seg`. Each file starts with a
//! 64-byte [`header`](file) naming it, followed by frames; each frame is a 64-byte
//! header, the encoded index key (so a frame can be checked against the entry
//! that points at it), and the payload, every part 64-byte aligned. Segments
//! are never rewritten in place: an overwrite or delete leaves its old frame as
//! garbage that compaction can reclaim while readers still map it.

mod file;
mod frame;
mod set;

pub(crate) use file::{SEGMENT_HEADER_LEN, Segment};
pub(crate) use frame::{FrameHeader, align64, payload_offset};
pub(crate) use set::SegmentSet;
