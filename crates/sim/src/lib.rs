//! Field-device simulators for Relevé's tests and benchmarks, answering as real devices do
//! behind a pty (socat makes the pair) or a TCP socket; one module per kind of device. The
//! `releve-sim` binary runs them from the command line, tests and benches start them in a
//! thread.
//!
//! - `mbus`: M-Bus slaves on one bus (EN 13757-2/-3), answering from real frames.
//! - `optical`: an electricity meter's optical port (IEC 62056-21 modes A, B, C).

pub mod mbus;
pub mod optical;
