//! `releve park import-folder`: the files of a due profile folder are imported and moved;
//! a file still being written waits; a folder holding the database is not read, and says so.

use releve_core::access::Session;
use releve_core::park_profiles::{park_profile_save, ProfileSpec};
use releve_core::Store;
use std::process::Command;

#[test]
fn import_folder_imports_and_moves_files() {
    let dir = tempfile::tempdir().expect("tmp");
    let db = dir.path().join("park.db");
    let bin = env!("CARGO_BIN_EXE_releve");
    let db_arg = db.to_str().expect("utf-8 path");
    let demo = Command::new(bin).args(["demo", "--db", db_arg, "--meters", "10", "--seed", "3"]).output().expect("demo");
    assert!(demo.status.success(), "{}", String::from_utf8_lossy(&demo.stderr));
    // The demo allows `<database folder>/import`.
    let inbox = dir.path().join("import");
    std::fs::create_dir_all(&inbox).expect("mkdir");
    {
        let store = Store::open(&db).expect("open");
        let mapping = [("customer_number", 0), ("customer_name", 1), ("meter_serial", 2), ("device_type", 3)]
            .into_iter()
            .map(|(f, c)| (f.to_string(), c))
            .collect();
        let spec = ProfileSpec {
            name: "billing".into(),
            separator: ",".into(),
            has_header: true,
            mapping,
            folder: Some(inbox.display().to_string()),
            interval_minutes: Some(5),
        };
        park_profile_save(&store, &Session::system("test"), &spec, 0).expect("profile");
    }
    std::fs::write(inbox.join("park.csv"), "number,name,serial,type\nK-1,Ana,98000001,water\n").expect("write");
    let a_minute_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(60);
    std::fs::File::options().write(true).open(inbox.join("park.csv")).expect("open").set_modified(a_minute_ago).expect("mtime");
    std::fs::write(inbox.join("late.csv"), "number,name,serial,type\n").expect("write");
    let run = || Command::new(bin).args(["park", "import-folder", "--db", db_arg]).env_remove("RELEVE_PASSWORD").output().expect("run");
    let o = run();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{out}{}", String::from_utf8_lossy(&o.stderr));
    assert!(out.contains("park.csv (billing): done") && out.contains("meters 1 added"), "{out}");
    assert!(out.contains("late.csv (billing): left in the folder: modified moments ago"), "{out}");
    assert!(inbox.join("done/park.csv").exists() && inbox.join("late.csv").exists());

    // A profile put on the database's folder behind the app's back: not read, and said why.
    {
        let store = Store::open(&db).expect("open");
        let p = releve_core::store::profiles::Profile {
            id: 0,
            name: "forced".into(),
            separator: ",".into(),
            has_header: true,
            mapping: [("customer_number".to_string(), 0)].into(),
            folder: Some(dir.path().display().to_string()),
            interval_minutes: Some(5),
            last_run: None,
        };
        releve_core::store::profiles::save(&store.writer(), &p, 0).expect("forced");
    }
    let o = run();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "a refused folder makes the exit status non-zero");
    assert!(err.contains("forced: folder not read") && err.contains("holds the database"), "{err}");
    assert!(db.exists() && !dir.path().join("done").exists(), "the database stays where it is");
}
