//! `releve users list|create|set-active|reset-password|set-role`: the users commands of the
//! API (`users_list`, `user_create`, ...), one call into `releve_core::access` each, acting
//! as `--user` (a manager).

use crate::{login, now, Acting, Failure};
use clap::Subcommand;
use releve_core::access::{self, Role};
use releve_core::store::users::NewUser;
use releve_core::Store;
use std::path::PathBuf;

#[derive(Subcommand)]
pub(crate) enum UsersCommand {
    /// The users: login, name, role, active, last login, locked (`users_list`).
    List {
        #[arg(long)]
        db: PathBuf,
        /// One JSON object a line instead of a table.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        acting: Acting,
    },
    /// Create a user with a temporary password, changed at their first login (`user_create`).
    Create {
        #[arg(long)]
        db: PathBuf,
        #[arg(long)]
        login: String,
        #[arg(long)]
        name: String,
        /// user, superuser or manager.
        #[arg(long, default_value = "user")]
        role: String,
        /// The temporary password (at least 10 characters).
        #[arg(long, env = "RELEVE_NEW_PASSWORD", hide_env_values = true)]
        new_password: String,
        /// fr or en.
        #[arg(long, default_value = "fr")]
        locale: String,
        #[command(flatten)]
        acting: Acting,
    },
    /// Deactivate (`--active false`: their sessions end at once) or reactivate a user (`user_set_active`).
    SetActive {
        #[arg(long)]
        db: PathBuf,
        #[arg(long)]
        login: String,
        #[arg(long, action = clap::ArgAction::Set)]
        active: bool,
        #[command(flatten)]
        acting: Acting,
    },
    /// Give a user a temporary password to change at their next login (`user_reset_password`).
    ResetPassword {
        #[arg(long)]
        db: PathBuf,
        #[arg(long)]
        login: String,
        #[arg(long, env = "RELEVE_NEW_PASSWORD", hide_env_values = true)]
        new_password: String,
        #[command(flatten)]
        acting: Acting,
    },
    /// Change a user's role (`user_set_role`).
    SetRole {
        #[arg(long)]
        db: PathBuf,
        #[arg(long)]
        login: String,
        #[arg(long)]
        role: String,
        #[command(flatten)]
        acting: Acting,
    },
}

fn role(s: &str) -> Result<Role, Failure> {
    Role::parse(s).ok_or_else(|| releve_core::Error::bad_input("--role", format!("'{s}' is not one of user, superuser, manager")).into())
}

/// The id of the user `login`, as the manager's list has it.
fn id_of(store: &Store, session: &access::Session, login: &str) -> Result<i64, Failure> {
    access::users_list(store, session, now())?
        .into_iter()
        .find(|u| u.login == login)
        .map(|u| u.id)
        .ok_or_else(|| releve_core::Error::not_found(format!("user '{login}'")).into())
}

pub(crate) fn run(command: UsersCommand) -> Result<(), Failure> {
    match command {
        UsersCommand::List { db, json, acting } => {
            let store = Store::open(&db)?;
            let session = login(&store, &acting, "users_list")?;
            let tz = releve_core::settings::timezone(&*store.reader()?)?;
            let when = |t: Option<i64>| {
                t.and_then(|t| chrono::DateTime::from_timestamp(t, 0))
                    .map(|t| t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string())
                    .unwrap_or_else(|| "-".into())
            };
            let users = access::users_list(&store, &session, now())?;
            if json {
                for u in &users {
                    println!("{}", serde_json::to_string(u).unwrap_or_default());
                }
                return Ok(());
            }
            println!("{:<16} {:<24} {:<10} {:<8} {:<16} locked until", "login", "name", "role", "active", "last login");
            for u in &users {
                println!(
                    "{:<16} {:<24} {:<10} {:<8} {:<16} {}{}",
                    u.login,
                    u.name,
                    u.role,
                    if u.active { "yes" } else { "no" },
                    when(u.last_login),
                    when(u.locked_until),
                    if u.must_change_password { " (must change password)" } else { "" }
                );
            }
            Ok(())
        }
        UsersCommand::Create { db, login: new_login, name, role: r, new_password, locale, acting } => {
            let store = Store::open(&db)?;
            let session = login(&store, &acting, "user_create")?;
            let new = NewUser { salt: None, login: &new_login, name: &name, role: role(&r)?, password: &new_password, locale: &locale };
            let id = access::user_create(&store, &session, &new, now())?;
            println!("user {new_login} created (id {id}, {r}); the password must be changed at the first login");
            Ok(())
        }
        UsersCommand::SetActive { db, login: who, active, acting } => {
            let store = Store::open(&db)?;
            let session = login(&store, &acting, "user_set_active")?;
            let id = id_of(&store, &session, &who)?;
            access::user_set_active(&store, &session, id, active, now())?;
            println!("user {who} {}", if active { "reactivated" } else { "deactivated" });
            Ok(())
        }
        UsersCommand::ResetPassword { db, login: who, new_password, acting } => {
            let store = Store::open(&db)?;
            let session = login(&store, &acting, "user_reset_password")?;
            let id = id_of(&store, &session, &who)?;
            access::user_reset_password(&store, &session, id, &new_password, now())?;
            println!("password of {who} reset; it must be changed at the next login");
            Ok(())
        }
        UsersCommand::SetRole { db, login: who, role: r, acting } => {
            let store = Store::open(&db)?;
            let session = login(&store, &acting, "user_set_role")?;
            let id = id_of(&store, &session, &who)?;
            access::user_set_role(&store, &session, id, role(&r)?, now())?;
            println!("user {who} is now {r}");
            Ok(())
        }
    }
}
