//! The table printed on stdout.

use std::fmt::Write;

use super::{Row, human_size};

/// Renders `rows` as a fixed-width text table.
#[must_use]
pub fn render(rows: &[Row]) -> String {
    let mut out = String::new();
    let header = format!(
        "{:<26} {:<34} {:>7} {:>16}  {:>9} {:<22} {:<30} {}",
        "system", "workload", "size", "value", "ratio", "vs", "target", "met?"
    );
    let _ = writeln!(out, "{header}\n{}", "-".repeat(header.len()));
    for row in rows {
        let size = row.size.map(human_size).unwrap_or_default();
        let ratio = row.ratio.map(|r| format!("{r:.2}x")).unwrap_or_default();
        let met = match row.met {
            Some(true) => "yes",
            Some(false) => "NO",
            None => "",
        };
        let _ = writeln!(
            out,
            "{:<26} {:<34} {:>7} {:>16}  {:>9} {:<22} {:<30} {}",
            row.system,
            row.workload,
            size,
            format!("{} {}", figure(row.value), row.unit),
            ratio,
            row.baseline.as_deref().unwrap_or(""),
            row.target.as_deref().unwrap_or(""),
            met
        );
    }
    out
}

/// Renders `rows` as a Markdown table (for the README).
#[must_use]
pub fn markdown(rows: &[Row]) -> String {
    let mut out = String::from(
        "| system | workload | size | value | ratio | vs | target | met? |\n|---|---|---|---|---|---|---|---|\n",
    );
    for row in rows {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} {} | {} | {} | {} | {} |",
            row.system,
            row.workload,
            row.size.map(human_size).unwrap_or_default(),
            figure(row.value),
            row.unit,
            row.ratio.map(|r| format!("{r:.2}×")).unwrap_or_default(),
            row.baseline.as_deref().unwrap_or(""),
            row.target.as_deref().unwrap_or(""),
            match row.met {
                Some(true) => "yes",
                Some(false) => "**no**",
                None => "",
            }
        );
    }
    out
}

/// Three significant digits, without scientific notation.
fn figure(value: f64) -> String {
    match value.abs() {
        v if v >= 100.0 => format!("{value:.0}"),
        v if v >= 10.0 => format!("{value:.1}"),
        _ => format!("{value:.2}"),
    }
}
