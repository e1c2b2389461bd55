//! The start page's "to do today": meters not heard for N days (the setting
//! `today_not_heard_days`, 3 by default), alarms started today (the codes the user
//! watches, as the info-code overview lists them), alarms assigned to the user, failed
//! scheduled exports, webhook deliveries, imports and retention runs of the last 24 hours,
//! and the last import. Each count is the total of the list the start page links to.

use crate::access::{Permission, Session};
use crate::error::Result;
use crate::info_codes::{self, HandlingQuery, OverviewQuery, State};
use crate::store::info_codes::OverviewOrder;
use crate::store::today::LastImport;
use crate::store::{self, Store};
use serde::Serialize;

/// The setting that holds N, the days without a reading that make a meter "not heard".
pub const NOT_HEARD_KEY: &str = "today_not_heard_days";
pub const NOT_HEARD_DEFAULT: i64 = 3;
/// The longest N a manager may set (a year).
pub const NOT_HEARD_MAX: i64 = 366;

/// Failures are counted over this many seconds back from now.
pub const FAILURES_WINDOW: i64 = 86_400;

#[derive(Debug, Serialize)]
pub struct Today {
    pub not_heard_days: i64,
    pub not_heard: i64,
    /// Ongoing alarms that started since local midnight (`today_start`).
    pub alarms_today: i64,
    pub today_start: i64,
    /// Ongoing alarms assigned to the session's user.
    pub alarms_mine: i64,
    /// Failures since `failures_since`.
    pub failures_since: i64,
    pub failed_exports: i64,
    pub failed_webhooks: i64,
    pub failed_imports: i64,
    /// Nightly (or manual) retention runs that failed.
    pub failed_retention: i64,
    pub last_import: Option<LastImport>,
}

/// N of "not heard for N days": the setting (Settings > Network supervision), or 3; from 1
/// to a year.
pub fn not_heard_days(conn: &rusqlite::Connection) -> Result<i64> {
    let v = store::settings::get(conn, NOT_HEARD_KEY)?;
    Ok(v.and_then(|s| s.trim().parse::<i64>().ok()).filter(|d| (1..=NOT_HEARD_MAX).contains(d)).unwrap_or(NOT_HEARD_DEFAULT))
}

/// The start of "not heard for `days` days": meters last heard before it.
pub fn not_heard_before(days: i64, now: i64) -> i64 {
    now - days * 86_400
}

pub fn today(store: &Store, session: &Session, now: i64) -> Result<Today> {
    session.permit(Permission::View)?;
    let conn = store.reader()?;
    let days = not_heard_days(&conn)?;
    let since = now - FAILURES_WINDOW;
    let q = OverviewQuery {
        state: State::Active,
        codes: None,
        group_id: None,
        period_days: None,
        sort: OverviewOrder::Newest,
        offset: 0,
        limit: 1,
        handling: HandlingQuery::Any,
        today: true,
    };
    let alarms_today = info_codes::active_count(&conn, session, &q, now)?;
    let mine = OverviewQuery { today: false, handling: HandlingQuery::Mine, ..q };
    let alarms_mine = info_codes::active_count(&conn, session, &mine, now)?;
    Ok(Today {
        not_heard_days: days,
        not_heard: store::today::not_heard(&conn, not_heard_before(days, now))?,
        alarms_today,
        today_start: info_codes::today_start(&conn, now)?,
        alarms_mine,
        failures_since: since,
        failed_exports: store::today::failed_export_runs(&conn, since)?,
        failed_webhooks: store::today::failed_webhook_deliveries(&conn, since)?,
        failed_imports: store::today::failed_imports(&conn, since)?,
        failed_retention: store::today::failed_retention_runs(&conn, since)?,
        last_import: store::today::last_import(&conn)?,
    })
}
