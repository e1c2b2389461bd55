//! The store: the only module that speaks SQL. One SQLite file, opened once; a single
//! writer connection and a small pool of reader connections (WAL lets them run together).
//!
//! # Per-meter lookups: `column = ?N + 0`
//!
//! A statement that runs once per meter (an index at a time, a meter's series or reading
//! times, its info codes or exchanges, a meter by serial) is prepared with `prepare_cached`
//! and writes each equality on a parameter as `meter_id = ?1 + 0`, never `meter_id = ?1`
//! (a text one as `serial = ?1 || ''`). The SQL of each is a `pub(super)` constant of its
//! module; the test `per_meter_lookups` below checks that each one keeps the plan of the
//! bare form (a key seek, no full scan) and is not prepared again from run to run.
//!
//! Why: when a statement has an ORDER BY (or a min()/max()), the planner of the bundled
//! SQLite (3.54) weighs several plans, and for an equality on a bare parameter it looks at
//! the bound value (its truth-probability heuristic, `sqlite3ExprIsInteger`) and marks the
//! parameter as one whose new value may change the plan. rusqlite clears a statement's
//! bindings when it goes back to the cache (`sqlite3_clear_bindings`), which expires a
//! statement with a marked parameter: every run prepares it again. Measured with
//! `releve-bench lookups` (`last_before` of 100,000 meters): 24 µs a lookup instead of
//! 5.5 µs on the 100,000-meter demo database, 12–14 µs instead of 2.5 µs on the export
//! bench's; SQLite's re-prepare counter equals the number of runs. The same statement kept
//! outside the cache, or without ORDER BY, is not re-prepared. `?1 + 0` is an expression,
//! not a parameter, so nothing is marked; it keeps its integer value (`?1 || ''` its
//! text), so the key seek is the same. `SQLITE_DBCONFIG_ENABLE_QPSG` would stop it too,
//! but for every statement, including those that gain from the bound value (LIKE
//! prefixes, LIMIT estimates).

pub mod api_keys;
pub mod audit;
pub mod feed;
mod changes;
pub mod c806;
pub mod customers;
pub mod export_jobs;
pub mod formats;
pub mod groups;
pub mod gateways;
pub mod heard;
pub mod imports;
pub mod info_codes;
pub mod keys;
mod label;
pub mod layouts;
pub mod logins;
pub mod lorawan;
pub mod mbus;
pub mod meters;
pub mod meter_screen;
mod migrate;
pub mod notify;
pub mod occupancies;
pub mod open_api;
pub mod objects;
pub mod priority;
pub mod profiles;
pub mod readings;
pub mod reports;
pub mod retention;
pub mod search;
pub mod settings;
pub mod silence;
pub mod sources;
pub mod telegrams;
pub mod tiles;
pub mod today;
pub mod users;
pub mod webhooks;

use crate::error::{Error, Result};
use rusqlite::Connection;
use std::path::{Path, PathBuf};
use parking_lot::{FairMutex, FairMutexGuard};
use std::sync::{Arc, Mutex};

pub use changes::Changed;
pub use label::{MeterLabel, LABEL_COLUMNS};
pub use migrate::MIGRATIONS;

pub use crate::keys::Keys;

pub struct Store {
    path: PathBuf,
    read_only: bool,
    /// Fair: a clerk's write waiting while an import commits its chunk gets the connection
    /// next, before the import's following chunk.
    writer: FairMutex<Connection>,
    readers: Mutex<Vec<Connection>>,
    /// Every AES key, loaded once and kept while the keys' generation (bumped by a trigger
    /// on every change, by any process) stays the same: a source delivering every second
    /// does not read a million keys each time.
    keys: Mutex<Option<(i64, Arc<Keys>)>>,
    /// The master key the AES keys are sealed with, kept outside the database.
    vault: crate::keys::vault::Vault,
    changes: changes::Changes,
}

/// A reader connection borrowed from the pool; returned on drop.
pub struct Reader<'a> {
    store: &'a Store,
    conn: Option<Connection>,
    /// A [`Store::scan_reader`]: its page cache goes back to the usual size in the pool.
    small_cache: bool,
}

/// The page cache of a connection reading a period once from end to end (an export streamed
/// to a client): a single pass gains nothing from keeping what it read, so its memory stays
/// this small (KiB) whatever the period, instead of filling the usual 256 MiB.
pub const SCAN_CACHE_KIB: i64 = 8 << 10;
const CACHE: &str = "PRAGMA cache_size = -262144;";

impl std::ops::Deref for Reader<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.conn.as_ref().expect("reader connection present until drop")
    }
}

impl Drop for Reader<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            if self.small_cache && conn.execute_batch(CACHE).is_err() {
                return; // not pooled with a small cache: closed
            }
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
        create_private(path)?;
        let mut writer = Connection::open(path)?;
        // auto_vacuum must be set before the first table exists.
        writer.execute_batch("PRAGMA auto_vacuum = INCREMENTAL;")?;
        configure(&mut writer)?;
        // Every write transaction takes the database's write lock when it begins (BEGIN
        // IMMEDIATE), so a write that waits for another process waits in the busy handler,
        // never fails with "database is locked" when its read snapshot went stale.
        writer.set_transaction_behavior(rusqlite::TransactionBehavior::Immediate);
        writer.execute_batch("PRAGMA wal_autocheckpoint = 100000;")?;
        migrate::apply(&mut writer)?;
        let vault = crate::keys::vault::Vault::beside(path);
        seal_clear_keys(&mut writer, &vault)?;
        Ok(Store {
            path: path.to_path_buf(),
            read_only: false,
            writer: FairMutex::new(writer),
            readers: Mutex::new(Vec::new()),
            keys: Mutex::new(None),
            vault,
            changes: changes::Changes::default(),
        })
    }

    /// Open an existing database without writing to it (no migration): for measuring
    /// read-only features on a big file while something else may write it. Writes fail.
    pub fn open_read_only(path: &Path) -> Result<Store> {
        let writer = open_ro(path)?;
        Ok(Store {
            path: path.to_path_buf(),
            read_only: true,
            writer: FairMutex::new(writer),
            readers: Mutex::new(Vec::new()),
            keys: Mutex::new(None),
            vault: crate::keys::vault::Vault::beside(path),
            changes: changes::Changes::default(),
        })
    }

    /// The master key the AES keys are sealed with (see `keys::vault`).
    pub fn vault(&self) -> &crate::keys::vault::Vault {
        &self.vault
    }

    /// Every AES key, from the cache while no key changed: opened (decrypted) once per
    /// process and generation of the keys.
    pub fn keys(&self) -> Result<Arc<Keys>> {
        let conn = self.reader()?;
        let generation = keys::generation(&conn)?;
        let mut cached = self.keys.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((g, keys)) = cached.as_ref() {
            if *g == generation {
                return Ok(Arc::clone(keys));
            }
        }
        let mut keys = Keys::default();
        for k in keys::all(&conn)? {
            let key = self.vault.open(&k.serial, &k.manufacturer, &k.sealed)?;
            keys.insert(k.serial, k.manufacturer, key);
        }
        let keys = Arc::new(keys);
        *cached = Some((generation, Arc::clone(&keys)));
        Ok(keys)
    }

    /// Move the write-ahead log into the database file (after bulk work).
    pub fn checkpoint(&self) -> Result<()> {
        self.writer().execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")?;
        Ok(())
    }

    /// Copy the write-ahead log into the database when it has grown past [`WAL_CHECKPOINT_BYTES`],
    /// on a reader connection: without the writer, so nobody waits for it (a checkpoint
    /// never blocks SQLite's writers). Bulk work calls it between its transactions; else the
    /// writer's own automatic checkpoint would run inside a commit, with the writer held.
    pub fn checkpoint_if_large(&self) -> Result<()> {
        if self.read_only {
            return Ok(());
        }
        let mut wal = self.path.clone().into_os_string();
        wal.push("-wal");
        let size = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
        if size >= WAL_CHECKPOINT_BYTES {
            self.reader()?.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))?;
        }
        Ok(())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Say that a committed transaction of this process gave `meters` new readings: the
    /// live screens waiting in [`Store::wait_changes`] wake.
    pub fn changed(&self, meters: &[i64]) {
        self.changes.record(meters);
    }

    /// The current generation of changes (a wait from it sees only what comes after).
    pub fn generation(&self) -> u64 {
        self.changes.generation()
    }

    /// The meters that got new readings after generation `since`, waiting up to `timeout`
    /// for a change; another process's commits (seen within about half a second) make an
    /// answer with `all`. An answer at the same generation: nothing changed in `timeout`.
    pub fn wait_changes(&self, since: u64, timeout: std::time::Duration) -> Changed {
        self.changes.wait(since, timeout, &mut || {
            // On the writer: its data_version moves only with other connections' commits,
            // and this process writes through no other connection.
            self.writer().query_row("PRAGMA data_version", [], |r| r.get(0)).ok()
        })
    }

    /// The single writer connection of this process. Hold it for as short as a transaction
    /// needs: bulk work (imports) takes it a bounded chunk at a time.
    pub fn writer(&self) -> FairMutexGuard<'_, Connection> {
        self.writer.lock()
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
                let mut c = Connection::open(&self.path)?;
                configure(&mut c)?;
                c
            }
        };
        Ok(Reader { store: self, conn: Some(conn), small_cache: false })
    }

    /// A reader for one pass over much of the file (an export): its page cache is
    /// [`SCAN_CACHE_KIB`] while it is out, so the pass does not hold the pages it read.
    pub fn scan_reader(&self) -> Result<Reader<'_>> {
        let mut reader = self.reader()?;
        reader.execute_batch(&format!("PRAGMA cache_size = -{SCAN_CACHE_KIB};"))?;
        reader.small_cache = true;
        Ok(reader)
    }
}

/// The one-time upgrade of migration 0026: the clear keys of before are sealed under the
/// master key (created then if there is none), the clear table dropped with its pages zeroed,
/// and the write-ahead log emptied, so no clear key stays in the database's files.
fn seal_clear_keys(writer: &mut Connection, vault: &crate::keys::vault::Vault) -> Result<()> {
    let Some(clear) = keys::clear_keys(writer)? else { return Ok(()) };
    let tx = writer.transaction()?;
    for (serial, key) in clear {
        if let Ok(key) = <[u8; 16]>::try_from(key.as_slice()) {
            let sealed = vault.seal(&serial, "", &key)?;
            keys::upsert(&tx, &serial, "", &sealed, 0, "sealed at the upgrade to keys at rest")?;
        }
    }
    keys::drop_clear(&tx)?;
    tx.commit()?;
    writer.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")?;
    Ok(())
}

fn open_ro(path: &Path) -> Result<Connection> {
    let mut c = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
    c.execute_batch(&format!("{CACHE} PRAGMA temp_store = MEMORY;"))?;
    wait_when_busy(&mut c)?;
    Ok(c)
}

fn configure(conn: &mut Connection) -> Result<()> {
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = NORMAL;
         PRAGMA foreign_keys = ON;
         PRAGMA cache_size = -262144;
         PRAGMA temp_store = MEMORY;",
    )?;
    // The triggers of the meter search call it (migration 0033).
    search::register(conn)?;
    wait_when_busy(conn)?;
    Ok(())
}

/// A write-ahead log this large is copied into the database by [`Store::checkpoint_if_large`].
pub const WAL_CHECKPOINT_BYTES: u64 = 256 << 20;

/// How long a statement waits for another process's write lock before it gives up.
pub const BUSY_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

/// When another process (a CLI import beside `releve serve`, a cron job) holds the write
/// lock, try again every 2 ms for up to [`BUSY_WAIT`]. SQLite's own busy timeout sleeps up
/// to 100 ms between tries and keeps missing the short gaps an import leaves between its
/// chunks; polling this often takes the first gap.
fn wait_when_busy(conn: &mut Connection) -> Result<()> {
    const STEP: std::time::Duration = std::time::Duration::from_millis(2);
    let tries = (BUSY_WAIT.as_millis() / STEP.as_millis()) as i32;
    conn.busy_handler(Some(move |n: i32| {
        if n >= tries {
            return false;
        }
        std::thread::sleep(STEP);
        true
    }))?;
    Ok(())
}

/// Create a database file that does not exist yet readable and writable by its owner only
/// (SQLite gives its `-wal` and `-shm` files the database's mode). An existing file is left
/// as it is.
fn create_private(path: &Path) -> Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(Error::io(path, e)),
    }
}

#[cfg(test)]
mod tests {
    use rusqlite::{Connection, StatementStatus, ToSql};

    fn db() -> Connection {
        let mut conn = Connection::open_in_memory().expect("memory db");
        super::migrate::apply(&mut conn).expect("migrations");
        conn.execute_batch(
            "INSERT INTO meters(id, serial, manufacturer, device_type, status, created_at)
                 VALUES (1, '1', 'KAM', 'water', 'active', 0), (2, '2', 'KAM', 'water', 'active', 0);
             INSERT INTO readings(meter_id, register, ts, value) VALUES (1, 1, 10, 1.0), (1, 1, 20, 2.0), (2, 1, 10, 3.0);
             INSERT INTO info_code_events(meter_id, code, started_at, last_seen_at) VALUES (1, 'leak', 5, 15);
             INSERT INTO meter_exchanges(old_meter_id, new_meter_id, at, register, final_value, initial_value, user)
                 VALUES (1, 2, 30, 'volume', 2.0, 0.0, 'test');",
        )
        .expect("rows");
        conn
    }

    /// (name, SQL, the index its plan must name) of every per-meter lookup.
    const PER_METER: [(&str, &str, &str); 13] = [
        ("retention::next_register", super::retention::NEXT_REGISTER, "PRIMARY KEY"),
        ("readings::series", super::readings::SERIES, "PRIMARY KEY"),
        ("readings::last_before", super::readings::LAST_BEFORE, "PRIMARY KEY"),
        ("reports::index_at", super::reports::INDEX_AT, "PRIMARY KEY"),
        ("reports::first_between", super::reports::FIRST_BETWEEN, "PRIMARY KEY"),
        ("reports::reading_times", super::reports::READING_TIMES, "PRIMARY KEY"),
        ("info_codes::overlapping", super::info_codes::OVERLAPPING, "PRIMARY KEY"),
        ("info_codes::open_of", super::info_codes::OPEN_OF, "PRIMARY KEY"),
        ("meters::exchanges_of", super::meters::EXCHANGES_OF, "meter_exchanges_old"),
        ("meters::exchange_into", super::meters::EXCHANGE_INTO, "meter_exchanges_new"),
        ("meters::id_of_serial", super::meters::ID_OF_SERIAL, "sqlite_autoindex_meters_1"),
        ("gateways::heard_of", super::gateways::HEARD_OF, "gateway_meters_meter"),
        ("gateways::receptions_of", super::gateways::RECEPTIONS_OF, "PRIMARY KEY"),
    ];

    fn plan(conn: &Connection, sql: &str) -> Vec<String> {
        let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).expect("explain");
        // Parameters left unbound (NULL): the plan does not depend on them.
        let mut rows = stmt.raw_query();
        let mut details = Vec::new();
        while let Some(r) = rows.next().expect("plan row") {
            details.push(r.get::<_, String>(3).expect("detail"));
        }
        details
    }

    /// Run `sql` six times through the statement cache, alternating two meters; its re-prepare count.
    fn reprepares(conn: &Connection, sql: &str) -> i32 {
        for meter in [1i64, 2, 1, 2, 1, 2] {
            let mut stmt = conn.prepare_cached(sql).expect("prepare");
            let args: Vec<i64> = [meter, 1, 0, 100].into_iter().take(stmt.parameter_count()).collect();
            let params: Vec<&dyn ToSql> = args.iter().map(|a| a as &dyn ToSql).collect();
            let mut rows = stmt.query(params.as_slice()).expect("query");
            while rows.next().expect("step").is_some() {}
        }
        conn.prepare_cached(sql).expect("prepare").get_status(StatementStatus::RePrepare)
    }

    /// The network check finds meters to mark silent by the partial index of meters not
    /// silent yet, never by a scan of the park.
    #[test]
    fn the_silence_check_seeks_its_partial_index() {
        let conn = db();
        for sql in [super::silence::NEXT_DEVICE_TYPE, super::silence::NOT_HEARD_SINCE] {
            let details = plan(&conn, sql);
            assert!(details.iter().any(|d| d.contains("meters_unsilent") && d.starts_with("SEARCH")), "{details:?}");
        }
    }

    /// The convention of the module doc: every per-meter lookup seeks its key (no full scan
    /// of readings, info codes or exchanges) with the plan it would have on bare parameters,
    /// and stays prepared from meter to meter.
    #[test]
    fn per_meter_lookups() {
        let conn = db();
        for (name, sql, index) in PER_METER {
            let details = plan(&conn, sql);
            let bare = sql.replace(" + 0", "").replace(" || ''", "");
            assert_eq!(details, plan(&conn, &bare), "{name}: same plan as with `= ?1`");
            assert!(details.iter().any(|d| d.contains(index)), "{name} uses {index}: {details:?}");
            assert!(!details.iter().any(|d| d.starts_with("SCAN ")), "{name} scans a table: {details:?}");
            assert_eq!(reprepares(&conn, sql), 0, "{name} is prepared again on each run");
        }
        // The cause, kept visible: the same lookup on bare parameters is prepared again every
        // time it comes back from the cache. If SQLite stops doing that, `+ 0` can go.
        let bare = super::readings::LAST_BEFORE.replace(" + 0", "");
        assert!(reprepares(&conn, &bare) >= 5, "bare `meter_id = ?1` no longer re-prepared: {bare}");
    }

    /// The per-reading export walks the meters in id order and seeks each one's readings by
    /// primary key: no sort of the readings.
    #[test]
    fn export_streams_without_sorting() {
        let details = plan(&db(), super::readings::FOR_EXPORT);
        assert!(details.iter().any(|d| d == "SEARCH r USING PRIMARY KEY (meter_id=?)"), "{details:?}");
        assert!(!details.iter().any(|d| d.contains("TEMP B-TREE")), "{details:?}");
    }
}
