//! `releve-sim`: field devices for the tests, answering as real ones do behind a pty (socat
//! makes the pair) or a TCP socket. One subcommand per kind of device; each lives in its module
//! of the `releve_sim` library.

use releve_sim::{mbus, optical};

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "releve-sim", about = "Field-device simulators for Relevé's tests and benches")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// M-Bus slaves on one bus (EN 13757-2/-3), answering from real frames.
    Mbus(mbus::Args),
    /// An electricity meter's optical port (IEC 62056-21 modes A, B, C).
    Optical(optical::Args),
}

fn main() -> ExitCode {
    let result = match Cli::parse().command {
        Command::Mbus(args) => mbus::run(args).map_err(|e| e.to_string()),
        Command::Optical(args) => optical::run(args).map_err(|e| e.to_string()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("releve-sim: {e}");
            ExitCode::FAILURE
        }
    }
}
