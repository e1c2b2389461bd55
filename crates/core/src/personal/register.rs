//! The register of processing (GDPR art. 30): what Relevé keeps, why, on what basis, for
//! how long and who sees it, generated from the settings (retention periods, the
//! permission matrix, the configured channels and exports) in French or English, as data
//! for the Settings screen, a self-contained HTML page or a PDF.
//!
//! It needs `view`, not `audit`: it holds no personal data and no secret (counts, periods,
//! roles), and every clerk who handles customers' data should be able to read what is kept
//! and why.

use crate::access::{Permission, Session};
use crate::consumer_report::pdf::{fit, page_footer, wrap, Align, Document, Font, A4, ACCENT, INK, MUTED, RULE};
use crate::consumer_report::Locale;
use crate::error::{Error, Result};
use crate::store::occupancies::{self, RegisterCounts};
use crate::store::Store;
use serde::Serialize;

/// Retention periods, from the settings (migration 0028 sets the defaults).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Retention {
    /// Readings kept in full (every interval value) for this many months...
    pub readings_full_months: i64,
    /// ...then one a day, deleted after this many years.
    pub readings_years: i64,
    pub telegrams_months: i64,
    pub audit_years: i64,
    /// A former customer's number and readings after the move-out.
    pub former_customers_years: i64,
    /// The open API's feeds of new readings and info codes (migration 0031).
    pub feed_days: i64,
}

impl Retention {
    pub fn read(conn: &rusqlite::Connection) -> Result<Retention> {
        let get = |key: &str, default: i64| -> Result<i64> { Ok(occupancies::setting_i64(conn, key)?.unwrap_or(default)) };
        Ok(Retention {
            readings_full_months: get("retention_readings_full_months", 13)?,
            readings_years: get("retention_readings_years", 10)?,
            telegrams_months: get("retention_telegrams_months", 13)?,
            audit_years: get("retention_audit_years", 10)?,
            former_customers_years: get("retention_former_customers_years", 10)?,
            feed_days: get("retention_feed_days", 60)?,
        })
    }
}

/// One processing: what, why, on what basis, how long, who sees it, who receives it.
#[derive(Debug, Clone, Serialize)]
pub struct Processing {
    pub id: &'static str,
    pub name: String,
    pub data: String,
    pub purpose: String,
    pub basis: String,
    pub retention: String,
    pub access: String,
    pub recipients: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ProcessingRegister {
    pub locale: &'static str,
    pub generated_at: i64,
    pub retention: Retention,
    pub counts: RegisterCounts,
    pub entries: Vec<Processing>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegisterFormat {
    Json,
    Html,
    Pdf,
}

impl RegisterFormat {
    pub fn parse(s: &str) -> Result<RegisterFormat> {
        match s {
            "json" => Ok(RegisterFormat::Json),
            "html" => Ok(RegisterFormat::Html),
            "pdf" => Ok(RegisterFormat::Pdf),
            other => Err(Error::bad_input("format", format!("'{other}' is not one of json, html, pdf"))),
        }
    }
}

/// The register in `locale` (default: the session's). Needs `view`.
pub fn gdpr_register(store: &Store, session: &Session, locale: Option<Locale>, now: i64) -> Result<ProcessingRegister> {
    session.permit(Permission::View)?;
    let locale = locale.unwrap_or_else(|| Locale::of(session));
    let conn = store.reader()?;
    let retention = Retention::read(&conn)?;
    let counts = occupancies::register_counts(&conn)?;
    let fr = locale == Locale::Fr;
    let roles = |p: Permission| -> Result<String> {
        let names: Vec<&str> = occupancies::roles_with(&conn, p.as_str())?
            .iter()
            .map(|r| match (r.as_str(), fr) {
                ("user", true) => "utilisateur",
                ("superuser", true) => "super-utilisateur",
                ("manager", true) => "gestionnaire",
                ("user", false) => "user",
                ("superuser", false) => "superuser",
                _ => "manager",
            })
            .collect();
        Ok(if names.is_empty() { "—".into() } else { names.join(", ") })
    };
    let smtp = crate::notify::load_settings(&conn).map(|s| !s.smtp_host.trim().is_empty()).unwrap_or(false);
    let n = |v: i64| locale.number(v as f64, 0);
    let r = &retention;
    let t = |f: String, e: String| if fr { f } else { e };
    let view = roles(Permission::View)?;
    let intervals = roles(Permission::ViewIntervals)?;
    let personal = roles(Permission::PersonalData)?;
    let audit = roles(Permission::Audit)?;
    let users = roles(Permission::ManageUsers)?;
    let keys = roles(Permission::ManageKeys)?;
    let send = roles(Permission::SendMail)?;
    let export = roles(Permission::Export)?;
    let mut entries = vec![
        Processing {
            id: "customers",
            name: t("Clients (abonnés)".into(), "Customers".into()),
            data: t(
                format!(
                    "N° client, nom, adresse, e-mail, téléphone ; {} client{}, {} ancien{} occupant{} (pseudonymes)",
                    n(counts.customers),
                    plural(counts.customers),
                    n(counts.former_customers),
                    plural(counts.former_customers),
                    plural(counts.former_customers)
                ),
                format!(
                    "Customer number, name, address, e-mail, phone; {} customer{}, {} former occupant{} (pseudonyms)",
                    n(counts.customers),
                    plural_en(counts.customers),
                    n(counts.former_customers),
                    plural_en(counts.former_customers)
                ),
            ),
            purpose: t("Facturation, information des consommateurs, alarmes".into(), "Billing, informing consumers, alarms".into()),
            basis: t("Exécution du contrat de fourniture".into(), "Performance of the supply contract".into()),
            retention: t(
                format!("Pendant le contrat ; au départ, nom, adresse, e-mail et téléphone effacés (pseudonyme), le n° client gardé {} ans", r.former_customers_years),
                format!("During the contract; at move-out name, address, e-mail and phone are wiped (pseudonym), the customer number kept {} years", r.former_customers_years),
            ),
            access: t(format!("Consultation : {view} ; droit d'accès et départ : {personal}"), format!("View: {view}; subject access and move-out: {personal}")),
            recipients: t("Le client (relevés de consommation, export de ses données)".into(), "The customer (consumption reports, export of their data)".into()),
        },
        Processing {
            id: "readings",
            name: t("Relevés de compteur".into(), "Meter readings".into()),
            data: t(
                format!("Index et valeurs horaires ou plus fines de {} compteurs (données de courbe de charge : elles révèlent la vie du foyer)", n(counts.meters)),
                format!("Indexes and hourly or finer values of {} meters (interval data: they reveal a household's life)", n(counts.meters)),
            ),
            purpose: t("Facturation, détection des fuites et alarmes, bilans de consommation".into(), "Billing, leak and alarm detection, consumption reports".into()),
            basis: t("Exécution du contrat ; obligation légale (conservation comptable)".into(), "Performance of the contract; legal obligation (accounting retention)".into()),
            retention: t(
                format!("Complets {} mois, puis un relevé par jour, supprimés après {} ans", r.readings_full_months, r.readings_years),
                format!("In full for {} months, then one a day, deleted after {} years", r.readings_full_months, r.readings_years),
            ),
            access: t(
                format!("Totaux journaliers et plus : {view} ; valeurs horaires et plus fines : {intervals}"),
                format!("Daily totals and coarser: {view}; hourly and finer values: {intervals}"),
            ),
            recipients: t(format!("Fichiers de facturation ({} exports planifiés vers un dossier, {} par e-mail)", n(counts.export_jobs_folder), n(counts.export_jobs_email)), format!("Billing files ({} scheduled exports to a folder, {} by e-mail)", n(counts.export_jobs_folder), n(counts.export_jobs_email))),
        },
        Processing {
            id: "telegrams",
            name: t("Télégrammes bruts".into(), "Raw telegrams".into()),
            data: t("Octets reçus des compteurs (chiffrés ou non), passerelle, niveau radio".into(), "Bytes received from the meters (encrypted or not), gateway, radio level".into()),
            purpose: t("Décoder à nouveau (clé arrivée plus tard), preuve d'un relevé".into(), "Decoding again (a key that arrives later), evidence of a reading".into()),
            basis: t("Intérêt légitime (exactitude des relevés)".into(), "Legitimate interest (accurate readings)".into()),
            retention: t(format!("{} mois", r.telegrams_months), format!("{} months", r.telegrams_months)),
            access: view.clone(),
            recipients: "—".into(),
        },
        Processing {
            id: "alarms",
            name: t("Alarmes et avis".into(), "Alarms and notices".into()),
            data: t(format!("Codes info des compteurs (fuite, retour d'eau, fraude...), avis envoyés ; {} règles d'avis actives", n(counts.notify_rules)), format!("Meters' info codes (leak, backflow, tamper...), notices sent; {} active notice rules", n(counts.notify_rules))),
            purpose: t("Prévenir le client et le service d'une fuite ou d'une panne".into(), "Warning the customer and the utility of a leak or a failure".into()),
            basis: t("Intérêt légitime ; exécution du contrat".into(), "Legitimate interest; performance of the contract".into()),
            retention: t(format!("Comme les relevés ({} ans)", r.readings_years), format!("As the readings ({} years)", r.readings_years)),
            access: view.clone(),
            recipients: t(
                format!("Destinataires des règles d'avis (e-mail{}, SMS)", if smtp { " configuré" } else { " non configuré" }),
                format!("The notice rules' recipients (e-mail {}, SMS)", if smtp { "configured" } else { "not configured" }),
            ),
        },
        Processing {
            id: "consumer_reports",
            name: t("Relevés de consommation envoyés".into(), "Consumption reports sent".into()),
            data: t("Graphique et tableau de consommation d'un compteur, envoyés au client".into(), "A meter's consumption chart and table, sent to the customer".into()),
            purpose: t("Informer le consommateur".into(), "Informing the consumer".into()),
            basis: t("Exécution du contrat ; obligation d'information".into(), "Performance of the contract; duty to inform".into()),
            retention: t(format!("L'envoi reste au journal d'audit ({} ans)", r.audit_years), format!("The sending stays in the audit log ({} years)", r.audit_years)),
            access: t(format!("Envoi : {send} ; fichiers : {export}"), format!("Sending: {send}; files: {export}")),
            recipients: t("Le client, par e-mail".into(), "The customer, by e-mail".into()),
        },
        Processing {
            id: "audit",
            name: t("Journal d'audit".into(), "Audit log".into()),
            data: t("Qui a fait quoi, quand, depuis quel ordinateur (connexions, exports, modifications, accès aux données personnelles)".into(), "Who did what, when, from which computer (logins, exports, changes, personal data access)".into()),
            purpose: t("Sécurité et traçabilité".into(), "Security and accountability".into()),
            basis: t("Obligation légale (sécurité du traitement, art. 32)".into(), "Legal obligation (security of processing, art. 32)".into()),
            retention: t(format!("{} ans", r.audit_years), format!("{} years", r.audit_years)),
            access: audit.clone(),
            recipients: "—".into(),
        },
        Processing {
            id: "users",
            name: t("Comptes des agents".into(), "Staff accounts".into()),
            data: t(format!("Identifiant, nom, rôle, langue, empreinte du mot de passe ; {} comptes actifs", n(counts.users)), format!("Login, name, role, language, password hash; {} active accounts", n(counts.users))),
            purpose: t("Contrôle d'accès".into(), "Access control".into()),
            basis: t("Intérêt légitime (sécurité)".into(), "Legitimate interest (security)".into()),
            retention: t("Tant que le compte existe".into(), "While the account exists".into()),
            access: users,
            recipients: "—".into(),
        },
        Processing {
            id: "keys",
            name: t("Clés AES des compteurs".into(), "Meters' AES keys".into()),
            data: t("Clé par compteur (pas une donnée personnelle, mais elle ouvre les relevés)".into(), "A key per meter (not personal data, but it opens the readings)".into()),
            purpose: t("Déchiffrer les télégrammes".into(), "Decrypting telegrams".into()),
            basis: t("Intérêt légitime".into(), "Legitimate interest".into()),
            retention: t("Tant que le compteur est au parc".into(), "While the meter is in the park".into()),
            access: t(format!("Import : {keys} ; jamais relues"), format!("Import: {keys}; never read back")),
            recipients: "—".into(),
        },
    ];
    if counts.c806_sdps > 0 {
        entries.push(Processing {
            id: "c806",
            name: t("Puissance envoyée à Elia (aFRR)".into(), "Power sent to Elia (aFRR)".into()),
            data: t(format!("Puissance de {} points de livraison toutes les 4 secondes", n(counts.c806_sdps)), format!("Power of {} delivery points every 4 seconds", n(counts.c806_sdps))),
            purpose: t("Réglage de fréquence (aFRR)".into(), "Frequency restoration (aFRR)".into()),
            basis: t("Contrat avec le client et obligation du gestionnaire de réseau".into(), "Contract with the customer and the grid operator's obligation".into()),
            retention: t("Tampon d'envoi seulement".into(), "Send buffer only".into()),
            access: view.clone(),
            recipients: "Elia".into(),
        });
    }
    Ok(ProcessingRegister { locale: locale.code(), generated_at: now, retention, counts, entries })
}

/// The plural mark of a count in French: none for 0 and 1.
fn plural(n: i64) -> &'static str {
    if n > 1 {
        "s"
    } else {
        ""
    }
}

/// The plural mark of a count in English: none for 1 only.
fn plural_en(n: i64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

impl ProcessingRegister {
    fn fr(&self) -> bool {
        self.locale == "fr"
    }

    fn title(&self) -> &'static str {
        if self.fr() {
            "Registre des traitements"
        } else {
            "Register of processing"
        }
    }

    fn labels(&self) -> [&'static str; 6] {
        if self.fr() {
            ["Données", "Finalité", "Base légale", "Conservation", "Accès", "Destinataires"]
        } else {
            ["Data", "Purpose", "Legal basis", "Kept", "Access", "Recipients"]
        }
    }

    fn fields<'a>(&self, p: &'a Processing) -> [&'a str; 6] {
        [&p.data, &p.purpose, &p.basis, &p.retention, &p.access, &p.recipients]
    }

    fn date(&self, tz: chrono_tz::Tz) -> String {
        use chrono::TimeZone;
        let locale = if self.fr() { Locale::Fr } else { Locale::En };
        tz.timestamp_opt(self.generated_at, 0).earliest().map(|d| locale.date(d.date_naive())).unwrap_or_default()
    }

    /// `registre-traitements-2026-12-06.html` / `register-of-processing-....pdf`.
    pub fn file_name(&self, tz: chrono_tz::Tz, ext: &str) -> String {
        use chrono::TimeZone;
        let day = tz.timestamp_opt(self.generated_at, 0).earliest().map(|d| d.date_naive().to_string()).unwrap_or_default();
        format!("{}-{day}.{ext}", if self.fr() { "registre-traitements" } else { "register-of-processing" })
    }

    /// One self-contained HTML page.
    pub fn html(&self, tz: chrono_tz::Tz) -> String {
        let esc = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;");
        let mut out = format!(
            "<!doctype html><html lang=\"{}\"><head><meta charset=\"utf-8\"><title>{}</title><style>\
             body{{font-family:Helvetica,Arial,sans-serif;color:#222;max-width:60rem;margin:2rem auto;padding:0 1rem}}\
             h1{{border-left:4px solid #2f6db5;padding-left:.6rem}}section{{border-top:1px solid #ccc;padding:.6rem 0}}\
             dl{{display:grid;grid-template-columns:10rem 1fr;gap:.2rem 1rem;margin:.4rem 0}}dt{{color:#6b6b6b}}</style></head><body>",
            self.locale,
            esc(self.title())
        );
        out.push_str(&format!("<h1>{}</h1><p>{}</p>", esc(self.title()), esc(&self.date(tz))));
        for p in &self.entries {
            out.push_str(&format!("<section id=\"{}\"><h2>{}</h2><dl>", p.id, esc(&p.name)));
            for (label, value) in self.labels().iter().zip(self.fields(p)) {
                out.push_str(&format!("<dt>{}</dt><dd>{}</dd>", esc(label), esc(value)));
            }
            out.push_str("</dl></section>");
        }
        out.push_str("</body></html>\n");
        out
    }

    /// The register on A4 pages.
    pub fn pdf(&self, tz: chrono_tz::Tz) -> crate::error::Result<Vec<u8>> {
        const MARGIN: f64 = 42.0;
        const WIDTH: f64 = A4.0 - 2.0 * MARGIN;
        const BOTTOM: f64 = A4.1 - 60.0;
        let mut doc = Document { title: self.title().to_string(), ..Default::default() };
        let mut page = doc.new_page();
        page.fill_color(ACCENT);
        page.fill_rect(MARGIN, 36.0, 4.0, 34.0);
        page.fill_color(INK);
        page.text(MARGIN + 12.0, 54.0, Font::Bold, 19.0, Align::Left, self.title());
        page.fill_color(MUTED);
        page.text(MARGIN + 12.0, 68.0, Font::Regular, 10.0, Align::Left, &self.date(tz));
        let mut y = 90.0;
        let label_w = 92.0;
        for p in &self.entries {
            let lines: Vec<(usize, Vec<String>)> = self
                .fields(p)
                .iter()
                .enumerate()
                .map(|(i, v)| (i, wrap(Font::Regular, 9.0, v, WIDTH - label_w, 6)))
                .collect();
            let height = 30.0 + lines.iter().map(|(_, l)| 11.5 * l.len() as f64 + 2.0).sum::<f64>();
            if y + height > BOTTOM {
                page = doc.new_page();
                y = 50.0;
            }
            page.stroke_color(RULE);
            page.line_width(0.6);
            page.line(MARGIN, y, MARGIN + WIDTH, y);
            y += 18.0;
            page.fill_color(INK);
            page.text(MARGIN, y, Font::Bold, 12.0, Align::Left, &fit(Font::Bold, 12.0, &p.name, WIDTH));
            y += 6.0;
            for (i, parts) in lines {
                y += 11.5;
                page.fill_color(MUTED);
                page.text(MARGIN, y, Font::Bold, 8.5, Align::Left, self.labels()[i]);
                page.fill_color(INK);
                let mut first = true;
                for part in parts {
                    if !first {
                        y += 11.5;
                    }
                    first = false;
                    page.text(MARGIN + label_w, y, Font::Regular, 9.0, Align::Left, &part);
                }
                y += 2.0;
            }
            y += 8.0;
        }
        let count = doc.pages.len();
        let title = self.title();
        for (i, p) in doc.pages.iter_mut().enumerate() {
            page_footer(p, MARGIN, title, &format!("Page {} / {count}", i + 1));
        }
        doc.to_bytes()
    }
}
