//! Asset definitions and the executor that materializes them partition by
//! partition, loading each downstream partition's upstream partitions through
//! the I/O managers.

mod asset;
mod compute;
mod definitions;
mod inputs;
mod observer;
mod plan;
mod request;
mod result;
mod run;
mod selection;
mod task;
mod validate;

pub use asset::{AssetDefinition, AssetInput, BackfillPolicy, DEFAULT_IO_MANAGER_KEY};
pub use compute::{AssetContext, ComputeError, Output};
pub use definitions::{Definitions, DefinitionsBuilder};
pub use inputs::Inputs;
pub use observer::RunObserver;
pub use request::{AssetSelection, MaterializeRequest, PartitionSelection};
pub use result::{MaterializeResult, PartitionOutcome, TaskStatus};
