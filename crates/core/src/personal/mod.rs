//! Personal data (GDPR): what is held about one customer (`subject_access`: a ZIP of CSV
//! files and a PDF summary), the move-out (the customer becomes a pseudonym, the readings
//! stay with the meter, a new occupant starts clean from the move-out date), and the
//! register of processing generated from the settings (`register`).
//!
//! Who a meter's readings belong to is the table `occupancies` (`store::occupancies`): a
//! customer's stretch of time on a meter. A meter whose customer has no row there has had
//! that customer always. Readings before a customer's occupancy are never shown to them
//! (consumer reports, subject access).

pub mod register;
mod subject_access;
mod summary;
pub mod zip;

pub use subject_access::{customer_subject_access, AccessSummary};

use crate::access::{Permission, Session};
use crate::error::{Error, Result};
use crate::store::occupancies::{self, Occupancy};
use crate::store::{self, Store};
use chrono::NaiveDate;
use rusqlite::Connection;
use serde::{Deserialize, Serialize};

/// The token a moved-out customer's name becomes (the UI words it "Ancien occupant #12").
pub const FORMER_OCCUPANT: &str = "former_occupant";

/// At most this many exchanges followed back from a meter.
const MAX_CHAIN: usize = 50;

/// A meter's readings that belong to a customer: `[from, to)`, reached directly or through
/// the exchanges that led to one of its meters.
#[derive(Debug, Clone)]
pub(crate) struct Holding {
    pub meter: store::meters::Meter,
    pub from: i64,
    pub to: i64,
    /// The serial of the later meter that replaced this one (an exchange), if reached so.
    pub replaced_by: Option<String>,
}

/// Every meter stretch of the customer: its occupancies, the meters it has without one
/// (always), and, followed back through exchanges, the meters those replaced (up to the
/// exchange). By meter id then start.
pub(crate) fn holdings(conn: &Connection, customer_id: i64) -> Result<Vec<Holding>> {
    let mut windows: Vec<(i64, i64, i64, Option<String>)> = occupancies::of_customer(conn, customer_id)?
        .into_iter()
        .map(|o| (o.meter_id, o.from.unwrap_or(i64::MIN), o.to.unwrap_or(i64::MAX), None))
        .collect();
    for (meter_id, _) in occupancies::meters_of_customer(conn, customer_id)? {
        if !windows.iter().any(|w| w.0 == meter_id) {
            windows.push((meter_id, i64::MIN, i64::MAX, None));
        }
    }
    // Back through exchanges: the replaced meter's readings before the exchange.
    let mut i = 0;
    while i < windows.len() && windows.len() < 10 * MAX_CHAIN {
        let (meter_id, from, _, _) = windows[i].clone();
        if let Some(e) = store::meters::exchange_into(conn, meter_id)? {
            let known = windows.iter().any(|w| w.0 == e.old_meter_id);
            if !known && from < e.at {
                windows.push((e.old_meter_id, from, e.at, Some(e.new_serial.clone())));
            }
        }
        i += 1;
    }
    windows.sort_by_key(|w| (w.0, w.1));
    let mut out = Vec::with_capacity(windows.len());
    for (meter_id, from, to, replaced_by) in windows {
        let meter = store::meters::get(conn, meter_id)?.ok_or_else(|| Error::not_found(format!("meter {meter_id}")))?;
        out.push(Holding { meter, from, to, replaced_by });
    }
    Ok(out)
}

/// When `customer_id`'s occupancy of `meter_id` began (following the exchanges that led to
/// the meter): readings before it are someone else's. `None`: since always.
pub(crate) fn occupancy_start(conn: &Connection, meter_id: i64, customer_id: i64) -> Result<Option<i64>> {
    let mut current = meter_id;
    for _ in 0..MAX_CHAIN {
        let own: Vec<Occupancy> =
            occupancies::of_meter(conn, current)?.into_iter().filter(|o| o.customer_id == customer_id).collect();
        if let Some(first) = own.first() {
            return Ok(first.from);
        }
        match store::meters::exchange_into(conn, current)? {
            Some(e) => current = e.old_meter_id,
            None => return Ok(None),
        }
    }
    Ok(None)
}

/// The id of the customer numbered `number` (the CLI names customers by number). Needs
/// `personal_data`.
pub fn customer_of_number(store: &Store, session: &Session, number: &str) -> Result<i64> {
    session.permit(Permission::PersonalData)?;
    store::customers::by_number(&*store.reader()?, number.trim())?
        .map(|(id, _)| id)
        .ok_or_else(|| Error::not_found(format!("customer {number}")))
}

/// A customer's name as a screen shows it: the name, or the pseudonym token with the id
/// (`former_occupant #12`) for the UI to word.
pub fn display_name(c: &store::occupancies::CustomerRecord) -> String {
    match &c.pseudonym {
        Some(p) => format!("{p} #{}", c.id),
        None => c.name.clone(),
    }
}

/// The new occupant of a move-out.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewOccupant {
    /// Default: the former customer's number and the move-out date (`C12-20261201`).
    pub number: Option<String>,
    pub name: String,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub postal_code: String,
    #[serde(default)]
    pub city: String,
    pub email: Option<String>,
    pub phone: Option<String>,
}

#[derive(Debug, Clone)]
pub struct MoveOut {
    pub customer_id: i64,
    /// The local date from which the premises are no longer the customer's.
    pub date: NaiveDate,
    pub new_occupant: Option<NewOccupant>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MovedOut {
    pub customer_id: i64,
    pub pseudonym: &'static str,
    /// The move-out time (local midnight of the date).
    pub at: i64,
    /// The meters handed over (or left vacant), by id.
    pub meters: Vec<i64>,
    pub new_customer_id: Option<i64>,
    pub new_customer_number: Option<String>,
}

/// At most this many characters in a contact field.
const MAX_FIELD: usize = 200;

fn field(name: &str, v: &str) -> Result<String> {
    let v = v.trim();
    if v.chars().count() > MAX_FIELD {
        return Err(Error::bad_input(name, format!("at most {MAX_FIELD} characters")));
    }
    Ok(v.to_string())
}

fn optional(name: &str, v: Option<&str>) -> Result<Option<String>> {
    Ok(match v.map(|v| field(name, v)).transpose()? {
        Some(v) if v.is_empty() => None,
        other => other,
    })
}

/// The customer moves out on `req.date`: its occupancies end there, its name, address,
/// e-mail and phone are wiped (the number stays: the contract's key for billing and legal
/// retention) and it becomes `former_occupant #id`; its readings stay with the meters, so
/// billing over any period is unchanged. The meters in service go to the new occupant from
/// that date (a new customer, whose reports and subject access start there) or stay
/// vacant. Needs `personal_data`; one audit entry, naming ids and numbers only.
pub fn customer_move_out(store: &Store, session: &Session, req: &MoveOut, now: i64) -> Result<MovedOut> {
    let permit = session.permit(Permission::PersonalData)?;
    let mut conn = store.writer();
    let tx = conn.transaction()?;
    let id = req.customer_id;
    let customer = occupancies::customer(&tx, id)?.ok_or_else(|| Error::not_found(format!("customer #{id}")))?;
    if customer.pseudonym.is_some() {
        return Err(Error::bad_input("customer_id", format!("customer #{id} ({}) has already moved out", customer.number)));
    }
    let tz = crate::settings::timezone(&tx)?;
    let at = crate::settings::local_midnight(tz, req.date)?;
    if at > now {
        return Err(Error::bad_input("date", format!("customer {}: the move-out date {} is in the future", customer.number, req.date)));
    }
    let stored = occupancies::of_customer(&tx, id)?;
    if let Some(late) = stored.iter().filter(|o| o.to.is_none()).filter_map(|o| o.from).find(|&from| from >= at) {
        let since = crate::export::LocalTime::new(tz).format(late).to_string();
        return Err(Error::bad_input(
            "date",
            format!("customer {}: the move-out date {} is not after the occupancy's start ({since})", customer.number, req.date),
        ));
    }
    let meters = occupancies::meters_of_customer(&tx, id)?;
    let in_service: Vec<i64> = meters.iter().filter(|(_, status)| status != "removed").map(|(m, _)| *m).collect();
    // The new occupant, checked before anything changes.
    let new_customer = match &req.new_occupant {
        None => None,
        Some(n) => {
            if in_service.is_empty() {
                return Err(Error::bad_input("new_occupant", format!("customer {} has no meter in service to hand over", customer.number)));
            }
            let name = field("new_occupant.name", &n.name)?;
            if name.is_empty() {
                return Err(Error::bad_input("new_occupant.name", "the new occupant needs a name"));
            }
            let email = optional("new_occupant.email", n.email.as_deref())?;
            if let Some(e) = &email {
                if !e.contains('@') || e.contains(char::is_whitespace) {
                    return Err(Error::bad_input("new_occupant.email", format!("'{e}' is not an e-mail address")));
                }
            }
            let number = match optional("new_occupant.number", n.number.as_deref())? {
                Some(number) => {
                    if occupancies::number_taken(&tx, &number)? {
                        return Err(Error::bad_input("new_occupant.number", format!("customer number {number} is already taken")));
                    }
                    number
                }
                None => {
                    let base = format!("{}-{}", customer.number, req.date.format("%Y%m%d"));
                    let mut number = base.clone();
                    let mut k = 2;
                    while occupancies::number_taken(&tx, &number)? {
                        number = format!("{base}-{k}");
                        k += 1;
                    }
                    number
                }
            };
            Some(store::customers::Customer {
                number,
                name,
                address: field("new_occupant.address", &n.address)?,
                postal_code: field("new_occupant.postal_code", &n.postal_code)?,
                city: field("new_occupant.city", &n.city)?,
                email,
                phone: optional("new_occupant.phone", n.phone.as_deref())?,
            })
        }
    };
    // End the customer's stretches at the move-out (a meter without one: since always).
    for (meter_id, _) in &meters {
        if occupancies::close(&tx, *meter_id, id, at)? == 0 && !stored.iter().any(|o| o.meter_id == *meter_id) {
            occupancies::insert(&tx, &Occupancy { meter_id: *meter_id, customer_id: id, from: None, to: Some(at) })?;
        }
    }
    let new_id = match &new_customer {
        Some(c) => Some(store::customers::insert(&tx, c)?),
        None => None,
    };
    for &meter_id in &in_service {
        occupancies::set_customer(&tx, meter_id, new_id)?;
        if let Some(new_id) = new_id {
            occupancies::insert(&tx, &Occupancy { meter_id, customer_id: new_id, from: Some(at), to: None })?;
        }
    }
    occupancies::pseudonymize(&tx, id, FORMER_OCCUPANT, at)?;
    let serials: Vec<String> = in_service
        .iter()
        .map(|m| store::meters::get(&tx, *m).map(|m| m.map(|m| m.serial).unwrap_or_default()))
        .collect::<Result<_>>()?;
    let details = format!(
        "customer #{id} ({}) moved out on {}: meters {}; {}",
        customer.number,
        req.date,
        if serials.is_empty() { "none".to_string() } else { serials.join(",") },
        match (&new_id, &new_customer) {
            (Some(n), Some(c)) => format!("new occupant customer #{n} ({})", c.number),
            _ => "left vacant".to_string(),
        }
    );
    store::audit::record_permit(&tx, permit, now, "customer_move_out", &details)?;
    tx.commit()?;
    Ok(MovedOut {
        customer_id: id,
        pseudonym: FORMER_OCCUPANT,
        at,
        meters: in_service,
        new_customer_id: new_id,
        new_customer_number: new_customer.map(|c| c.number),
    })
}

/// One occupant of a meter's premises, for the meter page: who (id, number, name — empty
/// for a former occupant, whose `pseudonym` the UI words) from when to when.
#[derive(Debug, Clone, Serialize)]
pub struct Occupant {
    pub customer_id: i64,
    pub number: String,
    pub name: String,
    pub pseudonym: Option<String>,
    pub from: Option<i64>,
    pub to: Option<i64>,
}

/// A meter's occupants, oldest first (none before its first move-out). The caller has
/// checked the session (`meter_get`: `view`).
pub fn meter_occupants(conn: &Connection, meter_id: i64) -> Result<Vec<Occupant>> {
    let mut out = Vec::new();
    for o in occupancies::of_meter(conn, meter_id)? {
        if let Some(c) = occupancies::customer(conn, o.customer_id)? {
            out.push(Occupant { customer_id: c.id, number: c.number, name: c.name, pseudonym: c.pseudonym, from: o.from, to: o.to });
        }
    }
    Ok(out)
}
