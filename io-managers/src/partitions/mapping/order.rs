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
        Box<[Ranker<'d>; 2]>,
    ),
}

impl<'d> Ranker<'d> {
    fn new(def: &'d PartitionsDefinition, ctx: &PartitionContext<'_>) -> Result<Self> {
        Ok(match def {
            PartitionsDefinition::TimeWindow(time) => Self::Time(time),
            PartitionsDefinition::Multi(multi) => {
                let [a, b] = [&multi.dimensions()[0], &multi.dimensions()[1]];
                let rankers = [
                    Self::new(&a.definition, ctx)?,
                    Self::new(&b.definition, ctx)?,
                ];
                Self::Multi(multi, Box::new(rankers))
            }
            PartitionsDefinition::Static(_) | PartitionsDefinition::Dynamic(_) => {
                Self::Positions(def.keys(ctx)?.into_iter().zip(0..).collect())
            }
        })
    }

    fn rank(&self, key: &str) -> Option<(i64, i64)> {
        match self {
            Self::Positions(positions) => positions.get(key).map(|p| (*p, 0)),
            Self::Time(def) => def.tick_of(key).ok().map(|t| (t.timestamp(), 0)),
            Self::Multi(def, rankers) => {
                let [a, b] = def.split_key(key).ok()?;
                Some((rankers[0].rank(a)?.0, rankers[1].rank(b)?.0))
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
    let mut keyed: Vec<(Option<(i64, i64)>, String)> = keys
        .into_iter()
        .filter(|k| seen.insert(k.clone()))
        .map(|k| (ranker.rank(&k), k))
        .collect();
    keyed.sort_by_key(|(rank, _)| rank.map_or((1, (0, 0)), |r| (0, r)));
    Ok(keyed.into_iter().map(|(_, k)| k).collect())
}

/// `keys` without duplicates, first occurrence kept.
pub(crate) fn dedup(keys: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut seen = HashSet::new();
    keys.into_iter()
        .filter(|k| seen.insert(k.clone()))
        .collect()
}
