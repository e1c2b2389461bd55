//! Profiles of the customers-and-meters import: a named separator, header flag and column
//! mapping, optionally with a folder watched every `interval_minutes` (inside an allowed
//! folder, see `folders`).

use crate::access::{Permission, Session};
use crate::error::{Error, Result};
use crate::park_import::FIELDS;
use crate::store::profiles::Profile;
use crate::store::{self, Store};
use std::collections::BTreeMap;

/// What a caller gives to save a profile.
#[derive(Debug, Clone, Default)]
pub struct ProfileSpec {
    pub name: String,
    pub separator: String,
    pub has_header: bool,
    pub mapping: BTreeMap<String, usize>,
    pub folder: Option<String>,
    pub interval_minutes: Option<i64>,
}

/// Every saved profile, by name.
pub fn park_profiles_list(store: &Store, session: &Session) -> Result<Vec<Profile>> {
    session.permit(Permission::View)?;
    store::profiles::list(&*store.reader()?)
}

fn separator(s: &str) -> Result<String> {
    match s {
        ";" | "," | "\t" => Ok(s.to_string()),
        "tab" | "\\t" => Ok("\t".into()),
        _ => Err(Error::bad_input("separator", format!("'{s}' is not one of ';', ',' or tab"))),
    }
}

/// Create or replace the profile named `spec.name`.
pub fn park_profile_save(store: &Store, session: &Session, spec: &ProfileSpec, now: i64) -> Result<Profile> {
    let permit = session.permit(Permission::EditMeters)?;
    let name = spec.name.split_whitespace().collect::<Vec<_>>().join(" ");
    if name.is_empty() || name.chars().count() > 80 {
        return Err(Error::bad_input("name", "a profile needs a name of at most 80 characters"));
    }
    let separator = separator(&spec.separator)?;
    if let Some(field) = spec.mapping.keys().find(|f| !FIELDS.contains(&f.as_str())) {
        return Err(Error::bad_input("mapping", format!("unknown field '{field}'; fields: {}", FIELDS.join(", "))));
    }
    if !spec.mapping.contains_key("customer_number") {
        return Err(Error::bad_input("mapping", "the customer number column must be chosen"));
    }
    if spec.mapping.values().any(|&c| c >= 1000) {
        return Err(Error::bad_input("mapping", "a column index is below 1000"));
    }
    let folder = spec.folder.as_deref().map(str::trim).filter(|f| !f.is_empty()).map(str::to_string);
    let interval_minutes = match (&folder, spec.interval_minutes) {
        (None, _) => None,
        (Some(_), None) => Some(60),
        (Some(_), Some(m)) if m > 0 => Some(m),
        (Some(_), Some(_)) => return Err(Error::bad_input("interval_minutes", "the interval is at least one minute")),
    };
    if let Some(folder) = &folder {
        crate::folders::check(store, folder)?;
    }
    let mut profile = Profile {
        id: 0,
        name,
        separator,
        has_header: spec.has_header,
        mapping: spec.mapping.clone(),
        folder,
        interval_minutes,
        last_run: None,
    };
    let mut conn = store.writer();
    let tx = conn.transaction()?;
    profile.id = store::profiles::save(&tx, &profile, now)?;
    profile.last_run = store::profiles::by_name(&tx, &profile.name)?.and_then(|p| p.last_run);
    let fields: Vec<String> = profile.mapping.iter().map(|(f, c)| format!("{f}={}", c + 1)).collect();
    store::audit::record_permit(&tx, permit, now, "park_profile_saved", &format!("{}: {}", profile.name, fields.join(", ")))?;
    tx.commit()?;
    Ok(profile)
}

/// Delete the profile named `name`.
pub fn park_profile_delete(store: &Store, session: &Session, name: &str, now: i64) -> Result<()> {
    let permit = session.permit(Permission::EditMeters)?;
    let mut conn = store.writer();
    let tx = conn.transaction()?;
    if !store::profiles::delete(&tx, name)? {
        return Err(Error::not_found(format!("import profile '{name}'")));
    }
    store::audit::record_permit(&tx, permit, now, "park_profile_deleted", name)?;
    tx.commit()?;
    Ok(())
}
