//! Dagster-style I/O managers, partitions definitions, partition mappings and
//! an executor over the Tessera engine.
#![forbid(unsafe_code)]

pub mod adapters;
pub mod context;
mod error;
pub mod example;
pub mod executor;
pub mod manager;
pub mod metadata;
pub mod partitions;
pub mod records;

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
