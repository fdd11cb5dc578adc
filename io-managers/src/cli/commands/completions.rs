//! `completions SHELL`: a completion script for bash, zsh or fish on stdout.

use std::process::ExitCode;

use clap::Args;
use clap_complete::Shell;

use super::{CommandResult, RunCommand};
use crate::cli::session::Session;

/// `tessera completions bash|zsh|fish`.
#[derive(Debug, Args)]
pub(crate) struct Completions {
    /// The shell (`bash`, `zsh`, `fish`, `elvish` or `powershell`).
    shell: Shell,
}

impl RunCommand for Completions {
    fn run(self, session: &Session<'_>) -> CommandResult {
        let mut command = session.command_line();
        let name = command.get_name().to_owned();
        clap_complete::generate(
            self.shell,
            &mut command,
            name,
            &mut std::io::stdout().lock(),
        );
        Ok(ExitCode::SUCCESS)
    }
}
