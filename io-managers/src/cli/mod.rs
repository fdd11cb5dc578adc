//! The `tessera` command line as a library: a user's own binary, with its own
//! assets, gets every command (`materialize`, `assets`, `partitions`, `show`,
//! `export`, `history`, `verify`, `repair`, `compact`, `stats`) by handing its [`Definitions`](crate::executor::Definitions) to
//! [`App`]:
//!
//! ```no_run
//! use std::process::ExitCode;
//! use std::sync::Arc;
//!
//! use tessera_engine::{AssetKey, Store};
//! use tessera_io_managers::cli::App;
//! use tessera_io_managers::executor::{AssetDefinition, DEFAULT_IO_MANAGER_KEY, Definitions, Output};
//! use tessera_io_managers::{IoManagers, RkyvIoManager};
//!
//! fn definitions(store: Arc<Store>) -> tessera_io_managers::Result<Definitions> {
//!     let answer = AssetDefinition::new(AssetKey::new(["answer"])?, |_ctx, _inputs| {
//!         Ok(Output::new(42_u64))
//!     });
//!     Definitions::builder(store.clone())
//!         .asset(answer)
//!         .managers(IoManagers::new().with_io_manager(
//!             DEFAULT_IO_MANAGER_KEY,
//!             RkyvIoManager::<u64>::new(store),
//!         ))
//!         .build()
//! }
//!
//! fn main() -> ExitCode {
//!     App::new("my-pipeline", definitions).run()
//! }
//! ```
//!
//! The definitions are built from the store the command line opens, so a
//! command that only reads never builds them.
#![forbid(unsafe_code)]

/// `println!` that returns the write error instead of panicking (a closed
/// pipe, as with `tessera partitions … | head`).
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*)?;
    }};
}

mod app;
mod args;
mod commands;
mod interrupt;
mod keys;
mod output;
mod retention_args;
mod selection;
mod session;
mod summary;
mod table;
mod version_args;

pub use app::{App, DefinitionsFn};
