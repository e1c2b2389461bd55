//! Heard devices: meters heard on the air whose telegrams give no values (no key, wrong
//! key, unknown layout) and that are not in the park. They wait in a list, with their raw
//! telegrams, until a clerk adopts one (or a key file names it), instead of entering the
//! park by themselves: corrupted frames and the neighbours' meters make no phantom meters.

use crate::access::{Permission, Session};
use crate::error::{Error, Result};
use crate::store::heard::HeardDevice;
use crate::store::meters::NewMeter;
use crate::store::telegrams::NewTelegram;
use crate::store::{self, Store};
use rusqlite::Connection;
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct HeardList {
    pub devices: Vec<HeardDevice>,
    pub total: i64,
}

/// The heard devices, most heard first.
pub fn heard_devices_list(store: &Store, session: &Session, offset: i64, limit: i64) -> Result<HeardList> {
    session.permit(Permission::View)?;
    if !(0..=100_000_000).contains(&offset) {
        return Err(Error::bad_input("offset", "from 0"));
    }
    if !(1..=1000).contains(&limit) {
        return Err(Error::bad_input("limit", "from 1 to 1000"));
    }
    let (devices, total) = store::heard::list(&*store.reader()?, offset, limit)?;
    Ok(HeardList { devices, total })
}

#[derive(Debug, Serialize, PartialEq)]
pub struct Adopted {
    pub meter_id: i64,
    pub serial: String,
    /// Telegrams moved into the park, and of them those decoded (with the readings they gave).
    pub telegrams: u64,
    pub decoded: u64,
    pub readings: u64,
}

/// Take a heard device into the park as an unassigned meter, with its telegrams (decoded
/// at once when its key is known).
pub fn heard_device_adopt(store: &Store, session: &Session, id: i64, now: i64) -> Result<Adopted> {
    let permit = session.permit(Permission::EditMeters)?;
    let mut conn = store.writer();
    let tx = conn.transaction()?;
    let device = store::heard::get(&tx, id)?.ok_or_else(|| Error::not_found(format!("heard device {id}")))?;
    let adopted = adopt(&tx, store.vault(), &device, now)?;
    let details = format!(
        "heard device {} ({}) adopted as meter {}: {} telegrams, {} decoded",
        device.serial, device.manufacturer, adopted.meter_id, adopted.telegrams, adopted.decoded
    );
    store::audit::record_permit(&tx, permit, now, "heard_device_adopt", &details)?;
    tx.commit()?;
    Ok(adopted)
}

/// Forget a heard device and its telegrams (not one of ours).
pub fn heard_device_dismiss(store: &Store, session: &Session, id: i64, now: i64) -> Result<()> {
    let permit = session.permit(Permission::EditMeters)?;
    let mut conn = store.writer();
    let tx = conn.transaction()?;
    let device = store::heard::get(&tx, id)?.ok_or_else(|| Error::not_found(format!("heard device {id}")))?;
    store::heard::delete(&tx, id)?;
    let details = format!("heard device {} ({}) dismissed with its {} telegrams", device.serial, device.manufacturer, device.times_heard);
    store::audit::record_permit(&tx, permit, now, "heard_device_dismiss", &details)?;
    tx.commit()?;
    Ok(())
}

/// Inside the caller's transaction: the device becomes a meter (or joins the meter of the
/// same serial and manufacturer), its telegrams move under it, and they are decoded with
/// the key of its serial when there is one.
pub(crate) fn adopt(conn: &Connection, vault: &crate::keys::vault::Vault, device: &HeardDevice, now: i64) -> Result<Adopted> {
    let meter_id = match store::meters::id_of_serial_manufacturer(conn, &device.serial, &device.manufacturer)? {
        Some(id) => id,
        None => store::meters::insert(
            conn,
            &NewMeter {
                serial: device.serial.clone(),
                manufacturer: device.manufacturer.clone(),
                version: device.version,
                device_type: device.device_type.clone(),
                status: "unassigned".into(),
                ..NewMeter::default()
            },
            now,
        )?,
    };
    let mut moved = 0;
    let mut newest: Option<i64> = None;
    for t in store::heard::telegrams(conn, device.id)? {
        newest = Some(newest.map_or(t.received_at, |n| n.max(t.received_at)));
        let new = NewTelegram {
            meter_id,
            received_at: t.received_at,
            rssi: t.rssi,
            import_id: t.import_id.unwrap_or(0),
            status: &device.last_status,
            raw: &t.raw,
        };
        if matches!(store::telegrams::insert(conn, &new)?, store::telegrams::Inserted::New(_)) {
            moved += 1;
        }
        store::meters::mark_seen(conn, meter_id, t.received_at)?;
    }
    if let Some(last) = newest {
        let status = match device.last_status.as_str() {
            "no-key" => crate::keys::KeyStatus::NoKey,
            "wrong-key" => crate::keys::KeyStatus::WrongKey,
            _ => crate::keys::KeyStatus::Undecodable,
        };
        store::meters::set_key_status(conn, meter_id, status.code(), last)?;
    }
    store::heard::delete(conn, device.id)?;
    let (decoded, readings) = match store::keys::get(conn, &device.serial, &device.manufacturer)? {
        Some(k) => {
            let mut keys = crate::keys::Keys::default();
            keys.insert(k.serial.clone(), k.manufacturer.clone(), vault.open(&k.serial, &k.manufacturer, &k.sealed)?);
            let r = crate::import::redecode_serial(conn, &device.serial, &keys, now)?;
            (r.telegrams, r.readings)
        }
        None => (0, 0),
    };
    Ok(Adopted { meter_id, serial: device.serial.clone(), telegrams: moved, decoded, readings })
}
