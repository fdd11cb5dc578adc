//! Keys: what a stored value is addressed by, and their order-preserving encoding.

mod asset;
pub(crate) mod encoding;
mod partition;

pub use asset::AssetKey;
pub use partition::PartitionKey;
