//! `tessera`: the command line over the bundled example pipeline
//! (`tessera_io_managers::example`), January 2024 by default.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use tessera_io_managers::cli::App;
use tessera_io_managers::example;
use tessera_io_managers::executor::PartitionSelection;

fn main() -> ExitCode {
    App::new("tessera", example::definitions)
        .default_partitions(PartitionSelection::Range(
            example::START_DATE.to_owned(),
            "2024-01-31".to_owned(),
        ))
        .run()
}
