//! Baseline 3: the machine's limits on the same bytes. A sequential write into
//! one file with `fdatasync` (after every partition for `Immediate`, once at the
//! end for `Buffered`), a `memcpy` in memory, and crc32fast's own speed (the
//! ceiling of a read that verifies checksums).

use std::fs::File;
use std::hint::black_box;
use std::io::Write;
use std::path::Path;

use tessera_engine::Durability;

use crate::error::Result;
use crate::measure::timed;

/// Seconds to append `bytes` `count` times to a new file in `dir` with the
/// given durability.
///
/// # Errors
/// Any I/O failure.
pub fn sequential_write(
    dir: &Path,
    bytes: &[u8],
    count: usize,
    durability: Durability,
) -> Result<f64> {
    let path = dir.join("sequential");
    let mut file = File::create(&path)?;
    let ((), secs) = timed(|| {
        for _ in 0..count {
            file.write_all(bytes)?;
            if durability == Durability::Immediate {
                file.sync_data()?;
            }
        }
        file.sync_data()?;
        Ok(())
    })?;
    std::fs::remove_file(path)?;
    Ok(secs)
}

/// Seconds to copy `bytes` `count` times into a buffer of the same size.
///
/// # Errors
/// Never; a `Result` for symmetry with the other limits.
pub fn memcpy(bytes: &[u8], count: usize) -> Result<f64> {
    // Filled once before timing, so that page faults are not counted.
    let mut target = bytes.to_vec();
    let ((), secs) = timed(|| {
        for _ in 0..count {
            target.copy_from_slice(black_box(bytes));
            black_box(&mut target);
        }
        Ok(())
    })?;
    Ok(secs)
}

/// Seconds for crc32fast to checksum `bytes` `count` times.
///
/// # Errors
/// Never; a `Result` for symmetry with the other limits.
pub fn crc32(bytes: &[u8], count: usize) -> Result<f64> {
    let ((), secs) = timed(|| {
        for _ in 0..count {
            black_box(crc32fast::hash(black_box(bytes)));
        }
        Ok(())
    })?;
    Ok(secs)
}
