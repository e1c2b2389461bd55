//! The subject access's PDF summary (with the consumer report's PDF writer): who, which
//! meters over which stretch of time, how many readings, alarms, notices, exports and
//! reports the archive holds, and what each file is.

use super::Holding;
use crate::consumer_report::pdf::{fit, page_footer, page_heading, wrap, Align, Document, Font, Page, A4, INK, MUTED, RULE, STRIPE};
use crate::consumer_report::Locale;
use crate::error::Result;
use crate::store::occupancies::CustomerRecord;
use chrono::TimeZone;
use chrono_tz::Tz;

const MARGIN: f64 = 42.0;
const WIDTH: f64 = A4.0 - 2.0 * MARGIN;
const BOTTOM: f64 = A4.1 - 60.0;

pub(super) struct Summary<'a> {
    pub locale: Locale,
    pub tz: Tz,
    pub customer: &'a CustomerRecord,
    pub held: &'a [Holding],
    pub per_meter: &'a [u64],
    pub counts: &'a super::AccessSummary,
    pub now: i64,
}

struct Words {
    title: &'static str,
    former: &'static str,
    customer: &'static str,
    number: &'static str,
    email: &'static str,
    phone: &'static str,
    moved_out: &'static str,
    meters: &'static str,
    serial: &'static str,
    kind: &'static str,
    from: &'static str,
    to: &'static str,
    readings: &'static str,
    always: &'static str,
    ongoing: &'static str,
    contents: &'static str,
    generated: &'static str,
    page: &'static str,
    files: [(&'static str, &'static str); 9],
    counts: [&'static str; 5],
}

const FR: Words = Words {
    title: "Données personnelles",
    former: "Ancien occupant",
    customer: "Client",
    number: "N° client",
    email: "E-mail",
    phone: "Téléphone",
    moved_out: "Départ le",
    meters: "Compteurs",
    serial: "N° de compteur",
    kind: "Type",
    from: "Depuis",
    to: "Jusqu'au",
    readings: "Relevés",
    always: "l'origine",
    ongoing: "en cours",
    contents: "Contenu de l'archive",
    generated: "Établi le",
    page: "Page",
    files: [
        ("customer.csv", "coordonnées du client"),
        ("meters.csv", "compteurs et période de rattachement (échanges compris)"),
        ("exchanges.csv", "échanges de compteur"),
        ("readings.csv", "tous les relevés de la période, chaque registre"),
        ("alarms.csv", "alarmes (codes info) des compteurs"),
        ("notices.csv", "avis d'alarme envoyés"),
        ("exports.csv", "fichiers de facturation et exports de la période"),
        ("consumer_reports.csv", "relevés de consommation envoyés par e-mail"),
        ("summary.pdf", "ce résumé"),
    ],
    counts: ["relevés", "alarmes", "avis", "exports", "relevés de consommation envoyés"],
};

const EN: Words = Words {
    title: "Personal data",
    former: "Former occupant",
    customer: "Customer",
    number: "Customer no.",
    email: "E-mail",
    phone: "Phone",
    moved_out: "Moved out on",
    meters: "Meters",
    serial: "Meter serial",
    kind: "Type",
    from: "From",
    to: "To",
    readings: "Readings",
    always: "the start",
    ongoing: "ongoing",
    contents: "What the archive holds",
    generated: "Made on",
    page: "Page",
    files: [
        ("customer.csv", "the customer's contact"),
        ("meters.csv", "meters and the time they were the customer's (exchanges included)"),
        ("exchanges.csv", "meter exchanges"),
        ("readings.csv", "every reading of that time, each register"),
        ("alarms.csv", "the meters' alarms (info codes)"),
        ("notices.csv", "alarm notices sent"),
        ("exports.csv", "billing files and exports of that time"),
        ("consumer_reports.csv", "consumption reports sent by e-mail"),
        ("summary.pdf", "this summary"),
    ],
    counts: ["readings", "alarms", "notices", "exports", "consumption reports sent"],
};

impl Summary<'_> {
    fn words(&self) -> &'static Words {
        if self.locale == Locale::Fr {
            &FR
        } else {
            &EN
        }
    }

    fn date(&self, t: i64) -> String {
        self.tz.timestamp_opt(t, 0).earliest().map(|d| self.locale.date(d.date_naive())).unwrap_or_default()
    }

    fn name(&self) -> String {
        match &self.customer.pseudonym {
            Some(_) => format!("{} #{}", self.words().former, self.customer.id),
            None => self.customer.name.clone(),
        }
    }
}

pub(super) fn render(s: &Summary<'_>) -> Result<Vec<u8>> {
    let w = s.words();
    let mut doc = Document {
        title: format!("{} — {} {}", w.title, w.customer, s.customer.number),
        created: chrono::DateTime::from_timestamp(s.now, 0).map(|t| t.format("D:%Y%m%d%H%M%SZ").to_string()).unwrap_or_default(),
        ..Default::default()
    };
    let page = doc.new_page();
    page_heading(page, MARGIN, w.title, &format!("{} {}", w.customer, s.customer.number), &format!("{} {}", w.generated, s.date(s.now)));
    // The customer.
    let mut y = 104.0;
    page.fill_color(INK);
    page.text(MARGIN, y, Font::Bold, 12.5, Align::Left, &fit(Font::Bold, 12.5, &s.name(), WIDTH));
    y += 16.0;
    let c = s.customer;
    let mut lines = vec![format!("{} {}", w.number, c.number)];
    let place = format!("{} {}", c.postal_code, c.city).trim().to_string();
    lines.extend([c.address.clone(), place].into_iter().filter(|l| !l.is_empty()));
    let colon = if s.locale == Locale::Fr { " :" } else { ":" };
    if let Some(e) = c.email.as_deref().filter(|e| !e.is_empty()) {
        lines.push(format!("{}{colon} {e}", w.email));
    }
    if let Some(p) = c.phone.as_deref().filter(|p| !p.is_empty()) {
        lines.push(format!("{}{colon} {p}", w.phone));
    }
    if let Some(t) = c.moved_out_at {
        lines.push(format!("{} {}", w.moved_out, s.date(t)));
    }
    for l in lines {
        for part in wrap(Font::Regular, 10.0, &l, WIDTH, 2) {
            page.text(MARGIN, y, Font::Regular, 10.0, Align::Left, &part);
            y += 13.0;
        }
    }
    // Counts.
    y += 8.0;
    let n = s.counts;
    let counts = [n.readings as usize, n.alarms, n.notices, n.exports, n.consumer_reports];
    let text: Vec<String> = counts.iter().zip(w.counts).map(|(k, label)| format!("{} {label}", s.locale.number(*k as f64, 0))).collect();
    page.fill_color(INK);
    for part in wrap(Font::Regular, 10.0, &text.join(" · "), WIDTH, 3) {
        page.text(MARGIN, y, Font::Regular, 10.0, Align::Left, &part);
        y += 13.0;
    }
    // The meters.
    y += 12.0;
    page.fill_color(MUTED);
    page.text(MARGIN, y, Font::Bold, 8.5, Align::Left, &w.meters.to_uppercase());
    y += 8.0;
    let cols = [MARGIN + 4.0, MARGIN + WIDTH * 0.24, MARGIN + WIDTH * 0.50, MARGIN + WIDTH * 0.70, MARGIN + WIDTH - 4.0];
    let header = |page: &mut Page, y: f64| {
        page.fill_color(MUTED);
        for (x, label) in cols[..4].iter().zip([w.serial, w.kind, w.from, w.to]) {
            page.text(*x, y, Font::Bold, 8.5, Align::Left, label);
        }
        page.text(cols[4], y, Font::Bold, 8.5, Align::Right, w.readings);
    };
    y += 10.0;
    header(page, y);
    y += 6.0;
    rule(page, y);
    let mut pages = vec![std::mem::take(page)];
    let mut current = pages.len() - 1;
    for (i, h) in s.held.iter().enumerate() {
        if y + 16.0 > BOTTOM {
            pages.push(Page::default());
            current = pages.len() - 1;
            y = 60.0;
            header(&mut pages[current], y);
            y += 6.0;
            rule(&mut pages[current], y);
        }
        let page = &mut pages[current];
        y += 14.0;
        if i % 2 == 1 {
            page.fill_color(STRIPE);
            page.fill_rect(MARGIN, y - 10.0, WIDTH, 14.0);
        }
        page.fill_color(INK);
        let from = if h.from == i64::MIN { w.always.to_string() } else { s.date(h.from) };
        let to = if h.to == i64::MAX { w.ongoing.to_string() } else { s.date(h.to) };
        page.text(cols[0], y, Font::Regular, 9.5, Align::Left, &h.meter.serial);
        page.text(cols[1], y, Font::Regular, 9.5, Align::Left, &fit(Font::Regular, 9.5, &s.locale.device_type(&h.meter.device_type), WIDTH * 0.25));
        page.text(cols[2], y, Font::Regular, 9.5, Align::Left, &from);
        page.text(cols[3], y, Font::Regular, 9.5, Align::Left, &to);
        let count = s.per_meter.get(i).copied().unwrap_or(0);
        page.text(cols[4], y, Font::Regular, 9.5, Align::Right, &s.locale.number(count as f64, 0));
    }
    // The files.
    if y + 40.0 + 14.0 * w.files.len() as f64 > BOTTOM {
        pages.push(Page::default());
        current = pages.len() - 1;
        y = 40.0;
    }
    let page = &mut pages[current];
    y += 28.0;
    page.fill_color(MUTED);
    page.text(MARGIN, y, Font::Bold, 8.5, Align::Left, &w.contents.to_uppercase());
    y += 6.0;
    rule(page, y);
    for (file, what) in w.files {
        y += 14.0;
        page.fill_color(INK);
        page.text(MARGIN + 4.0, y, Font::Bold, 9.5, Align::Left, file);
        page.fill_color(MUTED);
        page.text(MARGIN + WIDTH * 0.30, y, Font::Regular, 9.5, Align::Left, &fit(Font::Regular, 9.5, what, WIDTH * 0.70));
    }
    doc.pages = pages;
    let count = doc.pages.len();
    let left = format!("{} — {} {}", w.title, w.customer, s.customer.number);
    for (i, p) in doc.pages.iter_mut().enumerate() {
        page_footer(p, MARGIN, &left, &format!("{} {} / {count}", w.page, i + 1));
    }
    doc.to_bytes()
}

fn rule(page: &mut Page, y: f64) {
    page.stroke_color(RULE);
    page.line_width(0.6);
    page.line(MARGIN, y, MARGIN + WIDTH, y);
}
