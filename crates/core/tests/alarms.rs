//! Issue 15, alarms and the start page's "to do today": acknowledge, assign, comment an
//! info-code event; the overview's handling filters (and the indexes they use); a closed
//! alarm keeps its history; the start page's counts. On a real SQLite file.

use releve_core::info_codes::{
    alarm_acknowledge, alarm_assign, alarm_comment, alarm_get, info_codes_overview, AlarmRef, HandlingQuery, OverviewQuery, State,
};
use releve_core::meters::{meters_list, ListQuery};
use releve_core::store::info_codes::{Event, OverviewOrder};
use releve_core::store::{self, Store};
use releve_core::today::today;

#[path = "support/users.rs"]
mod users;

const DAY: i64 = 86_400;
/// 2026-02-01T00:00 in Paris.
const MIDNIGHT: i64 = 1_769_900_400;
/// 2026-02-01T10:00 in Paris.
const NOW: i64 = MIDNIGHT + 10 * 3_600;

struct Park {
    _dir: tempfile::TempDir,
    store: Store,
    clerk: releve_core::access::Session,
    manager: releve_core::access::Session,
    meters: Vec<i64>,
}

/// Four meters: a leak since 10 days, a burst started this morning, a low battery that
/// ended 2 days ago, a dry code since yesterday evening; two meters last heard 5 days ago.
fn park() -> Park {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&dir.path().join("alarms.db")).expect("open");
    let (manager, clerk) = users::manager_and_clerk(&store, NOW - 30 * DAY);
    let mut meters = Vec::new();
    {
        let conn = store.writer();
        for i in 0..4 {
            let m = store::meters::NewMeter {
                serial: format!("1000000{i}"),
                manufacturer: "KAM".into(),
                device_type: "water".into(),
                status: "active".into(),
                address: format!("{i} rue Gambetta"),
                city: "Saint-Chamond".into(),
                ..Default::default()
            };
            meters.push(store::meters::insert(&conn, &m, NOW - 100 * DAY).expect("meter"));
        }
        let ev = |code: &str, started_at: i64, ended_at: Option<i64>| Event {
            code: code.into(),
            started_at,
            last_seen_at: ended_at.unwrap_or(NOW - 3_600),
            ended_at,
        };
        store::info_codes::upsert(&conn, meters[0], &ev("leak", NOW - 10 * DAY, None)).expect("leak");
        store::info_codes::upsert(&conn, meters[1], &ev("burst", MIDNIGHT + 7 * 3_600, None)).expect("burst");
        store::info_codes::upsert(&conn, meters[2], &ev("low_battery", NOW - 20 * DAY, Some(NOW - 2 * DAY))).expect("battery");
        store::info_codes::upsert(&conn, meters[3], &ev("dry", MIDNIGHT - 2 * 3_600, None)).expect("dry");
        for (i, &m) in meters.iter().enumerate() {
            let seen = if i < 2 { NOW - 5 * DAY } else { NOW - 3_600 };
            store::meters::set_seen(&conn, m, Some(seen), 0).expect("seen");
        }
    }
    Park { _dir: dir, store, clerk, manager, meters }
}

fn query(handling: HandlingQuery) -> OverviewQuery {
    OverviewQuery {
        state: State::Active,
        codes: None,
        group_id: None,
        period_days: None,
        sort: OverviewOrder::Newest,
        offset: 0,
        limit: 100,
        handling,
        today: false,
    }
}

fn serials(p: &Park, q: &OverviewQuery, as_manager: bool) -> Vec<String> {
    let s = if as_manager { &p.manager } else { &p.clerk };
    info_codes_overview(&p.store, s, q, NOW).expect("overview").rows.into_iter().map(|r| r.label.serial).collect()
}

fn audit_events(store: &Store) -> Vec<(String, String, String)> {
    let conn = store.reader().expect("reader");
    let mut stmt = conn.prepare("SELECT event, user, details FROM audit_log WHERE event LIKE 'alarm_%' ORDER BY id").expect("audit");
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).expect("rows");
    rows.collect::<rusqlite::Result<_>>().expect("audit rows")
}

#[test]
fn a_clerk_acknowledges_assigns_and_comments_and_the_overview_filters_on_it() {
    let p = park();
    let leak = AlarmRef { meter_id: p.meters[0], code: "leak".into(), started_at: NOW - 10 * DAY };
    let burst = AlarmRef { meter_id: p.meters[1], code: "burst".into(), started_at: MIDNIGHT + 7 * 3_600 };

    // The clerk (role user: view and export) acknowledges the leak and assigns it to the manager.
    let a = alarm_acknowledge(&p.store, &p.clerk, &leak, true, NOW).expect("ack");
    assert_eq!((a.ack_at, a.ack_by.as_deref()), (Some(NOW), Some("clerk")));
    let a = alarm_assign(&p.store, &p.clerk, &leak, Some("manager"), NOW + 60).expect("assign");
    assert_eq!(a.assigned_to.as_deref(), Some("manager"));
    // Two comments, each with its author and time, oldest first.
    alarm_comment(&p.store, &p.clerk, &leak, "  Client appelé le 01/02, absent  ", NOW + 120).expect("comment");
    let a = alarm_comment(&p.store, &p.manager, &leak, "Rappel prévu jeudi", NOW + 180).expect("comment 2");
    let got: Vec<(i64, &str, &str)> = a.comments.iter().map(|c| (c.at, c.author.as_str(), c.body.as_str())).collect();
    assert_eq!(got, vec![(NOW + 120, "clerk", "Client appelé le 01/02, absent"), (NOW + 180, "manager", "Rappel prévu jeudi")]);
    // The burst is assigned to the clerk.
    alarm_assign(&p.store, &p.manager, &burst, Some("clerk"), NOW).expect("assign burst");

    // The row shows who it is assigned to and the last comment.
    let o = info_codes_overview(&p.store, &p.clerk, &query(HandlingQuery::Any), NOW + 200).expect("overview");
    assert_eq!(o.active, 3);
    let row = o.rows.iter().find(|r| r.code == "leak").expect("leak row");
    assert_eq!((row.ack_by.as_deref(), row.assigned_to.as_deref(), row.comments), (Some("clerk"), Some("manager"), 2));
    let last = row.last_comment.as_ref().expect("last comment");
    assert_eq!((last.author.as_str(), last.body.as_str(), last.at), ("manager", "Rappel prévu jeudi", NOW + 180));
    let logins: Vec<&str> = o.assignees.iter().map(|u| u.login.as_str()).collect();
    assert_eq!(logins, vec!["clerk", "manager"]);

    // The filters: acknowledged / not / mine / anyone / one colleague; "started today".
    assert_eq!(serials(&p, &query(HandlingQuery::Acknowledged), false), vec!["10000000"]);
    assert_eq!(serials(&p, &query(HandlingQuery::NotAcknowledged), false), vec!["10000001", "10000003"]);
    assert_eq!(serials(&p, &query(HandlingQuery::Mine), false), vec!["10000001"]);
    assert_eq!(serials(&p, &query(HandlingQuery::Mine), true), vec!["10000000"]);
    assert_eq!(serials(&p, &query(HandlingQuery::Assigned), false), vec!["10000001", "10000000"]);
    assert_eq!(serials(&p, &query(HandlingQuery::AssignedTo("manager".into())), false), vec!["10000000"]);
    let today_only = OverviewQuery { today: true, ..query(HandlingQuery::Any) };
    assert_eq!(serials(&p, &today_only, false), vec!["10000001"], "the dry code started yesterday evening");
    let counts = info_codes_overview(&p.store, &p.clerk, &query(HandlingQuery::Mine), NOW).expect("mine");
    assert_eq!((counts.active, counts.recent), (1, 0));

    // Undo the acknowledgement; unassign.
    let a = alarm_acknowledge(&p.store, &p.clerk, &leak, false, NOW + 300).expect("unack");
    assert_eq!((a.ack_at, a.ack_by), (None, None));
    let a = alarm_assign(&p.store, &p.clerk, &burst, None, NOW + 300).expect("unassign");
    assert_eq!(a.assigned_to, None);
    assert!(serials(&p, &query(HandlingQuery::Acknowledged), false).is_empty());

    // Every change is audited with its author.
    let audit = audit_events(&p.store);
    let names: Vec<(&str, &str)> = audit.iter().map(|(e, u, _)| (e.as_str(), u.as_str())).collect();
    assert_eq!(
        names,
        vec![
            ("alarm_acknowledge", "clerk"),
            ("alarm_assign", "clerk"),
            ("alarm_comment", "clerk"),
            ("alarm_comment", "manager"),
            ("alarm_assign", "manager"),
            ("alarm_unacknowledge", "clerk"),
            ("alarm_assign", "clerk"),
        ]
    );
    assert!(audit[1].2.contains("to manager"), "{:?}", audit[1]);
}

#[test]
fn handling_refuses_what_it_must() {
    let p = park();
    let leak = AlarmRef { meter_id: p.meters[0], code: "leak".into(), started_at: NOW - 10 * DAY };
    let code = |e: releve_core::Error| e.code().to_string();
    // An unknown alarm, an unknown or inactive colleague, an empty or too long comment.
    let none = AlarmRef { started_at: NOW - 9 * DAY, ..leak.clone() };
    assert_eq!(code(alarm_acknowledge(&p.store, &p.clerk, &none, true, NOW).expect_err("no such alarm")), "not_found");
    assert_eq!(code(alarm_assign(&p.store, &p.clerk, &leak, Some("nobody"), NOW).expect_err("no such user")), "not_found");
    assert_eq!(code(alarm_comment(&p.store, &p.clerk, &leak, "   ", NOW).expect_err("empty")), "bad_input");
    assert_eq!(code(alarm_comment(&p.store, &p.clerk, &leak, &"é".repeat(2001), NOW).expect_err("long")), "bad_input");
    alarm_comment(&p.store, &p.clerk, &leak, &"é".repeat(2000), NOW).expect("2000 characters");
    // A session without `view` (an API key's session has only its scopes) is refused.
    let mut blind = p.clerk.clone();
    blind.permissions.clear();
    assert_eq!(code(alarm_acknowledge(&p.store, &blind, &leak, true, NOW).expect_err("forbidden")), "forbidden");
    assert_eq!(code(alarm_comment(&p.store, &blind, &leak, "x", NOW).expect_err("forbidden")), "forbidden");
    assert!(audit_events(&p.store).iter().all(|(e, _, _)| e == "alarm_comment"), "refusals change nothing");
}

#[test]
fn a_closed_alarm_keeps_its_history_and_retention_takes_the_comments_with_the_event() {
    let p = park();
    let leak = AlarmRef { meter_id: p.meters[0], code: "leak".into(), started_at: NOW - 10 * DAY };
    alarm_acknowledge(&p.store, &p.clerk, &leak, true, NOW).expect("ack");
    alarm_comment(&p.store, &p.clerk, &leak, "Client appelé", NOW).expect("comment");
    // The leak ends (the next import says so); its handling stays, in the "recent" list too.
    {
        let conn = p.store.writer();
        let ended = Event { code: "leak".into(), started_at: leak.started_at, last_seen_at: NOW + 3_600, ended_at: Some(NOW + 3_600) };
        store::info_codes::upsert(&conn, p.meters[0], &ended).expect("end");
    }
    let a = alarm_get(&p.store, &p.clerk, &leak).expect("ended alarm");
    assert_eq!((a.event.ended_at, a.ack_by.as_deref(), a.comments.len()), (Some(NOW + 3_600), Some("clerk"), 1));
    let recent = OverviewQuery { state: State::Recent, ..query(HandlingQuery::Acknowledged) };
    let o = info_codes_overview(&p.store, &p.clerk, &recent, NOW + 7_200).expect("recent");
    assert_eq!(o.rows.len(), 1);
    assert_eq!(o.rows[0].last_comment.as_ref().map(|c| c.body.as_str()), Some("Client appelé"));
    // It can still be commented on after its end.
    alarm_comment(&p.store, &p.clerk, &leak, "Fuite réparée par le client", NOW + 7_200).expect("comment after the end");
    // When retention deletes the old ended event, its comments go with it.
    let conn = p.store.writer();
    conn.execute("DELETE FROM info_code_events WHERE meter_id = ?1 AND code = 'leak'", [p.meters[0]]).expect("retention delete");
    let left: i64 = conn.query_row("SELECT count(*) FROM alarm_comments", [], |r| r.get(0)).expect("count");
    assert_eq!(left, 0);
}

#[test]
fn the_overview_filters_use_their_indexes() {
    let p = park();
    let conn = p.store.reader().expect("reader");
    let plan = |sql: &str| -> String {
        let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).expect("plan");
        let rows = stmt.query_map([], |r| r.get::<_, String>(3)).expect("rows");
        rows.collect::<rusqlite::Result<Vec<_>>>().expect("plan rows").join(" | ")
    };
    let assigned = plan("SELECT count(*) FROM info_code_events e WHERE e.ended_at IS NULL AND e.assigned_to = 'clerk'");
    assert!(assigned.contains("info_code_events_assigned"), "{assigned}");
    let anyone = plan("SELECT count(*) FROM info_code_events e WHERE e.ended_at IS NULL AND e.assigned_to IS NOT NULL");
    assert!(anyone.contains("info_code_events_assigned"), "{anyone}");
    // Without ANALYZE, "acknowledged" among the open events walks the open events' index
    // (open_started) rather than `info_code_events_acked`: an index still, but all open rows.
    let acked = plan("SELECT count(*) FROM info_code_events e WHERE e.ended_at IS NULL AND e.ack_at IS NOT NULL");
    assert!(acked.contains("USING INDEX"), "{acked}");
    let today = plan("SELECT count(*) FROM info_code_events e WHERE e.ended_at IS NULL AND e.started_at >= 5");
    assert!(today.contains("info_code_events_open_started"), "{today}");
    let comments = plan("SELECT max(id) FROM alarm_comments WHERE meter_id = 1 AND code = 'leak' AND started_at = 3");
    assert!(comments.contains("alarm_comments_of"), "{comments}");
    let not_heard = plan("SELECT count(*) FROM meters WHERE last_seen < 5 AND status <> 'removed'");
    assert!(not_heard.contains("meters_last_seen"), "{not_heard}");
}

#[test]
fn the_start_page_counts_what_to_do_today_and_each_count_is_its_lists_total() {
    let p = park();
    let leak = AlarmRef { meter_id: p.meters[0], code: "leak".into(), started_at: NOW - 10 * DAY };
    alarm_assign(&p.store, &p.manager, &leak, Some("clerk"), NOW).expect("assign");
    {
        let conn = p.store.writer();
        // A failed scheduled export this night, one of last week (not counted), a good one.
        for (id, at, status) in [(1, NOW - 8 * 3_600, "failed"), (2, NOW - 7 * DAY, "failed"), (3, NOW - 3_600, "ok")] {
            conn.execute(
                "INSERT INTO export_runs(id, job_id, job, layout, scheduled_for, trigger, period_from, period_to, started_at, finished_at, status, runner)
                 VALUES (?1, 1, 'Facturation', 'L', ?2, 'schedule', '2026-01-01', '2026-01-31', ?2, ?2, ?3, 'pc')",
                rusqlite::params![id, at, status],
            )
            .expect("run");
        }
        conn.execute(
            "INSERT INTO webhook_deliveries(endpoint_id, event, ref, body, created_at, status, attempts, last_try)
             VALUES (1, 'ping', 'p1', '{}', ?1, 'failed', 5, ?1)",
            [NOW - 2 * 3_600],
        )
        .expect("delivery");
        let src = store::imports::Source { name: "tournee.csv", size: 10, hash: "h" };
        let failed = store::imports::start(&conn, "clerk", &src, NOW - 5 * 3_600).expect("import");
        store::imports::finish(&conn, failed, Some("the file is not a drive-by export"), NOW - 5 * 3_600).expect("failed");
        let good = store::imports::start(&conn, "manager", &src, NOW - 3_600).expect("import");
        let counts = store::imports::Counts { lines: 120, readings: 118, rejected: 2, ..Default::default() };
        store::imports::progress(&conn, good, &counts, 120).expect("progress");
        store::imports::finish(&conn, good, None, NOW - 3_500).expect("done");
    }
    let d = today(&p.store, &p.clerk, NOW).expect("today");
    assert_eq!(d.not_heard_days, 3);
    assert_eq!((d.not_heard, d.alarms_today, d.alarms_mine), (2, 1, 1));
    assert_eq!((d.failed_exports, d.failed_webhooks, d.failed_imports), (1, 1, 1));
    assert_eq!(d.today_start, MIDNIGHT);
    let last = d.last_import.expect("last import");
    assert_eq!((last.user.as_str(), last.readings, last.started_at, last.state.as_str()), ("manager", 118, NOW - 3_600, "done"));

    // Each count is the total of the list it links to.
    let not_heard = ListQuery { limit: 10, not_heard_since: Some(releve_core::today::not_heard_before(3, NOW)), ..Default::default() };
    assert_eq!(meters_list(&p.store, &p.clerk, &not_heard).expect("list").total, d.not_heard);
    let today_q = OverviewQuery { today: true, ..query(HandlingQuery::Any) };
    assert_eq!(info_codes_overview(&p.store, &p.clerk, &today_q, NOW).expect("ov").active, d.alarms_today);
    assert_eq!(info_codes_overview(&p.store, &p.clerk, &query(HandlingQuery::Mine), NOW).expect("ov").active, d.alarms_mine);

    // N comes from the settings: at 6 days nobody is "not heard"; a removed meter never is.
    store::settings::set(&p.store.writer(), releve_core::today::NOT_HEARD_KEY, "6").expect("setting");
    assert_eq!(today(&p.store, &p.clerk, NOW).expect("today").not_heard, 0);
    store::settings::set(&p.store.writer(), releve_core::today::NOT_HEARD_KEY, "3").expect("setting");
    store::meters::set_removed(&p.store.writer(), p.meters[0], NOW - DAY).expect("removed");
    let d = today(&p.store, &p.clerk, NOW).expect("today");
    assert_eq!(d.not_heard, 1);
    // The removed meter's leak ended at its removal: it is no longer anyone's to do.
    assert_eq!(d.alarms_mine, 0);
}
