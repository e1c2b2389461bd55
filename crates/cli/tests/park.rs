//! `releve park import-folder`: the files of a due profile folder are imported and moved.

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
    let inbox = dir.path().join("inbox");
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
    let o = Command::new(bin).args(["park", "import-folder", "--db", db_arg]).env_remove("RELEVE_PASSWORD").output().expect("run");
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{out}{}", String::from_utf8_lossy(&o.stderr));
    assert!(out.contains("park.csv (billing): done") && out.contains("meters 1 added"), "{out}");
    assert!(inbox.join("done/park.csv").exists());
}
