//! The Python form of a [`VerifyReport`].

use pyo3::prelude::*;
use pyo3::types::PyDict;
use tessera_engine::VerifyReport;

/// `{"ok", "checked", "bytes", "damaged"}`, damaged partitions and index
/// mismatches as messages.
pub(crate) fn verify_summary<'py>(
    py: Python<'py>,
    report: &VerifyReport,
) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    dict.set_item("ok", report.is_ok())?;
    dict.set_item("checked", report.checked)?;
    dict.set_item("bytes", report.bytes)?;
    let mut damaged: Vec<String> = report.damaged.iter().map(|d| d.error.to_string()).collect();
    damaged.extend(report.index_mismatches.iter().map(|m| format!("{m:?}")));
    damaged.extend(report.quarantined.iter().map(|q| format!("{q:?}")));
    dict.set_item("damaged", damaged)?;
    Ok(dict)
}
