//! Timing of the map and info-code overview on a generated park (default 100,000 meters
//! with positions, ~5% active info codes, 3 ended events each; no readings):
//! `cargo run --release -p releve-core --example screens_100k -- /tmp/park.db 100000`.
//! The file keeps a `manager`/`manager` account, so `releve serve --db` can show it.

use releve_core::access::{self, Permission, Role, Session};
use releve_core::info_codes::{self, OverviewQuery, State};
use releve_core::map::{self, MapQuery};
use releve_core::store::info_codes::{Event, OverviewOrder};
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
    Ok(())
}
