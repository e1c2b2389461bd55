//! Supervision of the fixed network: the gateways' figures (frames today, meters heard,
//! meters heard by no other), their edition, a meter's receptions and RSSI trend, and the
//! silences of gateways and meters (raised once, ended by the next frame, periods per class).

#[path = "support/users.rs"]
mod users;

use mbus::encode::{wmbus_frame, FrameSpec};
use mbus::DeviceType;
use releve_core::gateways::{gateway_set, gateways_list, meter_receptions, GatewayEdit};
use releve_core::silence::{network_check, silence_settings, silence_settings_set, CheckReport};
use releve_core::sources::{ingest_push, source_add, NewSource};

const NOW: i64 = 1_767_571_200; // 2026-01-05T00:00:00Z, 01:00 in Paris
const H: i64 = 3600;

fn telegram(serial: &str, device_type: DeviceType, access: u8, litres: u32) -> String {
    let mut payload = vec![0x04, 0x13];
    payload.extend_from_slice(&litres.to_le_bytes());
    let spec = FrameSpec { manufacturer: "KAM", id: serial, version: 0x1b, device_type, access_number: access, status: 0 };
    hex::encode(wmbus_frame(&spec, &payload, None))
}

/// A jsonl line: `serial` heard by `gateway` at `time` with `rssi`.
fn line(serial: &str, device_type: DeviceType, access: u8, time: i64, gateway: &str, rssi: i64) -> String {
    let t = telegram(serial, device_type, access, 1000 + u32::from(access));
    format!("{{\"telegram\":\"{t}\",\"time\":{time},\"rssi\":{rssi},\"gateway\":\"{gateway}\"}}\n")
}

struct Net {
    f: users::Fixture,
    token: String,
}

fn net() -> Net {
    let f = users::fixture(NOW - 40 * 86_400);
    let new = NewSource { name: "conc".into(), kind: "http".into(), format: "jsonl".into(), max_body: None, folder: None, ..Default::default() };
    let token = source_add(&f.store, &f.manager, &new, NOW - 40 * 86_400).expect("source").token.expect("token");
    Net { f, token }
}

impl Net {
    fn push(&self, body: &str, now: i64) {
        let r = ingest_push(&self.f.store, "conc", Some(&self.token), body.as_bytes(), now).expect("push");
        assert_eq!(r.rejected_count, 0, "{r:?}");
    }

    fn int(&self, sql: &str) -> i64 {
        self.f.store.reader().expect("reader").query_row(sql, [], |r| r.get(0)).expect(sql)
    }

    fn meter(&self, serial: &str) -> i64 {
        self.int(&format!("SELECT id FROM meters WHERE serial = '{serial}'"))
    }

    fn gateway(&self, name: &str) -> releve_core::store::gateways::Gateway {
        let list = gateways_list(&self.f.store, &self.f.manager, NOW).expect("list");
        list.gateways.into_iter().find(|g| g.name == name).expect(name)
    }
}

#[test]
fn gateway_figures_count_today_the_last_week_and_the_meters_no_other_gateway_hears() {
    let n = net();
    let w = DeviceType::Water;
    let mut body = String::new();
    // 50000001 heard by A and B; 50000002 by A only; 50000003 by B only, but 10 days ago.
    body += &line("50000001", w, 1, NOW - 60, "GW-A", -80);
    body += &line("50000001", w, 1, NOW - 59, "GW-B", -95);
    body += &line("50000002", w, 1, NOW - 50, "GW-A", -70);
    // Yesterday in Paris (23:00 UTC is local midnight): not today.
    body += &line("50000002", w, 2, NOW - 2 * H, "GW-A", -72);
    body += &line("50000003", w, 1, NOW - 10 * 86_400, "GW-B", -90);
    n.push(&body, NOW);
    let a = n.gateway("GW-A");
    let b = n.gateway("GW-B");
    assert_eq!((a.frames_today, a.meters_heard, a.meters_alone), (2, 2, 1), "{a:?}");
    assert_eq!((b.frames_today, b.meters_heard, b.meters_alone), (1, 1, 0), "{b:?}: 50000003 is older than a week");
    assert_eq!(a.last_contact, NOW - 50);
    assert_eq!(a.last_source.as_deref(), Some("conc"));
    assert!(a.silent_since.is_none());
    let list = gateways_list(&n.f.store, &n.f.manager, NOW).expect("list");
    assert_eq!(list.default_silent_hours, 6);
    assert_eq!(list.gateways.iter().map(|g| g.name.as_str()).collect::<Vec<_>>(), ["GW-A", "GW-B"]);
}

#[test]
fn a_gateway_is_placed_by_a_manager_with_an_audit_entry_and_checked_values() {
    let n = net();
    n.push(&line("50000001", DeviceType::Water, 1, NOW - 60, "GW-A", -80), NOW);
    let id = n.gateway("GW-A").id;
    let edit = GatewayEdit { id, label: "  Château   d'eau ".into(), lat: Some(45.48), lon: Some(4.51), silent_hours: Some(12) };
    let g = gateway_set(&n.f.store, &n.f.manager, &edit, NOW).expect("set");
    assert_eq!((g.label.as_str(), g.lat, g.lon, g.silent_hours), ("Château d'eau", Some(45.48), Some(4.51), Some(12)));
    assert_eq!(n.int("SELECT count(*) FROM audit_log WHERE event = 'gateway_set' AND details LIKE 'GW-A%silent hours 12'"), 1);
    let clerk = releve_core::access::login(&n.f.store, "clerk", "pw", "pc", "local", NOW).expect("clerk");
    let refused = gateway_set(&n.f.store, &clerk, &edit, NOW).expect_err("a clerk may not");
    assert_eq!(refused.code(), "forbidden");
    for (bad, field) in [
        (GatewayEdit { lat: Some(91.0), ..edit.clone() }, "lat"),
        (GatewayEdit { lon: None, ..edit.clone() }, "lat"),
        (GatewayEdit { silent_hours: Some(-1), ..edit.clone() }, "silent_hours"),
        (GatewayEdit { label: "x".repeat(81), ..edit.clone() }, "label"),
    ] {
        let e = gateway_set(&n.f.store, &n.f.manager, &bad, NOW).expect_err(field);
        assert!(matches!(&e, releve_core::Error::BadInput { field: f, .. } if f == field), "{e:?}");
    }
    let missing = gateway_set(&n.f.store, &n.f.manager, &GatewayEdit { id: 999, ..edit }, NOW).expect_err("no such gateway");
    assert_eq!(missing.code(), "not_found");
    assert_eq!(n.gateway("GW-A").silent_hours, Some(12), "nothing half-stored by the refusals");
}

#[test]
fn a_meters_receptions_say_who_heard_it_and_the_daily_mean_rssi_per_gateway() {
    let n = net();
    let w = DeviceType::Water;
    let mut body = String::new();
    // Two local days (23:00 in Paris is NOW - 26 h), two gateways; B's signal falls on the second day.
    body += &line("50000001", w, 1, NOW - 27 * H, "GW-A", -80);
    body += &line("50000001", w, 1, NOW - 27 * H, "GW-B", -90);
    body += &line("50000001", w, 2, NOW - 26 * H, "GW-A", -84);
    body += &line("50000001", w, 2, NOW - 26 * H, "GW-B", -92);
    body += &line("50000001", w, 3, NOW - 60, "GW-A", -81);
    body += &line("50000001", w, 3, NOW - 60, "GW-B", -110);
    // 40 days ago: kept in the counts, outside the trend.
    body += &line("50000001", w, 4, NOW - 40 * 86_400, "GW-B", -60);
    n.push(&body, NOW);
    let id = n.meter("50000001");
    let r = meter_receptions(&n.f.store, &n.f.manager, id, NOW).expect("receptions");
    let a = r.gateways.iter().find(|h| h.name == "GW-A").expect("A");
    let b = r.gateways.iter().find(|h| h.name == "GW-B").expect("B");
    assert_eq!((a.receptions, a.best_rssi, a.last_rssi, a.last_heard), (3, Some(-80), Some(-81), NOW - 60));
    assert_eq!((b.receptions, b.best_rssi, b.last_rssi), (4, Some(-60), Some(-110)));
    let days = |name: &str| -> Vec<(String, f64, i64)> {
        let t = r.trend.iter().find(|t| t.name == name).expect(name);
        t.days.iter().map(|d| (d.day.clone(), d.mean_rssi, d.receptions)).collect()
    };
    assert_eq!(days("GW-A"), [("2026-01-03".to_string(), -82.0, 2), ("2026-01-05".to_string(), -81.0, 1)]);
    assert_eq!(days("GW-B"), [("2026-01-03".to_string(), -91.0, 2), ("2026-01-05".to_string(), -110.0, 1)]);
    let none = meter_receptions(&n.f.store, &n.f.manager, 999_999, NOW).expect_err("no such meter");
    assert_eq!(none.code(), "not_found");
}

#[test]
fn a_silent_gateway_is_raised_once_and_ended_by_its_next_frame() {
    let n = net();
    n.push(&line("50000001", DeviceType::Water, 1, NOW, "GW-A", -80), NOW);
    n.push(&line("50000002", DeviceType::Water, 1, NOW, "GW-B", -80), NOW);
    let b = n.gateway("GW-B").id;
    let edit = GatewayEdit { id: b, label: String::new(), lat: None, lon: None, silent_hours: Some(24) };
    gateway_set(&n.f.store, &n.f.manager, &edit, NOW).expect("B waits a day");
    // Within the default 6 hours: nothing.
    assert_eq!(network_check(&n.f.store, NOW + 6 * H - 1).expect("check"), CheckReport::default());
    let r = network_check(&n.f.store, NOW + 6 * H).expect("check");
    assert_eq!(r.gateways_silent, 1, "GW-A after 6 hours; GW-B keeps its 24");
    assert_eq!(network_check(&n.f.store, NOW + 7 * H).expect("again").gateways_silent, 0, "raised once");
    assert_eq!(n.gateway("GW-A").silent_since, Some(NOW + 6 * H));
    assert_eq!(n.int("SELECT count(*) FROM gateway_events WHERE code = 'silent' AND ended_at IS NULL"), 1);
    assert_eq!(network_check(&n.f.store, NOW + 24 * H).expect("B").gateways_silent, 1);
    // GW-A delivers again: its silence ends.
    n.push(&line("50000001", DeviceType::Water, 2, NOW + 30 * H, "GW-A", -80), NOW + 30 * H);
    assert_eq!(n.gateway("GW-A").silent_since, None);
    assert_eq!(n.int("SELECT ended_at FROM gateway_events e JOIN gateways g ON g.id = e.gateway_id WHERE g.name = 'GW-A'"), NOW + 30 * H);
    // And falls silent again later: a second silence, a second event.
    network_check(&n.f.store, NOW + 36 * H).expect("check");
    assert_eq!(n.int("SELECT count(*) FROM gateway_events e JOIN gateways g ON g.id = e.gateway_id WHERE g.name = 'GW-A'"), 2);
    // What a rule on silent gateways would have sent: both of GW-A's silences and GW-B's.
    let rule = releve_core::store::notify::Rule {
        id: None,
        name: "Réseau".into(),
        codes: vec!["gateway_silent".into()],
        group_id: None,
        customer_class: None,
        min_duration_minutes: 60,
        quiet_from: None,
        quiet_to: None,
        email_to: vec!["reseau@example.org".into()],
        sms_to: vec![],
        enabled: true,
    };
    let p = releve_core::notify::notify_preview(&n.f.store, &n.f.manager, &rule, NOW + 40 * H).expect("preview");
    let fired: Vec<(String, i64)> = p.rows.iter().map(|r| (r.event.label.serial.clone(), r.fire_at)).collect();
    assert_eq!(fired, [("GW-A".to_string(), NOW + 7 * H), ("GW-B".to_string(), NOW + 25 * H), ("GW-A".to_string(), NOW + 37 * H)]);
    // GW-B's hours grow to 100: silent no more, ended now. Then 0 hours: never silent.
    gateway_set(&n.f.store, &n.f.manager, &GatewayEdit { silent_hours: Some(100), ..edit.clone() }, NOW + 39 * H).expect("B 100 h");
    assert_eq!(n.gateway("GW-B").silent_since, None);
    assert_eq!(n.int(&format!("SELECT ended_at FROM gateway_events WHERE gateway_id = {b}")), NOW + 39 * H);
    n.push(&line("50000002", DeviceType::Water, 2, NOW + 40 * H, "GW-B", -80), NOW + 40 * H);
    gateway_set(&n.f.store, &n.f.manager, &GatewayEdit { silent_hours: Some(0), ..edit }, NOW).expect("B never silent");
    assert_eq!(network_check(&n.f.store, NOW + 1000 * H).expect("check").gateways_silent, 0, "GW-A is silent already");
    assert_eq!(n.gateway("GW-B").silent_since, None);
}

#[test]
fn a_meter_falls_silent_after_its_class_period_and_is_ended_when_heard_again() {
    let n = net();
    let mut body = String::new();
    body += &line("50000001", DeviceType::Water, 1, NOW, "GW-A", -80);
    body += &line("60000001", DeviceType::Electricity, 1, NOW, "GW-A", -80);
    n.push(&body, NOW);
    // A meter read on foot (a drive-by file, no gateway): not supervised.
    let foot = format!("{}\n", telegram("70000001", DeviceType::Water, 1, 5));
    let permit = n.f.manager.permit(releve_core::access::Permission::Import).expect("import");
    releve_core::import::import_drive_by(&n.f.store, permit, "walk.txt", foot.as_bytes(), NOW, &mut |_, _| {}).expect("walk-by");
    let water = n.meter("50000001");
    let elec = n.meter("60000001");
    let walked = n.meter("70000001");
    assert_eq!(n.int(&format!("SELECT on_network FROM meters WHERE id = {walked}")), 0);
    assert_eq!(n.int(&format!("SELECT on_network FROM meters WHERE id = {water}")), 1);
    let s = silence_settings(&n.f.store, &n.f.manager).expect("settings");
    assert_eq!((s.meter_hours["water"], s.meter_hours["electricity"], s.gateway_hours), (48, 24, 6));
    // The gateway falls silent too; what matters here are the meters.
    assert_eq!(network_check(&n.f.store, NOW + 24 * H - 1).expect("check").meters_silent, 0);
    assert_eq!(network_check(&n.f.store, NOW + 24 * H).expect("check").meters_silent, 1, "electricity after 24 hours");
    assert_eq!(network_check(&n.f.store, NOW + 30 * H).expect("check").meters_silent, 0, "raised once");
    assert_eq!(network_check(&n.f.store, NOW + 48 * H).expect("check").meters_silent, 1, "water after 48 hours");
    let open = |m: i64| n.int(&format!("SELECT count(*) FROM info_code_events WHERE meter_id = {m} AND code = 'silent' AND ended_at IS NULL"));
    let bit = |m: i64| n.int(&format!("SELECT info_codes & 256 FROM meters WHERE id = {m}"));
    assert_eq!((open(water), open(elec), bit(water), bit(elec)), (1, 1, 256, 256));
    assert_eq!((open(walked), bit(walked)), (0, 0), "read on foot: never silent");
    assert_eq!(n.int(&format!("SELECT started_at FROM info_code_events WHERE meter_id = {elec} AND code = 'silent'")), NOW + 24 * H);
    // The overview lists them like any info code.
    let q = releve_core::info_codes::OverviewQuery {
        state: releve_core::info_codes::State::Active,
        codes: Some(vec!["silent".into()]),
        group_id: None,
        period_days: None,
        sort: releve_core::store::info_codes::OverviewOrder::Newest,
        offset: 0,
        limit: 10,
        handling: Default::default(),
        today: false,
    };
    let o = releve_core::info_codes::info_codes_overview(&n.f.store, &n.f.manager, &q, NOW + 50 * H).expect("overview");
    assert_eq!(o.active, 2);
    // The water meter is heard again: the import ends its silence.
    n.push(&line("50000001", DeviceType::Water, 2, NOW + 50 * H, "GW-A", -80), NOW + 50 * H);
    assert_eq!((open(water), bit(water)), (0, 0));
    assert_eq!(n.int(&format!("SELECT ended_at FROM info_code_events WHERE meter_id = {water} AND code = 'silent'")), NOW + 50 * H);
    assert_eq!(network_check(&n.f.store, NOW + 51 * H).expect("check").meters_silent, 0, "heard an hour ago");
    // Electricity's period grows to 100 hours: no longer silent, ended now.
    let mut longer = s.clone();
    longer.meter_hours.insert("electricity".into(), 100);
    silence_settings_set(&n.f.store, &n.f.manager, &longer, NOW + 52 * H).expect("set");
    assert_eq!((open(elec), bit(elec)), (0, 0));
    assert_eq!(n.int("SELECT count(*) FROM audit_log WHERE event = 'silence_settings' AND details LIKE '%electricity=100%'"), 1);
    assert_eq!(network_check(&n.f.store, NOW + 99 * H).expect("check").meters_silent, 1, "the water meter, 48 hours after its last frame");
    assert_eq!(network_check(&n.f.store, NOW + 100 * H).expect("check").meters_silent, 1, "electricity at 100 hours");
    // A class at 0 hours is not supervised; an unknown class is refused.
    let mut off = longer.clone();
    off.meter_hours.insert("water".into(), 0);
    silence_settings_set(&n.f.store, &n.f.manager, &off, NOW + 101 * H).expect("off");
    assert_eq!(open(water), 0, "a class no longer supervised is not silent");
    off.meter_hours.insert("steam".into(), 5);
    let e = silence_settings_set(&n.f.store, &n.f.manager, &off, NOW).expect_err("unknown class");
    assert_eq!(e.code(), "bad_input");
    let clerk = releve_core::access::login(&n.f.store, "clerk", "pw", "pc", "local", NOW).expect("clerk");
    assert_eq!(silence_settings_set(&n.f.store, &clerk, &longer, NOW).expect_err("clerk").code(), "forbidden");
    // The start page's "not heard for N days": 3 by default, set here, unchanged when absent,
    // refused outside 1..=366; the start page counts with the new N.
    assert_eq!(s.today_not_heard_days, Some(3));
    let mut week = longer.clone();
    week.today_not_heard_days = Some(7);
    assert_eq!(silence_settings_set(&n.f.store, &n.f.manager, &week, NOW + 102 * H).expect("N").today_not_heard_days, Some(7));
    let today = releve_core::today::today(&n.f.store, &n.f.manager, NOW + 102 * H).expect("today");
    assert_eq!(today.not_heard_days, 7);
    week.today_not_heard_days = None;
    assert_eq!(silence_settings_set(&n.f.store, &n.f.manager, &week, NOW + 103 * H).expect("same N").today_not_heard_days, Some(7));
    for wrong in [0, 367] {
        week.today_not_heard_days = Some(wrong);
        let e = silence_settings_set(&n.f.store, &n.f.manager, &week, NOW).expect_err("out of range");
        assert_eq!((e.code(), e.params()["field"].as_str()), ("bad_input", Some("today_not_heard_days")));
    }
    assert_eq!(n.int("SELECT count(*) FROM audit_log WHERE event = 'silence_settings' AND details LIKE '%not_heard_days=7%'"), 2);
}
