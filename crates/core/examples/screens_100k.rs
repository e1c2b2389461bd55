//! Timing of the map and info-code overview on a generated park (default 100,000 meters
//! with positions, ~5% active info codes, 3 ended events each; no readings):
//! `cargo run --release -p releve-core --example screens_100k -- /tmp/park.db 100000`.
//! The file keeps a `manager`/`manager` account, so `releve serve --db` can show it.
//! Then the overview's handling filters (issue 15) next to the unfiltered call, in the same
//! run: on first use, one ongoing event in 50 is acknowledged and one in 100 assigned.

use releve_core::access::{self, Permission, Role, Session};
use releve_core::info_codes::{self, HandlingQuery, OverviewQuery, State};
use releve_core::map::{self, MapQuery};
use releve_core::store::info_codes::{AlarmKey, Event, OverviewOrder};
use releve_core::store::{self, Store};
use std::time::Instant;

fn main() -> Result<(), releve_core::Error> {
    let args: Vec<String> = std::env::args().collect();
    let path = std::path::PathBuf::from(args.get(1).map_or("/tmp/releve-park.db", String::as_str));
    let n: i64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let now = 1_767_225_600;
    let fresh = !path.exists();
    let store = Store::open(&path)?;
    if fresh {
        let t = Instant::now();
        let system = Session::system("bench");
        let permit = system.permit(Permission::ManageUsers)?;
        let user = store::users::NewUser { salt: None, login: "manager", name: "Manager", role: Role::Manager, password: "manager", locale: "fr" };
        access::create_user(&store, permit, &user, now)?;
        let mut conn = store.writer();
        let tx = conn.transaction()?;
        let codes = releve_core::model::INFO_CODES;
        let mut x: u64 = 7;
        let mut rnd = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % 1_000_000) as f64 / 1_000_000.0
        };
        for i in 0..n {
            let m = store::meters::NewMeter {
                serial: format!("{:08}", 10_000_000 + i),
                manufacturer: if i % 3 == 0 { "DME".into() } else { "KAM".into() },
                device_type: "water".into(),
                status: "active".into(),
                address: format!("{} rue du Parc", i % 300),
                city: "Saint-Chamond".into(),
                lat: Some(45.40 + rnd() * 0.16),
                lon: Some(4.42 + rnd() * 0.22),
                ..Default::default()
            };
            let id = store::meters::insert(&tx, &m, now)?;
            let mut mask = 0;
            for k in 0..3 {
                let start = now - ((rnd() * 360.0) as i64 + 1) * 86_400;
                let e = Event { code: codes[(i as usize + k) % 8].into(), started_at: start, last_seen_at: start + 86_400 * 2, ended_at: Some(start + 86_400 * 2) };
                store::info_codes::upsert(&tx, id, &e)?;
            }
            if rnd() < 0.05 {
                let code = codes[(i % 8) as usize];
                let start = now - ((rnd() * 60.0) as i64) * 86_400;
                store::info_codes::upsert(&tx, id, &Event { code: code.into(), started_at: start, last_seen_at: now, ended_at: None })?;
                mask = releve_core::model::info_code_bit(code);
            }
            let seen = if rnd() < 0.03 { now - 10 * 86_400 } else { now - 3600 };
            store::meters::set_seen(&tx, id, Some(seen), mask)?;
        }
        tx.commit()?;
        drop(conn);
        store.checkpoint()?;
        println!("built {n} meters in {:.1} s", t.elapsed().as_secs_f64());
    }
    let system = Session::system("bench");
    handling(&store, now)?;
    for round in 0..3 {
        let t = Instant::now();
        let pts = map::map_points(&store, &system, &MapQuery::default(), now)?;
        let core_ms = t.elapsed().as_secs_f64() * 1e3;
        let t = Instant::now();
        let json = serde_json::to_vec(&pts).map_err(|e| releve_core::Error::bad_input("json", e.to_string()))?;
        let json_ms = t.elapsed().as_secs_f64() * 1e3;
        let t = Instant::now();
        let q = OverviewQuery { state: State::Active, codes: None, group_id: None, period_days: None, sort: OverviewOrder::Severity, offset: 0, limit: 200, handling: Default::default(), today: false };
        let o = info_codes::info_codes_overview(&store, &system, &q, now)?;
        let active_ms = t.elapsed().as_secs_f64() * 1e3;
        let t = Instant::now();
        let q = OverviewQuery { state: State::Recent, sort: OverviewOrder::Duration, ..q };
        let r = info_codes::info_codes_overview(&store, &system, &q, now)?;
        let recent_ms = t.elapsed().as_secs_f64() * 1e3;
        println!(
            "round {round}: map_points {} meters {core_ms:.0} ms + JSON {json_ms:.0} ms ({:.1} MB); overview active {} rows {active_ms:.0} ms, recent {} rows {recent_ms:.0} ms",
            pts.count,
            json.len() as f64 / 1e6,
            o.active,
            r.recent,
        );
    }
    let manager = Session { login: "manager".into(), ..Session::system("bench") };
    let base = OverviewQuery {
        state: State::Active,
        codes: None,
        group_id: None,
        period_days: None,
        sort: OverviewOrder::Severity,
        offset: 0,
        limit: 200,
        handling: HandlingQuery::Any,
        today: false,
    };
    let cases = [
        ("unfiltered", base.clone()),
        ("not acknowledged", OverviewQuery { handling: HandlingQuery::NotAcknowledged, ..base.clone() }),
        ("acknowledged", OverviewQuery { handling: HandlingQuery::Acknowledged, ..base.clone() }),
        ("assigned to me", OverviewQuery { handling: HandlingQuery::Mine, ..base.clone() }),
        ("assigned to anyone", OverviewQuery { handling: HandlingQuery::Assigned, ..base.clone() }),
        ("started today", OverviewQuery { today: true, ..base.clone() }),
        ("unfiltered, newest first", OverviewQuery { sort: OverviewOrder::Newest, ..base.clone() }),
        ("assigned to me, newest first", OverviewQuery { handling: HandlingQuery::Mine, sort: OverviewOrder::Newest, ..base.clone() }),
    ];
    println!("overview (page of 200 + both counts), median of 7 runs:");
    for (name, q) in &cases {
        let mut v = Vec::new();
        let mut counts = (0, 0);
        for _ in 0..7 {
            let t = Instant::now();
            let o = info_codes::info_codes_overview(&store, &manager, q, now)?;
            v.push(t.elapsed().as_secs_f64() * 1e3);
            counts = (o.active, o.recent);
        }
        v.sort_by(f64::total_cmp);
        println!("  {name:<30} {:>7.1} ms  (active {}, recent {})", v[3], counts.0, counts.1);
    }
    let t = Instant::now();
    let d = releve_core::today::today(&store, &manager, now)?;
    println!("today (start page): {:.1} ms; not heard {} d: {}, alarms today {}, mine {}", t.elapsed().as_secs_f64() * 1e3, d.not_heard_days, d.not_heard, d.alarms_today, d.alarms_mine);
    Ok(())
}

/// On first use, acknowledge one ongoing event in 50 and assign one in 100 to `manager`.
fn handling(store: &Store, now: i64) -> Result<(), releve_core::Error> {
    let conn = store.writer();
    let done: i64 = conn.query_row("SELECT count(*) FROM info_code_events WHERE ack_at IS NOT NULL OR assigned_to IS NOT NULL", [], |r| r.get(0))?;
    if done > 0 {
        return Ok(());
    }
    let keys: Vec<(i64, String, i64)> = {
        let mut stmt = conn.prepare("SELECT meter_id, code, started_at FROM info_code_events WHERE ended_at IS NULL ORDER BY meter_id")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    for (i, (m, c, s)) in keys.iter().enumerate() {
        let k = AlarmKey { meter_id: *m, code: c, started_at: *s };
        if i % 50 == 0 {
            store::info_codes::set_ack(&conn, k, Some((now, "manager")))?;
        }
        if i % 100 == 7 {
            store::info_codes::set_assigned(&conn, k, Some("manager"))?;
        }
    }
    println!("{} ongoing events: {} acknowledged, {} assigned", keys.len(), keys.len().div_ceil(50), keys.len() / 100);
    Ok(())
}
