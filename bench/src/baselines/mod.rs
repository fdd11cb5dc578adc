//! What a user would pick instead of Tessera, and the machine's own limits,
//! all measured in the same run as Tessera.

pub mod dagster;
pub mod files;
pub mod fjall_blobs;
pub mod limits;
pub mod lmdb;
pub mod redb_inline;
pub mod sled_inline;
