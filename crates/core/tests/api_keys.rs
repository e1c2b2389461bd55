//! API keys through the core, on a real SQLite file: a created key authenticates to a session
//! holding its scopes' permissions and its reach; only the secret's SHA-256 is stored; revoked
//! and expired keys are refused with their reason; bad inputs are refused naming the field,
//! with nothing stored; `authorize` lets a key run only the open API's operations its scopes
//! allow; creation and revocation are audited.

use releve_core::access::{self, api_keys, Permission, Scope, Session};
use releve_core::store::{self, Store};
use sha2::{Digest, Sha256};

#[path = "support/users.rs"]
mod users;

const NOW: i64 = 1_795_435_200;
const DAY: i64 = 86_400;

struct Fixture {
    _dir: tempfile::TempDir,
    store: Store,
    manager: Session,
    clerk: Session,
    north: i64,
    south: i64,
    customer: i64,
}

/// A manager and a clerk, the groups "Nord" and "Sud", customer "C-1001".
fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&dir.path().join("t.db")).expect("open");
    let (manager, clerk) = users::manager_and_clerk(&store, NOW);
    let (north, south, customer) = {
        let conn = store.writer();
        let c = store::customers::Customer {
            number: "C-1001".into(),
            name: "Jeanne Martin".into(),
            address: "1 rue des Lilas".into(),
            postal_code: "75001".into(),
            city: "Paris".into(),
            email: None,
            phone: None,
        };
        (
            store::groups::create(&conn, "Nord", NOW).expect("group"),
            store::groups::create(&conn, "Sud", NOW).expect("group"),
            store::customers::insert(&conn, &c).expect("customer"),
        )
    };
    Fixture { _dir: dir, store, manager, clerk, north, south, customer }
}

fn new_key(name: &str, scopes: &[&str]) -> api_keys::NewKey {
    api_keys::NewKey { name: name.into(), scopes: scopes.iter().map(|s| s.to_string()).collect(), ..Default::default() }
}

fn create(f: &Fixture, new: &api_keys::NewKey, now: i64) -> Result<api_keys::Created, releve_core::Error> {
    api_keys::create(&f.store, f.manager.permit(Permission::ManageUsers).expect("manager"), new, now)
}

fn revoke(f: &Fixture, id: i64, now: i64) -> api_keys::KeyRow {
    api_keys::revoke(&f.store, f.manager.permit(Permission::ManageUsers).expect("manager"), id, now).expect("revoke")
}

fn list(f: &Fixture, now: i64) -> Vec<api_keys::KeyRow> {
    api_keys::list(&f.store, f.manager.permit(Permission::ManageUsers).expect("manager"), now).expect("list")
}

fn audit(f: &Fixture) -> Vec<store::audit::Entry> {
    store::audit::latest(&f.store.reader().expect("reader"), 1000).expect("audit")
}

fn key_count(f: &Fixture) -> i64 {
    f.store.reader().expect("reader").query_row("SELECT count(*) FROM api_keys", [], |r| r.get(0)).expect("count")
}

/// The code of an error and, for a `bad_input`, the field and reason it names.
fn refusal(e: &releve_core::Error) -> (String, String, String) {
    let p = e.params();
    let s = |k: &str| p.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
    (e.code().to_string(), s("field"), s("reason"))
}

#[test]
fn a_created_key_authenticates_to_a_session_of_its_scopes_and_reach() {
    let f = fixture();
    let mut new = new_key("Facturation", &["readings:read", "meters:read", "readings:read"]);
    new.groups = vec![f.south, f.north, f.north];
    new.expires_at = Some(NOW + 30 * DAY);
    new.rate_per_minute = Some(120);
    let created = create(&f, &new, NOW).expect("create");
    let k = &created.key;
    assert!(created.secret.starts_with("rlv_") && created.secret.len() == 4 + 64, "{}", created.secret);
    assert!(created.secret.starts_with(&k.prefix) && k.prefix.len() == 10, "{}", k.prefix);
    assert_eq!(k.scopes, ["meters:read", "readings:read"], "sorted, once each");
    assert_eq!(k.groups, [f.north, f.south]);
    assert_eq!(k.group_names, ["Nord", "Sud"]);
    assert_eq!((k.customer, k.customer_number.as_deref()), (None, None));
    assert_eq!((k.expires_at, k.rate_per_minute, k.state, k.created_by.as_str()), (Some(NOW + 30 * DAY), 120, "active", "manager"));
    assert_eq!(k.last_used_at, None);

    let session = api_keys::authenticate(&f.store, Some(&created.secret), "10.0.0.7", NOW + 60).expect("authenticate");
    assert_eq!((session.login.as_str(), session.computer.as_str(), session.user_id), ("api:Facturation", "10.0.0.7", 0));
    assert_eq!(session.permissions, [Permission::View], "readings:read and meters:read give view only");
    let grant = session.key.as_ref().expect("a key's session");
    assert_eq!((grant.id, grant.name.as_str(), grant.rate_per_minute), (k.id, "Facturation", 120));
    assert_eq!(grant.scopes, [Scope::MetersRead, Scope::ReadingsRead]);
    assert_eq!((grant.groups.clone(), grant.customer), (vec![f.north, f.south], None));
    assert!(grant.restricted());
    assert!(session.permit(Permission::ManageUsers).is_err() && session.permit(Permission::ViewIntervals).is_err());

    // Interval data is a scope of its own; a portal's key by customer number.
    let mut portal = new_key("Portail Martin", &["intervals:read", "readings:read"]);
    portal.customer_number = Some(" C-1001 ".into());
    let portal = create(&f, &portal, NOW).expect("portal key");
    assert_eq!((portal.key.customer, portal.key.customer_number.as_deref()), (Some(f.customer), Some("C-1001")));
    let s = api_keys::authenticate(&f.store, Some(&portal.secret), "portal", NOW).expect("portal");
    assert_eq!(s.permissions, [Permission::View, Permission::ViewIntervals]);
    assert_eq!((s.key.as_ref().expect("key").customer, s.key.as_ref().expect("key").groups.is_empty()), (Some(f.customer), true));

    // A call recorded: the key is marked used, the audit names it.
    api_keys::record_call(&f.store, &session, "GET /api/v1/meters", 200, NOW + 120).expect("record");
    let row = list(&f, NOW + 180).into_iter().find(|r| r.id == k.id).expect("listed");
    assert_eq!(row.last_used_at, Some(NOW + 120));
    let call = audit(&f).into_iter().find(|e| e.event == "api_call").expect("api_call audited");
    assert_eq!(call.user, "api:Facturation");
    assert!(call.details.contains("GET /api/v1/meters"), "{}", call.details);
}

#[test]
fn only_the_sha256_of_the_secret_is_stored() {
    let f = fixture();
    let created = create(&f, &new_key("ERP", &["meters:read"]), NOW).expect("create");
    let conn = f.store.reader().expect("reader");
    let stored: String = conn.query_row("SELECT secret_hash FROM api_keys WHERE id = ?1", [created.key.id], |r| r.get(0)).expect("hash");
    assert_eq!(stored, hex::encode(Sha256::digest(created.secret.as_bytes())));
    // No column of the row, nor the audit log, holds the secret (nor its random part).
    let random = &created.secret[4..];
    let whole: String = conn
        .query_row(
            "SELECT name || prefix || secret_hash || scopes || coalesce(group_ids, '') || created_by FROM api_keys WHERE id = ?1",
            [created.key.id],
            |r| r.get(0),
        )
        .expect("row");
    assert!(!whole.contains(random), "the secret is stored: {whole}");
    assert!(audit(&f).iter().all(|e| !e.details.contains(random)), "the secret is in the audit log");
    // A list never carries it.
    let listed = serde_json::to_string(&list(&f, NOW)).expect("json");
    assert!(!listed.contains(random) && !listed.contains("secret"), "{listed}");
    // Another key, another secret.
    let other = create(&f, &new_key("ERP 2", &["meters:read"]), NOW).expect("create");
    assert_ne!(other.secret, created.secret);
}

#[test]
fn missing_unknown_revoked_and_expired_keys_are_refused_with_their_reason() {
    let f = fixture();
    let reason = |secret: Option<&str>, now: i64| match api_keys::authenticate(&f.store, secret, "x", now) {
        Ok(_) => "accepted".to_string(),
        Err(e) => {
            assert_eq!(e.code(), "wrong_api_key", "{e}");
            e.params().get("reason").and_then(|r| r.as_str()).unwrap_or("").to_string()
        }
    };
    let mut dated = new_key("Expire", &["meters:read"]);
    dated.expires_at = Some(NOW + DAY);
    let dated = create(&f, &dated, NOW).expect("create");
    let revoked = create(&f, &new_key("Révoquée", &["meters:read"]), NOW).expect("create");

    assert_eq!(reason(None, NOW), "missing");
    assert_eq!(reason(Some("  "), NOW), "missing");
    assert_eq!(reason(Some("rlv_0000"), NOW), "unknown");
    assert_eq!(reason(Some(&"a".repeat(5000)), NOW), "unknown");
    // One hex digit changed.
    let last = if dated.secret.ends_with('0') { '1' } else { '0' };
    let tampered = format!("{}{last}", &dated.secret[..dated.secret.len() - 1]);
    assert_eq!(reason(Some(&tampered), NOW), "unknown");

    assert_eq!(reason(Some(&dated.secret), NOW + DAY - 1), "accepted");
    assert_eq!(reason(Some(&dated.secret), NOW + DAY), "expired");
    assert_eq!(list(&f, NOW + DAY).iter().find(|k| k.id == dated.key.id).expect("listed").state, "expired");

    assert_eq!(reason(Some(&revoked.secret), NOW), "accepted");
    let row = revoke(&f, revoked.key.id, NOW + 10);
    assert_eq!((row.state, row.revoked_at), ("revoked", Some(NOW + 10)));
    assert_eq!(reason(Some(&revoked.secret), NOW + 11), "revoked");
    // Revoked stays revoked (a second revocation changes nothing, and is not audited again).
    let again = revoke(&f, revoked.key.id, NOW + 20);
    assert_eq!(again.revoked_at, Some(NOW + 10));
    assert_eq!(audit(&f).iter().filter(|e| e.event == "api_key_revoke").count(), 1);
    let missing = api_keys::revoke(&f.store, f.manager.permit(Permission::ManageUsers).expect("permit"), 999, NOW).expect_err("unknown id");
    assert_eq!(missing.code(), "not_found");
}

#[test]
fn bad_inputs_are_refused_naming_the_field_and_nothing_is_stored() {
    let f = fixture();
    create(&f, &new_key("Facturation", &["meters:read"]), NOW).expect("first key");
    let with = |edit: &dyn Fn(&mut api_keys::NewKey)| {
        let mut k = new_key("Autre", &["meters:read"]);
        edit(&mut k);
        k
    };
    let cases: Vec<(&str, api_keys::NewKey, (&str, &str, &str))> = vec![
        ("empty name", with(&|k| k.name = "   ".into()), ("bad_input", "name", "required")),
        ("long name", with(&|k| k.name = "x".repeat(81)), ("bad_input", "name", "too_long")),
        ("no scope", with(&|k| k.scopes.clear()), ("bad_input", "scopes", "required")),
        ("unknown scope", with(&|k| k.scopes.push("meters:write".into())), ("bad_input", "scopes", "unknown")),
        ("taken name", with(&|k| k.name = " Facturation ".into()), ("api_key_name_taken", "name", "")),
        ("unknown group", with(&|k| k.groups = vec![f.north, 9999]), ("bad_input", "groups", "unknown")),
        ("unknown customer number", with(&|k| k.customer_number = Some("C-404".into())), ("bad_input", "customer", "unknown")),
        ("empty customer number", with(&|k| k.customer_number = Some(" ".into())), ("bad_input", "customer", "required")),
        ("unknown customer id", with(&|k| k.customer = Some(9999)), ("bad_input", "customer", "unknown")),
        ("number and id of two customers", with(&|k| { k.customer = Some(f.customer); k.customer_number = Some("C-404".into()) }), ("bad_input", "customer", "unknown")),
        ("expiry now", with(&|k| k.expires_at = Some(NOW)), ("bad_input", "expires_at", "not_in_future")),
        ("expiry past", with(&|k| k.expires_at = Some(NOW - DAY)), ("bad_input", "expires_at", "not_in_future")),
        ("rate 0", with(&|k| k.rate_per_minute = Some(0)), ("bad_input", "rate_per_minute", "out_of_range")),
        ("rate too high", with(&|k| k.rate_per_minute = Some(100_001)), ("bad_input", "rate_per_minute", "out_of_range")),
    ];
    for (what, new, (code, field, reason)) in cases {
        let e = create(&f, &new, NOW).expect_err(what);
        assert_eq!(refusal(&e), (code.to_string(), field.to_string(), reason.to_string()), "{what}: {e}");
        assert_eq!(key_count(&f), 1, "{what}: nothing stored");
    }
    // A customer who moved out (a pseudonym now) gets no portal key.
    store::occupancies::pseudonymize(&f.store.writer(), f.customer, "former_occupant", NOW - DAY).expect("move out");
    let number = store::customers::get(&f.store.reader().expect("reader"), f.customer).expect("read").expect("customer").number;
    let moved = create(&f, &with(&|k| k.customer = Some(f.customer)), NOW).expect_err("moved out");
    assert_eq!(refusal(&moved), ("bad_input".into(), "customer".into(), "moved_out".into()), "{moved}");
    assert_eq!(moved.params().get("number").and_then(|v| v.as_str()), Some(number.as_str()));
    assert_eq!(key_count(&f), 1);
    let unknown = create(&f, &with(&|k| k.scopes = vec!["meters:read".into(), "everything".into()]), NOW).expect_err("unknown scope");
    assert_eq!(unknown.params().get("value").and_then(|v| v.as_str()), Some("everything"));
    assert!(unknown.params()["allowed"].as_array().expect("allowed").len() == Scope::ALL.len());
    let group = create(&f, &with(&|k| k.groups = vec![9999]), NOW).expect_err("unknown group");
    assert_eq!(group.params().get("value").and_then(|v| v.as_str()), Some("9999"));
    // The limits themselves pass.
    create(&f, &with(&|k| { k.name = "y".repeat(80); k.rate_per_minute = Some(100_000); k.expires_at = Some(NOW + 1) }), NOW).expect("at the limits");
    create(&f, &with(&|k| k.rate_per_minute = Some(1)), NOW).expect("rate 1");
    assert_eq!(audit(&f).iter().filter(|e| e.event == "api_key_create").count(), 3, "one entry per key created, none for a refusal");
}

#[test]
fn only_a_manager_administers_keys() {
    let f = fixture();
    let clerk = f.clerk.permit(Permission::View).expect("view");
    let e = api_keys::create(&f.store, clerk, &new_key("Clerk key", &["meters:read"]), NOW).expect_err("clerk creates");
    assert_eq!(e.code(), "forbidden");
    assert_eq!(api_keys::list(&f.store, clerk, NOW).expect_err("clerk lists").code(), "forbidden");
    let made = create(&f, &new_key("K", &["meters:read"]), NOW).expect("create");
    assert_eq!(api_keys::revoke(&f.store, clerk, made.key.id, NOW).expect_err("clerk revokes").code(), "forbidden");
    // A manager's permit for another permission is not enough proof either way: asked again.
    let other = f.manager.permit(Permission::View).expect("view");
    assert_eq!(api_keys::list(&f.store, other, NOW).expect("a manager's view permit is re-asked").len(), 1);
    for name in ["api_keys_list", "api_key_create", "api_key_revoke"] {
        assert_eq!(access::authorize(&f.clerk, name).expect_err(name).code(), "forbidden", "{name}");
        access::authorize(&f.manager, name).expect(name);
    }
}

#[test]
fn a_key_runs_only_the_open_api_operations_of_its_scopes() {
    let f = fixture();
    let reader = create(&f, &new_key("Lecteur", &["readings:read", "meters:read"]), NOW).expect("create");
    let session = api_keys::authenticate(&f.store, Some(&reader.secret), "x", NOW).expect("auth");
    for (name, scope) in access::SCOPED {
        let r = access::authorize(&session, name);
        if matches!(scope, Scope::ReadingsRead | Scope::MetersRead) {
            assert!(r.is_ok(), "{name}: {:?}", r.err());
        } else {
            let e = r.expect_err(name);
            assert_eq!(e.code(), "scope_missing", "{name}");
            assert_eq!(e.params().get("scope").and_then(|s| s.as_str()), Some(scope.as_str()), "{name}");
            assert_eq!(e.params().get("key").and_then(|s| s.as_str()), Some("Lecteur"), "{name}");
        }
    }
    // Every other command is forbidden to a key, whatever it would need.
    for rule in access::COMMANDS.iter().filter(|r| !r.name.starts_with("v1_")) {
        let e = access::authorize(&session, rule.name).expect_err(rule.name);
        assert_eq!(e.code(), "forbidden", "{}", rule.name);
    }
    // A key of every scope runs every open API operation.
    let all = create(&f, &new_key("Tout", &Scope::ALL.map(|s| s.as_str())), NOW).expect("all");
    let session = api_keys::authenticate(&f.store, Some(&all.secret), "x", NOW).expect("auth");
    for (name, _) in access::SCOPED {
        access::authorize(&session, name).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    assert!(access::authorize(&session, "meters_list").is_err() && access::authorize(&session, "api_key_create").is_err());
    // A user's session runs the open API's operations by permission, as any command.
    access::authorize(&f.clerk, "v1_meters_list").expect("a clerk views");
}

#[test]
fn creating_and_revoking_are_audited_naming_the_key() {
    let f = fixture();
    let mut new = new_key("Portail", &["readings:read"]);
    new.customer = Some(f.customer);
    let made = create(&f, &new, NOW).expect("create");
    revoke(&f, made.key.id, NOW + 5);
    let entries = audit(&f);
    let created = entries.iter().find(|e| e.event == "api_key_create").expect("create audited");
    assert_eq!((created.user.as_str(), created.computer.as_str(), created.at), ("manager", "pc", NOW));
    let details: serde_json::Value = serde_json::from_str(&created.details).expect("json");
    assert_eq!(details["key"], "Portail");
    assert_eq!(details["scopes"], "readings:read");
    assert_eq!(details["customer"], f.customer);
    let revoked = entries.iter().find(|e| e.event == "api_key_revoke").expect("revoke audited");
    assert_eq!((revoked.user.as_str(), revoked.at), ("manager", NOW + 5));
    assert!(revoked.details.contains("Portail"), "{}", revoked.details);
}
