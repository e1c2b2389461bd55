//! The permission walk: every command of the table `access::COMMANDS`, for every role, is
//! allowed or refused (403, nothing changed) exactly as the matrix says; every allowed change
//! writes one audit entry; each command's core function asks the same permission as the table
//! (a role holding only that permission is allowed, a role holding all others is refused); and
//! every command the API dispatches or documents has a row in the table.

use releve_api::Ctx;
use releve_core::access::{self, Need, Permission, COMMANDS};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// 2025-10-09 10:00 UTC, the demo's `now`.
const NOW: i64 = 1_760_004_000;

/// A small demo database, built once; each check works on a fresh copy of it.
fn template() -> &'static Path {
    static TEMPLATE: std::sync::OnceLock<(tempfile::TempDir, PathBuf)> = std::sync::OnceLock::new();
    let (_, path) = TEMPLATE.get_or_init(|| {
        let dir = tempfile::tempdir().expect("dir");
        let db = dir.path().join("template.db");
        {
            let store = releve_core::Store::open(&db).expect("store");
            // Test databases hash passwords at the fast cost: the walk logs in hundreds of times.
            releve_core::store::settings::set(&store.writer(), "password_cost", "fast").expect("password cost");
            let spec = releve_core::demo::DemoSpec { meters: 12, seed: 7 };
            releve_core::demo::build_demo(&store, &spec, NOW, &mut |_, _, _| {}).expect("demo");
            let allowed = dir.path().join("out");
            std::fs::create_dir_all(&allowed).expect("out");
            let system = releve_core::access::Session::system("test");
            releve_core::folders::folders_allowed_set(&store, &system, &[allowed.display().to_string()], NOW).expect("allowed");
        }
        (dir, db)
    });
    path
}

/// A fresh copy of the template, opened, with its folder (the allowed folder is `<dir>/out`
/// of the template's folder, shared by all copies).
fn fresh() -> (tempfile::TempDir, Ctx) {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("walk.db");
    std::fs::copy(template(), &db).expect("copy");
    // The master key of the keys at rest sits beside the database: it goes with it.
    let key = template().with_extension("db.key");
    if key.exists() {
        std::fs::copy(&key, db.with_extension("db.key")).expect("copy the master key");
    }
    let ctx = Ctx::open_with_clock(&db, Arc::new(|| NOW)).expect("open");
    (dir, ctx)
}

fn db_of(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("walk.db")
}

fn login(ctx: &Ctx, who: &str) -> String {
    let v = ctx.call(None, "login", json!({"login": who, "password": who})).expect("login");
    v["token"].as_str().expect("token").to_string()
}

/// A connection of the test's own to the database file: its `data_version` moves whenever
/// anything is committed through Relevé's connections.
struct Watch(rusqlite::Connection);

impl Watch {
    fn on(ctx_db: &Path) -> Watch {
        Watch(rusqlite::Connection::open(ctx_db).expect("watch"))
    }

    /// (commits seen so far, audit entries).
    fn state(&self) -> (i64, i64) {
        let version = self.0.query_row("PRAGMA data_version", [], |r| r.get(0)).expect("data_version");
        let audit = self.0.query_row("SELECT count(*) FROM audit_log", [], |r| r.get(0)).expect("audit");
        (version, audit)
    }
}

/// Arguments that make each changing command succeed for a manager on the demo database
/// (commands left out get `{}`, or fail later for another reason than permission).
fn sample_args(out: &Path) -> BTreeMap<&'static str, Value> {
    let folder = out.display().to_string();
    let (serial, number, alarm, reading) = {
        let conn = rusqlite::Connection::open(template()).expect("template");
        let serial: String = conn
            .query_row("SELECT serial FROM meters WHERE status = 'active' AND device_type = 'water' ORDER BY id LIMIT 1", [], |r| r.get(0))
            .expect("a water meter");
        let number: String = conn.query_row("SELECT number FROM customers ORDER BY id LIMIT 1", [], |r| r.get(0)).expect("a customer");
        let alarm: (i64, String, i64) = conn
            .query_row("SELECT meter_id, code, started_at FROM info_code_events ORDER BY ended_at IS NOT NULL, meter_id LIMIT 1", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .unwrap_or((1, "leak".into(), 0)); // the template has none: not_found, still permission-checked
        let reading: (i64, i64) = conn
            .query_row("SELECT meter_id, ts FROM readings WHERE register = 1 ORDER BY meter_id, ts LIMIT 1", [], |r| Ok((r.get(0)?, r.get(1)?)))
            .expect("a volume reading");
        let active: i64 = conn
            .query_row("SELECT id FROM meters WHERE status = 'active' AND device_type = 'water' ORDER BY id LIMIT 1", [], |r| r.get(0))
            .expect("an active water meter");
        (serial, number, alarm, (reading.0, reading.1, active))
    };
    let (serial, number, (alarm_meter, alarm_code, alarm_start), reading) = (serial, number, alarm, reading);
    let alarm = json!({"meter_id": alarm_meter, "code": alarm_code, "started_at": alarm_start});
    let with = |extra: Value| {
        let mut a = alarm.clone();
        if let (Some(a), Some(e)) = (a.as_object_mut(), extra.as_object()) {
            a.extend(e.clone());
        }
        a
    };
    let layout = json!({"name": "Walk layout", "format": "csv", "fields": [{"var": "meter_serial"}]});
    BTreeMap::from([
        ("settings_set_locale", json!({"locale": "en"})),
        ("alarm_get", alarm.clone()),
        ("alarm_acknowledge", with(json!({"ack": true}))),
        ("alarm_assign", with(json!({"login": "clerk"}))),
        ("alarm_comment", with(json!({"comment": "Client appelé"}))),
        ("group_create", json!({"name": "Walk group", "meter_ids": [1, 2]})),
        ("group_rename", json!({"id": 1, "name": "Renamed group"})),
        ("group_delete", json!({"id": 1})),
        ("group_add_meters", json!({"id": 1, "meter_ids": [3]})),
        ("group_add_selection", json!({"group_id": 1, "filter": {"not_heard_days": 30}})),
        ("meters_selection_file", json!({"filter": {"not_heard_days": 30}, "kind": "route_gpx"})),
        ("group_remove_meters", json!({"id": 1, "meter_ids": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]})),
        ("meter_priority_set", json!({"ids": [1], "on": true})),
        ("meter_reading_add", json!({"id": reading.0, "register": "volume", "at": "2020-01-01T00:07", "value": 0.5, "reason": "walk", "confirm": true})),
        ("meter_reading_correct", json!({"id": reading.0, "register": "volume", "ts": reading.1, "value": 0.25, "reason": "walk", "confirm": true})),
        ("meter_readings_export", json!({"id": reading.0, "encoding": "utf-8-bom", "french": true})),
        ("meter_update", json!({"id": reading.2, "address": "1 walk street", "city": "Walk", "lat": 45.0, "lon": 4.0, "status": "to_remove", "notes": "walk"})),
        ("customer_update", json!({"id": 1, "number": number, "name": "Walk name", "email": "walk@example.org"})),
        ("info_codes_set_watched", json!({"codes": ["leak"]})),
        ("info_codes_export", json!({})),
        ("export_readings", json!({"from": "2025-10-01", "to": "2025-10-02"})),
        ("export_layout_save", json!({"layout": layout})),
        ("export_layout_copy", json!({"name": "Facturation eau (CSV)", "new_name": "Walk copy"})),
        ("export_layout_run", json!({"name": "Facturation eau (CSV)", "from": "2025-09-01", "to": "2025-09-30"})),
        ("export_job_save", json!({"name": "Walk job", "layout": "Facturation eau (CSV)", "every": "daily", "hour": 6, "minute": 0,
            "period": "previous_day", "destination": "folder", "folder": folder, "email_to": [], "report_to": [], "enabled": true})),
        ("export_job_test", json!({"name": "Walk job", "layout": "Facturation eau (CSV)", "every": "daily", "hour": 6, "minute": 0,
            "period": "previous_day", "destination": "folder", "folder": folder, "email_to": [], "report_to": [], "enabled": true})),
        ("notify_test_email", json!({"to": "walk@example.org"})),
        ("report_consumption_export", json!({"from": "2025-09-01", "to": "2025-09-30"})),
        ("report_performance_export", json!({"from": "2025-09-01", "to": "2025-09-30", "expected_per_day": 24})),
        ("report_performance_save", json!({"params": {"from": "2025-09-01", "to": "2025-09-30", "expected_per_day": 24}, "comment": "walk"})),
        ("report_objects", json!({"year": 2025, "format": "csv"})),
        ("import_time_settings_set", json!({"earliest_year": 2000, "max_future_minutes": 60})),
        ("map_set_settings", json!({"tile_url": "", "stale_days": 5})),
        ("map_tile", json!({"z": 1, "x": 0, "y": 0})),
        ("silence_settings_set", json!({"gateway_hours": 24, "meter_hours": {"water": 48, "heat": 48, "electricity": 48, "gas": 48, "heat_cost_allocator": 48, "other": 48}})),
        ("folders_allowed_set", json!({"folders": [folder]})),
        ("source_add", json!({"name": "walk-source", "kind": "http", "format": "lines"})),
        ("notify_rule_save", json!({"name": "Walk rule", "codes": ["leak"], "min_duration_minutes": 0, "email_to": ["a@example.org"], "sms_to": [], "enabled": false})),
        ("notify_settings", json!({"smtp_host": "", "smtp_port": 25, "smtp_from": "", "smtp_tls": "none", "sms_url_template": ""})),
        ("park_profile_save", json!({"name": "Walk profile", "separator": ";", "has_header": true, "mapping": {"customer_number": 0, "meter_serial": 1}})),
        ("park_import", json!({"profile": "Walk profile", "name": "walk.csv", "content": "customer_number;meter_serial\n"})),
        ("import_journal", json!({"with_rejects": true, "page": 0, "limit": 20})),
        ("import_rejects_csv", json!({"import_id": 1})),
        ("import_start", json!({"files": [{"name": "walk.txt", "content": ""}]})),
        ("keys_import", json!({"name": "keys.csv", "content": "12345678;000102030405060708090A0B0C0D0E0F\n"})),
        ("lorawan_device_set", json!({"dev_eui": "70B3D5E75E000001", "serial": "99999999", "brand": "Walk"})),
        ("lorawan_devices_import", json!({"name": "dev.csv", "content": "dev_eui;serial;brand;model;payload;address;city;commissioned\n70B3D5E75E000002;99999998;Walk;W1;;;;\n"})),
        ("mbus_bus_save", json!({"name": "Walk bus", "transport": "tcp", "target": "127.0.0.1:9", "baud": 2400, "schedule": "off"})),
        ("c806_sdp_save", json!({"ean": "541234567890123456"})),
        ("objects_settings_set", json!({})),
        ("consumer_report_letterhead_set", json!({"name": "Régie"})),
        ("export_job_delete", json!({"id": 1})),
        ("export_job_run_now", json!({"id": 1})),
        ("export_layout_delete", json!({"name": "Facturation eau (largeur fixe)"})),
        ("notify_rule_delete", json!({"id": 1})),
        ("park_profile_delete", json!({"name": "Walk profile"})),
        ("source_remove", json!({"name": "walk-source"})),
        ("mbus_bus_delete", json!({"id": 1})),
        ("c806_sdp_delete", json!({"id": 1})),
        ("c806_setpoints", json!({"ean": "541234567890123456", "dpb_mw": 1.5})),
        ("c806_gateway_save", json!({"broker_url": "mqtts://127.0.0.1:8883", "gid": "walk-gateway", "sid": "walk"})),
        ("report_performance_comment", json!({"id": 1, "comment": "checked"})),
        ("customer_subject_access", json!({"customer_id": 1})),
        ("customer_move_out", json!({"customer_id": 1, "date": "2025-10-01"})),
        ("meter_key_set", json!({"meter_id": 1, "key": "000102030405060708090A0B0C0D0E0F"})),
        ("api_key_create", json!({"name": "Walk billing", "scopes": ["meters:read", "readings:read"], "groups": [], "customer": null,
            "expires_at": "2030-01-01", "rate_per_minute": 600})),
        ("api_key_revoke", json!({"id": 1})),
        ("user_create", json!({"login": "walker", "name": "Walker", "role": "user", "password": "walker-password-1"})),
        ("user_reset_password", json!({"id": 3, "password": "temporary-pass-1"})),
        ("user_set_active", json!({"id": 3, "active": false})),
        ("user_set_role", json!({"id": 3, "role": "superuser"})),
        ("permissions_matrix_set", json!({"user": ["view", "export", "view_intervals"],
            "superuser": ["view", "export", "import", "edit_meters", "manage_keys", "view_intervals", "manage_exports", "send_mail"]})),
        ("login_settings_set", json!({"max_failures": 5, "max_failures_address": 20, "window_minutes": 15, "lock_minutes": 15, "session_idle_minutes": 30})),
        ("v1_meters_list", json!({"query": {"limit": 5}})),
        ("v1_meter_get", json!({"path": {"serial": serial}})),
        ("v1_meter_readings", json!({"path": {"serial": serial}, "query": {"from": "2025-09-01", "to": "2025-09-30"}})),
        ("v1_readings_feed", json!({"query": {"limit": 10}})),
        ("v1_customer_get", json!({"path": {"number": number}})),
        ("v1_customer_consumption", json!({"path": {"number": number}, "query": {"from": "2025-01-01", "to": "2025-09-30"}})),
        ("v1_exchange_create", json!({"body": {"old_serial": serial, "new_serial": "99990002", "at": "2025-10-09T09:00:00+02:00",
            "final_value": 1.0e9, "initial_value": 0.0}})),
        ("v1_export_start", json!({"body": {"layout": "Facturation eau (CSV)", "from": "2025-09-01", "to": "2025-09-30"}})),
        ("webhook_add", json!({"name": "walk-hook", "url": "http://127.0.0.1:9/hook", "events": ["export.done"]})),
        ("webhook_set_active", json!({"id": 1, "active": false})),
        ("webhook_remove", json!({"id": 1})),
        ("webhook_settings", json!({"log_days": 14})),
        ("webhook_test", json!({"id": 1})),
        ("retention_settings_set", json!({"readings_full_months": 13, "readings_years": 10, "telegrams_months": 13})),
        ("retention_run", json!({})),
        ("meter_exchange", json!({"old_id": 1, "new_serial": "99990001", "at": "2025-10-09T09:00", "final_value": 1.0e9, "initial_value": 0.0})),
    ])
}

/// What a command needs there first (run by the manager before the walk of that command).
fn setup_for(name: &str, out: &Path) -> Option<(&'static str, Value)> {
    let make = match name {
        "notify_rule_delete" => "notify_rule_save",
        "park_profile_delete" | "park_import" => "park_profile_save",
        "source_remove" => "source_add",
        "mbus_bus_delete" => "mbus_bus_save",
        "c806_sdp_delete" | "c806_setpoints" => "c806_sdp_save",
        "report_performance_comment" => "report_performance_save",
        "api_key_revoke" => "api_key_create",
        "webhook_set_active" | "webhook_remove" | "webhook_test" => "webhook_add",
        _ => return None,
    };
    Some((make, args_for(make, out)))
}

/// Commands that must succeed for the manager with `sample_args` (so the audit check bites).
const MUST_SUCCEED: &[&str] = &[
    "group_create", "group_rename", "group_delete", "group_add_meters", "group_add_selection", "meters_selection_file", "meter_priority_set", "info_codes_set_watched",
    "meter_reading_add", "meter_reading_correct", "meter_readings_export", "meter_update", "customer_update",
    "info_codes_export", "export_readings", "export_layout_save", "export_layout_copy", "export_layout_run",
    "export_job_save", "report_consumption_export", "report_performance_export", "report_performance_save",
    "import_time_settings_set", "map_set_settings", "folders_allowed_set", "source_add", "notify_rule_save",
    "park_profile_save", "keys_import", "mbus_bus_save", "c806_sdp_save", "settings_set_locale", "export_job_delete",
    "export_layout_delete", "notify_rule_delete", "park_profile_delete", "source_remove", "mbus_bus_delete", "c806_sdp_delete",
    "c806_setpoints", "report_performance_comment", "park_import", "customer_subject_access", "customer_move_out",
    "meter_key_set", "user_create", "user_reset_password", "user_set_active", "user_set_role", "permissions_matrix_set",
    "login_settings_set", "password_change", "v1_exchange_create", "v1_export_start", "api_key_create", "api_key_revoke",
    "api_keys_list", "webhook_add", "webhook_set_active", "webhook_remove", "webhook_settings", "webhook_test",
    "retention_settings_set", "retention_run",
    "consumer_report_letterhead_set", "export_job_test",
];

fn args_for(name: &str, out: &Path) -> Value {
    sample_args(out).remove(name).unwrap_or_else(|| json!({}))
}

fn out_folder() -> PathBuf {
    template().parent().expect("parent").join("out")
}

/// A command that starts a background task (imports, bus scans) has done its work, and
/// written its audit entry, once the task ends.
fn wait_for_task(ctx: &Ctx, token: &str, result: &Result<Value, releve_api::ApiError>) {
    // A billing export of the open API: polled until it ends.
    if let Some(id) = result.as_ref().ok().and_then(|v| v["id"].as_str()).filter(|id| id.starts_with("export-")) {
        for _ in 0..3_000 {
            let run = ctx.call(Some(token), "v1_export_get", json!({"path": {"id": id}})).expect("export state");
            if run["state"] != "running" {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        panic!("export {id} still running after 30 s");
    }
    let Some(task) = result.as_ref().ok().and_then(|v| v["task"].as_str()) else { return };
    for _ in 0..3_000 {
        let status = ctx.call(Some(token), "import_status", json!({"task": task})).expect("status");
        if status["state"] != "running" {
            if status["state"] != "done" {
                eprintln!("task {task}: {status}");
            }
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    panic!("task {task} still running after 30 s");
}

fn is_forbidden(r: &Result<Value, releve_api::ApiError>) -> bool {
    matches!(r, Err(e) if e.code == "forbidden")
}

/// Changing commands that may find nothing to do on the demo database (no profile with a
/// folder, ...): a success that commits nothing writes no audit entry.
const MAY_BE_NO_OP: &[&str] = &["park_import_folder"];

#[test]
fn every_command_is_allowed_or_refused_as_the_matrix_says() {
    let rules: Vec<_> = COMMANDS.iter().filter(|r| !matches!(r.name, "login" | "logout")).collect();
    let succeeded = std::sync::Mutex::new(BTreeSet::new());
    let failed = std::sync::Mutex::new(Vec::new());
    let next = std::sync::atomic::AtomicUsize::new(0);
    template();
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(rule) = rules.get(i) else { break };
                match std::panic::catch_unwind(|| walk_one(rule)) {
                    Ok(true) => {
                        succeeded.lock().expect("lock").insert(rule.name);
                    }
                    Ok(false) => {}
                    Err(_) => failed.lock().expect("lock").push(rule.name),
                }
            });
        }
    });
    let failed = failed.into_inner().expect("lock");
    assert!(failed.is_empty(), "commands that broke the rules (see the messages above): {failed:?}");
    let succeeded = succeeded.into_inner().expect("lock");
    let unchecked: Vec<_> = rules.iter().filter(|r| r.mutates && !succeeded.contains(r.name)).map(|r| r.name).collect();
    eprintln!("changing commands whose audit entry this walk does not see (no role succeeded with the sample arguments): {unchecked:?}");
    let missing: Vec<_> = MUST_SUCCEED.iter().filter(|n| !succeeded.contains(*n)).collect();
    assert!(missing.is_empty(), "these changes did not succeed for the manager, so their audit was not checked: {missing:?}");
}

/// One command for the three roles on a fresh database; whether some role's call succeeded.
fn walk_one(rule: &access::CommandRule) -> bool {
    let out = out_folder();
    let (dir, ctx) = fresh();
    let watch = Watch::on(&db_of(&dir));
    if let Some((make, args)) = setup_for(rule.name, &out) {
        let token = login(&ctx, "manager");
        ctx.call(Some(&token), make, args).unwrap_or_else(|e| panic!("setting up {}: {make}: {e:?}", rule.name));
    }
    let mut first_success = true;
    for role in ["clerk", "superuser", "manager"] {
        let token = login(&ctx, role);
        let info = ctx.call(Some(&token), "session_info", json!({})).expect("info");
        let permissions: Vec<Permission> = info["permissions"]
            .as_array()
            .expect("permissions")
            .iter()
            .filter_map(|p| Permission::parse(p.as_str()?))
            .collect();
        let allowed = match rule.need {
            Need::Permission(p) => permissions.contains(&p),
            _ => true,
        };
        let before = watch.state();
        // Each role changes its own password (the demo's password is the login).
        let args = match rule.name {
            "password_change" => json!({"old_password": role, "new_password": format!("{role}-new-password")}),
            name => args_for(name, &out),
        };
        let result = ctx.call(Some(&token), rule.name, args);
        wait_for_task(&ctx, &token, &result);
        let after = watch.state();
        let (committed, audited) = (after.0 != before.0, after.1 - before.1);
        if !allowed {
            let err = result.as_ref().expect_err("refused");
            assert_eq!((err.code.as_str(), err.http_status()), ("forbidden", 403), "{role} may not run {}", rule.name);
            assert!(!committed, "{role}: a refused {} changes nothing", rule.name);
            continue;
        }
        assert!(!is_forbidden(&result), "{role} may run {} but was refused: {result:?}", rule.name);
        if let Err(e) = &result {
            if MUST_SUCCEED.contains(&rule.name) {
                eprintln!("{role}: {} failed: {e:?}", rule.name);
            }
            continue;
        }
        if !rule.mutates {
            assert!(!committed, "{role}: {} changes nothing (or it must be marked as changing data)", rule.name);
        } else if first_success && (committed || !MAY_BE_NO_OP.contains(&rule.name)) {
            assert_eq!(audited, 1, "{role}: {} writes one audit entry", rule.name);
        } else {
            // A repeat by the next role may find nothing left to change.
            assert!(audited <= 1, "{role}: {} writes at most one audit entry", rule.name);
        }
        first_success = false;
    }
    !first_success
}

/// The core function behind each command asks exactly the table's permission: the clerk role
/// given only that permission may run it, given every other permission it may not.
#[test]
fn each_command_asks_the_permission_of_the_table() {
    let out = out_folder();
    let (_dir, ctx) = fresh();
    let token = login(&ctx, "clerk");
    let mut wrong = Vec::new();
    for rule in COMMANDS {
        let Need::Permission(p) = rule.need else { continue };
        // Read-only commands on this database; changing ones need their own copy.
        let (dir2, ctx2);
        let (ctx, token) = if rule.mutates {
            (dir2, ctx2) = fresh();
            let _ = &dir2;
            let t = login(&ctx2, "clerk");
            (&ctx2, t)
        } else {
            (&ctx, token.clone())
        };
        let set = |perms: &[Permission]| {
            let conn = ctx.store().writer();
            conn.execute("DELETE FROM role_permissions WHERE role = 'user'", []).expect("clear");
            for q in perms {
                conn.execute("INSERT INTO role_permissions(role, permission) VALUES ('user', ?1)", [q.as_str()]).expect("grant");
            }
        };
        let others: Vec<Permission> = Permission::ALL.into_iter().filter(|q| *q != p).collect();
        set(&others);
        let refused = ctx.call(Some(&token), rule.name, args_for(rule.name, &out));
        if !is_forbidden(&refused) {
            wrong.push(format!("{}: allowed without '{}' ({refused:?})", rule.name, p.as_str()));
        }
        set(&[p]);
        let allowed = ctx.call(Some(&token), rule.name, args_for(rule.name, &out));
        if is_forbidden(&allowed) {
            wrong.push(format!("{}: '{}' is not enough ({allowed:?})", rule.name, p.as_str()));
        }
    }
    assert!(wrong.is_empty(), "core and table disagree:\n{}", wrong.join("\n"));
}

/// A command the API dispatches (a match arm `"name" =>` in crates/api/src) or documents (a row
/// of COMMANDS.md) without a row in the table fails here; and the table has no command that
/// nothing dispatches.
#[test]
fn every_dispatched_and_documented_command_is_in_the_table() {
    let table: BTreeSet<&str> = COMMANDS.iter().map(|r| r.name).collect();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut dispatched = BTreeSet::new();
    let mut files = Vec::new();
    let mut dirs = vec![src.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("src") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                files.push(path);
            }
        }
    }
    for path in files {
        let text = std::fs::read_to_string(&path).expect("read");
        for line in text.lines() {
            let t = line.trim_start();
            // `"name" => ...` or `"a" | "b" => ...` arms of a command match.
            // (not the error codes' arms of `http_status`, which give a number)
            let gives_status = t.split("=>").nth(1).is_some_and(|r| r.trim().trim_end_matches(',').parse::<u16>().is_ok());
            if t.starts_with('"') && t.contains("=>") && !t.contains("code") && !gives_status {
                for part in t.split("=>").next().unwrap_or("").split('|') {
                    let name = part.trim().trim_matches('"');
                    if !name.is_empty() && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') {
                        dispatched.insert(name.to_string());
                    }
                }
            }
        }
    }
    let missing: Vec<_> = dispatched.iter().filter(|n| !table.contains(n.as_str())).collect();
    assert!(missing.is_empty(), "dispatched but not in access::COMMANDS: {missing:?}");

    let doc = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("COMMANDS.md")).expect("COMMANDS.md");
    // Rows of the command tables (those whose header starts `| name |`), not of the code tables.
    let mut documented = BTreeSet::new();
    let mut in_commands = false;
    for line in doc.lines() {
        if !line.starts_with('|') {
            in_commands = false;
        } else if line.starts_with("| name |") {
            in_commands = true;
        } else if let Some(name) = line.strip_prefix("| `").and_then(|r| r.split('`').next()) {
            if in_commands && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') {
                documented.insert(name);
            }
        }
    }
    let undocumented: Vec<_> = table.iter().filter(|n| !documented.contains(*n)).collect();
    let unlisted: Vec<_> = documented.iter().filter(|n| !table.contains(*n)).collect();
    assert!(unlisted.is_empty(), "documented in COMMANDS.md but not in access::COMMANDS: {unlisted:?}");
    assert!(undocumented.is_empty(), "in access::COMMANDS but not documented in COMMANDS.md: {undocumented:?}");

    // Every row of the table reaches a command (not `unknown_command`) for the manager.
    let (_dir, ctx) = fresh();
    let token = login(&ctx, "manager");
    for rule in COMMANDS.iter().filter(|r| !r.mutates && r.name != "logout") {
        let r = ctx.call(Some(&token), rule.name, json!({}));
        assert!(!matches!(&r, Err(e) if e.code == "unknown_command"), "{} is in the table but not dispatched", rule.name);
    }
}

/// COMMANDS.md's permission table is the table's own (regenerated with `UPDATE_COMMANDS_MD=1`).
#[test]
fn commands_md_lists_the_permissions_of_the_table() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("COMMANDS.md");
    let doc = std::fs::read_to_string(&path).expect("COMMANDS.md");
    let (begin, end) = ("<!-- permissions:begin -->", "<!-- permissions:end -->");
    let mut table = format!("{begin}\n| command | needs | changes data (audited) |\n|---|---|---|\n");
    for r in COMMANDS {
        let need = match r.need {
            Need::Anyone => "anyone".to_string(),
            Need::Session => "a session".to_string(),
            Need::Permission(p) => format!("`{}`", p.as_str()),
        };
        table.push_str(&format!("| {} | {need} | {} |\n", r.name, if r.mutates { "yes" } else { "" }));
    }
    table.push_str(end);
    let current = match (doc.find(begin), doc.find(end)) {
        (Some(a), Some(b)) => doc[a..b + end.len()].to_string(),
        _ => String::new(),
    };
    if current != table {
        if std::env::var_os("UPDATE_COMMANDS_MD").is_some() {
            let new = if current.is_empty() {
                format!("{doc}\n## Permissions (generated from `access::COMMANDS`)\n\n{table}\n")
            } else {
                doc.replace(&current, &table)
            };
            std::fs::write(&path, new).expect("write");
        } else {
            panic!("COMMANDS.md's permission table is not the table's: run with UPDATE_COMMANDS_MD=1");
        }
    }
    assert!(access::rule("meters_list").is_some());
}
