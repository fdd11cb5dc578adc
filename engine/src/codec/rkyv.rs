//! The rkyv codec: values archived with rkyv 0.8, read in place after
//! validation (bytecheck), with no copy and no deserialization.

use std::fmt;
use std::marker::PhantomData;
use std::ops::Deref;

use rkyv::api::high::{HighDeserializer, HighSerializer, HighValidator};
use rkyv::bytecheck::CheckBytes;
use rkyv::rancor;
use rkyv::ser::allocator::ArenaHandle;
use rkyv::util::AlignedVec;
use rkyv::{Archive, Deserialize, Serialize};

use super::Codec;
use crate::batch::{Payload, PayloadBytes};
use crate::blob::Blob;
use crate::error::{Error, Result};
use crate::key::{AssetKey, PartitionKey};
use crate::store::Store;

/// What a value must implement to be stored with rkyv.
pub trait RkyvSerialize:
    for<'a> Serialize<HighSerializer<AlignedVec, ArenaHandle<'a>, rancor::Error>>
{
}
impl<T> RkyvSerialize for T where
    T: for<'a> Serialize<HighSerializer<AlignedVec, ArenaHandle<'a>, rancor::Error>>
{
}

/// What an archived type must implement to be validated in place.
pub trait RkyvCheck: Archive
where
    Self::Archived: for<'a> CheckBytes<HighValidator<'a, rancor::Error>>,
{
}
impl<T: Archive> RkyvCheck for T where
    T::Archived: for<'a> CheckBytes<HighValidator<'a, rancor::Error>>
{
}

impl Payload<'static> {
    /// Archives `value` with rkyv (the archive is the payload; nothing else is
    /// copied on the way to the store).
    ///
    /// # Errors
    /// [`Error::Encode`] if serialization fails.
    pub fn rkyv<T: RkyvSerialize>(value: &T) -> Result<Self> {
        let bytes = rkyv::to_bytes::<rancor::Error>(value).map_err(|e| Error::Encode {
            codec: Codec::Rkyv,
            reason: e.to_string(),
        })?;
        Ok(Self::from_parts(Codec::Rkyv, PayloadBytes::Aligned(bytes)))
    }
}

/// A validated rkyv archive of a `T`, borrowed in place from the store.
///
/// Derefs to `T::Archived`. Validation ran once, when the view was made;
/// cloning is cheap and the view keeps its segment mapped.
pub struct ArchivedBlob<T: Archive> {
    blob: Blob,
    _type: PhantomData<fn() -> T>,
}

impl<T: Archive> Clone for ArchivedBlob<T> {
    fn clone(&self) -> Self {
        Self {
            blob: self.blob.clone(),
            _type: PhantomData,
        }
    }
}

impl<T: Archive> ArchivedBlob<T> {
    /// The underlying blob (bytes and metadata).
    #[must_use]
    pub fn blob(&self) -> &Blob {
        &self.blob
    }

    /// Deserializes the archive into an owned `T` (a copy, by definition).
    ///
    /// # Errors
    /// [`Error::InvalidArchive`] if deserialization fails.
    pub fn deserialize(&self) -> Result<T>
    where
        T::Archived: Deserialize<T, HighDeserializer<rancor::Error>>,
    {
        rkyv::deserialize::<T, rancor::Error>(&**self).map_err(|e| Error::InvalidArchive {
            asset: self.blob.asset().clone(),
            partition: self.blob.partition().clone(),
            reason: e.to_string(),
        })
    }
}

impl<T: Archive> Deref for ArchivedBlob<T> {
    type Target = T::Archived;

    #[allow(
        unsafe_code,
        reason = "zero-copy view of an archive validated at construction"
    )]
    fn deref(&self) -> &T::Archived {
        // SAFETY: `Blob::rkyv` validated these exact bytes as a `T::Archived`
        // with bytecheck before constructing `self`, and a blob's bytes never
        // change while it lives (segments are append-only and stay mapped).
        unsafe { rkyv::access_unchecked::<T::Archived>(&self.blob) }
    }
}

impl<T: Archive> fmt::Debug for ArchivedBlob<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ArchivedBlob").field(&self.blob).finish()
    }
}

impl Blob {
    /// Validates the payload as an rkyv archive of `T` and returns a view of it
    /// in place: no copy, no deserialization.
    ///
    /// # Errors
    /// [`Error::CodecMismatch`] if the payload is not rkyv;
    /// [`Error::InvalidArchive`] if it does not validate as a `T`.
    pub fn rkyv<T: RkyvCheck>(&self) -> Result<ArchivedBlob<T>>
    where
        T::Archived: for<'a> CheckBytes<HighValidator<'a, rancor::Error>>,
    {
        self.expect_codec(Codec::Rkyv)?;
        rkyv::access::<T::Archived, rancor::Error>(self).map_err(|e| Error::InvalidArchive {
            asset: self.asset().clone(),
            partition: self.partition().clone(),
            reason: e.to_string(),
        })?;
        Ok(ArchivedBlob {
            blob: self.clone(),
            _type: PhantomData,
        })
    }
}

impl Store {
    /// Archives `value` with rkyv and stores it (default durability).
    ///
    /// # Errors
    /// [`Error::Encode`], or the errors of [`Store::put`].
    pub fn put_rkyv<T: RkyvSerialize>(
        &self,
        asset: &AssetKey,
        partition: &PartitionKey,
        value: &T,
    ) -> Result<()> {
        self.put(asset, partition, Payload::rkyv(value)?)
    }

    /// The validated archive under `(asset, partition)`, in place.
    ///
    /// # Errors
    /// The errors of [`Store::get`] and [`Blob::rkyv`].
    pub fn get_rkyv<T: RkyvCheck>(
        &self,
        asset: &AssetKey,
        partition: &PartitionKey,
    ) -> Result<Option<ArchivedBlob<T>>>
    where
        T::Archived: for<'a> CheckBytes<HighValidator<'a, rancor::Error>>,
    {
        self.get(asset, partition)?
            .map(|blob| blob.rkyv::<T>())
            .transpose()
    }
}
