//! [`RunObserver`]: what a caller sees of a run while it happens.

use super::result::PartitionOutcome;

/// Watches a run: told once how many partitions were planned, then each
/// partition's outcome as it happens (for progress bars and logs).
///
/// Any `Fn(&PartitionOutcome) + Sync` closure is an observer that ignores
/// the plan.
pub trait RunObserver: Sync {
    /// The run planned `partitions` partitions (before any runs).
    fn planned(&self, partitions: usize) {
        let _ = partitions;
    }

    /// One partition's outcome, as soon as it is known.
    fn outcome(&self, outcome: &PartitionOutcome);
}

impl<F: Fn(&PartitionOutcome) + Sync> RunObserver for F {
    fn outcome(&self, outcome: &PartitionOutcome) {
        self(outcome);
    }
}
