//! rkyv archives: typed values, loaded as owned values or validated in-place views.

use std::marker::PhantomData;
use std::sync::Arc;

use rkyv::api::high::{HighDeserializer, HighValidator};
use rkyv::bytecheck::CheckBytes;
use rkyv::rancor;
use rkyv::{Archive, Deserialize};
use tessera_engine::{ArchivedBlob, AssetKey, Payload, RkyvCheck, RkyvSerialize, Store};

use super::StoreTarget;
use crate::context::{InputContext, OutputContext};
use crate::error::Result;
use crate::manager::{InputManager, IoManager, PartitionMap, StoredValue, check_range};

/// Stores a `T` as an rkyv archive; loads it back as a `T`.
///
/// For the zero-copy view of the archive, load through
/// [`RkyvIoManager::views`].
pub struct RkyvIoManager<T> {
    target: StoreTarget,
    value: PhantomData<fn() -> T>,
}

impl<T> RkyvIoManager<T> {
    /// A manager over `store`.
    pub fn new(store: Arc<Store>) -> Self {
        Self::with_target(StoreTarget::new(store))
    }

    /// A manager writing to `target` (a store and a durability).
    pub fn with_target(target: StoreTarget) -> Self {
        Self {
            target,
            value: PhantomData,
        }
    }

    /// An input manager over the same store that loads validated, in-place
    /// views of the archives instead of owned values.
    pub fn views(&self) -> RkyvViewInputManager<T> {
        RkyvViewInputManager {
            target: self.target.clone(),
            value: PhantomData,
        }
    }
}

impl<T> std::fmt::Debug for RkyvIoManager<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RkyvIoManager")
            .field("type", &std::any::type_name::<T>())
            .finish()
    }
}

impl<T> InputManager for RkyvIoManager<T>
where
    T: Archive + RkyvCheck + Send + 'static,
    T::Archived: for<'a> CheckBytes<HighValidator<'a, rancor::Error>>
        + Deserialize<T, HighDeserializer<rancor::Error>>,
{
    type Loaded = T;

    fn load_partition(&self, context: &InputContext, partition: Option<&str>) -> Result<Option<T>> {
        let Some(view) = self.views().load_partition(context, partition)? else {
            return Ok(None);
        };
        Ok(Some(view.deserialize()?))
    }
}

impl<T> IoManager for RkyvIoManager<T>
where
    T: Archive + RkyvCheck + RkyvSerialize + Send + 'static,
    T::Archived: for<'a> CheckBytes<HighValidator<'a, rancor::Error>>
        + Deserialize<T, HighDeserializer<rancor::Error>>,
{
    type Value = T;

    fn handle_output(&self, context: &OutputContext, value: T) -> Result<()> {
        self.target.write_one(context, Payload::rkyv(&value)?)
    }

    fn handle_range_output(&self, context: &OutputContext, values: PartitionMap<T>) -> Result<()> {
        check_range(context, &values)?;
        let payloads = values
            .into_iter()
            .map(|(key, value)| Ok((key, Payload::rkyv(&value)?)))
            .collect::<Result<PartitionMap<Payload<'static>>>>()?;
        self.target.write_range(context, payloads)
    }

    fn stored_value(&self, asset: &AssetKey, partition: Option<&str>) -> Result<StoredValue> {
        self.target.stored_value(asset, partition)
    }
}

/// Loads rkyv archives stored by [`RkyvIoManager`] as validated views borrowed
/// from the store's mapping: no copy, no deserialization.
pub struct RkyvViewInputManager<T> {
    target: StoreTarget,
    value: PhantomData<fn() -> T>,
}

impl<T> RkyvViewInputManager<T> {
    /// An input manager over `store`.
    pub fn new(store: Arc<Store>) -> Self {
        Self {
            target: StoreTarget::new(store),
            value: PhantomData,
        }
    }
}

impl<T> std::fmt::Debug for RkyvViewInputManager<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RkyvViewInputManager")
            .field("type", &std::any::type_name::<T>())
            .finish()
    }
}

impl<T> InputManager for RkyvViewInputManager<T>
where
    T: Archive + RkyvCheck + Send + 'static,
    T::Archived: for<'a> CheckBytes<HighValidator<'a, rancor::Error>>,
{
    type Loaded = ArchivedBlob<T>;

    fn load_partition(
        &self,
        context: &InputContext,
        partition: Option<&str>,
    ) -> Result<Option<ArchivedBlob<T>>> {
        let Some(blob) = self.target.read(context, partition)? else {
            return Ok(None);
        };
        Ok(Some(blob.rkyv::<T>()?))
    }
}
