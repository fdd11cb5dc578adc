//! Dagster-style I/O managers, partitions definitions, partition mappings and
//! an executor over the Tessera engine.
#![deny(unsafe_code)]

pub mod adapters;
pub mod context;
mod error;
pub mod manager;
pub mod metadata;
pub mod partitions;

#[cfg(feature = "arrow2")]
pub use adapters::{Arrow2InputManager, Arrow2Partition};
pub use adapters::{
    ArrowColumnInputManager, ArrowIoManager, BytesIoManager, FilesystemIoManager,
    InMemoryIoManager, RkyvIoManager, RkyvViewInputManager, StoreTarget,
};
pub use context::{InputContext, LoadMode, OutputContext, PartitionKeyRange};
pub use error::{Error, Result};
pub use manager::{
    AnyValue, ErasedInput, InputManager, InputValue, IoManager, IoManagers, LoadedInput,
    PartitionMap,
};
pub use metadata::{Metadata, MetadataValue};
