//! The meter search: what a clerk types, matched without regard to case, accents or word
//! order against a meter's `search_text` (serial, manufacturer, address, postal code, city,
//! customer name and number), folded by [`fold`] and kept up to date by the triggers of
//! migration 0041: the same folding in plain SQL (`lower` and one `replace` per letter of
//! [`base_of`]), so any SQLite connection may write meters and customers. `releve_fold`
//! ([`register`]) is only still needed by migration 0033, which 0041 replaced.

use rusqlite::functions::FunctionFlags;
use rusqlite::Connection;

/// The SQL name of [`fold`] (used by migration 0033 on its way; the triggers of 0041 fold
/// in plain SQL).
pub const FOLD_FUNCTION: &str = "releve_fold";

/// At most this many words of a search are used (the others are ignored).
pub const MAX_WORDS: usize = 8;

/// The SQL name of [`surname_key`] (used by migration 0039's backfill).
pub const SURNAME_FUNCTION: &str = "releve_surname_key";

/// Register `releve_fold(text)` and `releve_surname_key(text)` on `conn` (deterministic:
/// usable in triggers and indexes).
pub fn register(conn: &Connection) -> rusqlite::Result<()> {
    conn.create_scalar_function(SURNAME_FUNCTION, 1, FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC, |ctx| {
        Ok(match ctx.get_raw(0) {
            rusqlite::types::ValueRef::Text(t) => surname_key(&String::from_utf8_lossy(t)),
            _ => String::new(),
        })
    })?;
    conn.create_scalar_function(FOLD_FUNCTION, 1, FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC, |ctx| {
        Ok(match ctx.get_raw(0) {
            rusqlite::types::ValueRef::Null => String::new(),
            rusqlite::types::ValueRef::Text(t) => fold(&String::from_utf8_lossy(t)),
            rusqlite::types::ValueRef::Integer(i) => i.to_string(),
            rusqlite::types::ValueRef::Real(f) => f.to_string(),
            rusqlite::types::ValueRef::Blob(_) => String::new(),
        })
    })
}

/// `s` in lower case without accents: "Céline JAURÈS Œuvre" -> "celine jaures oeuvre".
/// ASCII letters in lower case, Latin letters with diacritics lose them, ligatures are
/// written out, typographic apostrophes become `'`; other characters are kept as they are
/// (as SQLite's `lower` does: migration 0041's triggers fold the same way in plain SQL).
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii() {
            out.push(c.to_ascii_lowercase());
            continue;
        }
        match base_of(c) {
            Some(b) => out.push_str(b),
            None => out.push(c),
        }
    }
    out
}

/// Common French given names (folded), to tell "Céline Durand" from "Durand Céline".
const GIVEN_NAMES: &[&str] = &[
    "adrien", "agnes", "alain", "alexandre", "alice", "aline", "amandine", "andre", "anne", "annie", "antoine",
    "arnaud", "audrey", "aurelie", "bernard", "brigitte", "bruno", "camille", "caroline", "catherine", "cecile",
    "celine", "chantal", "charles", "christian", "christine", "christophe", "claire", "claude", "colette",
    "corinne", "damien", "daniel", "danielle", "david", "denis", "didier", "dominique", "elisabeth", "emilie",
    "emma", "eric", "florence", "francois", "francoise", "frederic", "gabriel", "genevieve", "georges", "gerard",
    "gilles", "guillaume", "helene", "henri", "hugo", "isabelle", "jacqueline", "jacques", "jean", "jeanne",
    "jerome", "joseph", "josiane", "julie", "julien", "karine", "laetitia", "laurence", "laurent", "lea", "louis",
    "louise", "lucas", "lucie", "marc", "marcel", "marie", "martine", "mathieu", "maurice", "michel", "micheline",
    "monique", "nadine", "nathalie", "nicolas", "nicole", "odette", "olivier", "pascal", "pascale", "patrice",
    "patricia", "patrick", "paul", "philippe", "pierre", "raymond", "rene", "robert", "roger", "sandrine",
    "sebastien", "simone", "sophie", "stephane", "stephanie", "suzanne", "sylvie", "thierry", "thomas",
    "valerie", "veronique", "vincent", "virginie", "yves", "yvette",
];

fn is_given(word: &str) -> bool {
    let w = fold(word);
    // "Jean-Pierre", "Marie-Claire": a compound given name.
    w.split('-').all(|p| GIVEN_NAMES.binary_search(&p).is_ok())
}

/// A customer name's sort key: surname first, then given names, folded ("Céline Durand",
/// "Durand Céline", "DURAND Céline", "Durand, Céline" -> "durand celine"). Names are stored
/// as one free text in whatever order the utility's file had, so the surname is found by:
/// a comma (surname before it); else the words in capitals when the others are not; else a
/// list of common French given names (leading given names: "Prénom Nom"; trailing ones:
/// "Nom Prénom"); else the last word (the order of the demo and most imports, "Prénom Nom").
/// Company names are sorted as written ("SARL Les Tilleuls" keeps its capitals rule).
pub fn surname_key(name: &str) -> String {
    let name = name.trim();
    if let Some((surname, given)) = name.split_once(',') {
        return fold(&format!("{} {}", surname.trim(), given.trim())).trim().to_string();
    }
    let words: Vec<&str> = name.split_whitespace().collect();
    if words.len() < 2 {
        return fold(name);
    }
    let capitals = |w: &str| w.chars().filter(|c| c.is_alphabetic()).count() >= 2 && !w.chars().any(char::is_lowercase);
    let (surname, given): (Vec<&str>, Vec<&str>) = if words.iter().any(|w| capitals(w)) && !words.iter().all(|w| capitals(w)) {
        words.iter().copied().partition(|w| capitals(w))
    } else {
        let leading = words.iter().take_while(|w| is_given(w)).count().min(words.len() - 1);
        let trailing = words.iter().rev().take_while(|w| is_given(w)).count().min(words.len() - 1);
        if leading > 0 && trailing == 0 {
            (words[leading..].to_vec(), words[..leading].to_vec())
        } else if trailing > 0 && leading == 0 {
            (words[..words.len() - trailing].to_vec(), words[words.len() - trailing..].to_vec())
        } else {
            (words[words.len() - 1..].to_vec(), words[..words.len() - 1].to_vec())
        }
    };
    fold(&format!("{} {}", surname.join(" "), given.join(" ")))
}

/// The words of a search, folded: split on white space, hyphens and commas (so
/// "Saint-Chamond" finds "Saint Chamond" and the other way round), at most [`MAX_WORDS`].
pub fn words(search: &str) -> Vec<String> {
    let folded = fold(search);
    let mut words: Vec<String> = Vec::new();
    for w in folded.split(|c: char| c.is_whitespace() || c == '-' || c == ',') {
        if !w.is_empty() && !words.iter().any(|x| x == w) && words.len() < MAX_WORDS {
            words.push(w.to_string());
        }
    }
    words
}

/// The unaccented lower-case form of a non-ASCII Latin letter (Latin-1 and Latin
/// Extended-A, which hold the letters of French, German, Spanish, Portuguese, Italian,
/// Dutch, Polish, Czech, ...); `None` for any other character. Migration 0041 writes this
/// table out as SQL `replace` calls (a test checks they agree).
fn base_of(c: char) -> Option<&'static str> {
    Some(match c {
        'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' | 'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'Ā' | 'ā' | 'Ă' | 'ă' | 'Ą' | 'ą' => "a",
        'Æ' | 'æ' => "ae",
        'Ç' | 'ç' | 'Ć' | 'ć' | 'Ĉ' | 'ĉ' | 'Ċ' | 'ċ' | 'Č' | 'č' => "c",
        'Ď' | 'ď' | 'Đ' | 'đ' | 'Ð' | 'ð' => "d",
        'È' | 'É' | 'Ê' | 'Ë' | 'è' | 'é' | 'ê' | 'ë' | 'Ē' | 'ē' | 'Ĕ' | 'ĕ' | 'Ė' | 'ė' | 'Ę' | 'ę' | 'Ě' | 'ě' => "e",
        'Ĝ' | 'ĝ' | 'Ğ' | 'ğ' | 'Ġ' | 'ġ' | 'Ģ' | 'ģ' => "g",
        'Ĥ' | 'ĥ' | 'Ħ' | 'ħ' => "h",
        'Ì' | 'Í' | 'Î' | 'Ï' | 'ì' | 'í' | 'î' | 'ï' | 'Ĩ' | 'ĩ' | 'Ī' | 'ī' | 'Ĭ' | 'ĭ' | 'Į' | 'į' | 'İ' | 'ı' => "i",
        'Ĳ' | 'ĳ' => "ij",
        'Ĵ' | 'ĵ' => "j",
        'Ķ' | 'ķ' => "k",
        'Ĺ' | 'ĺ' | 'Ļ' | 'ļ' | 'Ľ' | 'ľ' | 'Ŀ' | 'ŀ' | 'Ł' | 'ł' => "l",
        'Ñ' | 'ñ' | 'Ń' | 'ń' | 'Ņ' | 'ņ' | 'Ň' | 'ň' => "n",
        'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' | 'Ø' | 'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'Ō' | 'ō' | 'Ŏ' | 'ŏ' | 'Ő' | 'ő' => "o",
        'Œ' | 'œ' => "oe",
        'Ŕ' | 'ŕ' | 'Ŗ' | 'ŗ' | 'Ř' | 'ř' => "r",
        'Ś' | 'ś' | 'Ŝ' | 'ŝ' | 'Ş' | 'ş' | 'Š' | 'š' => "s",
        'ß' => "ss",
        'Ţ' | 'ţ' | 'Ť' | 'ť' | 'Ŧ' | 'ŧ' => "t",
        'Þ' | 'þ' => "th",
        'Ù' | 'Ú' | 'Û' | 'Ü' | 'ù' | 'ú' | 'û' | 'ü' | 'Ũ' | 'ũ' | 'Ū' | 'ū' | 'Ŭ' | 'ŭ' | 'Ů' | 'ů' | 'Ű' | 'ű' | 'Ų' | 'ų' => "u",
        'Ŵ' | 'ŵ' => "w",
        'Ý' | 'ý' | 'ÿ' | 'Ÿ' | 'Ŷ' | 'ŷ' => "y",
        'Ź' | 'ź' | 'Ż' | 'ż' | 'Ž' | 'ž' => "z",
        '\u{2018}' | '\u{2019}' | '\u{02BC}' => "'",
        // Non-breaking and narrow spaces (French typography) are spaces.
        '\u{00A0}' | '\u{202F}' | '\u{2009}' => " ",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fold_drops_case_and_accents() {
        assert_eq!(fold("Céline DURAND"), "celine durand");
        assert_eq!(fold("Rue Jean Jaurès"), "rue jean jaures");
        assert_eq!(fold("ŒUVRE Ærø Straße"), "oeuvre aero strasse");
        assert_eq!(fold("L’Horme"), "l'horme");
        assert_eq!(fold("KAM 12345678"), "kam 12345678");
    }

    #[test]
    fn words_split_on_spaces_hyphens_and_commas() {
        assert_eq!(words("  Saint-Chamond   42400 "), ["saint", "chamond", "42400"]);
        assert_eq!(words("Durand, Céline"), ["durand", "celine"]);
        assert_eq!(words("a a a"), ["a"]);
        assert!(words("  - ").is_empty());
        assert_eq!(words("1 2 3 4 5 6 7 8 9 10").len(), MAX_WORDS);
    }
}

#[cfg(test)]
mod migration_tests {
    use super::*;
    use crate::store::MIGRATIONS;

    /// Issue 15: after migration 0041 a plain SQLite connection (no `releve_fold`) writes
    /// meters and customers, and its triggers fold every Latin letter as [`fold`] does.
    #[test]
    fn plain_sqlite_writes_meters_and_folds_as_the_store_does() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("plain.db");
        drop(crate::store::Store::open(&path).expect("store"));
        let conn = Connection::open(&path).expect("plain connection");
        // Every character from U+0080 to U+024F and the few others base_of knows.
        let mut letters: String = ('\u{80}'..='\u{24F}').collect();
        letters.push_str("\u{2018}\u{2019}\u{02BC}\u{202F}\u{2009}\u{0416}\u{03A9}");
        conn.execute("INSERT INTO customers(number, name) VALUES ('C-1', ?1)", [&letters]).expect("customer");
        conn.execute(
            "INSERT INTO meters(serial, manufacturer, device_type, customer_id, address, postal_code, city, created_at)
             VALUES ('AB12', 'KAM', 'water', 1, 'Rue Jean JAURÈS', '42400', 'Saint-Chamond', 0)",
            [],
        )
        .expect("a meter written without the store");
        let text: String = conn.query_row("SELECT search_text FROM meters", [], |r| r.get(0)).expect("text");
        assert_eq!(text, fold(&format!("AB12 KAM Rue Jean JAURÈS 42400 Saint-Chamond {letters} C-1")));
        conn.execute("UPDATE customers SET name = 'Œuvre Łukasz'", []).expect("rename");
        conn.execute("UPDATE meters SET city = 'Saint-Étienne'", []).expect("move");
        let text: String = conn.query_row("SELECT search_text FROM meters", [], |r| r.get(0)).expect("text");
        assert_eq!(text, "ab12 kam rue jean jaures 42400 saint-etienne oeuvre lukasz c-1");
    }

    /// Migration 0033 fills `search_text` of the meters already there.
    #[test]
    fn migration_fills_the_search_text_of_existing_meters() {
        let conn = Connection::open_in_memory().expect("memory db");
        register(&conn).expect("register");
        let at = MIGRATIONS.iter().position(|(n, _)| *n == "0033_meter_search").expect("0033");
        for (_, sql) in &MIGRATIONS[..at] {
            conn.execute_batch(sql).expect("migration");
        }
        conn.execute_batch(
            "INSERT INTO customers(id, number, name) VALUES (1, 'C-1', 'Durand Céline');
             INSERT INTO meters(serial, manufacturer, device_type, customer_id, address, postal_code, city, created_at)
             VALUES ('123', 'KAM', 'water', 1, 'Rue Jean Jaurès', '42400', 'Saint-Chamond', 0);",
        )
        .expect("park");
        conn.execute_batch(MIGRATIONS[at].1).expect("0033");
        let text: String = conn.query_row("SELECT search_text FROM meters", [], |r| r.get(0)).expect("text");
        assert_eq!(text, "123 kam rue jean jaures 42400 saint-chamond durand celine c-1");
    }
}
