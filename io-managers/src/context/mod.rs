//! The contexts handed to I/O managers: [`OutputContext`] to `handle_output`,
//! [`InputContext`] to `load_input`, as Dagster's.

mod input;
mod output;
mod scope;

pub use input::{InputContext, InputContextBuilder, LoadMode};
pub use output::{OutputContext, OutputContextBuilder};
pub use scope::PartitionKeyRange;
