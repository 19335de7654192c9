//! The `unicas` command: parses the command line and hands it to `cli`. Every command
//! prints one clear line on error and exits non-zero (2 for a malformed command line).

mod cli;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    match cli::run(cli::Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("unicas: {message}");
            ExitCode::FAILURE
        }
    }
}
