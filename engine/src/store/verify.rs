//! [`Store::verify`]: check every stored partition.

use std::ops::Bound;

use super::Store;
use crate::error::{Error, Result};
use crate::key::{AssetKey, PartitionKey, encoding};

/// A partition that failed verification.
#[derive(Debug)]
pub struct DamagedPartition {
    /// The asset, if its index key could be decoded.
    pub asset: Option<AssetKey>,
    /// The partition, if its index key could be decoded.
    pub partition: Option<PartitionKey>,
    /// What failed.
    pub error: Error,
}

/// The outcome of [`Store::verify`].
#[derive(Debug, Default)]
pub struct VerifyReport {
    /// Partitions checked.
    pub checked: u64,
    /// Payload bytes whose checksums were recomputed.
    pub bytes: u64,
    /// Partitions that failed, in key order.
    pub damaged: Vec<DamagedPartition>,
}

impl VerifyReport {
    /// Whether every partition passed.
    #[must_use]
    pub fn is_ok(&self) -> bool {
        self.damaged.is_empty()
    }
}

impl Store {
    /// Checks every partition: index entry, frame, bounds and payload crc32,
    /// whatever the store's `verify_checksums` setting. Damage is reported per
    /// partition; the scan goes on past it.
    ///
    /// # Errors
    /// Only if the index itself cannot be scanned.
    pub fn verify(&self) -> Result<VerifyReport> {
        let mut report = VerifyReport::default();
        self.inner
            .index
            .scan(Bound::Unbounded, Bound::Unbounded, &mut |key, value| {
                report.checked += 1;
                let Some((asset, partition)) = encoding::decode(key) else {
                    report.damaged.push(DamagedPartition {
                        asset: None,
                        partition: None,
                        error: Error::CorruptIndex {
                            reason: format!(
                                "index key {key:02x?} is not a valid (asset, partition) key"
                            ),
                        },
                    });
                    return Ok(true);
                };
                match self.blob_for(key, value, &asset, &partition, true) {
                    Ok(blob) => report.bytes += blob.len() as u64,
                    Err(error) => report.damaged.push(DamagedPartition {
                        asset: Some(asset),
                        partition: Some(partition),
                        error,
                    }),
                }
                Ok(true)
            })?;
        Ok(report)
    }
}
