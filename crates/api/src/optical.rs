//! The optical readout command (`optical_read`): its argument shape and one call into
//! `releve_core::optical`. See COMMANDS.md, "Optical readout".

use crate::bounds::Bounded;
use crate::commands::{ok, parse};
use crate::ApiError;
use releve_core::access::Session;
use releve_core::optical::{self, Options};
use releve_core::port::Target;
use releve_core::Store;
use serde::Deserialize;
use serde_json::Value;

/// The command names of this file.
pub(crate) const NAMES: [&str; 1] = ["optical_read"];

#[derive(Deserialize)]
struct ReadArgs {
    /// The optical head's serial device, or
    serial: Option<String>,
    /// a serial server's HOST:PORT.
    tcp: Option<String>,
    /// The meter expected (its serial).
    meter: Option<String>,
    /// The sign-on's device address.
    #[serde(default)]
    address: String,
    #[serde(default)]
    wake: bool,
}

impl Bounded for ReadArgs {
    fn check(&self) -> Result<(), ApiError> {
        let long = |field: &str, v: &Option<String>, max: usize| match v {
            Some(s) if s.len() > max => Err(ApiError::bad_input(field, format!("at most {max} characters"))),
            _ => Ok(()),
        };
        long("serial", &self.serial, 256)?;
        long("tcp", &self.tcp, 256)?;
        long("meter", &self.meter, 64)?;
        if self.address.len() > 32 || !self.address.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(ApiError::bad_input("address", "up to 32 letters and digits"));
        }
        Ok(())
    }
}

/// Run optical command `name`; None if `name` is not one.
pub(crate) fn call(store: &Store, session: &Session, name: &str, args: Value, now: i64) -> Option<Result<Value, ApiError>> {
    let run = || -> Result<Value, ApiError> {
        let a: ReadArgs = parse(args)?;
        let target = match (a.serial.filter(|s| !s.trim().is_empty()), a.tcp.filter(|s| !s.trim().is_empty())) {
            (Some(device), None) => Target::Serial(device.trim().to_string()),
            (None, Some(address)) => Target::Tcp(address.trim().to_string()),
            _ => return Err(ApiError::bad_input("serial", "give either a serial device or a TCP address (HOST:PORT)")),
        };
        let mut options = Options::new(target);
        options.meter = a.meter.filter(|m| !m.trim().is_empty()).map(|m| m.trim().to_string());
        options.address = a.address;
        options.wake = a.wake;
        ok(optical::read(store, session, &options, now)?)
    };
    NAMES.contains(&name).then(run)
}
