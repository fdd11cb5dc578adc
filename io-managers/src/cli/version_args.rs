//! `--version N` and `--as-of TIME`: reading an earlier version of a partition.

use std::error::Error;

use chrono::{DateTime, NaiveDateTime, Utc};
use clap::Args;
use tessera_engine::{AssetKey, Blob, PartitionKey, Store};

/// Which version of a partition a command reads (default: the newest).
#[derive(Debug, Args)]
pub(crate) struct VersionArgs {
    /// Read version N (a number `history` lists) instead of the newest.
    #[arg(long, value_name = "N", conflicts_with = "as_of", value_parser = parse_version)]
    version: Option<u64>,
    /// Read the version that was newest at TIME (RFC 3339, or
    /// `YYYY-MM-DD HH:MM:SS` in UTC).
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    as_of: Option<DateTime<Utc>>,
}

impl VersionArgs {
    /// The chosen version of `(asset, partition)`, if the store retains it.
    pub(crate) fn read(
        &self,
        store: &Store,
        asset: &AssetKey,
        partition: &PartitionKey,
    ) -> Result<Option<Blob>, Box<dyn Error>> {
        Ok(match (self.version, self.as_of) {
            (Some(version), _) => store.get_version(asset, partition, version)?,
            (None, Some(time)) => store.get_as_of(asset, partition, time)?,
            (None, None) => store.get(asset, partition)?,
        })
    }

    /// Whether an earlier version than the newest may have been asked for.
    pub(crate) fn is_pinned(&self) -> bool {
        self.version.is_some() || self.as_of.is_some()
    }

    /// ` at version N` or ` as of TIME`, for messages (empty for the newest).
    pub(crate) fn describe(&self) -> String {
        match (self.version, self.as_of) {
            (Some(version), _) => format!(" at version {version} (retained versions: `history`)"),
            (None, Some(time)) => format!(" as of {}", time.to_rfc3339()),
            (None, None) => String::new(),
        }
    }
}

/// Parses a version number as `history` lists it.
fn parse_version(text: &str) -> Result<u64, String> {
    text.parse().map_err(|_| {
        format!("{text:?} is not a version number (a whole number that `history` lists)")
    })
}

/// Parses a time: RFC 3339, or a UTC `YYYY-MM-DD HH:MM:SS` (or with a `T`).
fn parse_time(text: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Ok(time.with_timezone(&Utc));
    }
    ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
        .map(|naive| naive.and_utc())
        .ok_or_else(|| {
            format!("{text:?} is not a time like 2024-01-31T12:00:00Z or 2024-01-31 12:00:00")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_as_rfc3339_or_utc_and_others_are_refused() {
        let noon = DateTime::parse_from_rfc3339("2024-01-31T12:00:00Z")
            .expect("time")
            .with_timezone(&Utc);
        assert_eq!(parse_time("2024-01-31T12:00:00Z"), Ok(noon));
        assert_eq!(parse_time("2024-01-31T13:00:00+01:00"), Ok(noon));
        assert_eq!(parse_time("2024-01-31 12:00:00"), Ok(noon));
        assert_eq!(parse_time("2024-01-31T12:00:00"), Ok(noon));
        for bad in ["", "yesterday", "2024-13-01 00:00:00", "2024-01-31"] {
            assert!(parse_time(bad).is_err(), "{bad:?} must be refused");
        }
    }
}
