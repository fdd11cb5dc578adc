//! The order-preserving binary encoding of `(asset, partition)` index keys.
//!
//! ```text
//! data key   := 0x01 asset_path partition
//! asset_path := (escaped(component) 0x00 0x01)* 0x00 0x00
//! escaped    := each 0x00 byte written as 0x00 0xFF, other bytes as is
//! partition  := 0x00                  (unpartitioned)
//!             | 0x01 utf8_bytes       (a user key)
//! ```
//!
//! Byte order of encoded keys equals the order of `(components, partition)`:
//! a component terminator `00 01` sorts below any continuation byte, and the path
//! terminator `00 00` below both, so a shorter path sorts first and an asset's
//! keys are exactly those that start with its prefix (`0x01 asset_path`). Keys
//! with other leading tags are reserved for the engine's own records; among
//! them, a key's older versions:
//!
//! ```text
//! version key := 0x02 data_key_len:u32 BE data_key version:u64 BE
//! ```
//! so all versions of one key are adjacent, oldest first.

use super::{AssetKey, PartitionKey};

/// Leading tag of every data key.
pub(crate) const DATA_TAG: u8 = 0x01;

const ESCAPE: u8 = 0x00;
const ESCAPED_ZERO: u8 = 0xFF;
const COMPONENT_END: u8 = 0x01;
const PATH_END: u8 = 0x00;
const UNPARTITIONED: u8 = 0x00;
const USER_PARTITION: u8 = 0x01;
/// One past the largest partition tag: the exclusive end of an asset's keys.
const AFTER_PARTITIONS: u8 = 0x02;

/// Leading tag of the index rows holding older versions.
pub(crate) const VERSION_TAG: u8 = 0x02;

/// The bounds of every older-version row: `[start, end)`.
pub(crate) fn version_rows_range() -> ([u8; 1], [u8; 1]) {
    ([VERSION_TAG], [VERSION_TAG + 1])
}

/// The prefix shared by the older-version rows of `data_key`.
pub(crate) fn version_prefix(data_key: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data_key.len() + 13);
    out.push(VERSION_TAG);
    let len = u32::try_from(data_key.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(data_key);
    out
}

/// The row key of `data_key`'s older version `version`.
pub(crate) fn version_key(data_key: &[u8], version: u64) -> Vec<u8> {
    let mut out = version_prefix(data_key);
    out.extend_from_slice(&version.to_be_bytes());
    out
}

/// The version a row key under `prefix` names.
pub(crate) fn version_after(prefix: &[u8], row_key: &[u8]) -> Option<u64> {
    let rest = row_key.strip_prefix(prefix)?;
    Some(u64::from_be_bytes(rest.try_into().ok()?))
}

/// The bounds of every data key: `[start, end)`.
pub(crate) fn data_range() -> ([u8; 1], [u8; 1]) {
    ([DATA_TAG], [DATA_TAG + 1])
}

/// The prefix shared by every key of `asset`.
pub(crate) fn asset_prefix(asset: &AssetKey) -> Vec<u8> {
    let mut out =
        Vec::with_capacity(16 + asset.components().iter().map(String::len).sum::<usize>());
    push_asset_prefix(&mut out, asset);
    out
}

/// Appends the prefix shared by every key of `asset` to `out`.
fn push_asset_prefix(out: &mut Vec<u8>, asset: &AssetKey) {
    out.push(DATA_TAG);
    for component in asset.components() {
        for &byte in component.as_bytes() {
            out.push(byte);
            if byte == ESCAPE {
                out.push(ESCAPED_ZERO);
            }
        }
        out.extend_from_slice(&[ESCAPE, COMPONENT_END]);
    }
    out.extend_from_slice(&[ESCAPE, PATH_END]);
}

/// The exclusive upper bound of `asset`'s keys, given its prefix.
pub(crate) fn asset_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    end.push(AFTER_PARTITIONS);
    end
}

/// Appends the encoded partition to an asset prefix.
pub(crate) fn push_partition(out: &mut Vec<u8>, partition: &PartitionKey) {
    match partition.as_str() {
        None => out.push(UNPARTITIONED),
        Some(key) => {
            out.push(USER_PARTITION);
            out.extend_from_slice(key.as_bytes());
        }
    }
}

/// The full index key of `(asset, partition)`.
pub(crate) fn encode(asset: &AssetKey, partition: &PartitionKey) -> Vec<u8> {
    let components: usize = asset.components().iter().map(String::len).sum();
    let partition_len = partition.as_str().map_or(0, str::len);
    let mut out = Vec::with_capacity(16 + components + partition_len);
    push_asset_prefix(&mut out, asset);
    push_partition(&mut out, partition);
    out
}

/// Runs `f` on the full index key of `(asset, partition)`, encoded into a
/// buffer this thread reuses, so a read allocates no key. (A call made
/// inside `f` finds the buffer taken and encodes into a new one.)
pub(crate) fn with_encoded<T>(
    asset: &AssetKey,
    partition: &PartitionKey,
    f: impl FnOnce(&[u8]) -> T,
) -> T {
    thread_local! {
        static KEY: std::cell::Cell<Vec<u8>> = const { std::cell::Cell::new(Vec::new()) };
    }
    let mut key = KEY.take();
    key.clear();
    push_asset_prefix(&mut key, asset);
    push_partition(&mut key, partition);
    let result = f(&key);
    KEY.set(key);
    result
}

/// Decodes an index key back into `(asset, partition)`; `None` if the bytes are
/// not a well-formed data key.
pub(crate) fn decode(bytes: &[u8]) -> Option<(AssetKey, PartitionKey)> {
    let (&tag, mut rest) = bytes.split_first()?;
    if tag != DATA_TAG {
        return None;
    }
    let mut components = Vec::new();
    loop {
        let (component, after) = decode_component(rest)?;
        rest = after;
        match component {
            Some(component) => components.push(component),
            None => break,
        }
    }
    let asset = AssetKey::new(components).ok()?;
    let partition = decode_partition(rest)?;
    Some((asset, partition))
}

/// Reads one component, or `None` inside `Some` at the path terminator.
fn decode_component(bytes: &[u8]) -> Option<(Option<String>, &[u8])> {
    let mut raw = Vec::new();
    let mut index = 0;
    loop {
        let byte = *bytes.get(index)?;
        if byte != ESCAPE {
            raw.push(byte);
            index += 1;
            continue;
        }
        match *bytes.get(index + 1)? {
            ESCAPED_ZERO => raw.push(0),
            COMPONENT_END => {
                return Some((Some(String::from_utf8(raw).ok()?), &bytes[index + 2..]));
            }
            PATH_END if raw.is_empty() => return Some((None, &bytes[index + 2..])),
            _ => return None,
        }
        index += 2;
    }
}

/// Decodes the partition of an index key that starts with `prefix` (from
/// [`asset_prefix`]) without decoding the asset again; `None` if the key does
/// not start with it or its partition is malformed.
pub(crate) fn decode_partition_after(prefix: &[u8], key: &[u8]) -> Option<PartitionKey> {
    decode_partition(key.strip_prefix(prefix)?)
}

fn decode_partition(bytes: &[u8]) -> Option<PartitionKey> {
    match bytes.split_first()? {
        (&UNPARTITIONED, []) => Some(PartitionKey::unpartitioned()),
        (&USER_PARTITION, key) => PartitionKey::new(std::str::from_utf8(key).ok()?).ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn asset_strategy() -> impl Strategy<Value = AssetKey> {
        prop::collection::vec("[a-c/\\x00\\x01\u{e9}]{1,4}", 1..4)
            .prop_map(|components| AssetKey::new(components).expect("non-empty components"))
    }

    fn partition_strategy() -> impl Strategy<Value = PartitionKey> {
        prop_oneof![
            Just(PartitionKey::unpartitioned()),
            "[0-9a-c|:\\-\u{e9}]{1,6}".prop_map(|k| PartitionKey::new(k).expect("valid key")),
        ]
    }

    proptest! {
        #[test]
        fn round_trips(asset in asset_strategy(), partition in partition_strategy()) {
            let encoded = encode(&asset, &partition);
            prop_assert_eq!(decode(&encoded), Some((asset, partition)));
        }

        #[test]
        fn preserves_order_and_never_collides(
            a in (asset_strategy(), partition_strategy()),
            b in (asset_strategy(), partition_strategy()),
        ) {
            let (ea, eb) = (encode(&a.0, &a.1), encode(&b.0, &b.1));
            prop_assert_eq!(a.cmp(&b), ea.cmp(&eb));
        }

        #[test]
        fn asset_keys_are_a_contiguous_prefix_range(
            a in (asset_strategy(), partition_strategy()),
            other in asset_strategy(),
        ) {
            let prefix = asset_prefix(&other);
            let encoded = encode(&a.0, &a.1);
            let inside = encoded.starts_with(&prefix);
            prop_assert_eq!(inside, a.0 == other);
            let in_range = encoded.as_slice() >= prefix.as_slice() && encoded < asset_end(&prefix);
            prop_assert_eq!(in_range, inside);
        }
    }

    #[test]
    fn slash_and_concatenation_do_not_collide() {
        let keys = [
            AssetKey::new(["a", "b"]).expect("valid"),
            AssetKey::new(["a/b"]).expect("valid"),
            AssetKey::new(["ab"]).expect("valid"),
        ];
        let partition = PartitionKey::new("2022-07-23").expect("valid");
        for (i, x) in keys.iter().enumerate() {
            for y in &keys[i + 1..] {
                let (px, py) = (asset_prefix(x), asset_prefix(y));
                assert!(
                    !px.starts_with(&py) && !py.starts_with(&px),
                    "{x:?} vs {y:?}"
                );
                assert_ne!(encode(x, &partition), encode(y, &partition));
            }
        }
    }

    proptest! {
        #[test]
        fn decodes_the_partition_after_its_asset_prefix(
            asset in asset_strategy(),
            other in asset_strategy(),
            partition in partition_strategy(),
        ) {
            let key = encode(&asset, &partition);
            prop_assert_eq!(decode_partition_after(&asset_prefix(&asset), &key), Some(partition.clone()));
            if other != asset {
                prop_assert_eq!(decode_partition_after(&asset_prefix(&other), &key), None);
            }
        }
    }

    #[test]
    fn rejects_garbage() {
        assert_eq!(decode(&[]), None);
        assert_eq!(decode(&[0x02, b'a']), None);
        assert_eq!(decode(&[DATA_TAG, b'a', 0x00, 0x07]), None);
        assert_eq!(decode(&[DATA_TAG, b'a', 0x00, 0x01, 0x00, 0x00]), None);
        assert_eq!(
            decode(&[DATA_TAG, b'a', 0x00, 0x01, 0x00, 0x00, 0x00, b'x']),
            None
        );
    }
}
