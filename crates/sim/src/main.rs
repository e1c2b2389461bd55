//! `releve-sim`: simulated field devices for the tests and benches, one subcommand a
//! protocol. `mbus`: M-Bus slaves on one bus behind a serial device (a pty) or a TCP port.

use releve_sim::mbus;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "releve-sim", about = "Simulated field devices (M-Bus slaves) for tests and benches")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// M-Bus slaves on one bus (EN 13757-2/-3), answering from real frames.
    Mbus(mbus::Args),
}

fn main() {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Mbus(args) => mbus::run(args),
    };
    if let Err(e) = outcome {
        eprintln!("releve-sim: {e}");
        std::process::exit(1);
    }
}
