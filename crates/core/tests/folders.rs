//! Allowed folders (issue 9) against real files and a real SQLite file: a watched folder or
//! an export job pointed at the database's folder, outside the allowed list, or escaping it
//! through `..` or a link is refused at save and again at run; a watched folder gives only
//! whole `.csv`/`.txt` files to the import.

#[path = "support/users.rs"]
mod users;

#[path = "support/smtp.rs"]
mod smtp;

use releve_core::access::{Permission, Session};
use releve_core::billing::{self, Field, Format, Layout, Var};
use releve_core::folders::{folders_allowed, folders_allowed_set, FolderRule, ALLOWED_FOLDERS_KEY};
use releve_core::jobs;
use releve_core::park_folder::{park_import_folder, park_import_folder_with, Skip, Watch};
use releve_core::park_profiles::{park_profile_save, ProfileSpec};
use releve_core::store::export_jobs::Job;
use releve_core::store::{self, Store};
use releve_core::Error;
use std::path::{Path, PathBuf};

const NOW: i64 = 1_767_258_000; // 2026-01-01 10:00 in Paris
const CSV: &str = "number;name;serial\nC1;Anne Martin;11111111\n";

/// A database `<tmp>/data/releve.db` (open, so its `-wal` and `-shm` are there), a manager.
struct Setup {
    dir: tempfile::TempDir,
    store: Store,
    manager: Session,
    clerk: Session,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::create_dir(dir.path().join("data")).expect("mkdir");
    let store = Store::open(&dir.path().join("data/releve.db")).expect("open");
    let (manager, clerk) = users::manager_and_clerk(&store, NOW);
    Setup { dir, store, manager, clerk }
}

impl Setup {
    fn path(&self, rel: &str) -> PathBuf {
        let p = self.dir.path().join(rel);
        std::fs::create_dir_all(&p).expect("mkdir");
        p
    }

    fn allow(&self, folders: &[&Path]) {
        let list: Vec<String> = folders.iter().map(|f| f.display().to_string()).collect();
        folders_allowed_set(&self.store, &self.manager, &list, NOW).expect("allow");
    }

    fn save_profile(&self, folder: &Path) -> releve_core::Result<()> {
        let spec = ProfileSpec {
            name: "billing".into(),
            separator: ";".into(),
            has_header: true,
            mapping: [("customer_number", 0), ("customer_name", 1), ("meter_serial", 2)].map(|(f, c)| (f.to_string(), c)).into(),
            folder: Some(folder.display().to_string()),
            interval_minutes: Some(5),
        };
        park_profile_save(&self.store, &self.manager, &spec, NOW).map(|_| ())
    }

    /// The profile saved straight into the store, as an older version or a hand edit could.
    fn force_profile(&self, folder: &Path) {
        let p = store::profiles::Profile {
            id: 0,
            name: "forced".into(),
            separator: ";".into(),
            has_header: true,
            mapping: [("customer_number".to_string(), 0), ("customer_name".to_string(), 1)].into(),
            folder: Some(folder.display().to_string()),
            interval_minutes: Some(5),
            last_run: None,
        };
        store::profiles::save(&self.store.writer(), &p, NOW).expect("forced profile");
    }

    fn customers(&self) -> i64 {
        self.store.reader().expect("r").query_row("SELECT count(*) FROM customers", [], |r| r.get(0)).expect("count")
    }

    fn run(&self, now: i64) -> releve_core::park_folder::FolderReport {
        let permit = self.manager.permit(Permission::EditMeters).expect("permit");
        park_import_folder(&self.store, permit, now).expect("folder run")
    }
}

/// `content` at `path`, last modified at `at`.
fn written(path: &Path, content: &[u8], at: i64) {
    std::fs::write(path, content).expect("write");
    let time = std::time::UNIX_EPOCH + std::time::Duration::from_secs(u64::try_from(at).expect("time"));
    std::fs::File::options().write(true).open(path).expect("open").set_modified(time).expect("mtime");
}

fn rule(e: Error) -> (FolderRule, String) {
    match e {
        Error::Folder { rule, folder } => (rule, folder),
        other => panic!("not a folder refusal: {other:?}"),
    }
}

fn names(dir: &Path) -> Vec<String> {
    let mut n: Vec<String> = std::fs::read_dir(dir).expect("ls").map(|e| e.expect("entry").file_name().to_string_lossy().into_owned()).collect();
    n.sort();
    n
}

#[test]
fn a_watched_folder_on_the_database_folder_is_refused_at_save_and_at_run_and_the_database_stays() {
    let s = setup();
    let data = s.dir.path().join("data");
    let before = names(&data);
    assert!(before.contains(&"releve.db-wal".into()) && before.contains(&"releve.db-shm".into()), "{before:?}");
    // Neither the database's folder nor a parent of it may be allowed, nor the file itself.
    for holds in [data.clone(), s.dir.path().to_path_buf(), data.join("releve.db")] {
        let e = folders_allowed_set(&s.store, &s.manager, &[holds.display().to_string()], NOW).expect_err("holds the database");
        assert_eq!(rule(e), (FolderRule::IsStore, holds.display().to_string()));
    }
    // Saving the profile on it is refused, whatever the allowed list.
    let e = s.save_profile(&data).expect_err("the database's folder");
    assert_eq!(rule(e).0, FolderRule::IsStore);

    // Forced into the store (list and profile), the run still does not touch it.
    store::settings::set(&s.store.writer(), ALLOWED_FOLDERS_KEY, &serde_json::json!([data, s.dir.path()]).to_string()).expect("forced list");
    s.force_profile(&data);
    s.store.checkpoint().expect("checkpoint");
    let r = s.run(NOW);
    assert_eq!(r.refused.len(), 1, "{r:?}");
    assert_eq!((r.refused[0].profile.as_str(), r.refused[0].code.as_str()), ("forced", "folder_is_store"));
    assert!(r.refused[0].reason.contains("holds the database"), "{}", r.refused[0].reason);
    assert!(r.files.is_empty() && r.skipped.is_empty(), "{r:?}");
    assert_eq!(names(&data), before, "the database, its -wal and -shm stay in place; no done/ folder");
    assert_eq!(s.customers(), 0);
    let audit = store::audit::latest(&s.store.reader().expect("r"), 1).expect("audit").remove(0);
    assert_eq!(audit.event, "park_folder_refused");
    assert!(audit.details.contains("forced") && audit.details.contains("holds the database"), "{}", audit.details);
}

#[test]
fn a_folder_outside_the_allowed_list_is_refused_and_one_taken_off_the_list_is_no_longer_read() {
    let s = setup();
    let (inbox, elsewhere) = (s.path("shares/inbox"), s.path("elsewhere"));
    let e = folders_allowed_set(&s.store, &s.clerk, &[inbox.display().to_string()], NOW).expect_err("a clerk");
    assert!(matches!(e, Error::Forbidden { .. }), "{e:?}");
    let e = folders_allowed_set(&s.store, &s.manager, &["shares/inbox".into()], NOW).expect_err("relative");
    assert_eq!(rule(e).0, FolderRule::NotAbsolute);
    s.allow(&[&inbox]);
    assert_eq!(folders_allowed(&s.store, &s.clerk).expect("list"), [inbox.display().to_string()]);

    let e = s.save_profile(&elsewhere).expect_err("not allowed");
    assert_eq!(rule(e), (FolderRule::NotAllowed, elsewhere.display().to_string()));
    s.save_profile(&inbox.join("sub")).expect("a folder under an allowed one, made later");
    s.save_profile(&inbox).expect("allowed");

    // Allowed yesterday, taken off the list today: the file stays, the run says why.
    written(&inbox.join("park.csv"), CSV.as_bytes(), NOW - 3600);
    folders_allowed_set(&s.store, &s.manager, &[], NOW).expect("none allowed");
    let r = s.run(NOW);
    assert_eq!(r.refused.len(), 1);
    assert_eq!(r.refused[0].code, "folder_not_allowed");
    assert!(r.refused[0].reason.contains("not inside an allowed folder"), "{}", r.refused[0].reason);
    assert!(inbox.join("park.csv").exists() && !inbox.join("done").exists());
    assert_eq!(s.customers(), 0);
    // Allowed again: the next due run takes it.
    s.allow(&[&inbox]);
    let r = s.run(NOW + 5 * 60);
    assert_eq!((r.files.len(), r.refused.len()), (1, 0), "{r:?}");
    assert_eq!(s.customers(), 1);
}

#[cfg(unix)]
#[test]
fn dot_dot_and_links_cannot_escape_the_allowed_folder() {
    let s = setup();
    let (inbox, other) = (s.path("shares/inbox"), s.path("other"));
    s.allow(&[&inbox]);
    let up = inbox.join("../../other");
    assert_eq!(rule(s.save_profile(&up).expect_err("..")), (FolderRule::NotAllowed, up.display().to_string()));
    let up_to_db = inbox.join("../../data");
    assert_eq!(rule(s.save_profile(&up_to_db).expect_err("..")).0, FolderRule::IsStore);
    std::os::unix::fs::symlink(&other, inbox.join("link")).expect("link");
    assert_eq!(rule(s.save_profile(&inbox.join("link")).expect_err("link out")).0, FolderRule::NotAllowed);
    std::os::unix::fs::symlink(s.dir.path().join("data"), inbox.join("db")).expect("link");
    assert_eq!(rule(s.save_profile(&inbox.join("db")).expect_err("link to the database")).0, FolderRule::IsStore);
    // `..` under a folder that does not exist yet cannot be resolved: refused.
    assert_eq!(rule(s.save_profile(&inbox.join("new/../../../other")).expect_err("..")).0, FolderRule::NotAllowed);
    // A `done/` that is a link out of the folder is not followed: the file stays.
    s.allow(&[&inbox]);
    let watched = s.path("shares/inbox/watched");
    s.save_profile(&watched).expect("profile");
    std::os::unix::fs::symlink(&other, watched.join("done")).expect("link");
    written(&watched.join("park.csv"), CSV.as_bytes(), NOW - 3600);
    let permit = s.manager.permit(Permission::EditMeters).expect("permit");
    let e = park_import_folder(&s.store, permit, NOW).expect_err("done/ is a link");
    assert_eq!(rule(e).0, FolderRule::NotAllowed);
    assert!(watched.join("park.csv").exists() && names(&other).is_empty());
    // A link allowed as such is resolved too: the folder it points at is what is allowed.
    let link = s.dir.path().join("shares/to-other");
    std::os::unix::fs::symlink(&other, &link).expect("link");
    s.allow(&[&link]);
    s.save_profile(&other).expect("the link's target is inside");

    // The same for an export job's folder.
    s.allow(&[&inbox]);
    let layout = Layout::new("Liste", Format::Csv, vec![Field::new(Var::MeterSerial)]);
    billing::layout_save(&s.store, &s.manager, &layout, NOW).expect("layout");
    for folder in [inbox.join("link"), inbox.join("../../other"), inbox.join("db")] {
        let job = Job::monthly_to_folder("j", "Liste", &folder.display().to_string());
        let e = jobs::export_job_save(&s.store, &s.manager, &job, NOW).expect_err("escape");
        assert!(matches!(rule(e).0, FolderRule::NotAllowed | FolderRule::IsStore), "{}", folder.display());
    }
}

#[test]
fn only_whole_csv_and_txt_files_are_taken_from_a_watched_folder() {
    let s = setup();
    let inbox = s.path("import");
    s.allow(&[&inbox]);
    s.save_profile(&inbox).expect("profile");
    let old = NOW - 3600;
    let db_bytes = std::fs::read(s.dir.path().join("data/releve.db")).expect("db");
    written(&inbox.join("a.CSV"), CSV.as_bytes(), old);
    written(&inbox.join("b.txt"), b"number;name;serial\nC2;Bruno Petit;22222222\n", old);
    for (name, bytes) in [
        ("copy.db", &db_bytes[..]),
        ("copy.db-wal", b"WAL"),
        ("copy.db-shm", b"SHM"),
        ("copy.sqlite", &db_bytes[..]),
        ("random.bin", &[0u8, 159, 146, 150, 255, 10, 59][..]),
        (".hidden.csv", CSV.as_bytes()),
        ("notes.csv.report.json", b"{}"),
    ] {
        written(&inbox.join(name), bytes, old);
    }
    #[cfg(unix)]
    std::os::unix::fs::symlink(s.dir.path().join("data/releve.db"), inbox.join("link.csv")).expect("link");

    let r = s.run(NOW);
    let taken: Vec<(&str, &str)> = r.files.iter().map(|f| (f.file.as_str(), f.outcome.as_str())).collect();
    assert_eq!(taken, [("a.CSV", "done"), ("b.txt", "done")]);
    let skipped: Vec<(&str, Skip)> = r.skipped.iter().map(|f| (f.file.as_str(), f.reason)).collect();
    let mut expected = vec![
        (".hidden.csv", Skip::Hidden),
        ("copy.db", Skip::Type),
        ("copy.db-shm", Skip::Type),
        ("copy.db-wal", Skip::Type),
        ("copy.sqlite", Skip::Type),
    ];
    #[cfg(unix)]
    expected.push(("link.csv", Skip::NotAFile));
    expected.extend([("notes.csv.report.json", Skip::Type), ("random.bin", Skip::Type)]);
    assert_eq!(skipped, expected);
    assert_eq!(s.customers(), 2);
    let left = names(&inbox);
    for (name, _) in &expected {
        assert!(left.contains(&name.to_string()), "{name} left alone: {left:?}");
    }
    assert_eq!(names(&inbox.join("done")), ["a.CSV", "b.txt"]);
    assert_eq!(std::fs::read(s.dir.path().join("data/releve.db")).expect("db").len(), db_bytes.len(), "the link's target untouched");
}

#[test]
fn a_file_still_being_written_is_taken_at_a_later_run() {
    let s = setup();
    let inbox = s.path("import");
    s.allow(&[&inbox]);
    s.save_profile(&inbox).expect("profile");
    // Modified 2 s before the run: left for later, and the profile stays due.
    written(&inbox.join("park.csv"), CSV.as_bytes(), NOW - 2);
    let r = s.run(NOW);
    assert!(r.files.is_empty(), "{r:?}");
    assert_eq!(r.skipped.iter().map(|f| (f.file.as_str(), f.reason)).collect::<Vec<_>>(), [("park.csv", Skip::Recent)]);
    assert!(inbox.join("park.csv").exists());
    assert_eq!(s.customers(), 0);
    // 30 s later (before the 5-minute interval): taken.
    let r = s.run(NOW + 30);
    assert_eq!(r.files.iter().map(|f| f.file.as_str()).collect::<Vec<_>>(), ["park.csv"]);
    assert_eq!(s.customers(), 1);
    assert!(inbox.join("done/park.csv").exists());

    // A file growing between the two looks, whatever its time says, waits too.
    let growing = inbox.join("growing.csv");
    written(&growing, b"number;name;serial\n", NOW - 3600);
    let writer = {
        let growing = growing.clone();
        std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(100));
            use std::io::Write;
            let mut f = std::fs::File::options().append(true).open(&growing).expect("open");
            f.write_all(b"C3;Chloe Roux;33333333\n").expect("append");
        })
    };
    let watch = Watch { settle_seconds: 10, look_again: std::time::Duration::from_millis(600) };
    let permit = s.manager.permit(Permission::EditMeters).expect("permit");
    let r = park_import_folder_with(&s.store, permit, NOW + 3600, &watch).expect("run");
    writer.join().expect("writer");
    assert_eq!(r.skipped.iter().map(|f| (f.file.as_str(), f.reason)).collect::<Vec<_>>(), [("growing.csv", Skip::Growing)]);
    assert!(growing.exists() && r.files.is_empty());
    // Written whole now (its time, from the machine's clock, set back before the fixed one).
    let whole = std::fs::read(&growing).expect("read");
    written(&growing, &whole, NOW);
    let r = park_import_folder_with(&s.store, permit, NOW + 3700, &watch).expect("run");
    assert_eq!(r.files.len(), 1, "{r:?}");
    assert_eq!(s.customers(), 2);
}

#[test]
fn a_job_whose_folder_is_not_allowed_fails_with_the_reason_and_writes_nothing() {
    let s = setup();
    let out = s.dir.path().join("exports");
    let layout = Layout::new("Liste", Format::Csv, vec![Field::new(Var::MeterSerial)]);
    billing::layout_save(&s.store, &s.manager, &layout, NOW).expect("layout");
    let job = Job::monthly_to_folder("Mensuel", "Liste", &out.display().to_string());
    let e = jobs::export_job_save(&s.store, &s.manager, &job, NOW).expect_err("not allowed");
    assert_eq!(rule(e), (FolderRule::NotAllowed, out.display().to_string()));
    s.allow(&[&out]);
    let e = jobs::export_job_save(&s.store, &s.manager, &job, NOW).expect_err("missing");
    assert_eq!(rule(e), (FolderRule::Missing, out.display().to_string()));
    std::fs::create_dir(&out).expect("mkdir");
    let id = jobs::export_job_save(&s.store, &s.manager, &job, NOW).expect("allowed");
    let run = jobs::export_job_run_now(&s.store, &s.manager, id, "test", NOW).expect("run");
    assert_eq!(run.status, "ok", "{run:?}");
    assert_eq!(names(&out).len(), 1);
    std::fs::remove_dir_all(&out).expect("rm");

    // Taken off the list: the run fails, says why, and writes nothing.
    folders_allowed_set(&s.store, &s.manager, &[], NOW).expect("none");
    let run = jobs::export_job_run_now(&s.store, &s.manager, id, "test", NOW + 1).expect("run");
    assert_eq!(run.status, "failed");
    let error = run.error.expect("reason");
    assert!(error.contains("not inside an allowed folder") && error.contains(&out.display().to_string()), "{error}");
    assert!(!out.exists(), "nothing written");

    // A job forced onto the database's folder: refused at run, the folder unchanged.
    let data = s.dir.path().join("data");
    let forced = Job { id: Some(id), ..Job::monthly_to_folder("Mensuel", "Liste", &data.display().to_string()) };
    store::export_jobs::save_job(&s.store.writer(), &forced, NOW).expect("forced");
    store::settings::set(&s.store.writer(), ALLOWED_FOLDERS_KEY, &serde_json::json!([data]).to_string()).expect("forced list");
    let before = names(&data);
    let run = jobs::export_job_run_now(&s.store, &s.manager, id, "test", NOW + 2).expect("run");
    assert_eq!(run.status, "failed");
    assert!(run.error.as_deref().is_some_and(|e| e.contains("holds the database")), "{run:?}");
    assert_eq!(names(&data), before);
}

/// Saving a job checks its destination now: an allowed folder that exists and is a folder;
/// an SMTP server when it mails (its file, or a failure report). "Test" runs the job as on
/// screen into its folder, then by e-mail through a REAL SMTP server on loopback (aiosmtpd),
/// without a run in the log; "send a test e-mail" from the mail settings arrives too.
#[test]
fn a_job_is_checked_on_save_and_tested_into_its_destination() {
    use releve_core::notify::{self, ChannelSettings};
    let s = setup();
    let out = s.dir.path().join("factures");
    let layout = Layout::new("Liste", Format::Csv, vec![Field::new(Var::MeterSerial)]);
    billing::layout_save(&s.store, &s.manager, &layout, NOW).expect("layout");
    s.allow(&[&out]);
    let job = Job::monthly_to_folder("Mensuel", "Liste", &out.display().to_string());
    assert_eq!(rule(jobs::export_job_save(&s.store, &s.manager, &job, NOW).expect_err("missing")), (FolderRule::Missing, out.display().to_string()));
    assert_eq!(rule(jobs::export_job_test(&s.store, &s.manager, &job, NOW).expect_err("missing")).0, FolderRule::Missing);
    std::fs::write(&out, "a file").expect("file");
    assert_eq!(rule(jobs::export_job_save(&s.store, &s.manager, &job, NOW).expect_err("a file")).0, FolderRule::NotAFolder);
    std::fs::remove_file(&out).expect("rm");
    std::fs::create_dir(&out).expect("mkdir");
    let e = jobs::export_job_test(&s.store, &s.clerk, &job, NOW).expect_err("a clerk may not");
    assert_eq!(e.code(), "forbidden");
    let tested = jobs::export_job_test(&s.store, &s.manager, &job, NOW).expect("test");
    assert_eq!((tested.period_from.as_str(), tested.period_to.as_str()), ("2025-12-01", "2025-12-31"));
    assert!(Path::new(&tested.delivered_to).starts_with(&out), "{tested:?}");
    assert_eq!(names(&out), vec![tested.file_name.clone()], "the file, and no probe left behind");
    assert!(jobs::export_runs_list(&s.store, &s.manager, None, 10).expect("runs").is_empty(), "a test is not a run");

    // By e-mail: refused while no SMTP server is set, for the file and for a failure report.
    let by_mail = Job { destination: "email".into(), folder: String::new(), email_to: vec!["compta@example.org".into()], ..job.clone() };
    let e = jobs::export_job_save(&s.store, &s.manager, &by_mail, NOW).expect_err("no smtp");
    assert_eq!((e.code(), e.params()["setting"].as_str()), ("not_configured", Some("smtp")));
    let reported = Job { report_to: vec!["exploitation@example.org".into()], ..job.clone() };
    assert_eq!(jobs::export_job_save(&s.store, &s.manager, &reported, NOW).expect_err("no smtp").code(), "not_configured");
    let e = notify::notify_test_email(&s.store, &s.manager, "chef@example.org", NOW).expect_err("no smtp");
    assert_eq!(e.code(), "not_configured");

    let server = smtp::Smtp::start(s.dir.path());
    let settings = ChannelSettings {
        smtp_host: "127.0.0.1".into(),
        smtp_port: server.port,
        smtp_from: "releve@example.org".into(),
        smtp_tls: "none".into(),
        ..Default::default()
    };
    notify::notify_settings(&s.store, &s.manager, &settings, NOW).expect("settings");
    jobs::export_job_save(&s.store, &s.manager, &by_mail, NOW).expect("saved with a mail server");
    let tested = jobs::export_job_test(&s.store, &s.manager, &by_mail, NOW).expect("mailed");
    assert_eq!(tested.delivered_to, "e-mail to compta@example.org");
    assert_eq!(notify::notify_test_email(&s.store, &s.clerk, "chef@example.org", NOW).expect_err("clerk").code(), "forbidden");
    assert_eq!(notify::notify_test_email(&s.store, &s.manager, " chef@example.org ", NOW).expect("sent"), "chef@example.org");
    let messages = server.messages();
    assert_eq!(messages.len(), 2, "the job's file and the test e-mail");
    assert!(messages.iter().any(|m| m.contains("compta@example.org") && m.contains(&tested.file_name)), "{messages:?}");
    assert!(messages.iter().any(|m| m.contains("chef@example.org") && m.contains("e-mail de test")), "{messages:?}");
    let audit = store::audit::latest(&s.store.writer(), 20).expect("audit");
    for event in ["export_job_test", "notify_test_email"] {
        assert!(audit.iter().any(|a| a.event == event && a.user == s.manager.login), "{event} audited");
    }
}
