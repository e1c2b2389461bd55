//! `releve-bench search`: the meter list's search at `--meters` meters (100,000 by default),
//! p50/p99 over several searches a clerk types, through `meters_list` (folded
//! `search_text`, one `instr` per word, any order; the matches counted up to 1,000, a broad
//! search paged through the sort index) next to, in the same run, the previous query (the
//! same words, every match counted and sorted: `count(*) OVER ()`) and the old one (one
//! LIKE '%text%' over six columns with the customer joined; it finds less: no accent or
//! word-order folding), both counting and sorting the matches and giving a 50-row page.
//!
//! The park is generated on first use (French names, streets and towns with accents),
//! reused after.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use releve_core::access::Session;
use releve_core::meters::{meters_list, ListQuery};
use releve_core::store::{self, Store};
use std::path::Path;
use std::time::{Duration, Instant};

type Res = Result<(), Box<dyn std::error::Error>>;

const NOW: i64 = 1_795_435_200;

const FIRST: [&str; 16] = [
    "Céline", "Françoise", "Jérôme", "Hélène", "Noël", "Agnès", "Frédéric", "Léa", "Jean", "Marie", "Pierre",
    "Sophie", "Nicolas", "Anaïs", "Benoît", "Gaëlle",
];
const LAST: [&str; 16] = [
    "Durand", "Martin", "Bernard", "Lefèvre", "Moreau", "Girard", "Faure", "Rousseau", "Mercier", "Boyer",
    "Chevalier", "Gauthier", "Perrin", "Roche", "Dubois", "Lemaître",
];
const STREETS: [&str; 12] = [
    "Rue Gambetta", "Rue Jean Jaurès", "Place de la Liberté", "Avenue de la République", "Chemin de la Varizelle",
    "Rue de l'Église", "Boulevard Fauriel", "Rue Émile Zola", "Allée des Érables", "Rue de Lyon", "Quai Hénon",
    "Rue Pasteur",
];
const TOWNS: [(&str, &str); 8] = [
    ("42400", "Saint-Chamond"), ("42000", "Saint-Étienne"), ("42100", "Saint-Étienne"), ("42800", "Rive-de-Gier"),
    ("42152", "L'Horme"), ("42740", "Saint-Paul-en-Jarez"), ("42650", "Saint-Jean-Bonnefonds"), ("42320", "La Grand-Croix"),
];
const MAKERS: [(&str, &str); 5] = [("KAM", "water"), ("DME", "water"), ("ITR", "heat"), ("SON", "heat"), ("EFE", "electricity")];

/// What clerks type (the five first).
const SEARCHES: [&str; 12] = [
    "celine", "Jaures", "Durand Céline", "Saint-Chamond 42400", "kam", "Gambetta", "10012345", "lefevre jerome eglise",
    "rue", "zzz", "42", "C-0099999",
];

pub fn run(db: &Path, meters: u32, runs: u32) -> Res {
    let store = Store::open(db)?;
    let have = store::meters::count(&*store.reader()?)?;
    if have == 0 {
        let t = Instant::now();
        build_park(&store, meters)?;
        println!("park of {meters} meters built in {:.1} s", t.elapsed().as_secs_f64());
    }
    let total = store::meters::count(&*store.reader()?)?;
    println!("{total} meters; {runs} runs of each search, a 50-row page with the count");
    println!(
        "{:<26} {:>9} {:>9} {:>9} | {:>9} {:>9} {:>9} | {:>9} {:>9} {:>9}",
        "search", "found", "p50 ms", "p99 ms", "prev found", "p50 ms", "p99 ms", "old found", "p50 ms", "p99 ms"
    );
    let session = Session::system("bench");
    let conn = store.reader()?;
    let (mut all_new, mut all_prev, mut all_old) = (Vec::new(), Vec::new(), Vec::new());
    for text in SEARCHES {
        let q = ListQuery { search: Some(text.into()), limit: 50, ..Default::default() };
        let mut found = String::new();
        let mut new = Vec::new();
        let mut prev_found = 0;
        let mut prev = Vec::new();
        let mut old_found = 0;
        let mut old = Vec::new();
        meters_list(&store, &session, &q)?; // warm the page cache
        for _ in 0..runs.max(1) {
            let t = Instant::now();
            let page = meters_list(&store, &session, &q)?;
            new.push(t.elapsed());
            found = format!("{}{}", if page.more { ">" } else { "" }, page.total);
            let t = Instant::now();
            prev_found = previous(&conn, text)?;
            prev.push(t.elapsed());
            let t = Instant::now();
            old_found = old_like(&conn, text)?;
            old.push(t.elapsed());
        }
        let (p50, p99) = percentiles(&mut new);
        let (o50, o99) = percentiles(&mut old);
        let (v50, v99) = percentiles(&mut prev);
        println!("{text:<26} {found:>9} {p50:>9.1} {p99:>9.1} | {prev_found:>9} {v50:>9.1} {v99:>9.1} | {old_found:>9} {o50:>9.1} {o99:>9.1}");
        all_new.extend(new);
        all_prev.extend(prev);
        all_old.extend(old);
    }
    let (p50, p99) = percentiles(&mut all_new);
    let (o50, o99) = percentiles(&mut all_old);
    let (v50, v99) = percentiles(&mut all_prev);
    println!("{:<26} {:>9} {p50:>9.1} {p99:>9.1} | {:>9} {v50:>9.1} {v99:>9.1} | {:>9} {o50:>9.1} {o99:>9.1}", "all searches", "", "", "");
    Ok(())
}

/// (p50, p99) in milliseconds.
fn percentiles(v: &mut [Duration]) -> (f64, f64) {
    v.sort();
    let at = |q: f64| v.get(((v.len() as f64 - 1.0) * q).round() as usize).map_or(0.0, |d| d.as_secs_f64() * 1e3);
    (at(0.5), at(0.99))
}

/// The meter list's search before issue 15's bounded count (main at e33849c): one scan that
/// counts (`count(*) OVER ()`) and sorts every match, then the 50-row page.
fn previous(conn: &rusqlite::Connection, text: &str) -> Result<i64, rusqlite::Error> {
    let words = store::search::words(text);
    let filter: String = (0..words.len()).map(|i| format!(" AND instr(m.search_text, ?{}) > 0", i + 1)).collect();
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT m.id, m.manufacturer, m.device_type, m.status, m.last_seen, m.info_codes, count(*) OVER (),
                m.priority, m.key_status, m.serial, c.number, c.name, m.address, m.postal_code, m.city
         FROM meters m LEFT JOIN customers c ON c.id = m.customer_id
         WHERE 1 {filter} ORDER BY +m.serial, m.id LIMIT 50"
    ))?;
    let mut total = 0;
    let mut rows = stmt.query(rusqlite::params_from_iter(words))?;
    while let Some(r) = rows.next()? {
        total = r.get(6)?;
    }
    Ok(total)
}

/// The meter list's search as it was (before migration 0033): the page and its count.
fn old_like(conn: &rusqlite::Connection, text: &str) -> Result<i64, rusqlite::Error> {
    let pattern = format!("%{}%", text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
    let mut stmt = conn.prepare_cached(
        "SELECT m.id, m.manufacturer, m.device_type, m.status, m.last_seen, m.info_codes, count(*) OVER (),
                m.priority, m.key_status, m.serial, c.number, c.name, m.address, m.postal_code, m.city
         FROM meters m LEFT JOIN customers c ON c.id = m.customer_id
         WHERE (m.serial LIKE ?1 ESCAPE '\\' OR m.address LIKE ?1 ESCAPE '\\'
                OR m.city LIKE ?1 ESCAPE '\\' OR c.name LIKE ?1 ESCAPE '\\'
                OR c.number LIKE ?1 ESCAPE '\\' OR m.postal_code LIKE ?1 ESCAPE '\\')
         ORDER BY +m.serial, m.id LIMIT 50",
    )?;
    let mut total = 0;
    let mut rows = stmt.query([pattern])?;
    while let Some(r) = rows.next()? {
        total = r.get(6)?;
    }
    Ok(total)
}

/// `meters` meters, each with its customer, in one transaction.
pub(crate) fn build_park(store: &Store, meters: u32) -> Result<(), releve_core::Error> {
    let mut rng = ChaCha8Rng::seed_from_u64(15);
    let mut conn = store.writer();
    let tx = conn.transaction()?;
    for i in 0..meters {
        let name = format!("{} {}", LAST[rng.gen_range(0..LAST.len())], FIRST[rng.gen_range(0..FIRST.len())]);
        let (postal_code, city) = TOWNS[rng.gen_range(0..TOWNS.len())];
        let address = format!("{} {}", rng.gen_range(1..200), STREETS[rng.gen_range(0..STREETS.len())]);
        let customer = store::customers::Customer {
            number: format!("C-{i:07}"),
            name,
            address: address.clone(),
            postal_code: postal_code.into(),
            city: city.into(),
            email: None,
            phone: None,
        };
        let customer_id = store::customers::insert(&tx, &customer)?;
        let (manufacturer, device_type) = MAKERS[rng.gen_range(0..MAKERS.len())];
        let m = store::meters::NewMeter {
            serial: format!("{}", 10_000_000 + i),
            manufacturer: manufacturer.into(),
            device_type: device_type.into(),
            status: "active".into(),
            customer_id: Some(customer_id),
            address,
            postal_code: postal_code.into(),
            city: city.into(),
            ..Default::default()
        };
        store::meters::insert(&tx, &m, NOW)?;
    }
    tx.commit()?;
    drop(conn);
    store.checkpoint()
}
