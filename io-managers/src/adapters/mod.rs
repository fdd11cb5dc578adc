//! I/O managers over a shared [`tessera_engine::Store`], plus the in-memory
//! and filesystem managers.

mod arrow;
#[cfg(feature = "arrow2")]
mod arrow2;
mod arrow_column;
mod bytes;
mod filesystem;
mod memory;
mod path_escape;
mod rkyv;
mod store_backed;
mod stored_payload;

pub use arrow::{ArrowIoManager, ArrowPartitionStream, ConcatenatedBatches};
pub use arrow_column::ArrowColumnInputManager;
#[cfg(feature = "arrow2")]
pub use arrow2::{Arrow2InputManager, Arrow2Partition};
pub use bytes::BytesIoManager;
pub use filesystem::FilesystemIoManager;
pub use memory::InMemoryIoManager;
pub use rkyv::{RkyvIoManager, RkyvViewInputManager};
pub use store_backed::StoreTarget;
