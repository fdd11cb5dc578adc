//! The store on object storage (S3 and every other `object_store` backend).
//!
//! ```text
//! {prefix}/FORMAT              the store's format version and id, created once
//! {prefix}/log/{n:020}         log object n: committed batches, as a segment
//! {prefix}/checkpoint/{n:020}  the view after log object n
//! {prefix}/data/{id:016x}      one large payload (id: top bit set, random)
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
//! # Large values (format version 4)
//!
//! A payload of at least the large-value threshold (builder option
//! `remote_large_value_threshold`, default 8 MiB) is not put in the log
//! object: before the commit it is uploaded as its own immutable *data
//! object*, through a multipart upload in parts of 5 MiB (at most two in
//! flight; a failed upload is aborted, and retried whole under the same
//! never-committed name if the failure was transient). The data object is a
//! segment too (see `data`): a 64-byte header naming its id, then the put
//! frame with key, metadata and payload. The log object then holds an
//! *external put*: a put frame with flag bit 0 of header byte 6 set, the
//! payload's length and crc32 in the usual fields, no payload bytes, and the
//! data object's id leading its described bytes. Replaying it points the
//! version's record at the data object (segment id = the data object's id),
//! so reads fetch that one object (one `GET`; the value plus about 200
//! bytes), cache it as a segment file under the cache's size limit and LRU,
//! map it, check the crc32 and return a `Blob` borrowing the mapping, like
//! any read. A log object holding an external put, and every data object,
//! has segment format version 4 in its header (others keep 3): a build that
//! predates data objects refuses them as a version it cannot read, and this
//! build reads every older log object as before. Conditional creates exist
//! for single `PUT`s only (no conditional multipart complete), which is why
//! the commit stays the small log object's create. A crash between upload
//! and commit leaves an orphan data object, which garbage collection deletes
//! after the grace period (`store::remote_gc_data` states the rule, and
//! `store::remote_large` why it never takes one a commit needs).
//!
//! Compaction commits the retained versions of old log objects as moved puts
//! in new log objects (a large one moved out of an old log object goes to a
//! data object first, like a commit's), publishes a checkpoint, and garbage
//! collection deletes a log object (or a data object) once
//! a checkpoint that no longer references it is older than the grace period:
//! `store::remote_compact` and `store::remote_gc` state the design and why
//! no reader within the grace period, and no writer ever, loses an object it
//! needs.

mod cache;
mod client;
mod data;
mod group;
mod object;

#[cfg(test)]
mod faults;
#[cfg(test)]
mod faults_multipart;
#[cfg(test)]
mod gc_tests;
#[cfg(test)]
mod inspect_tests;
#[cfg(test)]
mod large_tests;
#[cfg(test)]
mod tests;

pub(crate) use cache::Cache;
pub(crate) use client::{Client, Created, Listed, RetryPolicy};
pub(crate) use data::{
    check_data_object, data_object_framing, data_object_id, data_object_name, external_described,
    external_put, frames_of, is_large, new_data_object_id, referenced_data,
};
pub(crate) use group::Waiting;
pub(crate) use object::{
    FORMAT_OBJECT, encode_log_object, format_bytes, log_object_id, log_object_name, object_name,
    parse_format,
};
