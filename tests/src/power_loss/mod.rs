//! A power-loss simulator for a store's own files.
//!
//! A [`RecordingFileIo`] sits in the store's
//! [`FileIo`](tessera_engine::io::FileIo) seam: it performs every operation on
//! the real file system and records it, in order, with the test's own
//! [`marks`](RecordingFileIo::mark) ("put k1 acknowledged") in between. From
//! that log, [`History::crash_image`] writes into a directory one state a
//! power loss at a chosen event may have left:
//!
//! * a file's bytes and length are durable as of its last successful
//!   `sync_data`; each write since is kept, lost, or torn at 512-byte or 4 KiB
//!   file boundaries (each piece kept, lost, zeroed or garbage), and each
//!   `set_len` kept or lost;
//! * creating, renaming and removing entries, and creating directories, is
//!   durable only after a `sync_dir` of the parent; until then each change is
//!   kept or lost, in order;
//! * after a failed `sync_data` the operations it covered are left in a random
//!   state for good, as Linux marks the failed pages clean;
//! * the index (a cache the store rebuilds) is the copy taken at the last
//!   checkpoint the engine reported, or nothing ([`IndexChoice`]).
//!
//! The test reopens each image with the plain OS file system and checks the
//! crash contract. [`Mode::AckWithoutSync`] fakes every sync, and a
//! [`Fault`] fails a chosen call, to show that the checks catch a broken seam
//! and that the store survives I/O errors.
//!
//! ```no_run
//! use std::sync::Arc;
//! use tessera_tests::power_loss::{IndexChoice, RecordingFileIo};
//!
//! # fn main() -> std::io::Result<()> {
//! let root = tempfile::tempdir()?;
//! let recorder = Arc::new(RecordingFileIo::new(root.path())?);
//! // ... open a store under root.path().join("store") with
//! // `.file_io(recorder.clone())`, run a workload, mark acknowledgements ...
//! let acked = recorder.mark("put k1 acknowledged");
//! let history = recorder.history();
//! for at_event in 0..=history.len() {
//!     for seed in 0..8 {
//!         let image = tempfile::tempdir()?;
//!         let report = history.crash_image(at_event, seed, IndexChoice::Random, image.path())?;
//!         // ... reopen image.path().join("store"); if at_event > acked, k1 must be there ...
//!         # let _ = (report, acked);
//!     }
//! }
//! # Ok(())
//! # }
//! ```

mod crash_image;
mod data;
mod event;
mod fault;
mod history;
mod model;
mod namespace;
mod recorder;
mod rng;
mod tree;

#[cfg(test)]
mod tests;

pub use crash_image::{CrashImage, IndexChoice};
pub use data::OpTally;
pub use event::{Event, EventOp, OpKind, Outcome};
pub use fault::{Fault, FaultError};
pub use history::History;
pub use recorder::{Mode, RecordingFileIo};
pub use tree::TreeSnapshot;
