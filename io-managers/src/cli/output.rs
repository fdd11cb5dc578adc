//! What commands print: a table for people, or JSON (`--json`) for programs.

use serde_json::{Map, Value};

use super::table::{bytes, print_table};

/// One cell: its text on screen and its value in JSON.
pub(crate) struct Cell {
    text: String,
    value: Value,
}

impl Cell {
    /// Text, the same in both forms.
    pub(crate) fn text(text: impl Into<String>) -> Self {
        let text = text.into();
        Self {
            value: Value::String(text.clone()),
            text,
        }
    }

    /// A count.
    pub(crate) fn count(count: impl Into<u64>) -> Self {
        let count = count.into();
        Self {
            text: count.to_string(),
            value: Value::from(count),
        }
    }

    /// A byte count: binary units on screen, the exact number in JSON.
    pub(crate) fn bytes(count: u64) -> Self {
        Self {
            text: bytes(count),
            value: Value::from(count),
        }
    }

    /// A duration: `1.23s` on screen, milliseconds in JSON.
    pub(crate) fn duration(duration: std::time::Duration) -> Self {
        Self {
            text: format!("{duration:.2?}"),
            value: Value::from(duration.as_secs_f64() * 1e3),
        }
    }

    /// Nothing: empty on screen, `null` in JSON.
    pub(crate) fn none() -> Self {
        Self {
            text: String::new(),
            value: Value::Null,
        }
    }

    /// `text` on screen, `value` in JSON.
    pub(crate) fn with_value(text: impl Into<String>, value: Value) -> Self {
        Self {
            text: text.into(),
            value,
        }
    }
}

/// Rows under a header; printed as a padded table, or as a JSON array of
/// objects keyed by the header (spaces become `_`).
pub(crate) struct Table {
    header: Vec<&'static str>,
    rows: Vec<Vec<Cell>>,
}

impl Table {
    /// An empty table with these columns.
    pub(crate) fn new(header: &[&'static str]) -> Self {
        Self {
            header: header.to_vec(),
            rows: Vec::new(),
        }
    }

    /// Adds a row (one cell per column).
    pub(crate) fn push(&mut self, row: Vec<Cell>) {
        self.rows.push(row);
    }

    /// Whether it has no rows.
    pub(crate) fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The rows as JSON objects.
    pub(crate) fn to_json(&self) -> Value {
        let keys: Vec<String> = self.header.iter().map(|h| json_key(h)).collect();
        Value::Array(
            self.rows
                .iter()
                .map(|row| {
                    let object: Map<String, Value> = keys
                        .iter()
                        .cloned()
                        .zip(row.iter().map(|cell| cell.value.clone()))
                        .collect();
                    Value::Object(object)
                })
                .collect(),
        )
    }

    /// Prints the table, or its JSON when `json`.
    pub(crate) fn print(&self, json: bool) -> std::io::Result<()> {
        if json {
            return print_json(&self.to_json());
        }
        let rows: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|row| row.iter().map(|cell| cell.text.clone()).collect())
            .collect();
        print_table(&self.header, &rows)
    }
}

/// `materialized at (UTC)` → `materialized_at_utc`.
fn json_key(header: &str) -> String {
    header
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '_')
        .map(|c| {
            if c == ' ' {
                '_'
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect()
}

/// Prints one JSON value on a line.
pub(crate) fn print_json(value: &Value) -> std::io::Result<()> {
    outln!("{value}");
    Ok(())
}
