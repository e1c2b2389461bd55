//! The report's words, numbers and dates in French or English.

use crate::access::Session;
use crate::error::{Error, Result};
use chrono::{Datelike, NaiveDate};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Locale {
    Fr,
    En,
}

impl Locale {
    pub fn parse(s: &str) -> Result<Locale> {
        match s {
            "fr" => Ok(Locale::Fr),
            "en" => Ok(Locale::En),
            other => Err(Error::bad_input("locale", format!("'{other}' is not one of fr, en"))),
        }
    }

    /// The session user's language (French unless it is English).
    pub fn of(session: &Session) -> Locale {
        if session.locale == "en" {
            Locale::En
        } else {
            Locale::Fr
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Locale::Fr => "fr",
            Locale::En => "en",
        }
    }

    pub fn words(self) -> &'static Words {
        match self {
            Locale::Fr => &FR,
            Locale::En => &EN,
        }
    }

    /// `v` with `decimals` decimals, groups of three digits and the locale's marks
    /// (fr: `1 234,500` with a no-break space; en: `1,234.500`).
    pub fn number(self, v: f64, decimals: usize) -> String {
        let s = format!("{:.decimals$}", v.abs());
        let (int, frac) = s.split_once('.').unwrap_or((&s, ""));
        let (group, mark) = match self {
            Locale::Fr => ('\u{A0}', ','),
            Locale::En => (',', '.'),
        };
        let mut out = String::new();
        for (i, c) in int.chars().enumerate() {
            if i > 0 && (int.len() - i) % 3 == 0 {
                out.push(group);
            }
            out.push(c);
        }
        if !frac.is_empty() {
            out.push(mark);
            out.push_str(frac);
        }
        let zero = s.chars().all(|c| c == '0' || c == '.');
        if v < 0.0 && !zero {
            out.insert(0, '-');
        }
        out
    }

    /// A day: `05/12/2025` in French, `5 Dec 2025` in English.
    pub fn date(self, d: NaiveDate) -> String {
        match self {
            Locale::Fr => d.format("%d/%m/%Y").to_string(),
            Locale::En => format!("{} {} {}", d.day(), &EN_MONTHS[d.month0() as usize][..3], d.year()),
        }
    }

    /// A month: `décembre 2025`, `December 2025`.
    pub fn month(self, d: NaiveDate) -> String {
        let names = match self {
            Locale::Fr => &FR_MONTHS,
            Locale::En => &EN_MONTHS,
        };
        format!("{} {}", names[d.month0() as usize], d.year())
    }

    /// A short label under a chart bar: `05/12` or `5 Dec`; `déc. 25` or `Dec 25`.
    pub fn short_day(self, d: NaiveDate) -> String {
        match self {
            Locale::Fr => d.format("%d/%m").to_string(),
            Locale::En => format!("{} {}", d.day(), &EN_MONTHS[d.month0() as usize][..3]),
        }
    }

    pub fn short_month(self, d: NaiveDate) -> String {
        let name = match self {
            Locale::Fr => FR_SHORT_MONTHS[d.month0() as usize],
            Locale::En => &EN_MONTHS[d.month0() as usize][..3],
        };
        format!("{name} {:02}", d.year() % 100)
    }

    /// "du 01/12/2025 au 31/12/2025", "from 1 Dec 2025 to 31 Dec 2025".
    pub fn period(self, from: NaiveDate, to: NaiveDate) -> String {
        let w = self.words();
        format!("{} {} {} {}", w.from, self.date(from), w.to, self.date(to))
    }

    /// Words of a device type.
    pub fn device_type(self, t: &str) -> String {
        let (fr, en) = match t {
            "water" => ("eau froide", "cold water"),
            "warm_water" => ("eau chaude", "warm water"),
            "heat" => ("chaleur", "heat"),
            "heat_cooling" => ("chaleur et froid", "heat and cooling"),
            "electricity" => ("électricité", "electricity"),
            "gas" => ("gaz", "gas"),
            "heat_cost_allocator" => ("répartiteur de frais de chauffage", "heat cost allocator"),
            other => (other, other),
        };
        match self {
            Locale::Fr => fr.into(),
            Locale::En => en.into(),
        }
    }

    /// An info code's words.
    pub fn info_code(self, code: &str) -> String {
        crate::notify::code_words(code, self == Locale::Fr).to_string()
    }
}

/// How a unit is printed: m³ rather than m3.
pub fn unit(u: &str) -> &str {
    match u {
        "m3" => "m³",
        "m3/h" => "m³/h",
        "C" => "°C",
        other => other,
    }
}

/// Decimals shown for a unit: litres for m³, whole units for allocators, tenths otherwise.
pub fn decimals(u: &str) -> usize {
    match u {
        "m3" => 3,
        "hca" => 0,
        _ => 1,
    }
}

pub struct Words {
    pub title: &'static str,
    pub customer: &'static str,
    pub customer_number: &'static str,
    pub meter: &'static str,
    pub serial: &'static str,
    pub meter_type: &'static str,
    pub manufacturer: &'static str,
    pub installed_at: &'static str,
    pub period_label: &'static str,
    pub from: &'static str,
    pub to: &'static str,
    pub total: &'static str,
    pub per_day: &'static str,
    pub per_month: &'static str,
    pub day: &'static str,
    pub month: &'static str,
    pub index_start: &'static str,
    pub consumption: &'static str,
    pub alarms: &'static str,
    pub alarm_periods: &'static str,
    pub ongoing: &'static str,
    pub more_periods: &'static str,
    pub exchange: &'static str,
    pub partial: &'static str,
    pub replaced_by: &'static str,
    pub no_reading: &'static str,
    pub no_data: &'static str,
    pub generated: &'static str,
    pub page: &'static str,
    pub of: &'static str,
    pub mail_subject: &'static str,
    pub mail_hello: &'static str,
    pub mail_body: &'static str,
    pub mail_total: &'static str,
    pub mail_bye: &'static str,
    pub file_stem: &'static str,
    pub imported: &'static str,
    pub exported: &'static str,
    pub total_export: &'static str,
    /// "Same period last year", its change and when it cannot be compared.
    pub last_year: &'static str,
    pub last_year_none: &'static str,
    pub change: &'static str,
}

const FR: Words = Words {
    title: "Relevé de consommation",
    customer: "Client",
    customer_number: "N° client",
    meter: "Compteur",
    serial: "N° de série",
    meter_type: "Type",
    manufacturer: "Fabricant",
    installed_at: "Adresse d'installation",
    period_label: "Période",
    from: "du",
    to: "au",
    total: "Consommation totale",
    per_day: "Consommation par jour",
    per_month: "Consommation par mois",
    day: "Jour",
    month: "Mois",
    index_start: "Index au début",
    consumption: "Consommation",
    alarms: "Alarmes",
    alarm_periods: "Périodes d'alarme",
    ongoing: "en cours",
    more_periods: "autres périodes (voir le tableau)",
    exchange: "Échange de compteur le",
    partial: "Période en cours (barre claire) : relevé jusqu'au",
    replaced_by: "remplacé par",
    no_reading: "—",
    no_data: "Aucun relevé sur la période.",
    generated: "Édité le",
    page: "Page",
    of: "sur",
    mail_subject: "Votre relevé de consommation",
    mail_hello: "Bonjour",
    mail_body: "Veuillez trouver ci-joint le relevé de consommation de votre compteur",
    mail_total: "Consommation totale",
    mail_bye: "Cordialement,",
    file_stem: "consommation",
    imported: "Importée (A+)",
    exported: "Exportée (A-)",
    total_export: "Énergie exportée totale",
    last_year: "Même période l'an dernier",
    last_year_none: "pas de relevé comparable",
    change: "évolution",
};

const EN: Words = Words {
    title: "Consumption report",
    customer: "Customer",
    customer_number: "Customer no.",
    meter: "Meter",
    serial: "Serial number",
    meter_type: "Type",
    manufacturer: "Manufacturer",
    installed_at: "Installed at",
    period_label: "Period",
    from: "from",
    to: "to",
    total: "Total consumption",
    per_day: "Consumption per day",
    per_month: "Consumption per month",
    day: "Day",
    month: "Month",
    index_start: "Index at start",
    consumption: "Consumption",
    alarms: "Alarms",
    alarm_periods: "Alarm periods",
    ongoing: "ongoing",
    more_periods: "more periods (see the table)",
    exchange: "Meter exchange on",
    partial: "Period not over (light bar): read up to",
    replaced_by: "replaced by",
    no_reading: "—",
    no_data: "No reading in the period.",
    generated: "Issued on",
    page: "Page",
    of: "of",
    mail_subject: "Your consumption report",
    mail_hello: "Hello",
    mail_body: "Please find attached the consumption report of your meter",
    mail_total: "Total consumption",
    mail_bye: "Kind regards,",
    file_stem: "consumption",
    imported: "Imported (A+)",
    exported: "Exported (A-)",
    total_export: "Total energy exported",
    last_year: "Same period last year",
    last_year_none: "no comparable readings",
    change: "change",
};

const FR_MONTHS: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];

const FR_SHORT_MONTHS: [&str; 12] =
    ["janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."];

const EN_MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_dates_follow_the_locale() {
        assert_eq!(Locale::Fr.number(1234.5, 3), "1\u{A0}234,500");
        assert_eq!(Locale::En.number(1234567.25, 1), "1,234,567.2");
        assert_eq!(Locale::En.number(-0.0001, 3), "0.000");
        assert_eq!(Locale::Fr.number(-12.0, 0), "-12");
        let d = NaiveDate::from_ymd_opt(2025, 12, 5).expect("date");
        assert_eq!(Locale::Fr.date(d), "05/12/2025");
        assert_eq!(Locale::En.date(d), "5 Dec 2025");
        assert_eq!(Locale::Fr.month(d), "décembre 2025");
        assert_eq!(Locale::Fr.short_month(d), "déc. 25");
    }
}
