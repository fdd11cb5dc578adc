//! Index records: where a payload lives and what is known about it.
//!
//! ```text
//! record := version:u8 (=2) codec:u8 seq:u64 segment:u64 frame_offset:u64 len:u64
//!           checksum:u32 described
//!           record_crc:u32   (crc32 of everything before it)
//! described := created_at_micros:i64
//!           data_version:(u32 len, u32::MAX for none)(bytes)
//!           metadata_count:u32 (key_len:u32 key value_len:u32 value)*
//! ```
//! Every integer is little-endian and fixed width. `described` is also what a
//! put frame carries in the log, so the index can be rebuilt from the frames.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::codec::Codec;

const RECORD_VERSION: u8 = 2;
const NO_DATA_VERSION: u32 = u32::MAX;
/// The bytes of a record before its described fields.
const FIXED_LEN: usize = 2 + 8 + 8 + 8 + 8 + 4;

/// A payload's CRC-32 (crc32fast, IEEE polynomial).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Checksum(pub u32);

impl Checksum {
    /// The checksum of `bytes`.
    #[must_use]
    pub fn of(bytes: &[u8]) -> Self {
        Self(crc32fast::hash(bytes))
    }
}

/// What the index knows about a stored payload, readable without touching it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordMeta {
    /// The version: the log sequence number of the put that stored the
    /// payload (unchanged when compaction moves it). Larger is newer.
    pub version: u64,
    /// How to read the payload.
    pub codec: Codec,
    /// The payload's length in bytes.
    pub len: u64,
    /// The payload's checksum.
    pub checksum: Checksum,
    /// When the payload was written (UTC, microsecond precision).
    pub created_at: DateTime<Utc>,
    /// The data version the writer supplied, if any.
    pub data_version: Option<String>,
    /// User metadata.
    pub metadata: BTreeMap<String, String>,
}

/// Where a payload's frame lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Location {
    pub segment: u64,
    pub frame_offset: u64,
}

/// An index value: the put's sequence number, location and metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Record {
    pub seq: u64,
    pub location: Location,
    pub meta: RecordMeta,
}

/// The written-by-the-user part of a record's metadata, as a frame carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Described {
    pub created_at: DateTime<Utc>,
    pub data_version: Option<String>,
    pub metadata: BTreeMap<String, String>,
}

impl Described {
    /// Appends the encoding of these fields to `out`.
    pub(crate) fn encode_into(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.created_at.timestamp_micros().to_le_bytes());
        match &self.data_version {
            Some(version) => put_bytes(out, version.as_bytes()),
            None => out.extend_from_slice(&NO_DATA_VERSION.to_le_bytes()),
        }
        put_len(out, self.metadata.len());
        for (key, value) in &self.metadata {
            put_bytes(out, key.as_bytes());
            put_bytes(out, value.as_bytes());
        }
    }

    /// The encoding alone.
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(16);
        self.encode_into(&mut out);
        out
    }

    /// Decodes exactly `bytes`.
    pub(crate) fn decode(bytes: &[u8]) -> Result<Self, String> {
        let mut reader = Reader(bytes);
        let described = Self::read(&mut reader)?;
        reader.finish()?;
        Ok(described)
    }

    fn read(reader: &mut Reader<'_>) -> Result<Self, String> {
        let micros = reader.i64()?;
        let created_at =
            DateTime::from_timestamp_micros(micros).ok_or("created-at is out of range")?;
        Ok(Self {
            created_at,
            data_version: reader.optional_string()?,
            metadata: reader.string_map()?,
        })
    }
}

impl Record {
    /// Assembles a record from a frame's facts and its described fields.
    pub(crate) fn new(
        seq: u64,
        location: Location,
        codec: Codec,
        len: u64,
        checksum: Checksum,
        described: Described,
    ) -> Self {
        let meta = RecordMeta {
            version: seq,
            codec,
            len,
            checksum,
            created_at: described.created_at,
            data_version: described.data_version,
            metadata: described.metadata,
        };
        Self {
            seq,
            location,
            meta,
        }
    }

    /// The version (sequence number) an encoded record names, read without
    /// checking the rest; `None` if the bytes are too short.
    pub(crate) fn version_of(bytes: &[u8]) -> Option<u64> {
        Some(u64::from_le_bytes(bytes.get(2..10)?.try_into().ok()?))
    }

    pub(crate) fn encode(&self) -> Vec<u8> {
        let meta = &self.meta;
        let described = Described {
            created_at: meta.created_at,
            data_version: meta.data_version.clone(),
            metadata: meta.metadata.clone(),
        };
        let fixed = (self.seq, self.location, meta.codec, meta.len, meta.checksum);
        Self::encode_fixed_and(fixed, 16, |out| described.encode_into(out))
    }

    /// The encoding of the record of a put whose described fields are
    /// already encoded (as its frame carries them): no second encoding.
    pub(crate) fn encode_put(
        (seq, location): (u64, Location),
        (codec, len, checksum): (Codec, u64, Checksum),
        described: &[u8],
    ) -> Vec<u8> {
        let fixed = (seq, location, codec, len, checksum);
        Self::encode_fixed_and(fixed, described.len(), |out| {
            out.extend_from_slice(described);
        })
    }

    /// The fixed fields, then what `described` appends (`described_len`
    /// bytes, about), then the crc.
    fn encode_fixed_and(
        (seq, location, codec, len, checksum): (u64, Location, Codec, u64, Checksum),
        described_len: usize,
        described: impl FnOnce(&mut Vec<u8>),
    ) -> Vec<u8> {
        let mut out = Vec::with_capacity(FIXED_LEN + described_len + 4);
        out.push(RECORD_VERSION);
        out.push(codec.tag());
        out.extend_from_slice(&seq.to_le_bytes());
        out.extend_from_slice(&location.segment.to_le_bytes());
        out.extend_from_slice(&location.frame_offset.to_le_bytes());
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&checksum.0.to_le_bytes());
        described(&mut out);
        let crc = crc32fast::hash(&out);
        out.extend_from_slice(&crc.to_le_bytes());
        out
    }

    /// Decodes a record, or says why the bytes are not one.
    pub(crate) fn decode(bytes: &[u8]) -> Result<Self, String> {
        let body_len = bytes
            .len()
            .checked_sub(4)
            .ok_or("index record is shorter than its checksum")?;
        let (body, crc) = bytes.split_at(body_len);
        if crc32fast::hash(body) != u32::from_le_bytes(crc.try_into().map_err(|_| "short crc")?) {
            return Err("index record fails its checksum".into());
        }
        let mut reader = Reader(body);
        let version = reader.u8()?;
        if version != RECORD_VERSION {
            return Err(format!("index record version {version} is not supported"));
        }
        let tag = reader.u8()?;
        let codec = Codec::from_tag(tag).ok_or_else(|| format!("unknown codec tag {tag}"))?;
        let seq = reader.u64()?;
        let location = Location {
            segment: reader.u64()?,
            frame_offset: reader.u64()?,
        };
        let len = reader.u64()?;
        let checksum = Checksum(reader.u32()?);
        let described = Described::read(&mut reader)?;
        reader.finish()?;
        Ok(Self::new(seq, location, codec, len, checksum, described))
    }
}

fn put_len(out: &mut Vec<u8>, len: usize) {
    let len = u32::try_from(len).unwrap_or(u32::MAX - 1);
    out.extend_from_slice(&len.to_le_bytes());
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    put_len(out, bytes.len());
    out.extend_from_slice(bytes);
}

/// A bounds-checked little-endian cursor.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn finish(&self) -> Result<(), String> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err("record has trailing bytes".into())
        }
    }

    fn take<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let (head, rest) = self
            .0
            .split_first_chunk::<N>()
            .ok_or("index record is truncated")?;
        self.0 = rest;
        Ok(*head)
    }

    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take::<1>()?[0])
    }

    fn u32(&mut self) -> Result<u32, String> {
        Ok(u32::from_le_bytes(self.take()?))
    }

    fn u64(&mut self) -> Result<u64, String> {
        Ok(u64::from_le_bytes(self.take()?))
    }

    fn i64(&mut self) -> Result<i64, String> {
        Ok(i64::from_le_bytes(self.take()?))
    }

    fn string_of_len(&mut self, len: u32) -> Result<String, String> {
        let len = usize::try_from(len).map_err(|e| e.to_string())?;
        if len > self.0.len() {
            return Err("index record string is truncated".into());
        }
        let (head, rest) = self.0.split_at(len);
        self.0 = rest;
        String::from_utf8(head.to_vec()).map_err(|_| "index record string is not UTF-8".into())
    }

    fn string(&mut self) -> Result<String, String> {
        let len = self.u32()?;
        self.string_of_len(len)
    }

    fn optional_string(&mut self) -> Result<Option<String>, String> {
        match self.u32()? {
            NO_DATA_VERSION => Ok(None),
            len => self.string_of_len(len).map(Some),
        }
    }

    fn string_map(&mut self) -> Result<BTreeMap<String, String>, String> {
        let count = self.u32()?;
        (0..count)
            .map(|_| Ok((self.string()?, self.string()?)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn record_strategy() -> impl Strategy<Value = Record> {
        (
            any::<u64>(),
            any::<u64>(),
            any::<u64>(),
            any::<u64>(),
            any::<u32>(),
            0i64..4_000_000_000_000_000,
            prop::option::of(".{0,8}"),
            prop::collection::btree_map(".{0,6}", ".{0,6}", 0..4),
            0u8..3,
        )
            .prop_map(
                |(seq, segment, frame_offset, len, crc, micros, dv, metadata, tag)| Record {
                    seq,
                    location: Location {
                        segment,
                        frame_offset,
                    },
                    meta: RecordMeta {
                        version: seq,
                        codec: Codec::from_tag(tag).expect("known tag"),
                        len,
                        checksum: Checksum(crc),
                        created_at: DateTime::from_timestamp_micros(micros).expect("in range"),
                        data_version: dv,
                        metadata,
                    },
                },
            )
    }

    proptest! {
        #[test]
        fn round_trips(record in record_strategy()) {
            prop_assert_eq!(Record::decode(&record.encode()), Ok(record));
        }

        #[test]
        fn a_put_encoded_from_its_described_bytes_is_the_same_record(record in record_strategy()) {
            let meta = &record.meta;
            let described = Described {
                created_at: meta.created_at,
                data_version: meta.data_version.clone(),
                metadata: meta.metadata.clone(),
            }
            .encode();
            let encoded = Record::encode_put(
                (record.seq, record.location),
                (meta.codec, meta.len, meta.checksum),
                &described,
            );
            prop_assert_eq!(encoded, record.encode());
        }

        #[test]
        fn any_flipped_byte_is_detected(record in record_strategy(), at in any::<prop::sample::Index>(), bit in 0u8..8) {
            let mut bytes = record.encode();
            let i = at.index(bytes.len());
            bytes[i] ^= 1 << bit;
            prop_assert!(Record::decode(&bytes).is_err());
        }

        #[test]
        fn truncation_is_detected(record in record_strategy(), at in any::<prop::sample::Index>()) {
            let bytes = record.encode();
            let cut = at.index(bytes.len());
            prop_assert!(Record::decode(&bytes[..cut]).is_err());
        }
    }
}
