//! `TimeWindowPartitionMapping`: a window depends on the overlapping windows
//! upstream, with offsets counted in downstream partitions.

use chrono::{DateTime, Utc};

use super::UpstreamTimeSubsets;
use crate::partitions::context::PartitionContext;
use crate::partitions::definition::PartitionsDefinition;
use crate::partitions::error::{PartitionsError, Result};
use crate::partitions::subset::TimeWindowPartitionsSubset;
use crate::partitions::time::TimeWindowPartitionsDefinition;

const NAME: &str = "TimeWindowPartitionMapping";

/// The offsets and flag of a time-window mapping.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Offsets {
    pub(crate) start: i64,
    pub(crate) end: i64,
    pub(crate) allow_nonexistent: bool,
}

/// Both definitions as time windows in one timezone.
pub(super) fn time_defs<'d>(
    upstream: &'d PartitionsDefinition,
    downstream: &'d PartitionsDefinition,
) -> Result<(
    &'d TimeWindowPartitionsDefinition,
    &'d TimeWindowPartitionsDefinition,
)> {
    let (PartitionsDefinition::TimeWindow(up), PartitionsDefinition::TimeWindow(down)) =
        (upstream, downstream)
    else {
        return Err(PartitionsError::IncompatibleMapping {
            mapping: NAME,
            reason: format!(
                "both sides must be time windows; upstream is a {} and downstream a {}",
                upstream.kind(),
                downstream.kind()
            ),
        });
    };
    if up.timezone() != down.timezone() {
        return Err(PartitionsError::IncompatibleMapping {
            mapping: NAME,
            reason: format!(
                "timezones {} and {} don't match",
                up.timezone(),
                down.timezone()
            ),
        });
    }
    Ok((up, down))
}

/// The full span `[first.start, last.end)` of `def` at `now`.
fn bounds(
    def: &TimeWindowPartitionsDefinition,
    now: DateTime<Utc>,
) -> Result<Option<(DateTime<Utc>, DateTime<Utc>)>> {
    def.span(now)?
        .map(|(first, last)| Ok((first, def.next_tick(last)?)))
        .transpose()
}

/// `tick` moved by `n` partitions of `def` (existing ones: excluded windows
/// are not counted), held inside `bounds` on the side
/// the offset points to when `clamp` allows it (Dagster clamps both sides;
/// see [`upstream`] for the one exception).
fn offset(
    def: &TimeWindowPartitionsDefinition,
    tick: DateTime<Utc>,
    n: i64,
    bounds: Option<(DateTime<Utc>, DateTime<Utc>)>,
    clamp_forward: bool,
) -> Result<DateTime<Utc>> {
    let moved = def.offset_windows(tick, n)?;
    Ok(match bounds {
        Some((start, _)) if n < 0 => moved.max(start),
        Some((_, end)) if n > 0 && clamp_forward => moved.min(end),
        _ => moved,
    })
}

/// Maps a downstream subset to the upstream partitions whose windows overlap
/// its windows shifted by the offsets.
///
/// A negative offset is clamped at the upstream's first partition, as in
/// Dagster (so the first partition of a self-dependent asset has no
/// upstream). A positive offset is clamped at the upstream's last partition
/// only with `allow_nonexistent_upstream_partitions`; without it the missing
/// partitions are reported (Dagster clamps regardless, issue #26935).
pub(crate) fn upstream(
    offsets: Offsets,
    down: &TimeWindowPartitionsDefinition,
    up: &TimeWindowPartitionsDefinition,
    subset: &TimeWindowPartitionsSubset,
    now: DateTime<Utc>,
) -> Result<UpstreamTimeSubsets> {
    let full = bounds(up, now)?;
    let mut result = UpstreamTimeSubsets::default();
    for (s, e) in subset.raw() {
        let start = offset(down, *s, offsets.start, full, offsets.allow_nonexistent)?;
        let end = offset(down, *e, offsets.end, full, offsets.allow_nonexistent)?;
        let (from, to) = (up.tick_at_or_before(start)?, up.tick_at_or_after(end)?);
        if from >= to {
            continue;
        }
        if let Some((first, past)) = full {
            result.subset.insert(from.max(first), to.min(past));
        }
        if !offsets.allow_nonexistent {
            report_missing(&mut result.required_but_nonexistent, (from, to), full);
        }
    }
    Ok(result)
}

/// Adds the parts of `window` outside `full` to `missing`.
fn report_missing(
    missing: &mut TimeWindowPartitionsSubset,
    (from, to): (DateTime<Utc>, DateTime<Utc>),
    full: Option<(DateTime<Utc>, DateTime<Utc>)>,
) {
    match full {
        None => missing.insert(from, to),
        Some((first, past)) => {
            missing.insert(from, to.min(first));
            missing.insert(from.max(past), to);
        }
    }
}

/// Maps an upstream subset to the downstream partitions that read it: the
/// upstream windows aligned to downstream partitions, shifted by the negated
/// offsets, within the downstream's partitions.
pub(crate) fn downstream(
    offsets: Offsets,
    down: &TimeWindowPartitionsDefinition,
    subset: &TimeWindowPartitionsSubset,
    now: DateTime<Utc>,
) -> Result<TimeWindowPartitionsSubset> {
    let full = bounds(down, now)?;
    let mut result = TimeWindowPartitionsSubset::new();
    let Some((first, past)) = full else {
        return Ok(result);
    };
    for (s, e) in subset.raw() {
        let (from, to) = (down.tick_at_or_before(*s)?, down.tick_at_or_after(*e)?);
        let start = offset(down, from, -offsets.end, full, true)?;
        let end = offset(down, to, -offsets.start, full, true)?;
        result.insert(start.max(first), end.min(past));
    }
    Ok(result)
}

/// Keys of the upstream time definition mapped from downstream keys.
pub(super) fn upstream_keys(
    offsets: Offsets,
    downstream_keys: &[String],
    downstream_def: &PartitionsDefinition,
    upstream_def: &PartitionsDefinition,
    ctx: &PartitionContext<'_>,
) -> Result<super::UpstreamPartitions> {
    let (up, down) = time_defs(upstream_def, downstream_def)?;
    let subset = TimeWindowPartitionsSubset::from_keys(down, downstream_keys, ctx.now)?;
    let mapped = upstream(offsets, down, up, &subset, ctx.now)?;
    Ok(super::UpstreamPartitions {
        keys: mapped.subset.keys(up)?,
        required_but_nonexistent: mapped.required_but_nonexistent.keys(up)?,
    })
}

/// Keys of the downstream time definition mapped from upstream keys.
pub(super) fn downstream_keys(
    offsets: Offsets,
    upstream_keys: &[String],
    upstream_def: &PartitionsDefinition,
    downstream_def: &PartitionsDefinition,
    ctx: &PartitionContext<'_>,
) -> Result<Vec<String>> {
    let (up, down) = time_defs(upstream_def, downstream_def)?;
    let subset = TimeWindowPartitionsSubset::from_keys(up, upstream_keys, ctx.now)?;
    downstream(offsets, down, &subset, ctx.now)?.keys(down)
}
