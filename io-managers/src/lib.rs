//! Tessera I/O managers (under construction).
