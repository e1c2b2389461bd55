//! Field-device simulators for Relevé's tests and benchmarks, answering as real devices do
//! behind a pty (socat makes the pair) or a TCP socket; one module per kind of device. The
//! `releve-sim` binary runs them from the command line, tests and benches start them in a
//! thread.
//!
//! - `mbus`: M-Bus slaves on one bus (EN 13757-2/-3), answering from real frames.
//! - `optical`: an electricity meter's optical port (IEC 62056-21 modes A, B, C).

/// What a simulator says when it cannot start or its line fails (it runs in tests only; the
/// message is for the developer reading the test output).
pub type Error = Box<dyn std::error::Error + Send + Sync>;

pub mod mbus;
pub mod optical;
