//! Sorting keys into their definition's order.

use std::collections::{HashMap, HashSet};

use crate::partitions::context::PartitionContext;
use crate::partitions::definition::PartitionsDefinition;
use crate::partitions::error::Result;

/// A key's position in a definition's order.
enum Ranker<'d> {
    Positions(HashMap<String, i64>),
    Time(&'d crate::partitions::TimeWindowPartitionsDefinition),
    Multi(
        &'d crate::partitions::MultiPartitionsDefinition,
        Vec<Ranker<'d>>,
    ),
}

impl<'d> Ranker<'d> {
    fn new(def: &'d PartitionsDefinition, ctx: &PartitionContext<'_>) -> Result<Self> {
        Ok(match def {
            PartitionsDefinition::TimeWindow(time) => Self::Time(time),
            PartitionsDefinition::Multi(multi) => {
                let rankers = multi
                    .dimensions()
                    .iter()
                    .map(|d| Self::new(&d.definition, ctx))
                    .collect::<Result<Vec<_>>>()?;
                Self::Multi(multi, rankers)
            }
            PartitionsDefinition::Static(_) | PartitionsDefinition::Dynamic(_) => {
                Self::Positions(def.keys(ctx)?.into_iter().zip(0..).collect())
            }
        })
    }

    /// The key's position: one number per dimension, compared in order.
    fn rank(&self, key: &str) -> Option<Vec<i64>> {
        match self {
            Self::Positions(positions) => positions.get(key).map(|p| vec![*p]),
            Self::Time(def) => def.tick_of(key).ok().map(|t| vec![t.timestamp()]),
            Self::Multi(def, rankers) => {
                let parts = def.split_key(key).ok()?;
                let mut rank = Vec::with_capacity(parts.len());
                for (ranker, part) in rankers.iter().zip(parts) {
                    rank.extend(ranker.rank(part)?);
                }
                Some(rank)
            }
        }
    }
}

/// `keys` without duplicates, in `def`'s order; keys `def` does not hold come
/// last, in their given order.
pub(crate) fn in_definition_order(
    def: &PartitionsDefinition,
    keys: impl IntoIterator<Item = String>,
    ctx: &PartitionContext<'_>,
) -> Result<Vec<String>> {
    let ranker = Ranker::new(def, ctx)?;
    let mut seen = HashSet::new();
    let mut keyed: Vec<(Option<Vec<i64>>, String)> = keys
        .into_iter()
        .filter(|k| seen.insert(k.clone()))
        .map(|k| (ranker.rank(&k), k))
        .collect();
    keyed.sort_by(|(a, _), (b, _)| match (a, b) {
        (Some(a), Some(b)) => a.cmp(b),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    });
    Ok(keyed.into_iter().map(|(_, k)| k).collect())
}

/// `keys` without duplicates, first occurrence kept.
pub(crate) fn dedup(keys: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut seen = HashSet::new();
    keys.into_iter()
        .filter(|k| seen.insert(k.clone()))
        .collect()
}
