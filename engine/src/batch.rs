//! What a write carries: [`Payload`]s and atomic [`WriteBatch`]es.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use crate::codec::Codec;
use crate::durability::Durability;
use crate::key::{AssetKey, PartitionKey};

/// A payload to store: its bytes, codec, data version and user metadata.
///
/// Plain bytes convert into a [`Codec::Raw`] payload; the `rkyv` and `arrow`
/// features add constructors that encode values.
#[derive(Clone)]
pub struct Payload<'a> {
    pub(crate) codec: Codec,
    pub(crate) bytes: PayloadBytes<'a>,
    pub(crate) data_version: Option<String>,
    pub(crate) metadata: BTreeMap<String, String>,
    /// Whether Tessera's own encoder made the bytes (then they need no check
    /// before they are stored).
    #[cfg(feature = "arrow")]
    pub(crate) from_tessera_writer: bool,
}

impl<'a> Payload<'a> {
    /// Opaque bytes.
    pub fn raw(bytes: impl Into<Cow<'a, [u8]>>) -> Self {
        Self::encoded(Codec::Raw, bytes)
    }

    /// Bytes already encoded with `codec` (for example an Arrow IPC file made
    /// elsewhere). They are validated when read, not when written, except an
    /// Arrow IPC file that carries the mark of Tessera's own writer (a copy of
    /// a stored payload): a store checks it fully before accepting it, since
    /// verified reads of marked payloads skip validation.
    pub fn encoded(codec: Codec, bytes: impl Into<Cow<'a, [u8]>>) -> Self {
        let bytes = match bytes.into() {
            Cow::Borrowed(bytes) => PayloadBytes::Borrowed(bytes),
            Cow::Owned(bytes) => PayloadBytes::Owned(bytes),
        };
        Self::from_parts(codec, bytes)
    }

    pub(crate) fn from_parts(codec: Codec, bytes: PayloadBytes<'a>) -> Self {
        Self {
            codec,
            bytes,
            data_version: None,
            metadata: BTreeMap::new(),
            #[cfg(feature = "arrow")]
            from_tessera_writer: false,
        }
    }

    /// Bytes that Tessera's own encoder for `codec` has just produced.
    #[cfg(feature = "arrow")]
    pub(crate) fn from_tessera_writer(codec: Codec, bytes: Vec<u8>) -> Payload<'static> {
        Payload {
            from_tessera_writer: true,
            ..Payload::from_parts(codec, PayloadBytes::Owned(bytes))
        }
    }

    /// Checks bytes made elsewhere that a store is about to accept: an Arrow
    /// IPC file carrying Tessera's writer mark must be valid (see
    /// `codec::arrow::check_foreign_ipc`).
    ///
    /// # Errors
    /// [`crate::Error::Encode`] for such a file that is invalid.
    pub(crate) fn check_foreign(&self) -> crate::Result<()> {
        #[cfg(feature = "arrow")]
        if self.codec == Codec::ArrowIpc && !self.from_tessera_writer {
            crate::codec::arrow::check_foreign_ipc(self.bytes())?;
        }
        Ok(())
    }

    /// Sets the data version stored with the payload.
    #[must_use]
    pub fn with_data_version(mut self, version: impl Into<String>) -> Self {
        self.data_version = Some(version.into());
        self
    }

    /// Adds one user metadata entry.
    #[must_use]
    pub fn with_metadata(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.metadata.insert(key.into(), value.into());
        self
    }

    /// The payload's codec.
    #[must_use]
    pub fn codec(&self) -> Codec {
        self.codec
    }

    /// The payload's bytes.
    #[must_use]
    pub fn bytes(&self) -> &[u8] {
        self.bytes.as_slice()
    }
}

impl fmt::Debug for Payload<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Payload")
            .field("codec", &self.codec)
            .field("len", &self.bytes().len())
            .field("data_version", &self.data_version)
            .field("metadata", &self.metadata)
            .finish()
    }
}

/// A payload's bytes, kept in whatever buffer the encoder produced so that
/// handing them to the store copies nothing.
#[derive(Clone)]
pub(crate) enum PayloadBytes<'a> {
    Borrowed(&'a [u8]),
    Owned(Vec<u8>),
    #[cfg(feature = "rkyv")]
    Aligned(rkyv::util::AlignedVec),
}

impl PayloadBytes<'_> {
    pub(crate) fn as_slice(&self) -> &[u8] {
        match self {
            Self::Borrowed(bytes) => bytes,
            Self::Owned(bytes) => bytes,
            #[cfg(feature = "rkyv")]
            Self::Aligned(bytes) => bytes,
        }
    }
}

impl<'a> From<&'a [u8]> for Payload<'a> {
    fn from(bytes: &'a [u8]) -> Self {
        Self::raw(bytes)
    }
}

impl<'a, const N: usize> From<&'a [u8; N]> for Payload<'a> {
    fn from(bytes: &'a [u8; N]) -> Self {
        Self::raw(&bytes[..])
    }
}

impl<'a> From<&'a Vec<u8>> for Payload<'a> {
    fn from(bytes: &'a Vec<u8>) -> Self {
        Self::raw(bytes.as_slice())
    }
}

impl From<Vec<u8>> for Payload<'static> {
    fn from(bytes: Vec<u8>) -> Self {
        Self::raw(bytes)
    }
}

/// One change in a batch.
#[derive(Debug, Clone)]
pub(crate) enum BatchOp<'a> {
    Put {
        asset: AssetKey,
        partition: PartitionKey,
        payload: Payload<'a>,
    },
    /// A put of record batches that the write encodes into the segment.
    #[cfg(feature = "arrow")]
    PutArrow {
        asset: AssetKey,
        partition: PartitionKey,
        source: crate::codec::arrow::MeasuredArrow,
        data_version: Option<String>,
        metadata: BTreeMap<String, String>,
    },
    Delete {
        asset: AssetKey,
        partition: PartitionKey,
    },
}

/// Puts and deletes over any number of `(asset, partition)` pairs, applied
/// atomically by [`Store::write`](crate::Store::write): after a crash, all of
/// them or none. Within a batch, a later change to the same pair wins.
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct WriteBatch<'a> {
    pub(crate) ops: Vec<BatchOp<'a>>,
    pub(crate) durability: Option<Durability>,
}

impl<'a> WriteBatch<'a> {
    /// An empty batch with the store's default durability.
    pub fn new() -> Self {
        Self::default()
    }

    /// Overrides the store's durability for this batch.
    pub fn durability(mut self, durability: Durability) -> Self {
        self.durability = Some(durability);
        self
    }

    /// Adds a put.
    pub fn put(
        &mut self,
        asset: &AssetKey,
        partition: &PartitionKey,
        payload: impl Into<Payload<'a>>,
    ) -> &mut Self {
        self.ops.push(BatchOp::Put {
            asset: asset.clone(),
            partition: partition.clone(),
            payload: payload.into(),
        });
        self
    }

    /// Adds a delete (of a pair that may not exist).
    pub fn delete(&mut self, asset: &AssetKey, partition: &PartitionKey) -> &mut Self {
        self.ops.push(BatchOp::Delete {
            asset: asset.clone(),
            partition: partition.clone(),
        });
        self
    }

    /// Checks every payload made outside Tessera's encoders
    /// ([`Payload::check_foreign`]).
    ///
    /// # Errors
    /// The first payload that fails.
    pub(crate) fn check_foreign_payloads(&self) -> crate::Result<()> {
        self.ops.iter().try_for_each(|op| match op {
            BatchOp::Put { payload, .. } => payload.check_foreign(),
            #[cfg(feature = "arrow")]
            BatchOp::PutArrow { .. } => Ok(()),
            BatchOp::Delete { .. } => Ok(()),
        })
    }

    /// How many changes the batch holds.
    #[must_use]
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// Whether the batch holds no change.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }
}
