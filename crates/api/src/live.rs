//! The live commands (`live`, `meter_priority_set`) and the change signal the fronts push to
//! the live screen (`Ctx::wait_changes`: SSE in `releve serve`, an event in the desktop
//! window). See COMMANDS.md, "Live".

use crate::bounds::{ids, page, range, Bounded, MAX_ID};
use crate::commands::{ok, parse};
use crate::{ApiError, Ctx};
use releve_core::access::Session;
use releve_core::live::{self, LiveQuery, MAX_METERS};
use releve_core::Store;
use serde::Deserialize;
use serde_json::{json, Value};

pub(crate) const COMMANDS: [&str; 2] = ["live", "meter_priority_set"];

#[derive(Deserialize)]
struct LiveArgs {
    ids: Option<Vec<i64>>,
    since: Option<i64>,
    #[serde(default)]
    offset: i64,
    limit: Option<i64>,
}

impl Bounded for LiveArgs {
    fn check(&self) -> Result<(), ApiError> {
        if let Some(list) = &self.ids {
            ids("ids", list)?;
            range("ids", list.len() as i64, 0, MAX_METERS)?;
        }
        if let Some(since) = self.since {
            range("since", since, 0, MAX_ID)?;
        }
        page(self.offset, self.limit)
    }
}

#[derive(Deserialize)]
struct PriorityArgs {
    ids: Vec<i64>,
    on: bool,
}

impl Bounded for PriorityArgs {
    fn check(&self) -> Result<(), ApiError> {
        ids("ids", &self.ids)?;
        range("ids", self.ids.len() as i64, 1, 100_000)
    }
}

/// Run the live command `name`, or `None` when it is not one.
pub(crate) fn call(store: &Store, session: &Session, name: &str, args: Value, now: i64) -> Option<Result<Value, ApiError>> {
    Some(match name {
        "live" => parse::<LiveArgs>(args).and_then(|a| {
            let q = LiveQuery { ids: a.ids, since: a.since, offset: a.offset, limit: a.limit.unwrap_or(MAX_METERS) };
            ok(live::live(store, session, &q, now)?)
        }),
        "meter_priority_set" => parse::<PriorityArgs>(args).and_then(|a| {
            let changed = live::meter_priority_set(store, session, &a.ids, a.on, now)?;
            ok(json!({ "changed": changed }))
        }),
        _ => return None,
    })
}

impl Ctx {
    /// The meters that got new readings after generation `since`, waiting up to `timeout`
    /// (see `Store::wait_changes`); for a front that pushes them to the live screen. The
    /// session is the front's to check before it starts pushing.
    pub fn wait_changes(&self, since: u64, timeout: std::time::Duration) -> releve_core::store::Changed {
        self.store().wait_changes(since, timeout)
    }

    /// The current change generation (a front starts waiting from it).
    pub fn changes_generation(&self) -> u64 {
        self.store().generation()
    }
}
