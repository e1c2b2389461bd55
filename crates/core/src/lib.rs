//! Relevé's application core: every feature is a plain function over the store, taking the
//! acting session (permissions are checked here, not in the fronts) and the time `now`.

pub mod access;
pub mod audit_log;
pub mod billing;
pub mod c806;
pub mod demo;
pub mod driver;
pub mod drop_folder;
pub mod compare;
pub mod consumer_report;
pub mod error;
pub mod exchange;
pub mod export;
pub mod folders;
pub mod gateways;
pub mod groups;
pub mod heard;
pub mod import;
pub mod jobs;
pub mod info_codes;
pub mod keys;
pub mod lorawan;
pub mod live;
pub mod map;
pub mod mbus_master;
pub mod meters;
pub mod model;
pub mod mqtt;
pub mod optical;
pub mod notify;
pub mod park_folder;
pub mod park_import;
pub mod park_profiles;
pub mod personal;
pub mod port;
pub mod problem;
pub mod reports;
pub mod retention;
pub mod settings;
pub mod silence;
pub mod sources;
pub mod store;

pub use error::{Error, Result};
pub use problem::{Problem, Reason};
pub use store::Store;
