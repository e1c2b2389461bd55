//! Schema migrations: the SQL files of `migrations/`, applied in order, each once, each in
//! its own transaction.

use crate::error::{Error, Result};
use rusqlite::Connection;

/// (name, SQL) in the order they apply. Append only.
pub const MIGRATIONS: &[(&str, &str)] = &[
    ("0001_init", include_str!("../../../../migrations/0001_init.sql")),
    ("0002_compact_formats", include_str!("../../../../migrations/0002_compact_formats.sql")),
    ("0003_info_code_overview", include_str!("../../../../migrations/0003_info_code_overview.sql")),
    ("0004_reports", include_str!("../../../../migrations/0004_reports.sql")),
    ("0006_park_import", include_str!("../../../../migrations/0006_park_import.sql")),
    ("0007_notifications", include_str!("../../../../migrations/0007_notifications.sql")),
    ("0008_export_layouts", include_str!("../../../../migrations/0008_export_layouts.sql")),
    ("0009_export_jobs", include_str!("../../../../migrations/0009_export_jobs.sql")),
    ("0010_ingest", include_str!("../../../../migrations/0010_ingest.sql")),
    ("0011_sources", include_str!("../../../../migrations/0011_sources.sql")),
    ("0012_network", include_str!("../../../../migrations/0012_network.sql")),
    ("0013_lorawan", include_str!("../../../../migrations/0013_lorawan.sql")),
    ("0015_source_log", include_str!("../../../../migrations/0015_source_log.sql")),
    ("0016_silence", include_str!("../../../../migrations/0016_silence.sql")),
    ("0019_key_generation", include_str!("../../../../migrations/0019_key_generation.sql")),
    ("0020_gateway_days", include_str!("../../../../migrations/0020_gateway_days.sql")),
    ("0021_mbus_buses", include_str!("../../../../migrations/0021_mbus_buses.sql")),
    ("0023_c806", include_str!("../../../../migrations/0023_c806.sql")),
    ("0024_permissions", include_str!("../../../../migrations/0024_permissions.sql")),
    ("0025_logins", include_str!("../../../../migrations/0025_logins.sql")),
    ("0026_keys_at_rest", include_str!("../../../../migrations/0026_keys_at_rest.sql")),
    ("0027_audit_screen", include_str!("../../../../migrations/0027_audit_screen.sql")),
    ("0028_personal_data", include_str!("../../../../migrations/0028_personal_data.sql")),
    ("0029_open_api", include_str!("../../../../migrations/0029_open_api.sql")),
    ("0031_retention", include_str!("../../../../migrations/0031_retention.sql")),
    ("0032_webhooks", include_str!("../../../../migrations/0032_webhooks.sql")),
    ("0033_meter_search", include_str!("../../../../migrations/0033_meter_search.sql")),
    ("0034_removed_meters", include_str!("../../../../migrations/0034_removed_meters.sql")),
    ("0035_meter_screen", include_str!("../../../../migrations/0035_meter_screen.sql")),
    ("0037_alarm_handling", include_str!("../../../../migrations/0037_alarm_handling.sql")),
    ("0039_customer_sort_name", include_str!("../../../../migrations/0039_customer_sort_name.sql")),
    ("0041_meter_search_plain_sql", include_str!("../../../../migrations/0041_meter_search_plain_sql.sql")),
    ("0042_import_journal", include_str!("../../../../migrations/0042_import_journal.sql")),
];

pub(super) fn apply(conn: &mut Connection) -> Result<()> {
    // Migrations' triggers and backfills call the store's SQL functions.
    super::search::register(conn)?;
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL) WITHOUT ROWID;",
    )?;
    for (name, sql) in MIGRATIONS {
        let done: bool = conn.query_row(
            "SELECT EXISTS(SELECT 1 FROM schema_migrations WHERE name = ?1)",
            [name],
            |r| r.get(0),
        )?;
        if done {
            continue;
        }
        let tx = conn.transaction()?;
        let migration_error = |source| Error::Migration { name: (*name).to_string(), source };
        tx.execute_batch(sql).map_err(migration_error)?;
        tx.execute(
            "INSERT INTO schema_migrations(name, applied_at) VALUES (?1, strftime('%s','now'))",
            [name],
        )
        .map_err(migration_error)?;
        tx.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_apply_once_and_create_the_schema() {
        let mut conn = Connection::open_in_memory().expect("memory db");
        apply(&mut conn).expect("first run");
        apply(&mut conn).expect("second run is a no-op");
        let applied: i64 = conn
            .query_row("SELECT count(*) FROM schema_migrations", [], |r| r.get(0))
            .expect("count");
        assert_eq!(applied, MIGRATIONS.len() as i64);
        for table in ["meters", "readings", "telegrams", "users", "audit_log", "info_code_events", "compact_formats", "performance_reports"] {
            let n: i64 = conn
                .query_row(
                    "SELECT count(*) FROM sqlite_master WHERE type='table' AND name=?1",
                    [table],
                    |r| r.get(0),
                )
                .expect("lookup");
            assert_eq!(n, 1, "table {table} exists");
        }
        let perms: i64 = conn
            .query_row("SELECT count(*) FROM role_permissions WHERE role='user'", [], |r| r.get(0))
            .expect("perms");
        assert_eq!(perms, 2, "a user may view and export only");
    }
}

#[cfg(test)]
mod removed_meters_tests {
    use super::*;

    /// Migration 0034 ends the open codes of meters removed before it and clears their mask.
    #[test]
    fn migration_0034_closes_the_codes_of_meters_already_removed() {
        let conn = Connection::open_in_memory().expect("memory db");
        crate::store::search::register(&conn).expect("register");
        let at = MIGRATIONS.iter().position(|(n, _)| *n == "0034_removed_meters").expect("0034");
        for (_, sql) in &MIGRATIONS[..at] {
            conn.execute_batch(sql).expect("migration");
        }
        conn.execute_batch(
            "INSERT INTO meters(id, serial, manufacturer, device_type, status, removed_at, info_codes, created_at)
             VALUES (1, 'A', 'KAM', 'water', 'removed', 500, 1, 0), (2, 'B', 'KAM', 'water', 'removed', NULL, 1, 0),
                    (3, 'C', 'KAM', 'water', 'active', NULL, 1, 0);
             INSERT INTO info_code_events(meter_id, code, started_at, last_seen_at, ended_at)
             VALUES (1, 'leak', 100, 400, NULL), (1, 'dry', 10, 20, 30), (2, 'leak', 100, 300, NULL), (3, 'leak', 100, 400, NULL);",
        )
        .expect("park");
        conn.execute_batch(MIGRATIONS[at].1).expect("0034");
        let ends: Vec<(i64, String, Option<i64>)> = conn
            .prepare("SELECT meter_id, code, ended_at FROM info_code_events ORDER BY meter_id, code")
            .and_then(|mut s| s.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?.collect())
            .expect("events");
        assert_eq!(
            ends,
            [(1, "dry".into(), Some(30)), (1, "leak".into(), Some(500)), (2, "leak".into(), Some(300)), (3, "leak".into(), None)]
        );
        let masks: Vec<i64> = conn.prepare("SELECT info_codes FROM meters ORDER BY id").and_then(|mut s| s.query_map([], |r| r.get(0))?.collect()).expect("masks");
        assert_eq!(masks, [0, 0, 1]);
        let feed: i64 = conn.query_row("SELECT count(*) FROM info_code_feed WHERE event = 'end' AND code = 'leak'", [], |r| r.get(0)).expect("feed");
        assert_eq!(feed, 2, "the feed says the two codes ended");
    }
}
