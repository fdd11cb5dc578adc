//! `--keep-last` and `--keep-for`: the retention a command opens the store with.

use chrono::TimeDelta;
use clap::Args;
use tessera_engine::Retention;

/// Which versions of every partition the store keeps while the command runs.
///
/// A store does not record its retention: each open says it. Versions
/// outside the policy an open gives are garbage to that open (not listed,
/// not readable, reclaimed by its compaction), so a pipeline opens its
/// store with the same policy every time: [`App::retention`](crate::cli::App::retention)
/// sets it for every command, and these flags override it.
#[derive(Debug, Args)]
pub(crate) struct RetentionArgs {
    /// Keep the last N versions of every partition (default: the pipeline's
    /// retention; the newest only unless it says otherwise).
    #[arg(long, global = true, value_name = "N")]
    keep_last: Option<u32>,
    /// Also keep every version younger than AGE (`90s`, `30m`, `12h`, `7d`, `2w`).
    #[arg(long, global = true, value_name = "AGE", value_parser = parse_age)]
    keep_for: Option<TimeDelta>,
}

impl RetentionArgs {
    /// The pipeline's `retention` with the flags given applied over it.
    pub(crate) fn over(&self, retention: Retention) -> Retention {
        let kept = Retention::keep_last(self.keep_last.unwrap_or(retention.last()));
        match self.keep_for.or(retention.age()) {
            Some(age) => kept.and_keep_for(age),
            None => kept,
        }
    }
}

/// Parses an age: a whole number followed by `s`, `m`, `h`, `d` or `w`.
fn parse_age(text: &str) -> Result<TimeDelta, String> {
    let split = text.len().saturating_sub(1);
    let (count, unit) = text.split_at(split);
    let count: i64 = count
        .parse()
        .map_err(|_| format!("{text:?} is not an age like 90s, 30m, 12h, 7d or 2w"))?;
    let seconds_per_unit = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        "w" => 604_800,
        _ => return Err(format!("{text:?}: the unit must be s, m, h, d or w")),
    };
    count
        .checked_mul(seconds_per_unit)
        .filter(|seconds| *seconds >= 0)
        .and_then(TimeDelta::try_seconds)
        .ok_or_else(|| format!("{text:?} is out of range"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_in_every_unit_and_bad_ones_are_refused() {
        assert_eq!(parse_age("90s"), Ok(TimeDelta::seconds(90)));
        assert_eq!(parse_age("30m"), Ok(TimeDelta::minutes(30)));
        assert_eq!(parse_age("12h"), Ok(TimeDelta::hours(12)));
        assert_eq!(parse_age("7d"), Ok(TimeDelta::days(7)));
        assert_eq!(parse_age("2w"), Ok(TimeDelta::weeks(2)));
        for bad in ["", "d", "7", "7y", "-1d", "x7d", "99999999999999999w"] {
            assert!(parse_age(bad).is_err(), "{bad:?} must be refused");
        }
    }

    #[test]
    fn flags_override_the_pipeline_retention_one_by_one() {
        let pipeline = Retention::keep_last(5).and_keep_for(TimeDelta::days(1));
        let none = RetentionArgs {
            keep_last: None,
            keep_for: None,
        };
        assert_eq!(none.over(pipeline), pipeline);
        let last = RetentionArgs {
            keep_last: Some(2),
            keep_for: None,
        };
        assert_eq!(
            last.over(pipeline),
            Retention::keep_last(2).and_keep_for(TimeDelta::days(1))
        );
        assert_eq!(last.over(Retention::default()), Retention::keep_last(2));
    }
}
