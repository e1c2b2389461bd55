//! The store: the only module that speaks SQL. One SQLite file, opened once; a single
//! writer connection and a small pool of reader connections (WAL lets them run together).

pub mod audit;
pub mod customers;
pub mod export_jobs;
pub mod formats;
pub mod groups;
pub mod imports;
pub mod info_codes;
pub mod keys;
pub mod layouts;
pub mod meters;
mod migrate;
pub mod notify;
pub mod profiles;
pub mod readings;
pub mod reports;
pub mod settings;
pub mod telegrams;
pub mod users;

use crate::error::{Error, Result};
use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

pub use migrate::MIGRATIONS;

pub struct Store {
    path: PathBuf,
    read_only: bool,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
}

/// A reader connection borrowed from the pool; returned on drop.
pub struct Reader<'a> {
    store: &'a Store,
    conn: Option<Connection>,
}

impl std::ops::Deref for Reader<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.conn.as_ref().expect("reader connection present until drop")
    }
}

impl Drop for Reader<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            if let Ok(mut pool) = self.store.readers.lock() {
                pool.push(conn);
            }
        }
    }
}

impl Store {
    /// Open (creating if needed) the database at `path` and apply pending migrations.
    pub fn open(path: &Path) -> Result<Store> {
        if let Some(dir) = path.parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
            }
        }
        let mut writer = Connection::open(path)?;
        // auto_vacuum must be set before the first table exists.
        writer.execute_batch("PRAGMA auto_vacuum = INCREMENTAL;")?;
        configure(&writer)?;
        writer.execute_batch("PRAGMA wal_autocheckpoint = 100000;")?;
        migrate::apply(&mut writer)?;
        Ok(Store { path: path.to_path_buf(), read_only: false, writer: Mutex::new(writer), readers: Mutex::new(Vec::new()) })
    }

    /// Open an existing database without writing to it (no migration): for measuring
    /// read-only features on a big file while something else may write it. Writes fail.
    pub fn open_read_only(path: &Path) -> Result<Store> {
        let writer = open_ro(path)?;
        Ok(Store { path: path.to_path_buf(), read_only: true, writer: Mutex::new(writer), readers: Mutex::new(Vec::new()) })
    }

    /// Move the write-ahead log into the database file (after bulk work).
    pub fn checkpoint(&self) -> Result<()> {
        self.writer().execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")?;
        Ok(())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The single writer connection. Hold it for as short as a transaction needs.
    pub fn writer(&self) -> MutexGuard<'_, Connection> {
        match self.writer.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// A reader connection from the pool (opened on demand).
    pub fn reader(&self) -> Result<Reader<'_>> {
        let pooled = match self.readers.lock() {
            Ok(mut pool) => pool.pop(),
            Err(_) => None,
        };
        let conn = match pooled {
            Some(c) => c,
            None if self.read_only => open_ro(&self.path)?,
            None => {
                let c = Connection::open(&self.path)?;
                configure(&c)?;
                c
            }
        };
        Ok(Reader { store: self, conn: Some(conn) })
    }
}

fn open_ro(path: &Path) -> Result<Connection> {
    let c = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
    c.execute_batch("PRAGMA busy_timeout = 30000; PRAGMA cache_size = -262144; PRAGMA temp_store = MEMORY;")?;
    Ok(c)
}

fn configure(conn: &Connection) -> Result<()> {
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = NORMAL;
         PRAGMA foreign_keys = ON;
         PRAGMA busy_timeout = 30000;
         PRAGMA cache_size = -262144;
         PRAGMA temp_store = MEMORY;",
    )?;
    Ok(())
}
