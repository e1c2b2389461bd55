//! What the meter list does with a selection: the ticked meters, or every meter matching
//! the list's filter ("select all N results", resolved here, never as ids from the
//! browser). Add them to a group, export them as a list, or make a re-read route (the
//! meters to drive past again, in visiting order) as CSV or GPX for the drive-by tablet.

use crate::access::{Permission, Session};
use crate::error::{Error, Result};
use crate::groups::{self, Created};
use crate::model::Register;
use crate::route::{self, Point};
use crate::store::{self, Store};
use serde::Serialize;
use std::fmt::Write as _;
use std::time::Duration;

pub use store::meters::{ListQuery, SelectedMeter};

/// At most this many ticked meters in one call.
pub const MAX_IDS: usize = 200_000;
/// The route's ordering stops improving after this long.
pub const ROUTE_BUDGET: Duration = Duration::from_secs(2);

/// The ticked meters, or every meter matching a list filter (its page and sort ignored).
#[derive(Debug, Clone)]
pub enum Selection {
    Ids(Vec<i64>),
    Filter(ListQuery),
}

/// The meter ids of a selection: the ticked ones as given, the filter's by id.
pub fn resolve(conn: &rusqlite::Connection, selection: &Selection) -> Result<Vec<i64>> {
    match selection {
        Selection::Ids(ids) => {
            if ids.len() > MAX_IDS {
                return Err(Error::bad_input("ids", format!("at most {MAX_IDS} meters at a time")));
            }
            Ok(ids.clone())
        }
        Selection::Filter(q) => store::meters::filter_ids(conn, q),
    }
}

/// Where "add to group" puts the selection: an existing group or a new one.
#[derive(Debug, Clone)]
pub enum GroupTarget {
    Existing(i64),
    New(String),
}

/// Add the selection to a group (a new one is created); `added`: meters not yet members.
pub fn group_add_selection(store: &Store, session: &Session, target: &GroupTarget, selection: &Selection, now: i64) -> Result<Created> {
    session.permit(Permission::EditMeters)?;
    let ids = resolve(&*store.reader()?, selection)?;
    match target {
        GroupTarget::New(name) => groups::group_create(store, session, name, &ids, now),
        GroupTarget::Existing(id) => {
            let added = groups::group_add_meters(store, session, *id, &ids, now)?;
            let name = store::groups::name_of(&*store.reader()?, *id)?.unwrap_or_default();
            Ok(Created { id: *id, name, added })
        }
    }
}

/// The file a selection makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// The selected meters as the list shows them (CSV).
    ListCsv,
    /// The re-read route in visiting order (CSV).
    RouteCsv,
    /// The re-read route for a GPS tablet (GPX 1.1: waypoints, then the route).
    RouteGpx,
}

impl FileKind {
    pub fn parse(s: &str) -> Result<FileKind> {
        match s {
            "list_csv" => Ok(FileKind::ListCsv),
            "route_csv" => Ok(FileKind::RouteCsv),
            "route_gpx" => Ok(FileKind::RouteGpx),
            other => Err(Error::bad_input("kind", format!("'{other}' is not one of list_csv, route_csv, route_gpx"))),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct SelectionFile {
    pub filename: String,
    pub content: String,
    /// Meters in the file.
    pub meters: usize,
    /// Of those, placed on the route by their GPS position (the others follow, by address).
    pub placed: usize,
    /// The route's straight-line length in metres (routes only).
    pub length_m: Option<f64>,
}

/// The selection in route order: the placed meters from `start` (default: the
/// westernmost one) by nearest neighbour then 2-opt, then the meters without GPS by city,
/// address and serial. Returns the meters and how many are placed.
pub fn route_order(meters: Vec<SelectedMeter>, start: Option<Point>, budget: Duration) -> (Vec<SelectedMeter>, usize, f64) {
    let (mut placed, mut unplaced): (Vec<SelectedMeter>, Vec<SelectedMeter>) =
        meters.into_iter().partition(|m| m.lat.is_some_and(f64::is_finite) && m.lon.is_some_and(f64::is_finite));
    let points: Vec<Point> = placed.iter().map(|m| Point { lat: m.lat.unwrap_or(0.0), lon: m.lon.unwrap_or(0.0) }).collect();
    let start = start.or_else(|| points.iter().copied().min_by(|a, b| a.lon.total_cmp(&b.lon))).unwrap_or(Point { lat: 0.0, lon: 0.0 });
    let order = route::order(&points, start, budget);
    let length = route::length(&points, start, &order);
    let mut slots: Vec<Option<SelectedMeter>> = placed.drain(..).map(Some).collect();
    let mut out: Vec<SelectedMeter> = order.iter().filter_map(|&i| slots[i].take()).collect();
    let n = out.len();
    unplaced.sort_by(|a, b| {
        (&a.label.city, &a.label.postal_code, &a.label.address, &a.label.serial).cmp(&(&b.label.city, &b.label.postal_code, &b.label.address, &b.label.serial))
    });
    out.extend(unplaced);
    (out, n, length)
}

/// Write the selection's file (permission `export`; audited).
pub fn selection_file(store: &Store, session: &Session, selection: &Selection, kind: FileKind, start: Option<Point>, now: i64) -> Result<SelectionFile> {
    let permit = session.permit(Permission::Export)?;
    let (meters, tz, last_index) = {
        let conn = store.reader()?;
        let ids = resolve(&conn, selection)?;
        let meters = store::meters::selected(&conn, &ids)?;
        let tz = crate::settings::timezone(&conn)?;
        let mut last = Vec::with_capacity(meters.len());
        for m in &meters {
            let r = Register::default_for(&m.device_type);
            last.push((m.id, store::readings::latest(&conn, m.id, r.code())?.map(|(_, v)| (r.shown(v), r.shown_unit()))));
        }
        (meters, tz, last.into_iter().collect::<std::collections::HashMap<_, _>>())
    };
    let day = chrono::DateTime::from_timestamp(now, 0).unwrap_or_default().with_timezone(&tz).format("%Y-%m-%d").to_string();
    let (meters, placed, length_m) = match kind {
        FileKind::ListCsv => {
            let placed = meters.iter().filter(|m| m.lat.is_some() && m.lon.is_some()).count();
            (meters, placed, None)
        }
        _ => {
            let (m, p, l) = route_order(meters, start, ROUTE_BUDGET);
            (m, p, Some(l))
        }
    };
    let local = |ts: Option<i64>| {
        ts.and_then(|t| chrono::DateTime::from_timestamp(t, 0)).map(|d| d.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string()).unwrap_or_default()
    };
    let (filename, content) = match kind {
        FileKind::ListCsv | FileKind::RouteCsv => {
            let route = kind == FileKind::RouteCsv;
            let mut w = csv::WriterBuilder::new().delimiter(b';').from_writer(Vec::new());
            let mut head = vec![];
            if route {
                head.push("stop");
            }
            head.extend(["serial", "manufacturer", "device_type", "status"]);
            head.extend(store::MeterLabel::CONTACT_COLUMNS);
            head.extend(["lat", "lon", "last_seen", "info_codes", "last_index", "unit"]);
            w.write_record(&head)?;
            for (k, m) in meters.iter().enumerate() {
                let mut rec: Vec<String> = vec![];
                if route {
                    rec.push((k + 1).to_string());
                }
                rec.extend([m.label.serial.clone(), m.manufacturer.clone(), m.device_type.clone(), m.status.clone()]);
                rec.extend(m.label.contact_values());
                rec.push(m.lat.map(|v| format!("{v:.6}")).unwrap_or_default());
                rec.push(m.lon.map(|v| format!("{v:.6}")).unwrap_or_default());
                rec.push(local(m.last_seen));
                rec.push(crate::model::info_codes_of_mask(m.info_codes).join(" "));
                let li = last_index.get(&m.id).copied().flatten();
                rec.push(li.map(|(v, _)| format!("{v}")).unwrap_or_default());
                rec.push(li.map(|(_, u)| u.to_string()).unwrap_or_default());
                w.write_record(&rec)?;
            }
            let bytes = w.into_inner().map_err(|e| Error::io("meter selection file", e.into_error()))?;
            let name = if route { format!("re-read-route-{day}.csv") } else { format!("meters-{day}.csv") };
            (name, String::from_utf8_lossy(&bytes).into_owned())
        }
        FileKind::RouteGpx => (format!("re-read-route-{day}.gpx"), gpx(&meters, &day, now)),
    };
    let what = match kind {
        FileKind::ListCsv => "meter list",
        FileKind::RouteCsv => "re-read route (CSV)",
        FileKind::RouteGpx => "re-read route (GPX)",
    };
    store::audit::record_permit(&store.writer(), permit, now, "export", &format!("{what}: {} meters, {filename}", meters.len()))?;
    Ok(SelectionFile { filename, content, meters: meters.len(), placed, length_m })
}

/// XML (and HTML) text with `&`, `<`, `>`, `"` and `'` escaped, control characters dropped.
pub(crate) fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

/// A GPX 1.1 file (http://www.topografix.com/GPX/1/1/gpx.xsd): metadata, one waypoint
/// per placed meter (name: stop number and serial; description: address and customer),
/// then one route through them in visiting order. Meters without GPS are left out.
pub fn gpx(meters: &[SelectedMeter], day: &str, now: i64) -> String {
    let time = chrono::DateTime::from_timestamp(now, 0).unwrap_or_default().format("%Y-%m-%dT%H:%M:%SZ");
    let mut out = String::new();
    let _ = write!(
        out,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<gpx version=\"1.1\" creator=\"Releve\" xmlns=\"http://www.topografix.com/GPX/1/1\" \
         xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" \
         xsi:schemaLocation=\"http://www.topografix.com/GPX/1/1 http://www.topografix.com/GPX/1/1/gpx.xsd\">\n\
         <metadata><name>{}</name><time>{time}</time></metadata>\n",
        xml(&format!("Re-read route {day}"))
    );
    let placed: Vec<(usize, &SelectedMeter, f64, f64)> = meters
        .iter()
        .enumerate()
        .filter_map(|(k, m)| match (m.lat, m.lon) {
            (Some(lat), Some(lon)) if (-90.0..=90.0).contains(&lat) && (-180.0..180.0).contains(&lon) => Some((k + 1, m, lat, lon)),
            _ => None,
        })
        .collect();
    let desc = |m: &SelectedMeter| {
        let place = [m.label.address.as_str(), m.label.postal_code.as_str(), m.label.city.as_str()].iter().filter(|s| !s.is_empty()).copied().collect::<Vec<_>>().join(" ");
        match &m.label.customer_name {
            Some(c) if !c.is_empty() => format!("{place} ({c})"),
            _ => place,
        }
    };
    for (stop, m, lat, lon) in &placed {
        let _ = writeln!(
            out,
            "<wpt lat=\"{lat:.6}\" lon=\"{lon:.6}\"><name>{}</name><desc>{}</desc><type>{}</type></wpt>",
            xml(&format!("{stop:03} {}", m.label.serial)),
            xml(&desc(m)),
            xml(&m.device_type)
        );
    }
    let _ = writeln!(out, "<rte><name>{}</name>", xml(&format!("Re-read route {day}")));
    for (stop, m, lat, lon) in &placed {
        let _ = writeln!(out, "<rtept lat=\"{lat:.6}\" lon=\"{lon:.6}\"><name>{}</name></rtept>", xml(&format!("{stop:03} {}", m.label.serial)));
    }
    out.push_str("</rte>\n</gpx>\n");
    out
}
