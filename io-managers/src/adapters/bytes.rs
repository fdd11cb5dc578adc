//! Raw bytes.

use std::sync::Arc;

use tessera_engine::{AssetKey, Blob, Payload, Store};

use super::StoreTarget;
use crate::context::{InputContext, OutputContext};
use crate::error::Result;
use crate::manager::{InputManager, IoManager, PartitionMap, StoredValue};

/// Stores raw bytes; loads them as a [`Blob`] borrowed from the store's
/// mapping (no copy).
#[derive(Debug, Clone)]
pub struct BytesIoManager {
    target: StoreTarget,
}

impl BytesIoManager {
    /// A manager over `store`.
    pub fn new(store: Arc<Store>) -> Self {
        Self::with_target(StoreTarget::new(store))
    }

    /// A manager writing to `target` (a store and a durability).
    pub fn with_target(target: StoreTarget) -> Self {
        Self { target }
    }
}

impl InputManager for BytesIoManager {
    type Loaded = Blob;

    fn load_partition(
        &self,
        context: &InputContext,
        partition: Option<&str>,
    ) -> Result<Option<Blob>> {
        self.target.read(context, partition)
    }
}

impl IoManager for BytesIoManager {
    type Value = Vec<u8>;

    fn handle_output(&self, context: &OutputContext, value: Vec<u8>) -> Result<()> {
        self.target.write_one(context, Payload::raw(value))
    }

    fn handle_range_output(
        &self,
        context: &OutputContext,
        values: PartitionMap<Vec<u8>>,
    ) -> Result<()> {
        crate::manager::check_range(context, &values)?;
        let payloads = values
            .into_iter()
            .map(|(k, v)| (k, Payload::raw(v)))
            .collect();
        self.target.write_range(context, payloads)
    }

    fn stored_value(&self, asset: &AssetKey, partition: Option<&str>) -> Result<StoredValue> {
        self.target.stored_value(asset, partition)
    }
}
