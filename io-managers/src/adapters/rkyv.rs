//! rkyv archives: typed values, loaded as owned values or validated in-place views.

use std::marker::PhantomData;
use std::sync::Arc;

use rkyv::api::high::{HighDeserializer, HighValidator};
use rkyv::bytecheck::CheckBytes;
use rkyv::rancor;
use rkyv::{Archive, Deserialize};
use tessera_engine::{ArchivedBlob, AssetKey, Blob, Payload, RkyvCheck, RkyvSerialize, Store};

use super::StoreTarget;
use crate::context::{InputContext, OutputContext};
use crate::error::{Error, Result, StoredTypeMismatch};
use crate::manager::{InputManager, IoManager, PartitionMap, StoredValue, check_range};
use crate::metadata::{RKYV_LAYOUT, RKYV_TYPE};

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
        self.target.write_one(context, typed_payload(&value)?)
    }

    fn handle_range_output(&self, context: &OutputContext, values: PartitionMap<T>) -> Result<()> {
        check_range(context, &values)?;
        let payloads = values
            .into_iter()
            .map(|(key, value)| Ok((key, typed_payload(&value)?)))
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
        check_stored_type::<T>(&blob, partition)?;
        Ok(Some(blob.rkyv::<T>()?))
    }
}

/// The archived layout of `T`, as recorded beside its values.
fn layout<T: Archive>() -> String {
    format!(
        "size={},align={}",
        std::mem::size_of::<T::Archived>(),
        std::mem::align_of::<T::Archived>()
    )
}

/// `value` as an rkyv payload that names its type and archived layout.
fn typed_payload<T>(value: &T) -> Result<Payload<'static>>
where
    T: Archive + RkyvSerialize,
{
    Ok(Payload::rkyv(value)?
        .with_metadata(RKYV_TYPE, std::any::type_name::<T>())
        .with_metadata(RKYV_LAYOUT, layout::<T>()))
}

/// Refuses a value stored as another type than `T`. A value stored without a
/// type (before the managers recorded it) is loaded as before.
fn check_stored_type<T: Archive>(blob: &Blob, partition: Option<&str>) -> Result<()> {
    let metadata = &blob.meta().metadata;
    let (Some(stored), Some(stored_layout)) = (metadata.get(RKYV_TYPE), metadata.get(RKYV_LAYOUT))
    else {
        return Ok(());
    };
    let requested = std::any::type_name::<T>();
    let requested_layout = layout::<T>();
    if stored == requested && *stored_layout == requested_layout {
        return Ok(());
    }
    Err(Error::WrongStoredType(Box::new(StoredTypeMismatch {
        asset: blob.asset().clone(),
        partition: partition.map(str::to_owned),
        stored: stored.clone(),
        stored_layout: stored_layout.clone(),
        requested,
        requested_layout,
    })))
}
