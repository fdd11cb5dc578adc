//! Cross-crate acceptance, crash and fault-injection tests for Tessera; the tests live in `tests/`.
