//! Field-device simulators for Relevé's tests and benchmarks, answering as real devices do
//! behind a pty (socat makes the pair) or a TCP socket; one module per kind of device. The
//! `releve-sim` binary runs them from the command line, tests and benches start them in a
//! thread.

pub mod optical;
