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
/// one JSON object a line (`{"telegram": hex, "time"?, "rssi"?, "gateway"?}`), or Elvaco CMe
/// gateway report rows (`gateway;secondary address;YYYY-MM-DD hh:mm:ss;count;wired M-Bus long
/// frame from its C field, without checksum and stop byte`, a header row allowed first), or
/// one LoRaWAN network server event (`chirpstack`, `tts`: see [`crate::lorawan`]).
pub const FORMATS: [&str; 5] = ["lines", "jsonl", "elvaco", "chirpstack", "tts"];
/// The kinds of source made so far: concentrators pushing over HTTP, or dropping files into
/// a folder (an allowed folder; FTP, SFTP or SMB done by the system), or a broker's topic
/// that Relevé subscribes to (MQTT, see `mqtt`).
pub const KINDS: [&str; 3] = ["http", "folder", "mqtt"];
/// The files a folder source takes.
const FOLDER_EXTENSIONS: &[&str] = &["txt", "csv", "log", "jsonl", "json"];
/// A push body holds at most this many bytes unless the source says otherwise.
pub const DEFAULT_MAX_BODY: i64 = 16 << 20;
/// At most this many unreadable lines are listed when a push is refused.
const MAX_LISTED: usize = 100;

#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewSource {
    pub name: String,
    pub kind: String,
    pub format: String,
    pub max_body: Option<i64>,
    /// A folder source's folder (an allowed folder).
    #[serde(default)]
    pub folder: Option<String>,
    /// An MQTT source's broker (`mqtt://host:port` or `mqtts://host:port`), topic filter,
    /// login, and PEM files (the broker's CA, a client certificate and its key).
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub topic: Option<String>,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
    #[serde(default)]
    pub ca_file: Option<String>,
    #[serde(default)]
    pub cert_file: Option<String>,
    #[serde(default)]
    pub key_file: Option<String>,
}

/// An MQTT source's broker settings, checked: a broker URL, a topic filter, files that can be
/// read, a client certificate with its key.
fn mqtt_settings(new: &NewSource) -> Result<(String, String, [Option<String>; 3])> {
    let url = new.url.as_deref().map(str::trim).unwrap_or_default();
    if url.is_empty() {
        return Err(Error::bad_input("url", "an MQTT source needs its broker (mqtt://host:port or mqtts://host:port)"));
    }
    let broker = crate::mqtt::broker(url)?;
    let topic = new.topic.as_deref().unwrap_or_default();
    crate::mqtt::check_filter(topic)?;
    let given = |f: &Option<String>| f.as_deref().map(str::trim).filter(|f| !f.is_empty()).map(str::to_string);
    let files = [("ca_file", &new.ca_file), ("cert_file", &new.cert_file), ("key_file", &new.key_file)];
    let mut checked: [Option<String>; 3] = Default::default();
    for (slot, (field, file)) in checked.iter_mut().zip(files) {
        if let Some(path) = given(file) {
            *slot = Some(crate::mqtt::check_readable(field, &path)?);
        }
    }
    if checked[1].is_some() != checked[2].is_some() {
        return Err(Error::bad_input("cert_file", "a client certificate goes with its key (both or neither)"));
    }
    if !broker.tls && checked.iter().any(Option::is_some) {
        return Err(Error::bad_input("url", "certificate files are for an mqtts:// broker"));
    }
    if new.password.as_deref().is_some_and(|p| !p.is_empty()) && given(&new.username).is_none() {
        return Err(Error::bad_input("username", "a password goes with a user name"));
    }
    Ok((url.to_string(), topic.to_string(), checked))
}

#[derive(Debug, Serialize)]
pub struct Added {
    pub source: Source,
    /// An HTTP source's token: shown once, only its SHA-256 is kept.
    pub token: Option<String>,
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
    let folder = match (new.kind.as_str(), new.folder.as_deref().map(str::trim)) {
        ("folder", Some(f)) if !f.is_empty() => Some(crate::folders::check(store, f)?.display().to_string()),
        ("folder", _) => return Err(Error::bad_input("folder", "a folder source needs its folder")),
        _ => None,
    };
    let mqtt = if new.kind == "mqtt" { Some(mqtt_settings(new)?) } else { None };
    let token = (new.kind == "http").then(|| {
        use rand::RngCore;
        let mut b = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut b);
        hex::encode(b)
    });
    let hash = token.as_deref().map(token_hash);
    let mut conn = store.writer();
    let tx = conn.transaction()?;
    if store::sources::by_name(&tx, name)?.is_some() {
        return Err(Error::bad_input("name", format!("a source named {name} exists")));
    }
    let row = store::sources::NewSource {
        name,
        kind: &new.kind,
        format: &new.format,
        token_hash: hash.as_deref(),
        folder: folder.as_deref(),
        max_body,
        mqtt: mqtt.as_ref().map(|(url, topic, [ca, cert, key])| store::sources::Broker {
            url,
            topic,
            username: new.username.as_deref().map(str::trim).filter(|u| !u.is_empty()),
            password: new.password.as_deref().filter(|p| !p.is_empty()),
            ca_file: ca.as_deref(),
            cert_file: cert.as_deref(),
            key_file: key.as_deref(),
        }),
    };
    store::sources::insert(&tx, &row, now)?;
    let source = store::sources::by_name(&tx, name)?.ok_or_else(|| Error::not_found(format!("source {name}")))?;
    let what = match &mqtt {
        Some((url, topic, _)) => format!("{name}: mqtt {} {url} {topic}", new.format),
        None => format!("{name}: {} {}", new.kind, new.format),
    };
    store::audit::record_permit(&tx, permit, now, "source_add", &what)?;
    tx.commit()?;
    Ok(Added { source, token })
}

/// The sources with their status (last delivery, telegrams, rate, last refusal).
pub fn sources_list(store: &Store, session: &Session, now: i64) -> Result<Vec<Source>> {
    session.permit(Permission::View)?;
    store::sources::list(&*store.reader()?, now)
}

/// What source `name` received and could not take (newest first, at most `limit`).
pub fn source_log(store: &Store, session: &Session, name: &str, limit: i64) -> Result<Vec<store::sources::LogEntry>> {
    session.permit(Permission::View)?;
    let conn = store.reader()?;
    let source = store::sources::by_name(&conn, name)?.ok_or_else(|| Error::not_found(format!("source {name}")))?;
    store::sources::log_list(&conn, source.id, limit)
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
    #[serde(default)]
    gateway: Option<String>,
}

fn json_line(text: &str, tz: chrono_tz::Tz) -> line::Line {
    let text = text.trim();
    if text.is_empty() {
        return line::Line::Skip;
    }
    let f: JsonFrame = match serde_json::from_str(text) {
        Ok(f) => f,
        Err(e) => return line::Line::Bad(format!("not a JSON object with a \"telegram\": {e}").into()),
    };
    let received_at = match &f.time {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::Number(n)) => match n.as_i64() {
            Some(t) => Some(t),
            None => return line::Line::Bad(format!("time {n} is not whole Unix seconds").into()),
        },
        Some(serde_json::Value::String(s)) => match line::parse_local_time(s.trim(), tz) {
            Some(t) => Some(t),
            None => return line::Line::Bad(format!("unreadable time '{s}'").into()),
        },
        Some(other) => return line::Line::Bad(format!("time {other} is neither a date-time text nor Unix seconds").into()),
    };
    let rssi = match &f.rssi {
        Some(serde_json::Value::Number(n)) => n.as_f64().and_then(line::rssi_value),
        _ => None,
    };
    let hex = f.telegram.trim();
    let mut parsed = line::hex_frame(hex.strip_prefix("0x").unwrap_or(hex), received_at, rssi);
    if let (line::Line::Frame(frame), Some(gateway)) = (&mut parsed, f.gateway.as_deref().map(str::trim).filter(|g| !g.is_empty())) {
        if gateway.len() > 64 {
            return line::Line::Bad(format!("gateway name of {} characters (at most 64)", gateway.len()).into());
        }
        frame.heard_by.push(concentrator(gateway, rssi));
    }
    parsed
}

/// A concentrator's reception.
fn concentrator(name: &str, rssi: Option<i64>) -> line::Hearing {
    line::Hearing { gateway: name.to_string(), kind: "concentrator", at: None, rssi, snr: None }
}

/// One row of an Elvaco CMe gateway report (see [`FORMATS`]); `number` 1 may be a header.
fn elvaco_line(number: u64, text: &str, tz: chrono_tz::Tz) -> line::Line {
    let text = text.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
    if text.is_empty() {
        return line::Line::Skip;
    }
    let fields: Vec<&str> = text.split(';').map(str::trim).collect();
    let [gateway, secondary, time, _count, raw] = fields[..] else {
        return line::Line::Bad(format!("{} fields where an Elvaco row has 5 (gateway;secondary address;time;count;frame)", fields.len()).into());
    };
    let Some(received_at) = line::parse_local_time(time, tz) else {
        if number == 1 {
            return line::Line::Skip; // the header row
        }
        return line::Line::Bad(format!("unreadable time '{time}'").into());
    };
    let body = match line::hex_frame(raw.strip_prefix("0x").unwrap_or(raw), None, None) {
        line::Line::Frame(f) => f.bytes,
        other => return other,
    };
    let Some(bytes) = mbus::encode::wired_long_frame(&body) else {
        return line::Line::Bad(format!("a wired M-Bus frame body of {} bytes (from 3 to 255)", body.len()).into());
    };
    // The gateway names the meter it read: the frame must be that meter's.
    if let (Ok(address), Some(id)) = (mbus::peek_address(&bytes), secondary.get(..8)) {
        if !address.id.eq_ignore_ascii_case(id) {
            return line::Line::Bad(format!("the row names meter {id} but its frame is meter {}'s", address.id).into());
        }
    }
    let heard_by = if gateway.is_empty() { Vec::new() } else { vec![concentrator(&gateway.chars().take(64).collect::<String>(), None)] };
    line::Line::Frame(line::Frame { bytes, received_at: Some(received_at), rssi: None, heard_by })
}

/// The source `name` when `token` is its token and it takes pushes; else `wrong_token`
/// (also for a source that does not exist: a stranger learns nothing), and a source that
/// exists keeps the refusal in its status (its owner sees someone pushing with a wrong token).
pub fn check_token(store: &Store, name: &str, token: Option<&str>, now: i64) -> Result<Source> {
    let wrong = || Error::WrongToken { source_name: name.to_string() };
    let source = store::sources::by_name(&*store.reader()?, name)?.ok_or_else(wrong)?;
    let expected = source.token_hash.as_deref().ok_or_else(wrong)?;
    let given = token_hash(token.ok_or_else(wrong)?);
    // The same work whatever the first differing character.
    let same = given.len() == expected.len() && given.bytes().zip(expected.bytes()).fold(0u8, |d, (a, b)| d | (a ^ b)) == 0;
    if !same || !source.enabled || source.kind != "http" {
        refuse(store, &source, &wrong(), "a push with a wrong token", now)?;
        return Err(wrong());
    }
    Ok(source)
}

/// What a source delivered was refused: kept in its status (the screen's last refusal) and
/// in its log, with what was refused (`detail`) and, for unreadable lines, the first of them.
fn refuse(store: &Store, source: &Source, e: &Error, detail: &str, now: i64) -> Result<()> {
    let mut detail = detail.to_string();
    if let Error::BadLines { lines, count, .. } = e {
        let first: Vec<String> = lines.iter().take(5).map(|(n, r)| format!("line {n}: {r}")).collect();
        detail = format!("{detail}; {count} unreadable line(s): {}", first.join("; "));
    }
    let mut conn = store.writer();
    let tx = conn.transaction()?;
    store::sources::refused(&tx, source.id, e.code(), &e.to_string(), now)?;
    let entry = store::sources::LogEntry { at: now, code: e.code().to_string(), message: e.to_string(), detail };
    store::sources::log(&tx, source.id, &entry)?;
    tx.commit()?;
    Ok(())
}

/// A concentrator's push to source `name`: the token checked, the body read in the
/// source's format, and stored through the import path; the answer is given once it is
/// committed. A body with unreadable lines is refused whole (nothing stored), naming them.
pub fn ingest_push(store: &Store, name: &str, token: Option<&str>, body: &[u8], now: i64) -> Result<FileReport> {
    let result = check_token(store, name, token, now).and_then(|source| {
        let r = receive(store, &source, &format!("push to {name}"), body, now);
        match &r {
            Ok(report) => store::sources::delivered(&store.writer(), source.id, report.telegrams, now)?,
            Err(e) => refuse(store, &source, e, &format!("push to {name} of {} bytes", body.len()), now)?,
        }
        r
    });
    result
}

/// A delivery whose source is known (its token checked): read in the source's format and
/// stored as the import `label`.
fn receive(store: &Store, source: &Source, label: &str, body: &[u8], now: i64) -> Result<FileReport> {
    let name = source.name.as_str();
    if body.len() as i64 > source.max_body {
        return Err(Error::TooLarge { limit: source.max_body as u64 });
    }
    let body = text::utf8(name, body)?;
    let settings = import::Settings::read(store, now)?.from_source(source.id);
    let lines = read_lines(store, source, &body, &settings)?;
    let bad: Vec<(u64, line::LineProblem)> =
        lines.iter().filter_map(|(n, l)| if let line::Line::Bad(reason) = l { Some((*n, reason.clone())) } else { None }).collect();
    if !bad.is_empty() {
        let count = bad.len();
        return Err(Error::BadLines { source_name: name.to_string(), lines: bad.into_iter().take(MAX_LISTED).collect(), count });
    }
    store_lines(store, source, label, &body, lines, settings)
}

/// A delivery's body (UTF-8) read in the source's format: its numbered lines (frames, skips,
/// and bad lines with their reason). Every frame names the gateways that heard it: a frame
/// naming none was heard by the source's own concentrator.
pub(crate) fn read_lines(store: &Store, source: &Source, body: &[u8], settings: &import::Settings) -> Result<Vec<(u64, line::Line)>> {
    if crate::lorawan::FORMATS.contains(&source.format.as_str()) {
        return crate::lorawan::read_event(store, source, &source.format, body, settings);
    }
    let tz = settings.tz();
    let name = source.name.as_str();
    Ok(text::lines(body)
        .map(|(n, raw)| {
            let raw = String::from_utf8_lossy(raw);
            let mut parsed = match source.format.as_str() {
                "jsonl" => json_line(&raw, tz),
                "elvaco" => elvaco_line(n, &raw, tz),
                _ => line::parse(&raw, tz),
            };
            if let line::Line::Frame(f) = &mut parsed {
                if f.heard_by.is_empty() {
                    f.heard_by.push(concentrator(name, f.rssi));
                }
            }
            (n, parsed)
        })
        .collect())
}

/// Store a source's parsed lines through the import path as the import `label`
/// (`fingerprint`: the delivery's bytes); returns once they are committed.
pub(crate) fn store_lines(
    store: &Store,
    source: &Source,
    label: &str,
    fingerprint: &[u8],
    lines: Vec<(u64, line::Line)>,
    settings: import::Settings,
) -> Result<FileReport> {
    let name = source.name.as_str();
    let mut session = Session::system(&format!("source {name}"));
    session.login = format!("source:{name}");
    let permit = session.permit(Permission::Import)?;
    let total = lines.len() as u64;
    import::import_lines(store, permit, label, fingerprint, total, lines.into_iter(), settings, &mut |_, _| {})
}

/// A file a folder source took: stored (`done`) or refused (`failed`, the reason beside it).
#[derive(Debug, Clone, Serialize)]
pub struct FolderDelivery {
    pub source: String,
    pub file: String,
    pub outcome: &'static str,
    pub moved_to: String,
    pub report: Option<FileReport>,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct FolderRun {
    pub files: Vec<FolderDelivery>,
    /// Files left for a later run (still being written) or not of the expected types.
    pub skipped: Vec<(String, String, String)>,
    /// Sources whose folder was not read, and why.
    pub refused: Vec<(String, String)>,
}

/// Take the whole files of every folder source's folder: each is stored through the import
/// path, then moved to `done/` (or `failed/` with `<file>.report.json` saying why). A folder
/// no longer allowed is not read. The app's scheduler runs this every minute; cron runs
/// `releve sources run`.
pub fn sources_folder_run(store: &Store, now: i64, watch: &crate::drop_folder::Watch) -> Result<FolderRun> {
    let mut run = FolderRun::default();
    let sources = store::sources::all(&*store.reader()?)?;
    for source in sources.into_iter().filter(|s| s.kind == "folder" && s.enabled) {
        let checked = source.folder.as_deref().ok_or_else(|| Error::bad_input("folder", "no folder")).and_then(|f| crate::folders::check(store, f));
        let dir = match checked {
            Ok(dir) => dir,
            Err(e) => {
                refuse(store, &source, &e, source.folder.as_deref().unwrap_or(""), now)?;
                run.refused.push((source.name.clone(), e.to_string()));
                continue;
            }
        };
        let waiting = crate::drop_folder::waiting(&dir, now, watch, FOLDER_EXTENSIONS)?;
        for (file, why) in waiting.skipped {
            run.skipped.push((source.name.clone(), file, why.words().to_string()));
        }
        for path in waiting.files {
            let file = crate::drop_folder::name_of(&path);
            let body = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
            let result = if body.len() as i64 > source.max_body {
                Err(Error::TooLarge { limit: source.max_body as u64 })
            } else {
                receive(store, &source, &format!("{}: {file}", source.name), &body, now)
            };
            let delivery = match result {
                Ok(report) => {
                    store::sources::delivered(&store.writer(), source.id, report.telegrams, now)?;
                    let moved = crate::drop_folder::move_into(&dir, "done", &path, now)?;
                    FolderDelivery { source: source.name.clone(), file, outcome: "done", moved_to: moved.display().to_string(), report: Some(report), error: None }
                }
                Err(e) => {
                    refuse(store, &source, &e, &file, now)?;
                    let moved = crate::drop_folder::move_into(&dir, "failed", &path, now)?;
                    let why = serde_json::json!({"code": e.code(), "error": e.to_string(), "lines": match &e {
                        Error::BadLines { lines, .. } => lines.iter().map(|(l, r)| serde_json::json!({"line": l, "reason": r.to_string()})).collect(),
                        _ => Vec::new(),
                    }});
                    let report_path = moved.with_file_name(format!("{}.report.json", crate::drop_folder::name_of(&moved)));
                    std::fs::write(&report_path, why.to_string()).map_err(|e| Error::io(&report_path, e))?;
                    FolderDelivery { source: source.name.clone(), file, outcome: "failed", moved_to: moved.display().to_string(), report: None, error: Some(e.to_string()) }
                }
            };
            run.files.push(delivery);
        }
    }
    Ok(run)
}

#[cfg(test)]
mod tests {
    use super::{elvaco_line, json_line};
    use crate::import::line::Line;

    /// A wired RSP_UD of meter 12345678 (KAM, water) from its C field: C=08, A=01, CI=72, the
    /// long header, then volume 4,242 litres (04 13).
    const BODY: &str = "080172 78563412 2d2c 1b 07 01 00 0000 0413 92100000";

    fn body() -> String {
        BODY.replace(' ', "")
    }

    #[test]
    fn elvaco_rows() {
        let paris = chrono_tz::Europe::Paris;
        assert_eq!(elvaco_line(1, "Gateway;Secondary address;Time;Count;Data", paris), Line::Skip, "the header row");
        let row = format!("CMe3100-001;12345678;2026-11-19 10:00:00;1;{}", body());
        let Line::Frame(f) = elvaco_line(2, &row, paris) else { panic!("a frame from {row}") };
        assert_eq!(&f.bytes[..4], &[0x68, 21, 21, 0x68], "a long frame around the 21-byte body");
        assert_eq!(f.bytes.last(), Some(&0x16));
        assert_eq!(f.received_at, Some(1_795_078_800), "10:00 in Paris is 09:00 UTC");
        let t = mbus::decode(&f.bytes, None).expect("decodes");
        assert_eq!(t.address.id, "12345678");
        assert!(t.records.iter().any(|r| r.value == mbus::Value::Number(4.242)), "{:?}", t.records);
        let other = format!("CMe3100-001;87654321;2026-11-19 10:00:00;1;{}", body());
        assert!(matches!(elvaco_line(3, &other, paris), Line::Bad(r) if r.to_string().contains("87654321")), "the row's meter must be the frame's");
        assert!(matches!(elvaco_line(4, "a;b;c", paris), Line::Bad(r) if r.to_string().contains("3 fields")));
        assert!(matches!(elvaco_line(5, &format!("g;12345678;yesterday;1;{}", body()), paris), Line::Bad(r) if r.to_string().contains("time")));
        assert!(matches!(elvaco_line(6, "g;12345678;2026-11-19 10:00:00;1;0801", paris), Line::Bad(_)), "too short");
    }

    #[test]
    fn json_lines() {
        let paris = chrono_tz::Europe::Paris;
        let Line::Frame(f) = json_line(r#"{"telegram":"0x0A0B","time":1795078800,"rssi":-80}"#, paris) else { panic!("frame") };
        assert_eq!((f.bytes, f.received_at, f.rssi), (vec![0x0a, 0x0b], Some(1_795_078_800), Some(-80)));
        assert!(matches!(json_line(r#"{"telegram":"0A0"}"#, paris), Line::Bad(r) if r.to_string().contains("odd")));
        assert!(matches!(json_line(r#"{"time":1}"#, paris), Line::Bad(r) if r.to_string().contains("telegram")));
        assert!(matches!(json_line(r#"{"telegram":"0A0B","time":true}"#, paris), Line::Bad(_)));
        assert_eq!(json_line("   ", paris), Line::Skip);
    }
}
