//! LoRaWAN: network servers' uplink events (ChirpStack, The Things Stack) turned into frames
//! for the one import path, by the payload format the registry gives each DevEUI; what gives
//! no telegram (unknown devices, raw payloads, bridge status, dropped telegrams) kept in
//! `lorawan_uplinks`; the registry of connected objects (list, edit, CSV import).

pub mod devices;
pub mod event;
pub mod fragments;
pub mod payload;

use crate::access::{Permission, Session};
use crate::error::Result;
use crate::import::{self, line};
use crate::store::lorawan::{Device, KeptUplink, UplinkQuery};
use crate::store::{self, sources::Source, Store};
use event::{Event, Uplink};
use serde::Serialize;

pub use devices::{lorawan_device_set, lorawan_devices, lorawan_devices_import, DeviceInput, DevicesImport, DevicesPage};

/// The source formats of LoRaWAN network servers.
pub const FORMATS: [&str; 2] = ["chirpstack", "tts"];

/// A Lobaro time is the frame's reception time when it lies at most this long before the
/// uplink (a bridge forwards what it collected) and not after it (10 minutes of clock
/// drift allowed); otherwise the uplink's time is.
const BRIDGE_HOLDS: i64 = 31 * 24 * 3600;
const BRIDGE_DRIFT: i64 = 600;

/// One network server event (`format`: `chirpstack` or `tts`) delivered by `source`: the
/// numbered line it gives (a frame for the import path, a skip, or a bad line with its
/// reason). What must be kept of it (an unknown device's uplink, a raw payload, a bridge's
/// status, a part of a telegram, a dropped telegram) and the registry's last uplink are
/// written first, in a short transaction of their own; a retried delivery adds nothing.
pub fn read_event(store: &Store, source: &Source, format: &str, body: &[u8], settings: &import::Settings) -> Result<Vec<(u64, line::Line)>> {
    let mut lines = read_events(store, source, format, &[body], settings)?;
    Ok(vec![(1, lines.pop().unwrap_or(line::Line::Skip))])
}

/// Several events of one delivery (an MQTT batch): the line each gives, in order, what they
/// leave kept in one short transaction for all.
pub fn read_events(store: &Store, source: &Source, format: &str, bodies: &[&[u8]], settings: &import::Settings) -> Result<Vec<line::Line>> {
    let parsed: Vec<_> = bodies.iter().map(|body| event::parse(format, body)).collect();
    if !parsed.iter().any(|p| matches!(p, Ok(Event::Uplink(_)))) {
        return Ok(parsed.into_iter().map(|p| if let Err(reason) = p { line::Line::Bad(reason.into()) } else { line::Line::Skip }).collect());
    }
    let mut conn = store.writer();
    let tx = conn.transaction()?;
    let mut lines = Vec::with_capacity(parsed.len());
    for p in parsed {
        lines.push(match p {
            Err(reason) => line::Line::Bad(reason.into()),
            Ok(Event::Other) => line::Line::Skip,
            Ok(Event::Uplink(uplink)) => read_uplink(&tx, source, &uplink, settings)?,
        });
    }
    tx.commit()?;
    Ok(lines)
}

/// One uplink, inside the caller's transaction.
fn read_uplink(tx: &rusqlite::Connection, source: &Source, uplink: &Uplink, settings: &import::Settings) -> Result<line::Line> {
    let at = uplink.time.unwrap_or_else(|| settings.now());
    let mut reader = Reader { conn: tx, uplink, at, source: source.id, fresh: true };
    let line = match store::lorawan::get(tx, &uplink.dev_eui)? {
        None => {
            reader.keep("unknown-device", None, &uplink.data)?;
            line::Line::Skip
        }
        Some(device) => {
            let repeated = device.last_uplink == Some(at) && device.last_f_cnt == Some(i64::from(uplink.f_cnt));
            let line = match device.payload.as_str() {
                "wmbus-app" => reader.app(&device)?,
                "wmbus-lobaro" => reader.lobaro()?,
                _ => {
                    reader.keep("raw", None, &uplink.data)?;
                    line::Line::Skip
                }
            };
            store::lorawan::heard(tx, &uplink.dev_eui, at, uplink.f_cnt, reader.fresh && !repeated)?;
            line
        }
    };
    Ok(line)
}

/// One uplink being read, inside the transaction that keeps what it leaves.
struct Reader<'a> {
    conn: &'a rusqlite::Connection,
    uplink: &'a Uplink,
    at: i64,
    source: i64,
    /// False once something shows the uplink was delivered before.
    fresh: bool,
}

impl Reader<'_> {
    fn keep(&mut self, outcome: &str, reason: Option<String>, payload: &[u8]) -> Result<()> {
        let u = self.uplink;
        self.keep_at(self.at, u.f_cnt, u.f_port, outcome, reason, payload)
    }

    fn keep_at(&mut self, at: i64, f_cnt: u32, f_port: u8, outcome: &str, reason: Option<String>, payload: &[u8]) -> Result<()> {
        let kept = KeptUplink {
            dev_eui: self.uplink.dev_eui.clone(),
            received_at: at,
            f_cnt,
            f_port,
            source_id: Some(self.source),
            outcome: outcome.to_string(),
            reason,
            payload: payload.to_vec(),
        };
        if !store::lorawan::keep_uplink(self.conn, &kept)? && f_cnt == self.uplink.f_cnt {
            self.fresh = false;
        }
        Ok(())
    }

    /// A frame of `bytes` received at `received_at`, heard by the uplink's gateways.
    fn frame(&self, bytes: Vec<u8>, received_at: i64, rssi: Option<i64>) -> line::Line {
        let heard_by: Vec<line::Hearing> = self
            .uplink
            .gateways
            .iter()
            .map(|g| line::Hearing { gateway: g.gateway.clone(), kind: "lorawan", at: g.at.or(Some(self.at)), rssi: g.rssi, snr: g.snr })
            .collect();
        let rssi = rssi.or_else(|| heard_by.iter().filter_map(|h| h.rssi).max());
        line::Line::Frame(line::Frame { bytes, received_at: Some(received_at), rssi, heard_by })
    }

    /// `wmbus-app`: the application layer in a frame under the meter's link address.
    fn app(&mut self, device: &Device) -> Result<line::Line> {
        let data = &self.uplink.data;
        if data.is_empty() {
            return Ok(line::Line::Skip); // MAC commands only (fPort 0)
        }
        let identity = link_identity(self.conn, device)?;
        Ok(match payload::app_frame(data, identity.as_ref()) {
            Ok(bytes) => self.frame(bytes, self.at, None),
            Err(reason) => {
                self.keep("dropped", Some(reason), data)?;
                line::Line::Skip
            }
        })
    }

    /// `wmbus-lobaro`: a bridge's status, a telegram, or a part of one.
    fn lobaro(&mut self) -> Result<line::Line> {
        let u = self.uplink;
        let kind = match payload::lobaro(u.f_port, &u.data) {
            payload::Lobaro::Status => {
                self.keep("status", None, &u.data)?;
                return Ok(line::Line::Skip);
            }
            payload::Lobaro::Other if u.data.is_empty() => return Ok(line::Line::Skip),
            payload::Lobaro::Other => {
                self.keep("raw", Some(format!("port {} carries no Lobaro telegram", u.f_port)), &u.data)?;
                return Ok(line::Line::Skip);
            }
            payload::Lobaro::Part(kind) => kind,
        };
        let dev = u.dev_eui.as_str();
        let part = fragments::Part { f_cnt: u.f_cnt, f_port: u.f_port, received_at: self.at, data: u.data.clone() };
        let single = kind.first && kind.last;
        if !single && !store::lorawan::add_fragment(self.conn, dev, &part)? {
            self.fresh = false;
        }
        let parts = store::lorawan::fragments(self.conn, dev)?;
        let outcome = fragments::reassemble(&parts, u.f_cnt, self.at);
        for d in &outcome.dropped {
            self.keep_at(d.first.received_at, d.first.f_cnt, d.first.f_port, "dropped", Some(d.reason()), &d.payload)?;
        }
        store::lorawan::forget_fragments(self.conn, dev, &outcome.forget)?;
        let whole = if single { Some((kind.format, payload::part_bytes(kind, &u.data).to_vec())) } else { outcome.whole };
        let Some((format, bytes)) = whole else { return Ok(line::Line::Skip) };
        Ok(match payload::forwarded(format, &bytes) {
            Ok(f) => {
                let at = f.time.filter(|t| (self.at - BRIDGE_HOLDS..=self.at + BRIDGE_DRIFT).contains(t)).unwrap_or(self.at);
                self.frame(f.telegram, at, f.rssi)
            }
            Err(reason) => {
                self.keep("dropped", Some(reason), &bytes)?;
                line::Line::Skip
            }
        })
    }
}

/// The link address a `wmbus-app` device's frames are sent under: the registry's serial and
/// manufacturer (else its brand's), the version and device type of the park's meter of that
/// serial when there is one (a long header seen before, a park import), else version 0 and
/// the device type its model suggests. `None` without an 8-digit serial.
fn link_identity(conn: &rusqlite::Connection, d: &Device) -> Result<Option<payload::LinkIdentity>> {
    let serial = d.serial.trim();
    if serial.len() != 8 {
        return Ok(None);
    }
    let manufacturer = if d.manufacturer.is_empty() { payload::manufacturer_of_brand(&d.brand).unwrap_or_default() } else { d.manufacturer.clone() };
    Ok(Some(match store::lorawan::park_identity(conn, serial, &manufacturer)? {
        Some((manufacturer, version, device_type)) => payload::LinkIdentity {
            manufacturer,
            serial: serial.to_string(),
            version: u8::try_from(version).unwrap_or(0),
            device_type: (0..=u8::MAX).find(|c| mbus::DeviceType::from_code(*c).name() == device_type).unwrap_or(0),
        },
        None => payload::LinkIdentity { manufacturer, serial: serial.to_string(), version: 0, device_type: payload::likely_device_type(&d.model) },
    }))
}

/// An uplink kept, as listed.
#[derive(Debug, Clone, Serialize)]
pub struct UplinkRow {
    #[serde(flatten)]
    pub uplink: KeptUplink,
    /// The payload, hexadecimal.
    pub payload: String,
    /// A Lobaro bridge's status, read.
    pub status: Option<payload::BridgeStatus>,
}

#[derive(Debug, Clone, Serialize)]
pub struct UplinksPage {
    pub uplinks: Vec<UplinkRow>,
    pub total: i64,
}

/// The uplinks kept (unknown devices, raw payloads, bridge status, dropped telegrams with
/// their reason), newest first, by outcome and DevEUI.
pub fn lorawan_uplinks(store: &Store, session: &Session, q: &UplinkQuery<'_>) -> Result<UplinksPage> {
    session.permit(Permission::View)?;
    if let Some(o) = q.outcome {
        if !["unknown-device", "raw", "status", "dropped"].contains(&o) {
            return Err(crate::Error::bad_input("outcome", "one of unknown-device, raw, status, dropped"));
        }
    }
    let dev_eui = q.dev_eui.map(str::trim).filter(|d| !d.is_empty()).map(str::to_ascii_uppercase);
    let q = UplinkQuery { dev_eui: dev_eui.as_deref(), ..q.clone() };
    let (total, rows) = store::lorawan::uplinks(&*store.reader()?, &q)?;
    let uplinks = rows
        .into_iter()
        .map(|u| {
            let status = if u.outcome == "status" { payload::bridge_status(&u.payload) } else { None };
            UplinkRow { payload: hex::encode_upper(&u.payload), status, uplink: u }
        })
        .collect();
    Ok(UplinksPage { uplinks, total })
}
