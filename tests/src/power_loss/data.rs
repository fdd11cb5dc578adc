//! A file's data operations and the ways a power loss may leave them: each
//! kept, dropped, or torn at sector boundaries.

use std::sync::Arc;

use super::rng::Rng;

/// A change to a file's bytes or length.
#[derive(Debug, Clone)]
pub(crate) enum DataOp {
    /// `bytes` written at absolute `offset`.
    Write {
        /// The first byte's offset.
        offset: u64,
        /// The bytes.
        bytes: Arc<[u8]>,
    },
    /// The file's length set to this (`create` of an existing file sets 0).
    SetLen(u64),
}

impl DataOp {
    /// Applies the whole operation to `content`.
    pub(crate) fn apply(&self, content: &mut Vec<u8>) {
        match self {
            Self::Write { offset, bytes } => write_into(content, *offset, bytes),
            Self::SetLen(len) => content.resize(to_usize(*len), 0),
        }
    }
}

/// Converts a file offset or length to `usize`.
fn to_usize(n: u64) -> usize {
    usize::try_from(n).expect("file sizes in tests fit in memory")
}

/// Writes `bytes` at `offset` of `content`, extending it with zeros first if
/// it is shorter.
fn write_into(content: &mut Vec<u8>, offset: u64, bytes: &[u8]) {
    let start = to_usize(offset);
    let end = start + bytes.len();
    if content.len() < end {
        content.resize(end, 0);
    }
    content[start..end].copy_from_slice(bytes);
}

/// What a crash image made of the operations that were not yet durable.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OpTally {
    /// Operations that reached the disk whole.
    pub kept: usize,
    /// Operations lost entirely.
    pub dropped: usize,
    /// Writes of which only some sectors landed, possibly zeroed or garbage.
    pub torn: usize,
}

/// How a crash treats one ordered list of pending operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Selection {
    /// Every operation landed.
    All,
    /// None did.
    None,
    /// The first `k` did, in order; the next one may be torn.
    Prefix,
    /// Each one independently: kept, dropped or torn.
    Subset,
}

impl Selection {
    /// A random selection.
    pub(crate) fn pick(rng: &mut Rng) -> Self {
        [Self::All, Self::None, Self::Prefix, Self::Subset][rng.weighted(&[2, 2, 3, 3])]
    }

    /// For each of `n` operations, whether it is kept; [`Fate::Torn`] only
    /// for operations that `tearable` says are writes.
    pub(crate) fn fates(
        self,
        n: usize,
        rng: &mut Rng,
        tearable: impl Fn(usize) -> bool,
    ) -> Vec<Fate> {
        match self {
            Self::All => vec![Fate::Kept; n],
            Self::None => vec![Fate::Dropped; n],
            Self::Prefix => {
                let k = rng.index(n + 1);
                (0..n)
                    .map(|i| match i.cmp(&k) {
                        std::cmp::Ordering::Less => Fate::Kept,
                        std::cmp::Ordering::Equal if tearable(i) && rng.chance(1, 2) => Fate::Torn,
                        _ => Fate::Dropped,
                    })
                    .collect()
            }
            Self::Subset => (0..n)
                .map(|i| match rng.weighted(&[2, 1, u64::from(tearable(i))]) {
                    0 => Fate::Kept,
                    1 => Fate::Dropped,
                    _ => Fate::Torn,
                })
                .collect(),
        }
    }
}

/// What became of one pending operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fate {
    /// Landed whole.
    Kept,
    /// Lost.
    Dropped,
    /// Split at sector boundaries, each piece kept, dropped, zeroed or garbage.
    Torn,
}

/// Applies to `content` what a power loss leaves of `ops` (in order),
/// chosen with `rng`, and counts it in the returned tally.
pub(crate) fn resolve(content: &mut Vec<u8>, ops: &[DataOp], rng: &mut Rng, tally: &mut OpTally) {
    if ops.is_empty() {
        return;
    }
    let fates =
        Selection::pick(rng).fates(ops.len(), rng, |i| matches!(ops[i], DataOp::Write { .. }));
    for (op, fate) in ops.iter().zip(fates) {
        match (fate, op) {
            (Fate::Kept, _) => {
                op.apply(content);
                tally.kept += 1;
            }
            (Fate::Torn, DataOp::Write { offset, bytes }) => {
                tear(content, *offset, bytes, rng);
                tally.torn += 1;
            }
            _ => tally.dropped += 1,
        }
    }
}

/// Sector sizes a write may tear at.
const SECTORS: [u64; 2] = [512, 4096];

/// Writes `bytes` at `offset` as a torn write: split at 512-byte or 4 KiB
/// boundaries of the file, each piece kept, dropped, zeroed or garbage.
fn tear(content: &mut Vec<u8>, offset: u64, bytes: &[u8], rng: &mut Rng) {
    let sector = SECTORS[rng.index(SECTORS.len())];
    let end = offset + bytes.len() as u64;
    let mut start = offset;
    while start < end {
        let stop = ((start / sector + 1) * sector).min(end);
        let piece = &bytes[to_usize(start - offset)..to_usize(stop - offset)];
        match rng.weighted(&[4, 2, 1, 1]) {
            0 => write_into(content, start, piece),
            1 => {}
            2 => write_into(content, start, &vec![0; piece.len()]),
            _ => {
                let mut garbage = vec![0; piece.len()];
                rng.fill(&mut garbage);
                write_into(content, start, &garbage);
            }
        }
        start = stop;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_torn_write_changes_only_its_own_range_at_sector_boundaries() {
        let bytes: Arc<[u8]> = vec![0xAB; 3000].into();
        for seed in 0..200 {
            let mut content = vec![0x11; 8192];
            tear(&mut content, 1000, &bytes, &mut Rng::new(seed));
            assert!(content[..1000].iter().all(|&b| b == 0x11));
            assert!(content[4000..].iter().all(|&b| b == 0x11));
            // Pieces start at 1000, then at multiples of 512 (or 4096). Each
            // is uniform (kept, dropped or zeroed) or garbage, never a mix.
            for piece in [1000..1024, 1024..1536, 1536..2048, 3584..4000] {
                let s = &content[piece];
                let plain = s.iter().all(|b| [0x11, 0xAB, 0].contains(b));
                assert!(!plain || s.iter().all(|&b| b == s[0]));
            }
        }
    }

    #[test]
    fn writes_past_the_end_extend_with_zeros() {
        let mut content = vec![1; 4];
        DataOp::Write {
            offset: 6,
            bytes: vec![2; 2].into(),
        }
        .apply(&mut content);
        assert_eq!(content, [1, 1, 1, 1, 0, 0, 2, 2]);
        DataOp::SetLen(2).apply(&mut content);
        assert_eq!(content, [1, 1]);
    }
}
