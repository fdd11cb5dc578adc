//! The log: segments hold every change as a frame, and are the source of truth.
//!
//! A batch of puts and deletes is written as consecutive change frames and a
//! commit frame; at recovery a batch counts only if its commit frame is
//! intact and every frame of it passes its checks (all or nothing). The index
//! is a cache of the log, checkpointed with the position it covers.

mod frame;
mod replay;
mod tail;

#[cfg(feature = "object-store")]
pub(crate) use frame::{DATA_OBJECT_BIT, split_version};
pub(crate) use frame::{
    FRAME_HEADER_LEN, FrameHeader, FrameKind, FrameView, align64, decode_frame, is_data_object,
    parse_frame,
};
pub(crate) use replay::{Change, LogScan, replay};
pub(crate) use tail::scan_tail;

/// The position of one frame in the log, and where it ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FrameRef {
    /// The segment holding the frame.
    pub segment: u64,
    /// The frame's offset in the segment.
    pub offset: u64,
    /// The frame's sequence number.
    pub seq: u64,
    /// The offset just past the frame.
    pub end: u64,
}
