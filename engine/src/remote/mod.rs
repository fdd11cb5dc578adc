//! The store on object storage (S3 and every other `object_store` backend).
//!
//! ```text
//! {prefix}/FORMAT              the store's format version and id, created once
//! {prefix}/log/{n:020}         log object n: committed batches, as a segment
//! {prefix}/checkpoint/{n:020}  the view after log object n
//! ```
//!
//! Every commit is one immutable log object (holding the batches of one
//! process's writers that waited for the same commit), numbered in commit
//! order and created with a conditional create (`PutMode::Create`, S3's
//! `If-None-Match: *`): of two writers racing for number `n` the first wins,
//! the other reads object `n` (and any after it) and retries with the next
//! number, its batches re-encoded with the sequence numbers that follow. A
//! log object is a segment in the engine's own format (64-byte header naming
//! `n` and the writer handle, each batch's change frames and commit frame),
//! so the local cache holds fetched objects as segment files, memory-mapped
//! and read like local segments: a [`Blob`](crate::Blob) borrows the cached
//! mapping and reads verify the crc32 as usual.
//!
//! Compaction commits the retained versions of old log objects as moved puts
//! in new log objects (no other kind of object, no upload outside the log),
//! publishes a checkpoint, and garbage collection deletes a log object once
//! a checkpoint that no longer references it is older than the grace period:
//! `store::remote_compact` and `store::remote_gc` state the design and why
//! no reader within the grace period, and no writer ever, loses an object it
//! needs.

mod cache;
mod client;
mod group;
mod object;

#[cfg(test)]
mod faults;
#[cfg(test)]
mod gc_tests;
#[cfg(test)]
mod inspect_tests;
#[cfg(test)]
mod tests;

pub(crate) use cache::Cache;
pub(crate) use client::{Client, Created, Listed, RetryPolicy};
pub(crate) use group::Waiting;
pub(crate) use object::{
    FORMAT_OBJECT, encode_log_object, format_bytes, log_object_id, log_object_name, parse_format,
};
