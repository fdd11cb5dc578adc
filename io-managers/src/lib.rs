//! Dagster-style I/O managers, partitions definitions, partition mappings and
//! an executor over the Tessera engine.
//!
//! - [`partitions`]: static, time-window, dynamic and multi partitions, and the
//!   mappings between them, with Dagster's keys and semantics;
//! - [`IoManager`] / [`InputManager`] with [`OutputContext`] / [`InputContext`],
//!   and adapters over a shared [`tessera_engine::Store`] ([`ArrowIoManager`],
//!   [`RkyvIoManager`], [`BytesIoManager`]), in memory and on files;
//! - [`executor`]: asset definitions, materialization partition by partition,
//!   [`records`] of materializations and staleness; [`example`] is the bundled
//!   pipeline that the `tessera` binary runs;
//! - [`cli`]: the `tessera` command line as a library, for a pipeline of your own.
//!
//! ```
//! use std::sync::Arc;
//!
//! use tessera_engine::{AssetKey, Store};
//! use tessera_io_managers::{InputContext, IoManager, InputManager, OutputContext, RkyvIoManager};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let dir = tempfile::tempdir()?;
//! let store = Arc::new(Store::open(dir.path())?);
//! let manager = RkyvIoManager::<Vec<f64>>::new(store);
//! let asset = AssetKey::new(["public", "weather_obs"])?;
//!
//! for (day, temperatures) in [("2022-07-23", vec![21.5, 22.0]), ("2022-07-24", vec![19.8])] {
//!     let output = OutputContext::builder(asset.clone()).partition_key(day).build();
//!     manager.handle_output(&output, temperatures)?;
//! }
//! // A downstream partition that maps to both days gets a map keyed by partition.
//! let input = InputContext::builder(asset)
//!     .asset_partition_keys(["2022-07-23", "2022-07-24"])
//!     .build();
//! let days = manager.load_input(&input)?.into_map();
//! assert_eq!(days.keys().collect::<Vec<_>>(), ["2022-07-23", "2022-07-24"]);
//! assert_eq!(days.get("2022-07-24"), Some(&vec![19.8]));
//! # Ok(())
//! # }
//! ```
#![deny(unsafe_code)]

pub mod adapters;
pub mod cli;
pub mod context;
mod error;
pub mod example;
pub mod executor;
pub mod manager;
pub mod metadata;
pub mod partitions;
pub mod records;

#[cfg(feature = "arrow2")]
pub use adapters::{Arrow2InputManager, Arrow2Partition};
pub use adapters::{
    ArrowColumnInputManager, ArrowIoManager, BytesIoManager, FilesystemIoManager,
    InMemoryIoManager, RkyvIoManager, RkyvViewInputManager, StoreTarget,
};
pub use context::{AsOf, InputContext, LoadMode, LoadedVersion, OutputContext, PartitionKeyRange};
pub use error::{Error, Result, StoredTypeMismatch};
pub use manager::{
    AnyValue, ErasedInput, InputManager, InputValue, IoManager, IoManagers, LoadedInput,
    PartitionMap, StoredValue,
};
pub use metadata::{Metadata, MetadataValue};
