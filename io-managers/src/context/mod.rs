//! The contexts handed to I/O managers: [`OutputContext`] to `handle_output`,
//! [`InputContext`] to `load_input`, as Dagster's.

mod as_of;
mod input;
mod output;
mod scope;

pub(crate) use as_of::refuse_as_of;
pub use as_of::{AsOf, LoadedVersion};
pub use input::{InputContext, InputContextBuilder, LoadMode};
pub use output::{OutputContext, OutputContextBuilder};
pub use scope::PartitionKeyRange;
