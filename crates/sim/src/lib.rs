//! Simulated field devices for the tests and benches (also the `releve-sim` binary).
//! `mbus`: M-Bus slaves on one bus behind a serial device (a pty) or a TCP port.

pub mod mbus;
