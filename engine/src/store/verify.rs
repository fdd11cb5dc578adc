//! [`Store::verify`]: check every stored partition, and the index against the log.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::path::PathBuf;

use super::Store;
use super::overlay::{OverlayEntry, VersionChange};
use crate::error::{Error, Result};
use crate::key::{AssetKey, PartitionKey, encoding};
use crate::log::replay;
use crate::record::{Location, Record};
use crate::segment::QuarantinedSegment;

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

/// A key on which the index (with the changes not yet checkpointed) and the
/// log disagree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexMismatch {
    /// The asset, if the key could be decoded.
    pub asset: Option<AssetKey>,
    /// The partition, if the key could be decoded.
    pub partition: Option<PartitionKey>,
    /// How they disagree.
    pub problem: &'static str,
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
    /// Keys the index lacks, misplaces, or holds without the log, in key order.
    pub index_mismatches: Vec<IndexMismatch>,
    /// Segments whose header is damaged (their frames are not read); on
    /// object storage, the log objects that are missing or fail their checks.
    pub quarantined: Vec<QuarantinedSegment>,
    /// Files in the segments directory that are not segments.
    pub stray_files: Vec<PathBuf>,
}

impl VerifyReport {
    /// Whether every partition passed and the index agrees with the log
    /// (stray files are reported, not failures).
    #[must_use]
    pub fn is_ok(&self) -> bool {
        self.damaged.is_empty() && self.index_mismatches.is_empty() && self.quarantined.is_empty()
    }
}

fn mismatch(key: &[u8], problem: &'static str) -> IndexMismatch {
    let decoded = encoding::decode(key);
    IndexMismatch {
        asset: decoded.as_ref().map(|(a, _)| a.clone()),
        partition: decoded.map(|(_, p)| p),
        problem,
    }
}

impl Store {
    /// Checks every partition (entry, frame, bounds and payload crc32,
    /// whatever the store's `verify_checksums` setting), then replays the
    /// whole log and reports every key the index lacks, points elsewhere
    /// than the log's last put, or holds without the log. Damage is reported
    /// per partition; the scan goes on past it.
    ///
    /// Writes that run during a verify may show as mismatches.
    ///
    /// On a store on object storage, which has no index, every partition is
    /// checked the same way (fetching the log objects it needs through the
    /// cache), then every log object a retained version points into is
    /// checked whole (every frame, every payload's crc32, whole committed
    /// batches); a missing or failing one is listed in
    /// [`VerifyReport::quarantined`]. `index_mismatches` and `stray_files`
    /// stay empty there.
    ///
    /// # Errors
    /// If the index itself cannot be scanned; on object storage, a fetch that
    /// fails for a reason other than damage
    /// ([`Error::ObjectStore`](crate::Error::ObjectStore)).
    pub fn verify(&self) -> Result<VerifyReport> {
        #[cfg(feature = "object-store")]
        if let Some(remote) = &self.inner.remote {
            let mut report = VerifyReport::default();
            self.check_partitions(&mut report)?;
            report.quarantined = remote.check_referenced(&self.inner)?;
            return Ok(report);
        }
        let mut report = VerifyReport {
            quarantined: self.inner.segments.quarantined().to_vec(),
            stray_files: self.inner.segments.stray().to_vec(),
            ..VerifyReport::default()
        };
        let indexed = self.check_partitions(&mut report)?;
        let logged = self.logged_locations();
        compare(&indexed, &logged, &mut report);
        Ok(report)
    }

    /// Checks every partition the index and overlay hold; returns where each
    /// points.
    fn check_partitions(&self, report: &mut VerifyReport) -> Result<BTreeMap<Vec<u8>, Location>> {
        let mut indexed = BTreeMap::new();
        let (start, end) = encoding::data_range();
        self.inner.scan(
            Bound::Included(&start),
            Bound::Excluded(&end),
            &mut |key, value| {
                report.checked += 1;
                if let Ok(record) = Record::decode(value) {
                    indexed.insert(key.to_vec(), record.location);
                }
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
            },
        )?;
        Ok(indexed)
    }

    /// Where the log puts the newest version of each live key.
    fn logged_locations(&self) -> BTreeMap<Vec<u8>, Location> {
        let segments = self.inner.segments.all();
        let mut state: BTreeMap<Vec<u8>, OverlayEntry> = BTreeMap::new();
        let _scan = replay(&segments, None, true, |changes| {
            for change in changes {
                let (key, seq, change) = VersionChange::from_log(change);
                state.entry(key).or_default().apply(seq, change);
            }
        });
        state
            .into_iter()
            .filter_map(|(key, entry)| {
                let (_, newest) = entry.newest()?;
                Some((key, Record::decode(newest).ok()?.location))
            })
            .collect()
    }
}

fn compare(
    indexed: &BTreeMap<Vec<u8>, Location>,
    logged: &BTreeMap<Vec<u8>, Location>,
    report: &mut VerifyReport,
) {
    for (key, location) in logged {
        match indexed.get(key) {
            None => report
                .index_mismatches
                .push(mismatch(key, "the index lacks a key the log holds")),
            Some(found) if found != location => report.index_mismatches.push(mismatch(
                key,
                "the index points elsewhere than the log's last put",
            )),
            Some(_) => {}
        }
    }
    for key in indexed.keys().filter(|k| !logged.contains_key(*k)) {
        report
            .index_mismatches
            .push(mismatch(key, "the index holds a key the log does not"));
    }
    report
        .index_mismatches
        .sort_by(|a, b| (&a.asset, &a.partition).cmp(&(&b.asset, &b.partition)));
}
