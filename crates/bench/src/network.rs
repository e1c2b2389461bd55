//! `releve-bench network`: the supervision of the fixed network at a utility's size. A park
//! of `--meters` meters (water, heat, electricity), `--gateways` gateways each hearing its
//! share, most meters heard by two gateways (so `gateway_meters` holds about twice the
//! park), today's receptions, one meter with 30 days of frames every 15 minutes from two
//! gateways. Measured: the Gateways screen (`gateways_list`), the network check as the
//! scheduler runs it every minute (nothing new; then 1% of the park just past its period),
//! and a meter's receptions with its RSSI trend.

use releve_core::access::{self, Permission, Role, Session};
use releve_core::store::{self, Store};
use rusqlite::params;
use std::path::Path;
use std::time::Instant;

type Res = Result<(), Box<dyn std::error::Error>>;

const NOW: i64 = 1_790_000_000;

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

fn build(store: &Store, meters: i64, gateways: i64) -> Res {
    let mut conn = store.writer();
    let tx = conn.transaction()?;
    for g in 1..=gateways {
        tx.execute(
            "INSERT INTO gateways(id, name, first_contact, last_contact) VALUES (?1, ?2, ?3, ?4)",
            params![g, format!("GW-{g:03}"), NOW - 90 * 86_400, NOW - 60],
        )?;
    }
    {
        let mut meter = tx.prepare("INSERT INTO meters(id, serial, manufacturer, device_type, created_at, last_seen, on_network) VALUES (?1, ?2, 'KAM', ?3, 0, ?4, 1)")?;
        let mut heard = tx.prepare(
            "INSERT INTO gateway_meters(gateway_id, meter_id, first_heard, last_heard, receptions, best_rssi, last_rssi) VALUES (?1, ?2, ?3, ?4, 96, -80, -85)",
        )?;
        let mut reception = tx.prepare("INSERT INTO receptions(meter_id, telegram_id, gateway_id, received_at, rssi) VALUES (?1, ?2, ?3, ?4, -85)")?;
        for m in 1..=meters {
            let kind = ["water", "water", "heat", "electricity"][(m % 4) as usize];
            // Heard in the last hour; 1% of the park 2 days and 1 hour ago (past every period but heat-cost allocators').
            let seen = if m % 100 == 0 { NOW - 49 * 3600 } else { NOW - (m % 3600) };
            meter.execute(params![m, format!("{:08}", 10_000_000 + m), kind, seen])?;
            let first = 1 + m % gateways;
            let second = 1 + (m + 1) % gateways;
            heard.execute(params![first, m, NOW - 90 * 86_400, seen])?;
            reception.execute(params![m, m, first, seen])?;
            if m % 5 != 0 {
                heard.execute(params![second, m, NOW - 90 * 86_400, seen])?;
                reception.execute(params![m, m, second, seen])?;
            }
        }
        // Meter 1: every 15 minutes for 30 days, from two gateways.
        for i in 0..(30 * 96) {
            let at = NOW - i * 900;
            reception.execute(params![1, 1_000_000_000 + i, 1, at])?;
            reception.execute(params![1, 1_000_000_000 + i, 2, at])?;
        }
    }
    // The frames per gateway and day, as the ingest counts them (UTC days here).
    tx.execute_batch(
        "INSERT INTO gateway_days(gateway_id, day, frames)
         SELECT gateway_id, CAST(strftime('%Y%m%d', received_at, 'unixepoch') AS INTEGER), count(*) FROM receptions GROUP BY 1, 2",
    )?;
    tx.commit()?;
    Ok(())
}

pub fn run(db: &Path, meters: i64, gateways: i64) -> Res {
    let fresh = !db.exists();
    let store = Store::open(db)?;
    if fresh {
        let t = Instant::now();
        let system = Session::system("bench");
        let user = store::users::NewUser { salt: None, login: "manager", name: "m", role: Role::Manager, password: "manager", locale: "fr" };
        access::create_user(&store, system.permit(Permission::ManageUsers)?, &user, NOW)?;
        build(&store, meters, gateways)?;
        store.checkpoint()?;
        println!("built {meters} meters, {gateways} gateways in {:.1} s", t.elapsed().as_secs_f64());
    }
    let session = access::login(&store, "manager", "manager", "bench", "local", NOW)?;
    let counts: (i64, i64) = store.reader()?.query_row("SELECT (SELECT count(*) FROM gateway_meters), (SELECT count(*) FROM receptions)", [], |r| Ok((r.get(0)?, r.get(1)?)))?;
    println!("gateway_meters {} rows, receptions {} rows", counts.0, counts.1);

    for run in 0..3 {
        let t = Instant::now();
        let list = releve_core::gateways::gateways_list(&store, &session, NOW)?;
        let heard: i64 = list.gateways.iter().map(|g| g.meters_heard).sum();
        let alone: i64 = list.gateways.iter().map(|g| g.meters_alone).sum();
        let today: i64 = list.gateways.iter().map(|g| g.frames_today).sum();
        println!("gateways_list (run {run}): {:.1} ms ({} gateways; {heard} heard, {alone} alone, {today} frames today)", ms(t), list.gateways.len());
    }
    let t = Instant::now();
    let first = releve_core::silence::network_check(&store, NOW)?;
    println!("network_check, first run: {:.1} ms ({first:?})", ms(t));
    for minute in 1..=3 {
        let t = Instant::now();
        let r = releve_core::silence::network_check(&store, NOW + minute * 60)?;
        println!("network_check, a minute later (nothing new): {:.2} ms ({r:?})", ms(t));
    }
    for run in 0..3 {
        let t = Instant::now();
        let r = releve_core::gateways::meter_receptions(&store, &session, 1, NOW)?;
        let points: usize = r.trend.iter().map(|g| g.days.len()).sum();
        println!("meter_receptions of a meter with {} receptions in 30 days (run {run}): {:.1} ms ({points} daily points)", 2 * 30 * 96, ms(t));
    }
    Ok(())
}
