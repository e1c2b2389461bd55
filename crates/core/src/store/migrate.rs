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
];

pub(super) fn apply(conn: &mut Connection) -> Result<()> {
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
