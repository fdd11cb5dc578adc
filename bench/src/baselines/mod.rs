//! What a user would pick instead of Tessera, and the machine's own limits,
//! all measured in the same run as Tessera.

pub mod dagster;
pub mod files;
pub mod limits;
pub mod sled_inline;
