//! [`PartitionsDefinition`]: the four kinds of partitions behind one interface.

use super::context::PartitionContext;
use super::dynamic::DynamicPartitionsDefinition;
use super::error::{PartitionsError, Result};
use super::multi::MultiPartitionsDefinition;
use super::static_def::StaticPartitionsDefinition;
use super::time::TimeWindowPartitionsDefinition;
use super::window::TimeWindow;

/// How an asset is partitioned, as Dagster's `PartitionsDefinition`
/// subclasses. Key order is Dagster's: definition order (static), insertion
/// order (dynamic), chronological (time windows), and the Cartesian product
/// with the first dimension slowest (multi).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PartitionsDefinition {
    /// A fixed list of keys.
    Static(StaticPartitionsDefinition),
    /// Windows between the ticks of a schedule.
    TimeWindow(TimeWindowPartitionsDefinition),
    /// Keys added and removed at run time.
    Dynamic(DynamicPartitionsDefinition),
    /// The cross product of two (or more) definitions.
    Multi(MultiPartitionsDefinition),
}

impl PartitionsDefinition {
    /// Every key, in Dagster's order.
    ///
    /// # Errors
    /// [`PartitionsError::NoDynamicStore`] for dynamic partitions without a
    /// store, or a store or schedule error.
    pub fn keys(&self, ctx: &PartitionContext<'_>) -> Result<Vec<String>> {
        match self {
            Self::Static(def) => Ok(def.keys().to_vec()),
            Self::TimeWindow(def) => def.keys(ctx.now),
            Self::Dynamic(def) => def.keys(ctx),
            Self::Multi(def) => Ok(MultiPartitionsDefinition::product(&dimension_keys(
                def, ctx,
            )?)),
        }
    }

    /// The number of keys; O(1) for the common time schedules (no key is
    /// formatted).
    ///
    /// # Errors
    /// As [`PartitionsDefinition::keys`].
    pub fn key_count(&self, ctx: &PartitionContext<'_>) -> Result<usize> {
        match self {
            Self::Static(def) => Ok(def.keys().len()),
            Self::TimeWindow(def) => def.key_count(ctx.now),
            Self::Dynamic(def) => Ok(def.keys(ctx)?.len()),
            Self::Multi(def) => def.dimensions().iter().try_fold(1usize, |n, d| {
                Ok(n.saturating_mul(d.definition.key_count(ctx)?))
            }),
        }
    }

    /// Whether `key` is a key (at `ctx.now`, for time windows).
    ///
    /// # Errors
    /// As [`PartitionsDefinition::keys`].
    pub fn contains(&self, key: &str, ctx: &PartitionContext<'_>) -> Result<bool> {
        match self {
            Self::Static(def) => Ok(def.position(key).is_some()),
            Self::TimeWindow(def) => def.contains(key, ctx.now),
            Self::Dynamic(def) => Ok(def.keys(ctx)?.iter().any(|k| k == key)),
            Self::Multi(def) => {
                let Ok(parts) = def.split_key(key) else {
                    return Ok(false);
                };
                for (dimension, part) in def.dimensions().iter().zip(parts) {
                    if !dimension.definition.contains(part, ctx)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
        }
    }

    /// The keys from `first` to `last` inclusive, as Dagster's
    /// `PartitionKeyRange`; for multi partitions the box of the per-dimension
    /// ranges (a rectangle for two dimensions).
    ///
    /// # Errors
    /// [`PartitionsError::KeyNotFound`] when an end is not a key,
    /// [`PartitionsError::StartAfterEnd`] when `first` comes after `last`.
    pub fn keys_in_range(
        &self,
        first: &str,
        last: &str,
        ctx: &PartitionContext<'_>,
    ) -> Result<Vec<String>> {
        match self {
            Self::Static(def) => slice_range(def.keys(), first, last, "static"),
            Self::TimeWindow(def) => def.keys_in_range(first, last, ctx.now),
            Self::Dynamic(def) => slice_range(&def.keys(ctx)?, first, last, def.name()),
            Self::Multi(def) => {
                let (f, l) = (def.split_key(first)?, def.split_key(last)?);
                let ranges = def
                    .dimensions()
                    .iter()
                    .zip(f.iter().zip(&l))
                    .map(|(d, (a, b))| d.definition.keys_in_range(a, b, ctx))
                    .collect::<Result<Vec<_>>>()?;
                Ok(MultiPartitionsDefinition::product(&ranges))
            }
        }
    }

    /// The time window of `key`: `None` for static and dynamic partitions;
    /// for multi partitions the window of the time dimension's key (`None`
    /// without a time dimension).
    ///
    /// # Errors
    /// [`PartitionsError::MalformedKey`] or [`PartitionsError::KeyNotFound`]
    /// for a key the definition cannot hold; for multi partitions with two time
    /// dimensions, [`PartitionsError::InvalidDefinition`].
    pub fn time_window_for_key(&self, key: &str) -> Result<Option<TimeWindow>> {
        match self {
            Self::Static(_) | Self::Dynamic(_) => Ok(None),
            Self::TimeWindow(def) => def.time_window_for_key(key).map(Some),
            Self::Multi(def) => {
                let parts = def.split_key(key)?;
                let time: Vec<usize> = (0..def.dimensions().len())
                    .filter(|i| def.dimensions()[*i].definition.is_time_window())
                    .collect();
                match time.as_slice() {
                    [] => Ok(None),
                    [i] => def.dimensions()[*i].definition.time_window_for_key(parts[*i]),
                    _ => Err(PartitionsError::InvalidDefinition(
                        "a multi-partitions definition with several time dimensions has no single time window"
                            .to_owned(),
                    )),
                }
            }
        }
    }

    /// Whether this is a time-window definition.
    #[must_use]
    pub fn is_time_window(&self) -> bool {
        matches!(self, Self::TimeWindow(_))
    }

    /// The last key, if any (clock-dependent for time windows).
    ///
    /// # Errors
    /// As [`PartitionsDefinition::keys`].
    pub fn last_key(&self, ctx: &PartitionContext<'_>) -> Result<Option<String>> {
        match self {
            Self::TimeWindow(def) => match def.last_window(ctx.now)? {
                Some(window) => def.key_of(window.start.to_utc()).map(Some),
                None => Ok(None),
            },
            _ => Ok(self.keys(ctx)?.pop()),
        }
    }

    /// The kind, as Dagster's class name (for error messages).
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Self::Static(_) => "StaticPartitionsDefinition",
            Self::TimeWindow(_) => "TimeWindowPartitionsDefinition",
            Self::Dynamic(_) => "DynamicPartitionsDefinition",
            Self::Multi(_) => "MultiPartitionsDefinition",
        }
    }
}

impl From<StaticPartitionsDefinition> for PartitionsDefinition {
    fn from(def: StaticPartitionsDefinition) -> Self {
        Self::Static(def)
    }
}

impl From<TimeWindowPartitionsDefinition> for PartitionsDefinition {
    fn from(def: TimeWindowPartitionsDefinition) -> Self {
        Self::TimeWindow(def)
    }
}

impl From<DynamicPartitionsDefinition> for PartitionsDefinition {
    fn from(def: DynamicPartitionsDefinition) -> Self {
        Self::Dynamic(def)
    }
}

impl From<MultiPartitionsDefinition> for PartitionsDefinition {
    fn from(def: MultiPartitionsDefinition) -> Self {
        Self::Multi(def)
    }
}

fn dimension_keys(
    def: &MultiPartitionsDefinition,
    ctx: &PartitionContext<'_>,
) -> Result<Vec<Vec<String>>> {
    def.dimensions()
        .iter()
        .map(|d| d.definition.keys(ctx))
        .collect()
}

/// The keys from `first` to `last` inclusive of an ordered list.
fn slice_range(keys: &[String], first: &str, last: &str, definition: &str) -> Result<Vec<String>> {
    let position = |key: &str| {
        keys.iter()
            .position(|k| k == key)
            .ok_or_else(|| PartitionsError::KeyNotFound {
                key: key.to_owned(),
                definition: definition.to_owned(),
            })
    };
    let (a, b) = (position(first)?, position(last)?);
    if a > b {
        return Err(PartitionsError::StartAfterEnd {
            start: first.to_owned(),
            end: last.to_owned(),
        });
    }
    Ok(keys[a..=b].to_vec())
}
