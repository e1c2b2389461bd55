//! Sources that deliver readings by themselves (the fixed network): concentrators and
//! gateways pushing over HTTP (`POST /ingest/<name>` with the source's token). What a source
//! delivers goes through the one import path: parsed, decoded, committed in short slices,
//! and acknowledged only once committed; the same telegram delivered twice is stored once.

use crate::access::{Permission, Session};
use crate::error::{Error, Result};
use crate::import::{self, line, text, FileReport};
use crate::store::{self, sources::Source, Store};
use serde::{Deserialize, Serialize};

/// The formats a source may deliver: drive-by lines (bare hex, `telegram=|..|`, rtl-wmbus),
/// or one JSON object a line (`{"telegram": hex, "time"?, "rssi"?, "gateway"?}`).
pub const FORMATS: [&str; 2] = ["lines", "jsonl"];
/// The kinds of source made so far.
pub const KINDS: [&str; 1] = ["http"];
/// A push body holds at most this many bytes unless the source says otherwise.
pub const DEFAULT_MAX_BODY: i64 = 16 << 20;
/// At most this many unreadable lines are listed when a push is refused.
const MAX_LISTED: usize = 100;

#[derive(Debug, Clone, Deserialize)]
pub struct NewSource {
    pub name: String,
    pub kind: String,
    pub format: String,
    pub max_body: Option<i64>,
}

#[derive(Debug, Serialize)]
pub struct Added {
    pub source: Source,
    /// The source's token: shown once, only its SHA-256 is kept.
    pub token: String,
}

fn token_hash(token: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(token.as_bytes()))
}

/// Make a source (needs `settings`, audited); its token is in the answer, and only there.
pub fn source_add(store: &Store, session: &Session, new: &NewSource, now: i64) -> Result<Added> {
    let permit = session.permit(Permission::Settings)?;
    let name = new.name.trim();
    if name.is_empty() || name.len() > 64 || !name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) {
        return Err(Error::bad_input("name", "1 to 64 letters, digits, '-', '_' or '.' (it is part of the push address)"));
    }
    if !KINDS.contains(&new.kind.as_str()) {
        return Err(Error::bad_input("kind", format!("one of {}", KINDS.join(", "))));
    }
    if !FORMATS.contains(&new.format.as_str()) {
        return Err(Error::bad_input("format", format!("one of {}", FORMATS.join(", "))));
    }
    let max_body = new.max_body.unwrap_or(DEFAULT_MAX_BODY);
    if !(1024..=1 << 30).contains(&max_body) {
        return Err(Error::bad_input("max_body", "from 1 KiB to 1 GiB"));
    }
    let token = {
        use rand::RngCore;
        let mut b = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut b);
        hex::encode(b)
    };
    let hash = token_hash(&token);
    let mut conn = store.writer();
    let tx = conn.transaction()?;
    if store::sources::by_name(&tx, name)?.is_some() {
        return Err(Error::bad_input("name", format!("a source named {name} exists")));
    }
    let row = store::sources::NewSource { name, kind: &new.kind, format: &new.format, token_hash: Some(&hash), max_body };
    store::sources::insert(&tx, &row, now)?;
    let source = store::sources::by_name(&tx, name)?.ok_or_else(|| Error::not_found(format!("source {name}")))?;
    store::audit::record_permit(&tx, permit, now, "source_add", &format!("{name}: {} {}", new.kind, new.format))?;
    tx.commit()?;
    Ok(Added { source, token })
}

pub fn sources_list(store: &Store, session: &Session) -> Result<Vec<Source>> {
    session.permit(Permission::View)?;
    store::sources::list(&*store.reader()?)
}

/// Remove a source (needs `settings`, audited): its token stops working at once.
pub fn source_remove(store: &Store, session: &Session, name: &str, now: i64) -> Result<()> {
    let permit = session.permit(Permission::Settings)?;
    let mut conn = store.writer();
    let tx = conn.transaction()?;
    if !store::sources::delete(&tx, name)? {
        return Err(Error::not_found(format!("source {name}")));
    }
    store::audit::record_permit(&tx, permit, now, "source_remove", name)?;
    tx.commit()?;
    Ok(())
}

/// One line of the `jsonl` format.
#[derive(Deserialize)]
struct JsonFrame {
    telegram: String,
    #[serde(default)]
    time: Option<serde_json::Value>,
    #[serde(default)]
    rssi: Option<serde_json::Value>,
}

fn json_line(text: &str, tz: chrono_tz::Tz) -> line::Line {
    let text = text.trim();
    if text.is_empty() {
        return line::Line::Skip;
    }
    let f: JsonFrame = match serde_json::from_str(text) {
        Ok(f) => f,
        Err(e) => return line::Line::Bad(format!("not a JSON object with a \"telegram\": {e}")),
    };
    let received_at = match &f.time {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::Number(n)) => match n.as_i64() {
            Some(t) => Some(t),
            None => return line::Line::Bad(format!("time {n} is not whole Unix seconds")),
        },
        Some(serde_json::Value::String(s)) => match line::parse_local_time(s.trim(), tz) {
            Some(t) => Some(t),
            None => return line::Line::Bad(format!("unreadable time '{s}'")),
        },
        Some(other) => return line::Line::Bad(format!("time {other} is neither a date-time text nor Unix seconds")),
    };
    let rssi = match &f.rssi {
        Some(serde_json::Value::Number(n)) => n.as_f64().and_then(|v| line::rssi(&v.to_string())),
        _ => None,
    };
    let hex = f.telegram.trim();
    line::hex_frame(hex.strip_prefix("0x").unwrap_or(hex), received_at, rssi)
}

/// The source `name` when `token` is its token and it takes pushes; else `wrong_token`
/// (also for a source that does not exist: a stranger learns nothing).
pub fn check_token(store: &Store, name: &str, token: Option<&str>) -> Result<Source> {
    let wrong = || Error::WrongToken { source_name: name.to_string() };
    let source = store::sources::by_name(&*store.reader()?, name)?.ok_or_else(wrong)?;
    let expected = source.token_hash.as_deref().ok_or_else(wrong)?;
    let given = token_hash(token.ok_or_else(wrong)?);
    // The same work whatever the first differing character.
    let same = given.len() == expected.len() && given.bytes().zip(expected.bytes()).fold(0u8, |d, (a, b)| d | (a ^ b)) == 0;
    if !same || !source.enabled || source.kind != "http" {
        return Err(wrong());
    }
    Ok(source)
}

/// A concentrator's push to source `name`: the token checked, the body read in the
/// source's format, and stored through the import path; the answer is given once it is
/// committed. A body with unreadable lines is refused whole (nothing stored), naming them.
pub fn ingest_push(store: &Store, name: &str, token: Option<&str>, body: &[u8], now: i64) -> Result<FileReport> {
    let source = check_token(store, name, token)?;
    if body.len() as i64 > source.max_body {
        return Err(Error::TooLarge { limit: source.max_body as u64 });
    }
    let body = text::utf8(name, body)?;
    let settings = import::Settings::read(store, now)?;
    let tz = settings.tz();
    let lines: Vec<(u64, line::Line)> = text::lines(&body)
        .map(|(n, raw)| {
            let raw = String::from_utf8_lossy(raw);
            (n, if source.format == "jsonl" { json_line(&raw, tz) } else { line::parse(&raw, tz) })
        })
        .collect();
    let bad: Vec<(u64, String)> =
        lines.iter().filter_map(|(n, l)| if let line::Line::Bad(reason) = l { Some((*n, reason.clone())) } else { None }).collect();
    if !bad.is_empty() {
        let count = bad.len();
        return Err(Error::BadLines { source_name: name.to_string(), lines: bad.into_iter().take(MAX_LISTED).collect(), count });
    }
    let mut session = Session::system(&format!("source {name}"));
    session.login = format!("source:{name}");
    let permit = session.permit(Permission::Import)?;
    let total = lines.len() as u64;
    import::import_lines(store, permit, &format!("push to {name}"), &body, total, lines.into_iter(), settings, &mut |_, _| {})
}
