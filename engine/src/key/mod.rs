//! Keys: what a stored value is addressed by, and their order-preserving encoding.

mod asset;
pub(crate) mod encoding;
mod partition;

pub use asset::{AssetKey, MAX_COMPONENT_LEN, MAX_COMPONENTS};
pub use partition::{MAX_PARTITION_KEY_LEN, PartitionKey};
