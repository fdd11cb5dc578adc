//! `materialize --select` and `--partitions`: which assets and partitions.
//!
//! `--select ASSET` picks one asset, `+ASSET` adds everything upstream of it,
//! `ASSET+` everything downstream (Dagster's selection syntax).
//! `--partitions` takes `FIRST..LAST` (inclusive), `A,B,C`, or one key.

use std::collections::BTreeSet;

use tessera_engine::AssetKey;

use super::keys::{parse_asset, parse_partition};
use crate::executor::{AssetSelection, Definitions, PartitionSelection};

/// The assets named by `patterns`, expanded up- and downstream as asked.
pub(crate) fn select_assets(
    definitions: &Definitions,
    patterns: &[String],
) -> Result<AssetSelection, Box<dyn std::error::Error>> {
    if patterns.is_empty() {
        return Ok(AssetSelection::All);
    }
    let mut selected = BTreeSet::new();
    for pattern in patterns {
        let upstream = pattern.starts_with('+');
        let downstream = pattern.ends_with('+');
        let name = pattern.trim_start_matches('+');
        let name = if downstream {
            &name[..name.len() - 1]
        } else {
            name
        };
        let key = parse_asset(name)?;
        definitions.asset(&key)?;
        selected.insert(key.clone());
        if upstream {
            selected.extend(walk(definitions, &key, Direction::Up));
        }
        if downstream {
            selected.extend(walk(definitions, &key, Direction::Down));
        }
    }
    Ok(AssetSelection::Assets(selected.into_iter().collect()))
}

#[derive(Clone, Copy, PartialEq)]
enum Direction {
    Up,
    Down,
}

/// Every asset reachable from `start` following inputs up or down.
fn walk(definitions: &Definitions, start: &AssetKey, direction: Direction) -> BTreeSet<AssetKey> {
    let mut found = BTreeSet::new();
    let mut pending = vec![start.clone()];
    while let Some(key) = pending.pop() {
        for asset in definitions.assets() {
            let next = match direction {
                Direction::Up if asset.key == key => {
                    asset.inputs.iter().map(|i| i.upstream.clone()).collect()
                }
                Direction::Down if asset.inputs.iter().any(|i| i.upstream == key) => {
                    vec![asset.key.clone()]
                }
                _ => Vec::new(),
            };
            for next in next {
                if found.insert(next.clone()) {
                    pending.push(next);
                }
            }
        }
    }
    found
}

/// `--partitions`: `FIRST..LAST`, `A,B,C` or one key.
pub(crate) fn parse_partitions(
    text: &str,
) -> Result<PartitionSelection, Box<dyn std::error::Error>> {
    if let Some((first, last)) = text.split_once("..") {
        return Ok(PartitionSelection::Range(
            parse_partition(first)?,
            parse_partition(last)?,
        ));
    }
    Ok(PartitionSelection::Keys(
        text.split(',')
            .map(parse_partition)
            .collect::<Result<_, _>>()?,
    ))
}
