//! The plan of a run: one task per partition (or per single-run backfill),
//! with the upstream partitions each one reads and the tasks it waits for.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::asset::{AssetDefinition, BackfillPolicy};
use super::definitions::Definitions;
use super::request::{AssetSelection, MaterializeRequest, PartitionSelection};
use super::selection::MissingOrStale;
use crate::error::{Error, Result};
use crate::partitions::{PartitionContext, PartitionsDefinition, TimeWindow};

/// One compute call to make.
#[derive(Debug)]
pub(crate) struct Task {
    pub(crate) asset: usize,
    pub(crate) partitions: Option<Vec<String>>,
    pub(crate) time_window: Option<TimeWindow>,
    pub(crate) inputs: Vec<PlannedInput>,
    pub(crate) deps: Vec<usize>,
    pub(crate) invalid: Option<Error>,
}

/// The upstream partitions one input of a task reads.
#[derive(Debug)]
pub(crate) struct PlannedInput {
    pub(crate) upstream: usize,
    pub(crate) keys: Option<Vec<String>>,
    pub(crate) time_window: Option<TimeWindow>,
}

/// Every task of a run and who waits for whom.
#[derive(Debug)]
pub(crate) struct Plan {
    pub(crate) tasks: Vec<Task>,
    pub(crate) dependents: Vec<Vec<usize>>,
    /// What the planning could not read and worked around.
    pub(crate) warnings: Vec<String>,
}

impl Plan {
    /// How many partitions the plan's tasks cover (an unpartitioned task is one).
    pub(crate) fn partition_count(&self) -> usize {
        self.tasks
            .iter()
            .map(|task| task.partitions.as_ref().map_or(1, Vec::len))
            .sum()
    }
}

pub(crate) fn build_plan(
    definitions: &Definitions,
    request: &MaterializeRequest,
    now: DateTime<Utc>,
) -> Result<Plan> {
    let ctx = PartitionContext::at(now).with_dynamic(&definitions.dynamic);
    let mut tasks = Vec::new();
    let mut by_partition: HashMap<(usize, Option<String>), usize> = HashMap::new();
    let mut selection = MissingOrStale::new(definitions, now);
    for at in selected_assets(definitions, &request.assets)? {
        let asset = &definitions.assets[at];
        let planned = Planned {
            definitions,
            by_partition: &by_partition,
            ctx: &ctx,
        };
        for partitions in task_partitions(&mut selection, &planned, asset, request)? {
            for key in partitions.iter().flatten() {
                by_partition.insert((at, Some(key.clone())), tasks.len());
            }
            if partitions.is_none() {
                by_partition.insert((at, None), tasks.len());
            }
            let time_window = window_of(asset.partitions.as_ref(), partitions.as_deref())?;
            tasks.push(Task {
                asset: at,
                partitions,
                time_window,
                inputs: Vec::new(),
                deps: Vec::new(),
                invalid: None,
            });
        }
    }
    for task in &mut tasks {
        plan_inputs(definitions, task, &by_partition, &ctx)?;
    }
    let mut dependents = vec![Vec::new(); tasks.len()];
    for (at, task) in tasks.iter().enumerate() {
        for &dep in &task.deps {
            dependents[dep].push(at);
        }
    }
    Ok(Plan {
        tasks,
        dependents,
        warnings: selection.into_warnings(),
    })
}

fn selected_assets(definitions: &Definitions, selection: &AssetSelection) -> Result<Vec<usize>> {
    match selection {
        AssetSelection::All => Ok(definitions.order.clone()),
        AssetSelection::Assets(keys) => {
            for key in keys {
                definitions.asset(key)?;
            }
            Ok(definitions
                .order
                .iter()
                .copied()
                .filter(|&at| keys.contains(&definitions.assets[at].key))
                .collect())
        }
    }
}

/// The partition sets of an asset's tasks: one per partition, one for a
/// single-run backfill, `[None]` when unpartitioned.
fn task_partitions(
    selection: &mut MissingOrStale<'_>,
    planned: &Planned<'_>,
    asset: &AssetDefinition,
    request: &MaterializeRequest,
) -> Result<Vec<Option<Vec<String>>>> {
    let wanted = |selection: &mut MissingOrStale<'_>, key: Option<&str>| -> Result<bool> {
        Ok(!request.only_missing_or_stale
            || planned.reads_planned(asset, key)?
            || selection.is_wanted(asset, key)?)
    };
    let Some(def) = &asset.partitions else {
        return Ok(if wanted(selection, None)? {
            vec![None]
        } else {
            Vec::new()
        });
    };
    let mut keys = Vec::new();
    for key in selected_keys(asset, def, &request.partitions, planned.ctx)? {
        if wanted(selection, Some(&key))? {
            keys.push(key);
        }
    }
    Ok(match asset.backfill_policy {
        BackfillPolicy::SingleRun if !keys.is_empty() => vec![Some(keys)],
        BackfillPolicy::SingleRun => Vec::new(),
        BackfillPolicy::PerPartition => keys.into_iter().map(|key| Some(vec![key])).collect(),
    })
}

/// The tasks planned so far, by (asset, partition).
struct Planned<'a> {
    definitions: &'a Definitions,
    by_partition: &'a HashMap<(usize, Option<String>), usize>,
    ctx: &'a PartitionContext<'a>,
}

impl Planned<'_> {
    /// Whether `(asset, partition)` reads an upstream partition that this run
    /// materializes: it will be stale once that one is done, so it runs too.
    fn reads_planned(&self, asset: &AssetDefinition, partition: Option<&str>) -> Result<bool> {
        let definitions = self.definitions;
        for input in &asset.inputs {
            let upstream_at = definitions.index[&input.upstream];
            if upstream_at == definitions.index[&asset.key] {
                continue;
            }
            let upstream = &definitions.assets[upstream_at];
            let keys: Vec<Option<String>> = match &upstream.partitions {
                None => vec![None],
                Some(upstream_def) => {
                    let downstream: Vec<String> =
                        partition.map(str::to_owned).into_iter().collect();
                    definitions
                        .input_mapping(asset, input)?
                        .upstream_for_downstream(
                            &downstream,
                            asset.partitions.as_ref(),
                            upstream_def,
                            self.ctx,
                        )?
                        .keys
                        .into_iter()
                        .map(Some)
                        .collect()
                }
            };
            if keys
                .into_iter()
                .any(|key| self.by_partition.contains_key(&(upstream_at, key)))
            {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

fn selected_keys(
    asset: &AssetDefinition,
    def: &PartitionsDefinition,
    selection: &PartitionSelection,
    ctx: &PartitionContext<'_>,
) -> Result<Vec<String>> {
    let not_applicable =
        |reason: String| Error::InvalidSelection(format!("asset {}: {reason}", asset.key));
    match selection {
        PartitionSelection::All => Ok(def.keys(ctx)?),
        PartitionSelection::Range(first, last) => def
            .keys_in_range(first, last, ctx)
            .map_err(|e| not_applicable(e.to_string())),
        PartitionSelection::Keys(keys) => {
            for key in keys {
                if !def.contains(key, ctx)? {
                    return Err(not_applicable(format!("no partition {key:?}")));
                }
            }
            Ok(keys.clone())
        }
    }
}

/// The time window spanned by `keys` of a time (or multi with time) definition.
pub(crate) fn window_of(
    def: Option<&PartitionsDefinition>,
    keys: Option<&[String]>,
) -> Result<Option<TimeWindow>> {
    let (Some(def), Some([first, .., last] | [first @ last])) = (def, keys) else {
        return Ok(None);
    };
    let (Some(start), Some(end)) = (
        def.time_window_for_key(first)?,
        def.time_window_for_key(last)?,
    ) else {
        return Ok(None);
    };
    Ok(Some(TimeWindow {
        start: start.start,
        end: end.end,
    }))
}

fn plan_inputs(
    definitions: &Definitions,
    task: &mut Task,
    by_partition: &HashMap<(usize, Option<String>), usize>,
    ctx: &PartitionContext<'_>,
) -> Result<()> {
    let asset = &definitions.assets[task.asset];
    for input in &asset.inputs {
        let upstream_at = definitions.index[&input.upstream];
        let upstream = &definitions.assets[upstream_at];
        let keys = match &upstream.partitions {
            None => None,
            Some(upstream_def) => {
                let mapping = definitions.input_mapping(asset, input)?;
                let downstream_keys = task.partitions.clone().unwrap_or_default();
                let mapped = mapping.upstream_for_downstream(
                    &downstream_keys,
                    asset.partitions.as_ref(),
                    upstream_def,
                    ctx,
                )?;
                let is_self = upstream_at == task.asset;
                if !mapped.required_but_nonexistent.is_empty() && !is_self && task.invalid.is_none()
                {
                    task.invalid = Some(Error::InvalidUpstreamPartitions {
                        asset: asset.key.clone(),
                        partition: downstream_keys.join(","),
                        upstream: upstream.key.clone(),
                        keys: mapped.required_but_nonexistent,
                    });
                }
                Some(mapped.keys)
            }
        };
        let lookups: Vec<Option<String>> = match &keys {
            None => vec![None],
            Some(keys) => keys.iter().cloned().map(Some).collect(),
        };
        for key in lookups {
            if let Some(&dep) = by_partition.get(&(upstream_at, key))
                && !task.deps.contains(&dep)
            {
                task.deps.push(dep);
            }
        }
        let time_window = window_of(upstream.partitions.as_ref(), keys.as_deref())?;
        task.inputs.push(PlannedInput {
            upstream: upstream_at,
            keys,
            time_window,
        });
    }
    Ok(())
}
