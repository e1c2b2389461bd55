//! The permission matrix editor: the manager gives grantable permissions to the roles user
//! and superuser (the manager role is not editable), with a preview of what changes: per role,
//! the permissions added and removed and the commands of [`COMMANDS`] that become allowed or
//! refused.

use super::{permissions_of, Need, Permission, Role, Session, COMMANDS};
use crate::error::{Error, Result};
use crate::store::{self, Store};
use serde::{Deserialize, Serialize};

/// The editable roles.
pub const EDITABLE: [Role; 2] = [Role::User, Role::Superuser];

/// One permission as the editor shows it.
#[derive(Debug, Clone, Serialize)]
pub struct PermissionInfo {
    pub permission: Permission,
    /// The manager may give it to user and superuser.
    pub grantable: bool,
}

/// The matrix: every permission, and what each role has.
#[derive(Debug, Clone, Serialize)]
pub struct Matrix {
    pub permissions: Vec<PermissionInfo>,
    pub user: Vec<Permission>,
    pub superuser: Vec<Permission>,
    pub manager: Vec<Permission>,
}

/// A proposed matrix for the editable roles, as permission names.
#[derive(Debug, Clone, Deserialize)]
pub struct MatrixChange {
    pub user: Vec<String>,
    pub superuser: Vec<String>,
}

/// What a change does to one role.
#[derive(Debug, Clone, Serialize)]
pub struct RoleChange {
    pub role: Role,
    pub added: Vec<Permission>,
    pub removed: Vec<Permission>,
    /// Commands the role may run after the change and not before.
    pub commands_allowed: Vec<&'static str>,
    /// Commands the role may run now and not after the change.
    pub commands_refused: Vec<&'static str>,
}

pub fn permissions_matrix(store: &Store, session: &Session) -> Result<Matrix> {
    session.permit(Permission::ManageUsers)?;
    let conn = store.reader()?;
    Ok(Matrix {
        permissions: Permission::ALL.iter().map(|&p| PermissionInfo { permission: p, grantable: p.grantable() }).collect(),
        user: permissions_of(&conn, Role::User)?,
        superuser: permissions_of(&conn, Role::Superuser)?,
        manager: permissions_of(&conn, Role::Manager)?,
    })
}

/// What `change` would do, without changing anything.
pub fn permissions_matrix_preview(store: &Store, session: &Session, change: &MatrixChange) -> Result<Vec<RoleChange>> {
    session.permit(Permission::ManageUsers)?;
    let proposed = parse(change)?;
    let conn = store.reader()?;
    EDITABLE.iter().zip(proposed).map(|(&role, after)| Ok(diff(role, &permissions_of(&conn, role)?, &after))).collect()
}

/// Store `change` (grantable permissions only; one audit entry naming what changed); returns
/// what changed. Open sessions of these roles follow at their next command.
pub fn permissions_matrix_set(store: &Store, session: &Session, change: &MatrixChange, now: i64) -> Result<Vec<RoleChange>> {
    let permit = session.permit(Permission::ManageUsers)?;
    let proposed = parse(change)?;
    let mut conn = store.writer();
    let tx = conn.transaction()?;
    let mut changes = Vec::new();
    let mut details = Vec::new();
    for (&role, after) in EDITABLE.iter().zip(proposed) {
        let before = permissions_of(&tx, role)?;
        let names: Vec<&str> = after.iter().map(|p| p.as_str()).collect();
        store::users::set_permissions(&tx, role.as_str(), &names)?;
        let change = diff(role, &before, &after);
        details.push(format!(
            "{}: +[{}] -[{}]",
            role.as_str(),
            change.added.iter().map(|p| p.as_str()).collect::<Vec<_>>().join(","),
            change.removed.iter().map(|p| p.as_str()).collect::<Vec<_>>().join(",")
        ));
        changes.push(change);
    }
    store::audit::record_permit(&tx, permit, now, "permissions_changed", &details.join("; "))?;
    tx.commit()?;
    Ok(changes)
}

/// The proposed permissions of user and superuser: known, grantable, each once.
fn parse(change: &MatrixChange) -> Result<[Vec<Permission>; 2]> {
    let one = |role: &str, names: &[String]| -> Result<Vec<Permission>> {
        let mut out = Vec::new();
        for name in names {
            let field = format!("{role}.{name}");
            let p = Permission::parse(name).ok_or_else(|| Error::bad_input(&field, format!("'{name}' is not a permission")))?;
            if !p.grantable() {
                return Err(Error::bad_input(&field, format!("'{name}' stays the manager's: it cannot be given to {role}")));
            }
            if !out.contains(&p) {
                out.push(p);
            }
        }
        // In the order of Permission::ALL, as the matrix lists them.
        Ok(Permission::ALL.into_iter().filter(|p| out.contains(p)).collect())
    };
    Ok([one("user", &change.user)?, one("superuser", &change.superuser)?])
}

fn diff(role: Role, before: &[Permission], after: &[Permission]) -> RoleChange {
    let allowed = |set: &[Permission], need: Need| match need {
        Need::Anyone | Need::Session => true,
        Need::Permission(p) => set.contains(&p),
    };
    RoleChange {
        role,
        added: after.iter().filter(|p| !before.contains(p)).copied().collect(),
        removed: before.iter().filter(|p| !after.contains(p)).copied().collect(),
        commands_allowed: COMMANDS.iter().filter(|c| !allowed(before, c.need) && allowed(after, c.need)).map(|c| c.name).collect(),
        commands_refused: COMMANDS.iter().filter(|c| allowed(before, c.need) && !allowed(after, c.need)).map(|c| c.name).collect(),
    }
}
