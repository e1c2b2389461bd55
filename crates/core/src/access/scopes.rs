//! What an API key may do: scopes, and the restriction of a key to groups or one customer.
//! A key's session holds the permissions its scopes imply, so the core's permits work for
//! keys as for users; [`super::authorize`] also asks the operation's scope.

use super::Permission;
use serde::Serialize;

/// A scope of an API key (`readings:read`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, PartialOrd, Ord)]
pub enum Scope {
    #[serde(rename = "meters:read")]
    MetersRead,
    #[serde(rename = "customers:read")]
    CustomersRead,
    #[serde(rename = "readings:read")]
    ReadingsRead,
    /// Hourly and finer values (interval data is personal).
    #[serde(rename = "intervals:read")]
    IntervalsRead,
    #[serde(rename = "info_codes:read")]
    InfoCodesRead,
    #[serde(rename = "exchanges:read")]
    ExchangesRead,
    #[serde(rename = "exchanges:write")]
    ExchangesWrite,
    /// Start a saved billing layout's run, poll it, download the file.
    #[serde(rename = "exports:run")]
    ExportsRun,
}

impl Scope {
    pub const ALL: [Scope; 8] = [
        Scope::MetersRead,
        Scope::CustomersRead,
        Scope::ReadingsRead,
        Scope::IntervalsRead,
        Scope::InfoCodesRead,
        Scope::ExchangesRead,
        Scope::ExchangesWrite,
        Scope::ExportsRun,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::MetersRead => "meters:read",
            Scope::CustomersRead => "customers:read",
            Scope::ReadingsRead => "readings:read",
            Scope::IntervalsRead => "intervals:read",
            Scope::InfoCodesRead => "info_codes:read",
            Scope::ExchangesRead => "exchanges:read",
            Scope::ExchangesWrite => "exchanges:write",
            Scope::ExportsRun => "exports:run",
        }
    }

    pub fn parse(s: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// The permissions of the matrix a key with this scope holds.
    pub fn permissions(self) -> &'static [Permission] {
        match self {
            Scope::MetersRead | Scope::CustomersRead | Scope::ReadingsRead | Scope::InfoCodesRead | Scope::ExchangesRead => {
                &[Permission::View]
            }
            Scope::IntervalsRead => &[Permission::View, Permission::ViewIntervals],
            Scope::ExchangesWrite => &[Permission::View, Permission::EditMeters],
            Scope::ExportsRun => &[Permission::View, Permission::Export, Permission::ManageExports],
        }
    }
}

/// What an API key's session may reach.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct KeyGrant {
    pub id: i64,
    pub name: String,
    pub scopes: Vec<Scope>,
    /// Only the meters of these groups (empty: every meter).
    pub groups: Vec<i64>,
    /// Only the meters of this customer (a portal's key for one consumer).
    pub customer: Option<i64>,
    /// Calls per minute.
    pub rate_per_minute: i64,
}

impl KeyGrant {
    pub fn has(&self, scope: Scope) -> bool {
        self.scopes.contains(&scope)
    }

    /// Whether the key is limited to some meters.
    pub fn restricted(&self) -> bool {
        !self.groups.is_empty() || self.customer.is_some()
    }

    /// The permissions the key's scopes imply, in matrix order.
    pub fn permissions(&self) -> Vec<Permission> {
        Permission::ALL
            .into_iter()
            .filter(|p| self.scopes.iter().any(|s| s.permissions().contains(p)))
            .collect()
    }
}
