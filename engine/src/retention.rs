//! [`Retention`]: which versions of a partition a store keeps.
//!
//! Every put of a partition is a version. The newest version is always kept
//! (until the partition is deleted); a retention policy says which older
//! ones are kept too. Versions outside the policy are garbage: reads no
//! longer see them and compaction reclaims their bytes.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};

use crate::key::AssetKey;

/// The time source a store stamps versions with and judges their age by.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// The system clock.
pub(crate) fn system_clock() -> Clock {
    Arc::new(Utc::now)
}

/// Which versions of each partition to keep: the last `keep_last` versions,
/// and, when `keep_for` is set, every version younger than it too.
///
/// The default keeps only the newest version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    keep_last: u32,
    keep_for: Option<TimeDelta>,
}

impl Default for Retention {
    fn default() -> Self {
        Self::latest_only()
    }
}

impl Retention {
    /// Keeps only the newest version (the default).
    #[must_use]
    pub const fn latest_only() -> Self {
        Self {
            keep_last: 1,
            keep_for: None,
        }
    }

    /// Keeps the last `versions` versions (at least 1: the newest is always kept).
    #[must_use]
    pub fn keep_last(versions: u32) -> Self {
        Self {
            keep_last: versions.max(1),
            keep_for: None,
        }
    }

    /// Also keeps every version younger than `age`, however many there are.
    #[must_use]
    pub fn and_keep_for(self, age: TimeDelta) -> Self {
        Self {
            keep_for: Some(age),
            ..self
        }
    }

    /// How many of the newest versions are kept whatever their age.
    #[must_use]
    pub fn last(&self) -> u32 {
        self.keep_last
    }

    /// The age under which every version is kept, if set.
    #[must_use]
    pub fn age(&self) -> Option<TimeDelta> {
        self.keep_for
    }

    /// Whether the version at `rank` (0: the newest), written at
    /// `created_at`, is kept at time `now`.
    #[must_use]
    pub fn keeps(&self, rank: usize, created_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
        let by_count = u32::try_from(rank).is_ok_and(|rank| rank < self.keep_last);
        let by_age = self.keep_for.is_some_and(|age| now - created_at < age);
        by_count || by_age
    }
}

/// A store's retention: one policy, overridden per asset.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct RetentionPolicy {
    pub default: Retention,
    pub per_asset: BTreeMap<AssetKey, Retention>,
}

impl RetentionPolicy {
    /// The policy for `asset`.
    pub(crate) fn for_asset(&self, asset: &AssetKey) -> Retention {
        self.per_asset.get(asset).copied().unwrap_or(self.default)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn count_and_age_each_keep_a_version() {
        let now = DateTime::from_timestamp(1_000_000, 0).expect("time");
        let old = now - TimeDelta::days(10);
        let fresh = now - TimeDelta::hours(1);
        let latest = Retention::default();
        assert!(latest.keeps(0, old, now));
        assert!(!latest.keeps(1, fresh, now));
        let three = Retention::keep_last(3);
        assert!(three.keeps(2, old, now) && !three.keeps(3, fresh, now));
        let day = Retention::latest_only().and_keep_for(TimeDelta::days(1));
        assert!(day.keeps(7, fresh, now));
        assert!(!day.keeps(1, old, now));
        assert_eq!(Retention::keep_last(0).last(), 1);
    }
}
