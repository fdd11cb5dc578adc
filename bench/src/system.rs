//! The interface the partition I/O workload drives: Tessera and every baseline
//! that stores whole partitions implement it.

use crate::data::{Format, Value};
use crate::error::Result;

/// A place to store the partitions of one asset.
///
/// A system is made for one durability: its writes are durable when they
/// return (`Immediate`) or after [`PartitionSystem::finish_writes`] (`Buffered`).
pub trait PartitionSystem {
    /// The name shown in the table.
    fn name(&self) -> String;

    /// Stores `value` as `partition`.
    ///
    /// # Errors
    /// Any I/O or encoding failure.
    fn write(&mut self, partition: &str, value: &Value) -> Result<()>;

    /// Makes every write so far durable (one flush, for `Buffered`).
    ///
    /// # Errors
    /// Any I/O failure.
    fn finish_writes(&mut self) -> Result<()>;

    /// Reads `partition` back as `format` and returns its length in rows (or
    /// bytes, for raw values), so that the read cannot be optimized away.
    ///
    /// # Errors
    /// Any I/O or decoding failure, or a missing partition.
    fn read(&mut self, partition: &str, format: Format) -> Result<usize>;

    /// Turns checksum verification on reads off, if the system has such a
    /// switch; returns whether it did.
    ///
    /// # Errors
    /// If the system cannot be reconfigured.
    fn skip_verification(&mut self) -> Result<bool> {
        Ok(false)
    }
}
