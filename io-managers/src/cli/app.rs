//! [`App`]: a command line over a user's definitions.

use std::ffi::OsString;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{CommandFactory, FromArgMatches};
use tessera_engine::{Retention, Store};

use super::args::Cli;
use super::commands::{CommandResult, RunCommand};
use super::session::Session;
use crate::error::Result;
use crate::executor::{Definitions, PartitionSelection};

/// Builds a pipeline's [`Definitions`] over the store the command line opened.
pub type DefinitionsFn = dyn Fn(Arc<Store>) -> Result<Definitions>;

/// A command line for one pipeline: its name (shown in `--help`) and how to
/// build its definitions.
#[must_use = "an App does nothing until `run` is called"]
pub struct App {
    pub(super) name: &'static str,
    pub(super) definitions: Box<DefinitionsFn>,
    pub(super) default_partitions: PartitionSelection,
    pub(super) retention: Retention,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("name", &self.name)
            .field("default_partitions", &self.default_partitions)
            .field("retention", &self.retention)
            .finish_non_exhaustive()
    }
}

impl App {
    /// A command line named `name` whose `materialize` runs the assets that
    /// `definitions` builds.
    pub fn new(
        name: &'static str,
        definitions: impl Fn(Arc<Store>) -> Result<Definitions> + 'static,
    ) -> Self {
        Self {
            name,
            definitions: Box::new(definitions),
            default_partitions: PartitionSelection::All,
            retention: Retention::default(),
        }
    }

    /// The versions of every partition the pipeline keeps (default: the
    /// newest only). Every command opens the store with it (the store does
    /// not record it), so `history`, `show --version` and `compact` see the
    /// versions the pipeline keeps; `--keep-last` and `--keep-for` override
    /// it for one command.
    pub fn retention(mut self, retention: Retention) -> Self {
        self.retention = retention;
        self
    }

    /// The partitions `materialize` runs when the command line names none
    /// (default: all of them).
    pub fn default_partitions(mut self, partitions: PartitionSelection) -> Self {
        self.default_partitions = partitions;
        self
    }

    /// Parses the process's arguments and runs the command; errors print one
    /// line (`error: …`) on stderr and exit with code 2.
    pub fn run(self) -> ExitCode {
        self.run_from(std::env::args_os())
    }

    /// [`App::run`] over the given arguments (the first is the program name).
    pub fn run_from<I, T>(self, args: I) -> ExitCode
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        let matches = self.command_line().get_matches_from(args);
        let cli = match Cli::from_arg_matches(&matches) {
            Ok(cli) => cli,
            Err(error) => error.exit(),
        };
        exit_code(self.execute(cli))
    }

    /// The clap definition of the command line, named as the program.
    pub(super) fn command_line(&self) -> clap::Command {
        Cli::command().name(self.name).bin_name(self.name)
    }

    fn execute(&self, cli: Cli) -> CommandResult {
        let session = Session::new(self, cli.global);
        cli.command.run(&session)
    }
}

fn exit_code(result: CommandResult) -> ExitCode {
    match result {
        Ok(code) => code,
        Err(error) if is_broken_pipe(error.as_ref()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(2)
        }
    }
}

fn is_broken_pipe(error: &(dyn std::error::Error + 'static)) -> bool {
    error
        .downcast_ref::<std::io::Error>()
        .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
}
