//! Tessera engine (under construction).
