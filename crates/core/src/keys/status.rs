//! The key status of a meter: what its newest telegram said of its key. Kept in
//! `meters.key_status` by the import (and when a key arrives), so lists filter on it and the
//! keys screen counts it from an index, never from the telegrams.

use crate::access::{Permission, Session};
use crate::error::{Error, Result};
use crate::store::{self, Store};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyStatus {
    /// No telegram yet.
    NeverSeen,
    /// Decoded (with its key, or sent in clear).
    Ok,
    NoKey,
    WrongKey,
    /// A compact frame whose layout no full frame has taught yet.
    UnknownLayout,
    /// Not decodable for another reason (a record the decoder cannot read, ...).
    Undecodable,
}

impl KeyStatus {
    pub const ALL: [KeyStatus; 6] =
        [KeyStatus::NeverSeen, KeyStatus::Ok, KeyStatus::NoKey, KeyStatus::WrongKey, KeyStatus::UnknownLayout, KeyStatus::Undecodable];

    /// The value of `meters.key_status`.
    pub fn code(self) -> i64 {
        match self {
            KeyStatus::NeverSeen => 0,
            KeyStatus::Ok => 1,
            KeyStatus::NoKey => 2,
            KeyStatus::WrongKey => 3,
            KeyStatus::UnknownLayout => 4,
            KeyStatus::Undecodable => 5,
        }
    }

    pub fn from_code(code: i64) -> KeyStatus {
        KeyStatus::ALL.into_iter().find(|s| s.code() == code).unwrap_or(KeyStatus::Undecodable)
    }

    pub fn id(self) -> &'static str {
        match self {
            KeyStatus::NeverSeen => "never_seen",
            KeyStatus::Ok => "ok",
            KeyStatus::NoKey => "no_key",
            KeyStatus::WrongKey => "wrong_key",
            KeyStatus::UnknownLayout => "unknown_layout",
            KeyStatus::Undecodable => "undecodable",
        }
    }

    /// A status named by the list filter.
    pub fn parse(id: &str) -> Result<KeyStatus> {
        KeyStatus::ALL.into_iter().find(|s| s.id() == id).ok_or_else(|| {
            Error::bad_input("key_status", "one of never_seen, ok, no_key, wrong_key, unknown_layout, undecodable")
        })
    }

    /// The status a decoded telegram gives: from its problem's code, if any.
    pub fn of_problem(code: Option<&str>) -> KeyStatus {
        match code {
            None => KeyStatus::Ok,
            Some("no_key") => KeyStatus::NoKey,
            Some("wrong_key") => KeyStatus::WrongKey,
            Some("unknown_format") => KeyStatus::UnknownLayout,
            Some(_) => KeyStatus::Undecodable,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct StatusCount {
    pub status: KeyStatus,
    pub meters: i64,
}

/// The keys screen's summary: meters per key status, and how many keys are stored.
#[derive(Debug, Clone, Serialize)]
pub struct KeysStatus {
    pub counts: Vec<StatusCount>,
    pub keys: i64,
}

pub fn keys_status(store: &Store, session: &Session) -> Result<KeysStatus> {
    session.permit(Permission::View)?;
    let conn = store.reader()?;
    let counted = store::meters::key_status_counts(&conn)?;
    let counts = KeyStatus::ALL
        .into_iter()
        .map(|status| StatusCount { status, meters: counted.iter().find(|(c, _)| *c == status.code()).map_or(0, |(_, n)| *n) })
        .collect();
    Ok(KeysStatus { counts, keys: store::keys::count(&conn)? })
}
