//! Codecs: how a payload's bytes are to be read.

#[cfg(feature = "arrow")]
pub mod arrow;
#[cfg(feature = "rkyv")]
pub mod rkyv;

use std::fmt;

/// The codec tag stored with every payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Codec {
    /// Opaque bytes.
    Raw,
    /// An rkyv 0.8 archive, validated with bytecheck on read.
    Rkyv,
    /// An Arrow IPC file (footer included), read without copying its buffers.
    ArrowIpc,
}

impl Codec {
    /// The on-disk tag byte.
    #[must_use]
    pub const fn tag(self) -> u8 {
        match self {
            Self::Raw => 0,
            Self::Rkyv => 1,
            Self::ArrowIpc => 2,
        }
    }

    /// The codec of an on-disk tag byte, if it is one this build knows.
    #[must_use]
    pub const fn from_tag(tag: u8) -> Option<Self> {
        match tag {
            0 => Some(Self::Raw),
            1 => Some(Self::Rkyv),
            2 => Some(Self::ArrowIpc),
            _ => None,
        }
    }
}

impl fmt::Display for Codec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Raw => "raw",
            Self::Rkyv => "rkyv",
            Self::ArrowIpc => "Arrow IPC",
        })
    }
}
