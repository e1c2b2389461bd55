//! `releve api-keys list|create|revoke`: the API keys commands of the API (`api_keys_list`,
//! `api_key_create`, `api_key_revoke`), one call into `releve_core::access::api_keys` each,
//! acting as `--user` (a manager).

use crate::{login, now, Acting, Failure};
use clap::Subcommand;
use releve_core::access::{api_keys, Permission, Session};
use releve_core::Store;
use std::path::PathBuf;

#[derive(Subcommand)]
pub(crate) enum ApiKeysCommand {
    /// The keys: name, prefix, scopes, reach, expiry, last use, state (`api_keys_list`).
    List {
        #[arg(long)]
        db: PathBuf,
        /// One JSON object a line instead of a table.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        acting: Acting,
    },
    /// Create a key and print its secret, this once (`api_key_create`).
    Create {
        #[arg(long)]
        db: PathBuf,
        #[arg(long)]
        name: String,
        /// A scope (repeat, or comma-separated): meters:read, customers:read, readings:read,
        /// intervals:read, info_codes:read, exchanges:read, exchanges:write, exports:run.
        #[arg(long = "scope", value_delimiter = ',', required = true)]
        scopes: Vec<String>,
        /// Limit the key to the meters of this group (id; repeat for several).
        #[arg(long = "group", value_delimiter = ',')]
        groups: Vec<i64>,
        /// Limit the key to the meters of this customer (its number): a portal's key.
        #[arg(long)]
        customer: Option<String>,
        /// Expiry: YYYY-MM-DD (local midnight starting that day) or YYYY-MM-DDTHH:MM, in the
        /// utility's time zone.
        #[arg(long)]
        expires: Option<String>,
        /// Calls per minute (default 600).
        #[arg(long)]
        rate: Option<i64>,
        #[command(flatten)]
        acting: Acting,
    },
    /// Revoke a key: its next call is refused (`api_key_revoke`).
    Revoke {
        #[arg(long)]
        db: PathBuf,
        /// The key's name.
        #[arg(long)]
        name: String,
        #[command(flatten)]
        acting: Acting,
    },
}

fn permit(session: &Session) -> Result<releve_core::access::Permit<'_>, Failure> {
    Ok(session.permit(Permission::ManageUsers)?)
}

fn reach(k: &api_keys::KeyRow) -> String {
    if let Some(number) = &k.customer_number {
        format!("customer {number}")
    } else if !k.group_names.is_empty() {
        format!("groups {}", k.group_names.join(", "))
    } else {
        "all meters".into()
    }
}

pub(crate) fn run(command: ApiKeysCommand) -> Result<(), Failure> {
    match command {
        ApiKeysCommand::List { db, json, acting } => {
            let store = Store::open(&db)?;
            let session = login(&store, &acting, "api_keys_list")?;
            let tz = releve_core::settings::timezone(&*store.reader()?)?;
            let when = |t: Option<i64>| {
                t.and_then(|t| chrono::DateTime::from_timestamp(t, 0))
                    .map(|t| t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string())
                    .unwrap_or_else(|| "-".into())
            };
            let keys = api_keys::list(&store, permit(&session)?, now())?;
            if json {
                for k in &keys {
                    println!("{}", serde_json::to_string(k).unwrap_or_default());
                }
                return Ok(());
            }
            println!("{:<24} {:<12} {:<8} {:<16} {:<16} {:<40} reach", "name", "prefix", "state", "expires", "last used", "scopes");
            for k in &keys {
                println!(
                    "{:<24} {:<12} {:<8} {:<16} {:<16} {:<40} {}",
                    k.name,
                    format!("{}…", k.prefix),
                    k.state,
                    when(k.expires_at),
                    when(k.last_used_at),
                    k.scopes.join(" "),
                    reach(k)
                );
            }
            Ok(())
        }
        ApiKeysCommand::Create { db, name, scopes, groups, customer, expires, rate, acting } => {
            let store = Store::open(&db)?;
            let session = login(&store, &acting, "api_key_create")?;
            let expires_at = expires.as_deref().map(|s| releve_api::api_keys::expiry(&store, s)).transpose()?;
            let new = api_keys::NewKey { name, scopes, groups, customer: None, customer_number: customer, expires_at, rate_per_minute: rate };
            let created = api_keys::create(&store, permit(&session)?, &new, now())?;
            let k = &created.key;
            eprintln!("API key '{}' created (id {}, {}, {}); its secret follows, shown this once only:", k.name, k.id, k.scopes.join(" "), reach(k));
            println!("{}", created.secret);
            Ok(())
        }
        ApiKeysCommand::Revoke { db, name, acting } => {
            let store = Store::open(&db)?;
            let session = login(&store, &acting, "api_key_revoke")?;
            let id = api_keys::list(&store, permit(&session)?, now())?
                .into_iter()
                .find(|k| k.name == name)
                .map(|k| k.id)
                .ok_or_else(|| releve_core::Error::not_found(format!("API key '{name}'")))?;
            let k = api_keys::revoke(&store, permit(&session)?, id, now())?;
            println!("API key '{}' revoked", k.name);
            Ok(())
        }
    }
}
