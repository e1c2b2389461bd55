//! The yearly count of connected objects: the LoRaWAN convention's "procès-verbal de
//! décompte d'objets connectés – Année N" (its Annex 2), signed each year by the municipality
//! and the network's operator. The objects in service during year N (commissioned on or
//! before 31 December N, not decommissioned before 1 January N) with brand, model, DevEUI,
//! address, commune and commissioning date, sorted by commune, brand and DevEUI; their counts
//! by brand and model and the total; the signature block. As PDF (the consumer report's own
//! writer, the list paginated with its header repeated) or CSV (`;`, UTF-8 with a BOM), in
//! French or English. Also the registry's list for the LoRaWAN screen.

mod pdf;
mod words;

use words::{Words, EN, FR};

use crate::access::{Permission, Session};
use crate::consumer_report::{Locale, ReportFile};
use crate::error::{Error, Result};
use crate::store::objects::CountedObject;
use crate::store::{self, Store};
use chrono::{NaiveDate, TimeZone};
use serde::{Deserialize, Serialize};

/// The years a count may be asked for.
pub const YEARS: std::ops::RangeInclusive<i32> = 1970..=2200;

/// At most this many registry rows in one page of `lorawan_devices`.
pub const MAX_DEVICES_PAGE: i64 = 1_000;

const SETTINGS_KEY: &str = "objects.report";

/// Who signs the count and under which agreement (setting `objects.report`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectsSettings {
    /// The municipality, as it signs: "Ville de Saint-Chamond".
    #[serde(default)]
    pub municipality: String,
    /// The network's operator, the other party: "SIEL-TE".
    #[serde(default)]
    pub operator: String,
    /// The network or platform's name: "ROC42" (empty: "the LoRaWAN network").
    #[serde(default)]
    pub network: String,
    /// `advanced`, `simple` or empty (the convention's two kinds of access).
    #[serde(default)]
    pub access: String,
    /// The year the municipality joined.
    #[serde(default)]
    pub joined_year: Option<i32>,
    /// The date of the municipality's decision (`YYYY-MM-DD`).
    #[serde(default)]
    pub deliberation: Option<String>,
}

/// The count's settings. Needs `view`.
pub fn objects_settings(store: &Store, session: &Session) -> Result<ObjectsSettings> {
    session.permit(Permission::View)?;
    load_settings(&*store.reader()?)
}

fn load_settings(conn: &rusqlite::Connection) -> Result<ObjectsSettings> {
    match store::settings::get(conn, SETTINGS_KEY)? {
        None => Ok(ObjectsSettings::default()),
        Some(json) => serde_json::from_str(&json)
            .map_err(|e| Error::bad_input("objects settings", format!("stored settings unreadable: {e}"))),
    }
}

/// Save the count's settings (needs `settings`; audited `objects_settings`).
pub fn objects_settings_set(store: &Store, session: &Session, s: &ObjectsSettings, now: i64) -> Result<ObjectsSettings> {
    let permit = session.permit(Permission::Settings)?;
    let text = |field: &str, v: &str| -> Result<String> {
        let v = v.trim();
        if v.chars().count() > 120 {
            return Err(Error::bad_input(field, "at most 120 characters"));
        }
        Ok(v.to_string())
    };
    let access = s.access.trim();
    if !["", "advanced", "simple"].contains(&access) {
        return Err(Error::bad_input("access", format!("'{access}' is not one of advanced, simple or empty")));
    }
    if let Some(y) = s.joined_year {
        if !YEARS.contains(&y) {
            return Err(Error::bad_input("joined_year", format!("{y} is not between 1970 and 2200")));
        }
    }
    let deliberation = match s.deliberation.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
        None => None,
        Some(d) => Some(parse_day(d).ok_or_else(|| Error::bad_input("deliberation", format!("'{d}' is not a date like 2023-05-15")))?.to_string()),
    };
    let clean = ObjectsSettings {
        municipality: text("municipality", &s.municipality)?,
        operator: text("operator", &s.operator)?,
        network: text("network", &s.network)?,
        access: access.to_string(),
        joined_year: s.joined_year,
        deliberation,
    };
    let json = serde_json::to_string(&clean).map_err(|e| Error::bad_input("objects settings", e.to_string()))?;
    let mut conn = store.writer();
    let tx = conn.transaction()?;
    store::settings::set(&tx, SETTINGS_KEY, &json)?;
    store::audit::record_permit(&tx, permit, now, "objects_settings", &json)?;
    tx.commit()?;
    Ok(clean)
}

/// The file formats of the count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Pdf,
    Csv,
}

impl Format {
    pub fn parse(s: &str) -> Result<Format> {
        match s {
            "pdf" => Ok(Format::Pdf),
            "csv" => Ok(Format::Csv),
            other => Err(Error::bad_input("format", format!("'{other}' is not one of pdf, csv"))),
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Pdf => "pdf",
            Format::Csv => "csv",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Pdf => "application/pdf",
            Format::Csv => "text/csv; charset=utf-8",
        }
    }
}

/// Which count, in which form.
#[derive(Debug, Clone)]
pub struct ObjectsRequest {
    pub year: i32,
    pub format: Format,
    /// Default: the session user's language.
    pub locale: Option<Locale>,
}

/// Objects of one brand and model.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ModelCount {
    pub model: String,
    pub objects: u64,
}

/// Objects of one brand, and of each of its models.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct BrandCount {
    pub brand: String,
    pub objects: u64,
    pub models: Vec<ModelCount>,
}

/// The count of a year without its list: what the screen shows before the file is made.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ObjectsSummary {
    pub year: i32,
    pub total: u64,
    pub brands: Vec<BrandCount>,
    /// Objects of the registry without a commissioning date: in no year's count.
    pub undated: i64,
}

/// The count of `year` (totals by brand and model). Needs `view`.
pub fn report_objects_count(store: &Store, session: &Session, year: i32) -> Result<ObjectsSummary> {
    session.permit(Permission::View)?;
    let (objects, undated) = gather(&*store.reader()?, year)?;
    Ok(ObjectsSummary { year, total: objects.len() as u64, brands: counts(&objects), undated })
}

/// The count of `year` as a file (PDF or CSV). Needs `export`.
pub fn report_objects(store: &Store, session: &Session, req: &ObjectsRequest, now: i64) -> Result<ReportFile> {
    let permit = session.permit(Permission::Export)?;
    let locale = req.locale.unwrap_or_else(|| Locale::of(session));
    let conn = store.reader()?;
    let (objects, undated) = gather(&conn, req.year)?;
    let settings = load_settings(&conn)?;
    let tz = crate::settings::timezone(&conn)?;
    drop(conn);
    let generated = tz.timestamp_opt(now, 0).earliest().map(|t| t.date_naive()).unwrap_or_default();
    let count = Count { year: req.year, locale, brands: counts(&objects), objects, undated, settings, generated, now };
    let bytes = match req.format {
        Format::Pdf => pdf::render(&count)?,
        Format::Csv => csv_bytes(&count)?,
    };
    let details = format!("{} {}: {} objects", req.year, req.format.extension(), count.objects.len());
    store::audit::record_permit(&store.writer(), permit, now, "report_objects", &details)?;
    Ok(ReportFile {
        file_name: format!("{}-{}.{}", count.words().file_stem, req.year, req.format.extension()),
        content_type: req.format.content_type(),
        bytes,
    })
}

/// The objects in service during `year`, sorted by commune, brand and DevEUI; and how many
/// objects have no commissioning date.
fn gather(conn: &rusqlite::Connection, year: i32) -> Result<(Vec<CountedObject>, i64)> {
    if !YEARS.contains(&year) {
        return Err(Error::bad_input("year", format!("{year} is not between 1970 and 2200")));
    }
    let mut objects = store::objects::in_service(conn, &format!("{year:04}-01-01"), &format!("{year:04}-12-31"))?;
    objects.sort_by_cached_key(|o| (fold(&o.city), fold(&o.brand), o.dev_eui.clone()));
    Ok((objects, store::objects::undated(conn)?))
}

/// Counts by brand, then model, in alphabetical order.
fn counts(objects: &[CountedObject]) -> Vec<BrandCount> {
    let mut by: std::collections::BTreeMap<(String, String), (String, String, u64)> = std::collections::BTreeMap::new();
    for o in objects {
        let entry = by.entry((fold(&o.brand), fold(&o.model))).or_insert_with(|| (o.brand.clone(), o.model.clone(), 0));
        entry.2 += 1;
    }
    let mut brands: Vec<BrandCount> = Vec::new();
    for ((brand_key, _), (brand, model, n)) in by {
        match brands.last_mut() {
            Some(b) if fold(&b.brand) == brand_key => {
                b.objects += n;
                b.models.push(ModelCount { model, objects: n });
            }
            _ => brands.push(BrandCount { brand, objects: n, models: vec![ModelCount { model, objects: n }] }),
        }
    }
    brands
}

/// A sort key that puts accented letters beside their base letter and ignores case.
fn fold(s: &str) -> String {
    s.trim()
        .chars()
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'à' | 'á' | 'â' | 'ä' | 'ã' | 'å' => 'a',
            'ç' => 'c',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'î' | 'ï' | 'í' | 'ì' => 'i',
            'ô' | 'ö' | 'ó' | 'ò' | 'õ' => 'o',
            'ù' | 'û' | 'ü' | 'ú' => 'u',
            'ÿ' | 'ý' => 'y',
            other => other,
        })
        .collect()
}

fn parse_day(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok()
}

/// The CSV: a BOM (Excel then reads UTF-8), a header row, one object a line; dates as
/// `YYYY-MM-DD`.
fn csv_bytes(c: &Count) -> Result<Vec<u8>> {
    let w = c.words();
    let mut out = b"\xEF\xBB\xBF".to_vec();
    {
        let mut csv = csv::WriterBuilder::new().delimiter(b';').from_writer(&mut out);
        csv.write_record([w.brand, w.model, w.dev_eui, w.address, w.city, w.commissioned, w.decommissioned])?;
        for o in &c.objects {
            let gone = o.decommissioned.as_deref().unwrap_or("");
            csv.write_record([&o.brand, &o.model, &o.dev_eui, &o.address, &o.city, &o.commissioned, gone])?;
        }
        csv.flush().map_err(|e| Error::io("objects.csv", e))?;
    }
    Ok(out)
}

/// Everything the renderers show.
pub(crate) struct Count {
    pub year: i32,
    pub locale: Locale,
    pub objects: Vec<CountedObject>,
    pub brands: Vec<BrandCount>,
    pub undated: i64,
    pub settings: ObjectsSettings,
    /// The local day the file is made.
    pub generated: NaiveDate,
    pub now: i64,
}

impl Count {
    pub fn words(&self) -> &'static Words {
        match self.locale {
            Locale::Fr => &FR,
            Locale::En => &EN,
        }
    }

    fn colon(&self) -> &'static str {
        if self.locale == Locale::Fr {
            " :"
        } else {
            ":"
        }
    }

    pub fn title(&self) -> String {
        format!("{} – {} {}", self.words().title, self.words().year, self.year)
    }

    pub fn municipality(&self) -> &str {
        let m = self.settings.municipality.trim();
        if m.is_empty() {
            self.words().municipality
        } else {
            m
        }
    }

    pub fn operator(&self) -> &str {
        let o = self.settings.operator.trim();
        if o.is_empty() {
            self.words().operator
        } else {
            o
        }
    }

    /// "Objet : Validation du nombre d'objets connectés ... ROC42 en « accès évolué »
    /// conformément à la délibération en date du 15/05/2023".
    pub fn subject(&self) -> String {
        let w = self.words();
        let network = self.settings.network.trim();
        let mut s = format!("{}{} {} ", w.subject_label, self.colon(), w.subject);
        if network.is_empty() {
            s.push_str(w.lorawan_network);
        } else {
            s.push_str(&format!("{} {network}", w.the_platform));
        }
        match self.settings.access.as_str() {
            "advanced" => s.push_str(&format!(" {}", w.advanced_access)),
            "simple" => s.push_str(&format!(" {}", w.simple_access)),
            _ => {}
        }
        if let Some(d) = self.settings.deliberation.as_deref().and_then(parse_day) {
            s.push_str(&format!(" {} {}", w.deliberation, self.locale.date(d)));
        }
        s
    }

    /// "Année d'adhésion : 2023" (when set) and "Date : 06/12/2026".
    pub fn dates_line(&self) -> String {
        let w = self.words();
        let date = format!("{}{} {}", w.date, self.colon(), self.locale.date(self.generated));
        match self.settings.joined_year {
            Some(y) => format!("{}{} {y}        {date}", w.joined, self.colon()),
            None => date,
        }
    }

    pub fn total_text(&self) -> String {
        let w = self.words();
        let n = self.objects.len();
        let noun = if n == 1 { w.object } else { w.objects };
        format!("{} {noun} {} {}", self.locale.number(n as f64, 0), w.in_service_in, self.year)
    }

    pub fn undated_text(&self) -> Option<String> {
        (self.undated > 0).then(|| {
            let w = self.words();
            let n = self.undated;
            format!("{} {}", self.locale.number(n as f64, 0), if n == 1 { w.undated_one } else { w.undated_many })
        })
    }

    pub fn day(&self, ymd: &str) -> String {
        parse_day(ymd).map(|d| self.locale.date(d)).unwrap_or_else(|| ymd.to_string())
    }

    pub fn brand_or_none<'a>(&self, brand: &'a str) -> &'a str {
        if brand.trim().is_empty() {
            self.words().no_brand
        } else {
            brand
        }
    }

    pub fn count_text(&self, n: u64) -> String {
        self.locale.number(n as f64, 0)
    }
}

#[cfg(test)]
mod tests {
    use super::fold;

    #[test]
    fn accents_sort_beside_their_letter() {
        let mut cities = vec!["Saint-Étienne", "Saint-Genest", "saint-chamond", "Saint-Chamond"];
        cities.sort_by_key(|c| fold(c));
        assert_eq!(cities, ["saint-chamond", "Saint-Chamond", "Saint-Étienne", "Saint-Genest"]);
    }
}
