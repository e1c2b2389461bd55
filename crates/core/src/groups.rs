//! Meter groups (sectors, reading routes, ...): create, rename, delete, add and remove
//! meters. A meter may be in many groups. Changes need the permission `edit_meters`.

use crate::access::{Permission, Session};
use crate::error::{Error, Result};
use crate::problem::Problem;
use crate::store::{self, Store};
use serde::Serialize;

/// At most this many meters in one add or remove call.
pub const MAX_METERS_PER_CALL: usize = 200_000;
/// A group name has at most this many characters.
pub const MAX_NAME: usize = 80;

#[derive(Debug, Serialize)]
pub struct Created {
    pub id: i64,
    pub name: String,
    pub added: u64,
}

fn clean_name(name: &str) -> Result<String> {
    let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
    if name.is_empty() {
        return Err(Error::Refused(Problem::GroupNameEmpty));
    }
    if name.chars().count() > MAX_NAME {
        return Err(Error::Refused(Problem::GroupNameTooLong { max: MAX_NAME }));
    }
    Ok(name)
}

fn check_count(meter_ids: &[i64]) -> Result<()> {
    if meter_ids.len() > MAX_METERS_PER_CALL {
        return Err(Error::bad_input("meter_ids", format!("at most {MAX_METERS_PER_CALL} meters at a time")));
    }
    Ok(())
}

/// Create a group named `name` holding `meter_ids` (unknown ids are skipped).
pub fn group_create(store: &Store, session: &Session, name: &str, meter_ids: &[i64], now: i64) -> Result<Created> {
    let permit = session.permit(Permission::EditMeters)?;
    let name = clean_name(name)?;
    check_count(meter_ids)?;
    let mut conn = store.writer();
    let tx = conn.transaction()?;
    if store::groups::by_name(&tx, &name)?.is_some() {
        return Err(Error::Refused(Problem::GroupNameTaken { name }));
    }
    let id = store::groups::create(&tx, &name, now)?;
    let added = store::groups::add_members(&tx, id, meter_ids)?;
    store::audit::record_permit(&tx, permit, now, "group_created", &format!("{name} (#{id}), {added} meters"))?;
    tx.commit()?;
    Ok(Created { id, name, added })
}

/// Rename group `id`.
pub fn group_rename(store: &Store, session: &Session, id: i64, name: &str, now: i64) -> Result<()> {
    let permit = session.permit(Permission::EditMeters)?;
    let name = clean_name(name)?;
    let mut conn = store.writer();
    let tx = conn.transaction()?;
    let old = store::groups::name_of(&tx, id)?.ok_or_else(|| Error::not_found(format!("group {id}")))?;
    if old == name {
        return Ok(());
    }
    if store::groups::by_name(&tx, &name)?.is_some() {
        return Err(Error::Refused(Problem::GroupNameTaken { name }));
    }
    store::groups::rename(&tx, id, &name)?;
    store::audit::record_permit(&tx, permit, now, "group_renamed", &format!("#{id}: {old} -> {name}"))?;
    tx.commit()?;
    Ok(())
}

/// Delete group `id`; its meters stay, they only leave the group.
pub fn group_delete(store: &Store, session: &Session, id: i64, now: i64) -> Result<()> {
    let permit = session.permit(Permission::EditMeters)?;
    let mut conn = store.writer();
    let tx = conn.transaction()?;
    let name = store::groups::name_of(&tx, id)?.ok_or_else(|| Error::not_found(format!("group {id}")))?;
    store::groups::delete(&tx, id)?;
    store::audit::record_permit(&tx, permit, now, "group_deleted", &format!("{name} (#{id})"))?;
    tx.commit()?;
    Ok(())
}

/// Add meters to group `id`; returns how many were not members yet.
pub fn group_add_meters(store: &Store, session: &Session, id: i64, meter_ids: &[i64], now: i64) -> Result<u64> {
    change_members(store, session, id, meter_ids, now, true)
}

/// Remove meters from group `id`; returns how many were members.
pub fn group_remove_meters(store: &Store, session: &Session, id: i64, meter_ids: &[i64], now: i64) -> Result<u64> {
    change_members(store, session, id, meter_ids, now, false)
}

fn change_members(store: &Store, session: &Session, id: i64, meter_ids: &[i64], now: i64, add: bool) -> Result<u64> {
    let permit = session.permit(Permission::EditMeters)?;
    check_count(meter_ids)?;
    let mut conn = store.writer();
    let tx = conn.transaction()?;
    let name = store::groups::name_of(&tx, id)?.ok_or_else(|| Error::not_found(format!("group {id}")))?;
    let (n, event) = if add {
        (store::groups::add_members(&tx, id, meter_ids)?, "group_meters_added")
    } else {
        (store::groups::remove_members(&tx, id, meter_ids)?, "group_meters_removed")
    };
    store::audit::record_permit(&tx, permit, now, event, &format!("{name} (#{id}): {n} meters"))?;
    tx.commit()?;
    Ok(n)
}
