//! [`TimeWindowPartitionsSubset`]: a set of time partitions as merged windows.

use chrono::{DateTime, Utc};

use super::error::Result;
use super::time::TimeWindowPartitionsDefinition;
use super::window::TimeWindow;

/// A set of partitions of one time-window definition, held as sorted,
/// disjoint, non-adjacent windows `[start, end)` whose bounds are schedule
/// ticks, as Dagster's `TimeWindowPartitionsSubset`.
///
/// Memory is proportional to the number of runs of consecutive partitions,
/// not to the number of partitions: ten years of hourly partitions is one
/// window. Counting is O(runs) for the common schedules; only
/// [`TimeWindowPartitionsSubset::keys`] formats keys.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TimeWindowPartitionsSubset {
    windows: Vec<(DateTime<Utc>, DateTime<Utc>)>,
}

impl TimeWindowPartitionsSubset {
    /// The empty subset.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Every partition of `def` at `now`.
    ///
    /// # Errors
    /// A schedule error.
    pub fn all(def: &TimeWindowPartitionsDefinition, now: DateTime<Utc>) -> Result<Self> {
        let mut subset = Self::new();
        if let Some((first, last)) = def.span(now)? {
            subset.insert(first, def.next_tick(last)?);
        }
        Ok(subset)
    }

    /// The partitions of `keys`, each of which must exist at `now`.
    ///
    /// # Errors
    /// [`PartitionsError::KeyNotFound`](super::PartitionsError::KeyNotFound) or
    /// [`PartitionsError::MalformedKey`](super::PartitionsError::MalformedKey).
    pub fn from_keys<S: AsRef<str>>(
        def: &TimeWindowPartitionsDefinition,
        keys: &[S],
        now: DateTime<Utc>,
    ) -> Result<Self> {
        let mut subset = Self::new();
        for key in keys {
            let tick = def.existing_tick(key.as_ref(), now)?;
            subset.insert(tick, def.next_tick(tick)?);
        }
        Ok(subset)
    }

    /// Adds the window `[start, end)`, merging it with overlapping or adjacent
    /// windows. An empty window adds nothing.
    pub fn insert(&mut self, start: DateTime<Utc>, end: DateTime<Utc>) {
        if start >= end {
            return;
        }
        let at = self.windows.partition_point(|(_, e)| *e < start);
        let mut merged = (start, end);
        let mut past = at;
        while past < self.windows.len() && self.windows[past].0 <= merged.1 {
            merged.0 = merged.0.min(self.windows[past].0);
            merged.1 = merged.1.max(self.windows[past].1);
            past += 1;
        }
        self.windows.splice(at..past, [merged]);
    }

    /// Whether the subset holds no window.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.windows.is_empty()
    }

    /// The merged windows, in order, shown in `def`'s timezone.
    #[must_use]
    pub fn windows(&self, def: &TimeWindowPartitionsDefinition) -> Vec<TimeWindow> {
        self.windows
            .iter()
            .map(|(s, e)| def.window(*s, *e))
            .collect()
    }

    /// The merged windows as instants.
    pub(crate) fn raw(&self) -> &[(DateTime<Utc>, DateTime<Utc>)] {
        &self.windows
    }

    /// The number of partitions of `def` in the subset (excluded windows do
    /// not count).
    ///
    /// # Errors
    /// A schedule error.
    pub fn len(&self, def: &TimeWindowPartitionsDefinition) -> Result<usize> {
        self.windows.iter().try_fold(0usize, |n, (s, e)| {
            Ok(n.saturating_add(def.count_between(*s, *e)?))
        })
    }

    /// The keys of `def` in the subset, chronologically.
    ///
    /// # Errors
    /// A schedule error.
    pub fn keys(&self, def: &TimeWindowPartitionsDefinition) -> Result<Vec<String>> {
        let mut keys = Vec::new();
        for (s, e) in &self.windows {
            keys.extend(def.keys_between(*s, *e)?);
        }
        Ok(keys)
    }

    /// Whether `instant` lies in one of the windows.
    #[must_use]
    pub fn contains_instant(&self, instant: DateTime<Utc>) -> bool {
        let at = self.windows.partition_point(|(_, e)| *e <= instant);
        self.windows.get(at).is_some_and(|(s, _)| *s <= instant)
    }
}
