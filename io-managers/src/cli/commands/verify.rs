//! `verify`: every payload's checksum, and the index against the log.

use std::process::ExitCode;

use clap::Args;
use tessera_engine::Store;

use super::{CommandResult, RunCommand};
use serde_json::json;

use crate::cli::keys::shown;
use crate::cli::output::print_json;
use crate::cli::session::{Session, unreadable_log};
use crate::cli::table::bytes;

/// `tessera verify`.
#[derive(Debug, Args)]
pub(crate) struct Verify {}

impl RunCommand for Verify {
    fn run(self, session: &Session<'_>) -> CommandResult {
        let store = session.open_read_only()?;
        if session.global.json {
            return verify_json(&store);
        }
        verify(&store)
    }
}

fn verify(store: &Store) -> CommandResult {
    let report = store.verify()?;
    let unreadable = unreadable_log(store);
    for damage in &unreadable {
        outln!(
            "unreadable log: {} from byte {}: {}",
            damage.path.display(),
            damage.offset,
            damage.reason
        );
    }
    outln!(
        "checked {} partitions, {}",
        report.checked,
        bytes(report.bytes)
    );
    for damaged in &report.damaged {
        outln!("damaged: {}", damaged.error);
    }
    for mismatch in &report.index_mismatches {
        outln!(
            "index: {} {}: {}",
            mismatch
                .asset
                .as_ref()
                .map_or_else(|| "?".to_owned(), |a| shown(a).to_string()),
            mismatch
                .partition
                .as_ref()
                .map_or_else(|| "?".to_owned(), ToString::to_string),
            mismatch.problem
        );
    }
    for segment in &report.quarantined {
        outln!(
            "quarantined: {}: {}",
            segment.path.display(),
            segment.reason
        );
    }
    for stray in &report.stray_files {
        outln!("stray file (ignored): {}", stray.display());
    }
    Ok(if report.is_ok() && unreadable.is_empty() {
        outln!("every checksum matches and the index agrees with the log");
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn verify_json(store: &Store) -> CommandResult {
    let report = store.verify()?;
    let unreadable = unreadable_log(store);
    let shown_or_null = |text: Option<String>| text.map_or(serde_json::Value::Null, Into::into);
    print_json(&json!({
        "ok": report.is_ok() && unreadable.is_empty(),
        "unreadable_log": unreadable.iter().map(|d| json!({
            "path": d.path.display().to_string(),
            "offset": d.offset,
            "reason": d.reason,
        })).collect::<Vec<_>>(),
        "checked": report.checked,
        "bytes": report.bytes,
        "damaged": report.damaged.iter().map(|d| d.error.to_string()).collect::<Vec<_>>(),
        "index_mismatches": report.index_mismatches.iter().map(|m| json!({
            "asset": shown_or_null(m.asset.as_ref().map(|a| shown(a).to_string())),
            "partition": shown_or_null(m.partition.as_ref().map(ToString::to_string)),
            "problem": m.problem.to_string(),
        })).collect::<Vec<_>>(),
        "quarantined": report.quarantined.iter().map(|q| json!({
            "path": q.path.display().to_string(),
            "reason": q.reason.to_string(),
        })).collect::<Vec<_>>(),
        "stray_files": report.stray_files.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
    }))?;
    Ok(if report.is_ok() && unreadable.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
