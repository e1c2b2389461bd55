//! Scheduled billing exports run by `releve jobs run` on a fixed clock, as cron would run it:
//! a demo park, a saved layout, a job writing to a folder and one e-mailing the file to a
//! REAL SMTP server on loopback (aiosmtpd), two runners at once, a failing job retried and
//! reported.

#[path = "../../core/tests/support/smtp.rs"]
mod smtp;

use releve_api::Ctx;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use smtp::Smtp;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;

const BIN: &str = env!("CARGO_BIN_EXE_releve");

fn releve(args: &[&str]) -> Output {
    Command::new(BIN).args(args).env_remove("RELEVE_PASSWORD").output().expect("run releve")
}

fn jobs_run(db: &str, at: &str) -> Output {
    releve(&["jobs", "run", "--db", db, "--now", at])
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// Unix time of a Paris local time.
fn paris(s: &str) -> i64 {
    use chrono::TimeZone;
    let local = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").expect("time");
    chrono_tz::Europe::Paris.from_local_datetime(&local).single().expect("paris time").timestamp()
}

/// The API as the open app has it, on a fixed clock, logged in as the demo manager.
fn api(db: &Path, at: i64) -> (Ctx, String) {
    let ctx = Ctx::open_with_clock(db, Arc::new(move || at)).expect("open");
    let login = ctx.call(None, "login", json!({"login": "manager", "password": "manager"})).expect("login");
    let token = login["token"].as_str().expect("token").to_string();
    (ctx, token)
}

fn runs(db: &Path) -> Vec<Value> {
    let (ctx, token) = api(db, paris("2027-01-01 00:00"));
    let v = ctx.call(Some(&token), "export_runs_list", json!({"limit": 1000})).expect("runs");
    v.as_array().expect("list").clone()
}

/// The MIME part of `mail` holding the attachment `name`, decoded.
fn attachment(mail: &str, name: &str) -> Vec<u8> {
    let script = format!(
        "import email,sys\nm=email.message_from_string(sys.stdin.read())\nfor p in m.walk():\n    if p.get_filename()=={name:?}:\n        sys.stdout.buffer.write(p.get_payload(decode=True))\n"
    );
    let mut child = Command::new("python3")
        .args(["-c", &script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3");
    use std::io::Write;
    child.stdin.take().expect("stdin").write_all(mail.as_bytes()).expect("write");
    child.wait_with_output().expect("python").stdout
}

#[test]
fn scheduled_exports_run_once_per_slot_to_a_folder_and_by_email_and_failures_are_retried_then_reported() {
    let dir = tempfile::tempdir().expect("tmp");
    let db = dir.path().join("jobs.db");
    let db_arg = db.to_str().expect("utf-8");
    let demo = releve(&["demo", "--db", db_arg, "--meters", "12", "--seed", "5", "--now", "2026-11-20"]);
    assert!(demo.status.success(), "{}", text(&demo));
    let smtp = Smtp::start(dir.path());
    let outbox = dir.path().join("outbox");
    // The folders the jobs may write: the outbox and a share holding a file named like a folder.
    let share = dir.path().join("share");
    std::fs::create_dir_all(&share).expect("share");
    let gone = share.join("gone");
    std::fs::create_dir_all(&outbox).expect("outbox");

    // Set-up through the API, as a clerk would in the app, on 20 October.
    {
        let (ctx, t) = api(&db, paris("2026-10-20 10:00"));
        let layout = json!({"layout": {
            "name": "Facturation",
            "format": "csv",
            "csv": {"separator": ";", "quote": "necessary", "decimal": ",", "header": true},
            "fields": [{"var": "customer_number"}, {"var": "meter_serial"}, {"var": "value_start"},
                       {"var": "value_end"}, {"var": "consumption"}],
            "trailer": [{"var": "text", "text": "TOTAL"}, {"var": "record_count"}]
        }});
        ctx.call(Some(&t), "export_layout_save", layout).expect("layout");
        ctx.call(Some(&t), "folders_allowed_set", json!({"folders": [outbox.to_str(), share.to_str()]})).expect("allow");
        ctx.call(
            Some(&t),
            "notify_settings",
            json!({"smtp_host": "127.0.0.1", "smtp_port": smtp.port, "smtp_from": "releve@regie.example", "smtp_tls": "none"}),
        )
        .expect("smtp settings");
        let job = |name: &str, extra: Value| {
            let mut j = json!({"name": name, "layout": "Facturation", "every": "monthly", "day": 1, "hour": 6,
                               "minute": 0, "period": "previous_month", "report_to": ["exploitation@regie.example"]});
            j.as_object_mut().expect("object").extend(extra.as_object().expect("object").clone());
            ctx.call(Some(&t), "export_job_save", j).expect(name)
        };
        job("to the folder", json!({"destination": "folder", "folder": outbox.to_str()}));
        job("to billing", json!({"destination": "email", "email_to": ["facturation@regie.example"]}));
        // Saving checks the folder exists and takes a file: "broken"'s folder is good then,
        // and becomes a file after (below), so its runs fail.
        std::fs::create_dir_all(&gone).expect("gone");
        job("broken", json!({"destination": "folder", "folder": gone.to_str()}));
        let e = ctx
            .call(Some(&t), "export_job_save", json!({"name": "x", "layout": "Nope", "every": "monthly", "hour": 6,
                  "period": "previous_month", "destination": "folder", "folder": "/tmp"}))
            .expect_err("unknown layout");
        assert!(e.message.contains("no export layout named 'Nope'"), "{}", e.message);
    }
    std::fs::remove_dir(&gone).expect("remove");
    std::fs::write(&gone, "a file where the job expects a folder").expect("write");

    // Before the slot nothing is due.
    let o = jobs_run(db_arg, "2026-11-01 05:59");
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("0 run(s), 0 failed"), "{}", text(&o));

    // At 06:05 the three jobs run for October; the broken one fails and says why.
    let o = jobs_run(db_arg, "2026-11-01 06:05");
    let out = text(&o);
    assert!(!o.status.success(), "a failed run makes the exit status non-zero: {out}");
    assert!(out.contains("3 run(s), 1 failed") && out.contains("broken: 2026-10-01 to 2026-10-31, attempt 1 FAILED"), "{out}");
    let files: Vec<_> = std::fs::read_dir(&outbox).expect("outbox").filter_map(|e| e.ok()).map(|e| e.path()).collect();
    assert_eq!(files.len(), 1, "one file and no temporary left: {files:?}");
    let file = std::fs::read(&files[0]).expect("file");
    let content = String::from_utf8_lossy(&file).into_owned();
    let lines: Vec<&str> = content.lines().collect();
    assert!(lines.len() >= 3, "{content}");
    assert_eq!(lines.last().copied(), Some(format!("TOTAL;{}", lines.len() - 2).as_str()), "{content}");

    // The log has the file, its rows and its hash; the e-mailed file is the same bytes.
    let log = runs(&db);
    let ok: Vec<&Value> = log.iter().filter(|r| r["status"] == "ok").collect();
    assert_eq!(ok.len(), 2, "{log:?}");
    let folder_run = ok.iter().find(|r| r["job"] == "to the folder").expect("folder run");
    assert_eq!(folder_run["rows"], json!(lines.len() - 2));
    assert_eq!(folder_run["sha256"], json!(hex::encode(Sha256::digest(&file))));
    assert_eq!(folder_run["period_from"], "2026-10-01");
    assert_eq!(folder_run["scheduled_for"], json!(paris("2026-11-01 06:00")));
    let mails = smtp.messages();
    assert_eq!(mails.len(), 1, "only the billing e-mail so far");
    assert!(mails[0].contains("facturation@regie.example"), "{}", mails[0]);
    let name = files[0].file_name().expect("name").to_string_lossy().into_owned();
    assert_eq!(attachment(&mails[0], &name), file, "the attachment is the exported file");

    // `releve export --layout` writes the same file from the command line.
    let by_hand = dir.path().join("by-hand.csv");
    let o = releve(&["export", "--db", db_arg, "--layout", "Facturation", "--from", "2026-10-01", "--to", "2026-10-31",
                     "--out", by_hand.to_str().expect("utf-8"), "--password", "manager"]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(std::fs::read(&by_hand).expect("by hand"), file, "the CLI and the job wrote the same bytes");

    // Run again at the same time and a bit later: nothing new (the failed one waits its back-off).
    let o = jobs_run(db_arg, "2026-11-01 06:10");
    assert!(text(&o).contains("0 run(s), 0 failed"), "{}", text(&o));
    // After 10 minutes the failed run is tried again, then after 20 more; then it is reported.
    let o = jobs_run(db_arg, "2026-11-01 06:16");
    assert!(text(&o).contains("1 run(s), 1 failed") && text(&o).contains("attempt 2 FAILED"), "{}", text(&o));
    assert_eq!(smtp.messages().len(), 1, "no report before the last attempt");
    let o = jobs_run(db_arg, "2026-11-01 06:40");
    assert!(text(&o).contains("attempt 3 FAILED"), "{}", text(&o));
    let mails = smtp.messages();
    let report = mails.iter().find(|m| m.contains("exploitation@regie.example")).expect("failure report");
    assert!(report.contains("failed 3 times") && report.contains("gone"), "{report}");
    let o = jobs_run(db_arg, "2026-11-01 09:00");
    assert!(text(&o).contains("0 run(s), 0 failed"), "no fourth attempt: {}", text(&o));

    // Two runners at the same time (the open app and cron): each December slot runs once.
    let start = || {
        Command::new(BIN)
            .args(["jobs", "run", "--db", db_arg, "--now", "2026-12-01 06:01"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("runner")
    };
    let (a, b) = (start(), start());
    let (a, b) = (a.wait_with_output().expect("a"), b.wait_with_output().expect("b"));
    let made = |o: &Output| -> usize {
        let out = text(o);
        let line = out.lines().find(|l| l.contains(" run(s), ")).unwrap_or_else(|| panic!("summary line: {out}"));
        line.split(' ').next().and_then(|n| n.parse().ok()).expect("count")
    };
    assert_eq!(made(&a) + made(&b), 3, "the two runners shared the 3 runs:\n{}\n{}", text(&a), text(&b));
    let log = runs(&db);
    let december: Vec<&Value> = log.iter().filter(|r| r["scheduled_for"] == json!(paris("2026-12-01 06:00"))).collect();
    assert_eq!(december.len(), 3, "one run per job for the slot: {december:?}");
    assert_eq!(smtp.messages().iter().filter(|m| m.contains("facturation@regie.example")).count(), 2, "one more e-mail, not two");
    assert!(december.iter().all(|r| r["attempt"] == 1), "{december:?}");

    // Run now from the app once the folder is fixed: the log shows a manual run that worked.
    std::fs::remove_file(&gone).expect("rm");
    let (ctx, t) = api(&db, paris("2026-12-02 09:00"));
    let list = ctx.call(Some(&t), "export_jobs_list", json!({})).expect("jobs");
    let broken = list.as_array().expect("jobs").iter().find(|j| j["name"] == "broken").expect("broken").clone();
    assert_eq!(broken["next_run_at"], json!(paris("2027-01-01 06:00")));
    let run = ctx.call(Some(&t), "export_job_run_now", json!({"id": broken["id"]})).expect("run now");
    assert_eq!(run["status"], "ok", "{run}");
    assert_eq!(run["trigger"], "manual");
    assert_eq!((run["period_from"].as_str(), run["period_to"].as_str()), (Some("2026-11-01"), Some("2026-11-30")));
}
