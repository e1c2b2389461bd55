//! `releve-bench`: the figures the issues ask for, measured on generated data in one run.
//!   releve-bench demo --meters 100000 --db /tmp/big.db   time and size of the demo build
//!   releve-bench import --lines 1000000                  import rate next to a bare insert loop
//!   releve-bench queries --db /tmp/big.db                meter list, histogram, consumption and performance reports
//!   releve-bench export --db /tmp/billing.db             exports of 1,000,000 readings vs a bare csv writer
//!   releve-bench lookups --db /tmp/billing.db            one per-meter lookup: `= ?1` vs `= ?1 + 0`
//!   releve-bench search --db /tmp/search.db --meters 100000   meter search (folded, any word order) p50/p99 vs the old LIKE
//!   releve-bench push --lines 1000000                    HTTP push to releve serve vs the file import
//!   releve-bench live --seconds 20 --rate 1000           push -> live event latency under load
//!   releve-bench network --db /tmp/network.db            gateways screen, network check, a meter's receptions at 1,000,000 meters
//!   releve-bench ingest --lines 300000 --soak-seconds 600 --soak-rate 2000   HTTP push, MQTT and a drop folder at once vs the file import; soak
//!   releve-bench mqtt --lines 200000                     MQTT through mosquitto to releve serve vs the file import
//!   releve-bench optical --readouts 10 --parse 20000     optical readouts over a socat pty vs the wire time; readout parsing and capture import
//!   releve-bench mbus                                    M-Bus primary scan and secondary search on the simulator vs the line's minimum
//!   releve-bench login --runs 21                       login time: known user, wrong password, unknown login (argon2id) vs pbkdf2
//!   releve-bench c806 --seconds 600 --sdps 2              C8/06 gateway: 4-second cadence (jitter p99), replay after a 1-hour cut
//!   releve-bench audit --db /tmp/audit.db --entries 1000000   audit log screen queries (indexed) vs a full scan
//!   releve-bench gdpr --db /tmp/gdpr.db --meters 3 --years 2   a customer's subject access (ZIP) vs a bare scan of their readings
//!   releve-bench api --db /tmp/api.db --meters 100000     open API: the readings feed over HTTP vs the CSV export; one meter's readings p99
//!   releve-bench stream --db /tmp/demo2000.db            the quick export through releve serve, streamed vs JSON: peak memory, 1 and 3 months
//!   releve-bench retention --db /tmp/demo10k.db --meters 10000 --years 2   retention run on the aged demo vs a bare DELETE; screens while it runs

mod api;
mod audit;
mod c806;
mod export;
mod gdpr;
mod ingest;
mod live;
mod login;
mod lookups;
mod meter_list;
#[path = "mbus.rs"]
mod mbus_master;
mod network;
mod mqtt;
mod optical;
mod push;
mod webhooks;
mod retention;
mod search;
mod stream;

use clap::{Parser, Subcommand};
use mbus::encode::{wmbus_frame, FrameSpec};
use mbus::{AesKey, DeviceType};
use releve_core::access::{Permission, Session};
use releve_core::store::{self, Store};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Demo {
        #[arg(long, default_value_t = 100_000)]
        meters: u32,
        #[arg(long)]
        db: PathBuf,
    },
    Import {
        #[arg(long, default_value_t = 1_000_000)]
        lines: u32,
        #[arg(long, default_value_t = 100)]
        hours: u32,
    },
    /// The open API through `releve serve`: the readings feed vs the per-reading CSV export,
    /// one meter's readings (p50/p99) at 100,000 meters.
    Api {
        /// Made on first use like the export bench's, reused after.
        #[arg(long)]
        db: PathBuf,
        #[arg(long, default_value_t = 100_000)]
        meters: u32,
        #[arg(long, default_value_t = 500)]
        samples: u32,
    },
    Queries {
        #[arg(long)]
        db: PathBuf,
        #[arg(long, default_value_t = 25)]
        runs: u32,
    },
    /// Per-reading and per-meter (layout) exports of 1,000,000 readings, CSV and fixed width.
    Export {
        /// Made on first use (meters x 10 readings), reused after.
        #[arg(long)]
        db: PathBuf,
        #[arg(long, default_value_t = 100_000)]
        meters: u32,
    },
    /// Concentrators pushing over HTTP to `releve serve` (release build beside this one) vs
    /// the file import of the same telegrams.
    Push {
        #[arg(long, default_value_t = 1_000_000)]
        lines: u32,
        #[arg(long, default_value_t = 10_000)]
        per_push: u32,
    },
    /// How soon the live screen hears of a priority meter's frame (SSE of `releve serve`,
    /// release build beside this one) while other meters' frames arrive at `rate` a second.
    Live {
        #[arg(long, default_value_t = 20)]
        seconds: u64,
        #[arg(long, default_value_t = 1_000)]
        rate: u32,
        #[arg(long, default_value_t = 50)]
        priority: u32,
    },
    /// Supervision of the fixed network: the gateways screen, the network check every
    /// minute, a meter's receptions.
    Network {
        /// Made on first use, reused after.
        #[arg(long)]
        db: PathBuf,
        #[arg(long, default_value_t = 1_000_000)]
        meters: i64,
        #[arg(long, default_value_t = 100)]
        gateways: i64,
    },
    /// The three kinds of source at once (HTTP push, MQTT QoS 1, a drop folder) into one
    /// database vs the file import of the same telegrams; then a soak at a steady rate
    /// (memory of `releve serve`, meter list and histogram next to idle).
    Ingest {
        #[arg(long, default_value_t = 300_000)]
        lines: u32,
        /// 0: no soak.
        #[arg(long, default_value_t = 0)]
        soak_seconds: u32,
        #[arg(long, default_value_t = 2_000)]
        soak_rate: u32,
    },
    /// MQTT (one telegram a message, QoS 1) through a mosquitto it starts to `releve serve`
    /// (release build beside this one): telegrams/s stored, latency at a fixed rate, next to
    /// the file import of the same telegrams.
    Mqtt {
        #[arg(long, default_value_t = 200_000)]
        lines: u32,
        /// The fixed rate of the latency run, messages/s.
        #[arg(long, default_value_t = 1_000)]
        rate: u32,
        /// How long the latency run lasts, seconds.
        #[arg(long, default_value_t = 20)]
        seconds: u32,
    },
    /// Wired M-Bus on the simulator: primary scan of 0-250 and secondary search of 20 meters
    /// at 2,400 and 9,600 baud, next to the theoretical minimum.
    Mbus,
    /// The Elia C8/06 gateway: the 4-second cadence over `seconds` (every slot sent, the
    /// delay from the slot, p99) and the buffer's replay after a simulated 1-hour cut.
    C806 {
        #[arg(long, default_value_t = 600)]
        seconds: u64,
        #[arg(long, default_value_t = 2)]
        sdps: u32,
    },
    /// The audit log screen's queries on `entries` entries vs a full scan.
    Audit {
        /// Made on first use, reused after.
        #[arg(long)]
        db: PathBuf,
        #[arg(long, default_value_t = 1_000_000)]
        entries: u32,
        #[arg(long, default_value_t = 25)]
        runs: u32,
    },
    /// Webhook deliveries per second to a loopback receiver vs a bare reqwest POST loop; the
    /// poller's readings.batch over a large feed range.
    Webhooks {
        #[arg(long, default_value_t = 2_000)]
        deliveries: u32,
        #[arg(long, default_value_t = 1_000_000)]
        feed: u32,
    },
    /// Login time with the argon2id parameters (known user, wrong password, unknown login)
    /// next to the old pbkdf2 hashing.
    Login {
        #[arg(long, default_value_t = 21)]
        runs: u32,
    },
    /// One per-meter primary-key lookup through the statement cache, `= ?1` vs `= ?1 + 0`.
    Lookups {
        /// Any Relevé database, opened read-only.
        #[arg(long)]
        db: PathBuf,
        /// Meters 1..=N are looked up.
        #[arg(long, default_value_t = 100_000)]
        meters: u32,
    },
    /// The meter list's search at `meters` meters, p50/p99 over several searches, vs the old
    /// LIKE query in the same run.
    Search {
        /// Made on first use (meters and customers only), reused after.
        #[arg(long)]
        db: PathBuf,
        #[arg(long, default_value_t = 100_000)]
        meters: u32,
        #[arg(long, default_value_t = 30)]
        runs: u32,
    },
    /// The meter list at `meters` meters (issue 15): the unfiltered list next to "not heard
    /// since", the surname sort, "select all results" and the re-read route, same run.
    List {
        /// Made on first use (the search park, then last telegrams, GPS, one index each).
        #[arg(long)]
        db: PathBuf,
        #[arg(long, default_value_t = 100_000)]
        meters: u32,
        #[arg(long, default_value_t = 20)]
        runs: u32,
    },
    /// A customer's subject access (every reading into a ZIP) vs a bare scan of the readings.
    /// The quick export of the demo through a real `releve serve`, streamed vs the old JSON
    /// answer: resident memory (idle, peak) for 1 and 3 months.
    Stream {
        /// The demo, built on first use with `releve demo` (kept).
        #[arg(long)]
        db: PathBuf,
        #[arg(long, default_value_t = 2_000)]
        meters: u32,
        /// Months exported through the old JSON answer (each a new server).
        #[arg(long, value_delimiter = ',', default_value = "1")]
        json_months: Vec<u32>,
        /// Months exported streamed.
        #[arg(long, value_delimiter = ',', default_value = "1,3")]
        stream_months: Vec<u32>,
    },
    /// Retention on the demo aged by `years`: rows/s vs a bare DELETE, file size before and
    /// after, screen latency while it runs.
    Retention {
        /// The demo, built on first use (kept; the run works on a copy).
        #[arg(long)]
        db: PathBuf,
        #[arg(long, default_value_t = 10_000)]
        meters: u32,
        #[arg(long, default_value_t = 2)]
        years: i64,
    },
    Gdpr {
        /// A new file: the bench builds its park there.
        #[arg(long)]
        db: PathBuf,
        #[arg(long, default_value_t = 3)]
        meters: u32,
        #[arg(long, default_value_t = 2)]
        years: u32,
    },
    /// Optical readouts (IEC 62056-21) from the simulator over a socat pty vs the wire time;
    /// readout parsing vs one pass over the bytes; a capture file's import vs hex telegrams.
    Optical {
        #[arg(long, default_value_t = 10)]
        readouts: u32,
        #[arg(long, default_value_t = 20_000)]
        parse: u32,
    },
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Demo { meters, db } => demo(meters, &db),
        Command::Import { lines, hours } => import(lines, hours),
        Command::Queries { db, runs } => queries(&db, runs),
        Command::Export { db, meters } => export::run(&db, meters),
        Command::Api { db, meters, samples } => api::run(&db, meters, samples),
        Command::Lookups { db, meters } => lookups::run(&db, meters),
        Command::Search { db, meters, runs } => search::run(&db, meters, runs),
        Command::List { db, meters, runs } => meter_list::run(&db, meters, runs),
        Command::Network { db, meters, gateways } => network::run(&db, meters, gateways),
        Command::Push { lines, per_push } => push::run(lines, per_push),
        Command::Live { seconds, rate, priority } => live::run(seconds, rate, priority),
        Command::Ingest { lines, soak_seconds, soak_rate } => ingest::run(lines, soak_seconds, soak_rate),
        Command::Mqtt { lines, rate, seconds } => mqtt::run(lines, rate, seconds),
        Command::Optical { readouts, parse } => optical::run(readouts, parse),
        Command::Mbus => mbus_master::run(),
        Command::C806 { seconds, sdps } => c806::run(seconds, sdps),
        Command::Audit { db, entries, runs } => audit::run(&db, entries, runs),
        Command::Gdpr { db, meters, years } => gdpr::run(&db, meters, years),
        Command::Retention { db, meters, years } => retention::run(&db, meters, years),
        Command::Stream { db, meters, json_months, stream_months } => stream::run(&db, meters, json_months, stream_months),
        Command::Login { runs } => login::run(runs),
        Command::Webhooks { deliveries, feed } => webhooks::run(deliveries, feed),
    };
    if let Err(e) = result {
        eprintln!("releve-bench: {e}");
        std::process::exit(1);
    }
}

type Res = Result<(), Box<dyn std::error::Error>>;

const NOW: i64 = 1_795_435_200; // 2026-11-22T08:00:00Z

fn demo(meters: u32, db: &PathBuf) -> Res {
    let _ = std::fs::remove_file(db);
    let store = Store::open(db)?;
    let t = Instant::now();
    let mut last = Instant::now();
    let r = releve_core::demo::build_demo(&store, &releve_core::demo::DemoSpec { meters, seed: 1 }, NOW, &mut |_, d, n| {
        if last.elapsed() > Duration::from_secs(10) {
            last = Instant::now();
            eprintln!("  {d}/{n} telegrams, {:.0} s", t.elapsed().as_secs_f64());
        }
    })?;
    let secs = t.elapsed().as_secs_f64();
    let size = std::fs::metadata(db)?.len();
    println!(
        "demo --meters {meters}: {secs:.1} s; {} telegrams, {} readings ({} hourly meters); {:.0} telegrams/s; database {:.2} GB ({:.0} bytes/reading incl. raw telegrams)",
        r.telegrams,
        r.readings,
        r.hourly_meters,
        r.telegrams as f64 / secs,
        size as f64 / 1e9,
        size as f64 / r.readings.max(1) as f64
    );
    Ok(())
}

struct Row {
    raw: Vec<u8>,
    meter: i64,
    ts: i64,
    litres: u32,
}

fn import(lines: u32, hours: u32) -> Res {
    let meters = (lines / hours).max(1);
    let dir = tempfile::tempdir()?;
    let key = |m: u32| {
        let mut k = [0x5au8; 16];
        k[..4].copy_from_slice(&m.to_le_bytes());
        k
    };
    let serial = |m: u32| format!("{:08}", 20_000_000 + m);
    // The park and its keys exist before the file arrives (not timed), in both databases.
    let make_park = |store: &Store| -> Result<(), releve_core::Error> {
        let mut conn = store.writer();
        let tx = conn.transaction()?;
        for m in 0..meters {
            let new = store::meters::NewMeter {
                serial: serial(m),
                manufacturer: "KAM".into(),
                version: 0x1b,
                device_type: "water".into(),
                status: "active".into(),
                ..Default::default()
            };
            store::meters::insert(&tx, &new, NOW)?;
            let sealed = store.vault().seal(&serial(m), "KAM", &key(m))?;
            store::keys::upsert(&tx, &serial(m), "KAM", &sealed, NOW, "bench")?;
        }
        store::settings::set(&tx, "timezone", "UTC")?;
        tx.commit()?;
        Ok(())
    };
    let store = Store::open(&dir.path().join("import.db"))?;
    make_park(&store)?;
    let system = Session::system("bench");
    // A concentrator file: every hour, every meter, mode-5 encrypted, rtl-wmbus lines.
    let t = Instant::now();
    let mut file = Vec::with_capacity(lines as usize * 130);
    let mut rows = Vec::with_capacity(lines as usize);
    let start = NOW - i64::from(hours) * 3600;
    'gen: for h in 0..hours {
        for m in 0..meters {
            if rows.len() as u32 >= lines {
                break 'gen;
            }
            let ts = start + i64::from(h) * 3600 + i64::from(m % 3000);
            let litres = m * 100 + h * 11;
            let mut payload = vec![0x04, 0x13];
            payload.extend_from_slice(&litres.to_le_bytes());
            payload.extend_from_slice(&[0x44, 0x13]);
            payload.extend_from_slice(&(m * 100).to_le_bytes());
            let spec = FrameSpec {
                manufacturer: "KAM",
                id: &serial(m),
                version: 0x1b,
                device_type: DeviceType::Water,
                access_number: h as u8,
                status: 0,
            };
            let raw = wmbus_frame(&spec, &payload, Some(&AesKey::from_bytes(key(m))));
            let local = chrono::DateTime::from_timestamp(ts, 0).unwrap_or_default().format("%Y-%m-%d %H:%M:%S");
            file.extend_from_slice(format!("T1;1;1;{local}.000;80;;;0x{}\n", hex::encode(&raw)).as_bytes());
            rows.push(Row { raw, meter: i64::from(m) + 1, ts, litres });
        }
    }
    eprintln!("generated {} lines ({:.0} MB) in {:.1} s", rows.len(), file.len() as f64 / 1e6, t.elapsed().as_secs_f64());

    // Decoding alone (line parsing, link layer, AES, records, driver mapping), no store.
    let keys: std::collections::HashMap<String, AesKey> = (0..meters).map(|m| (serial(m), AesKey::from_bytes(key(m)))).collect();
    let t = Instant::now();
    let mut values = 0usize;
    for line in file.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        let text = String::from_utf8_lossy(line);
        if let releve_core::import::line::Line::Frame(f) = releve_core::import::line::parse(&text, chrono_tz::UTC) {
            let addr = mbus::peek_address(&f.bytes)?;
            let t = mbus::decode(&f.bytes, keys.get(&addr.id))?;
            values += releve_core::driver::readings(&t).len();
        }
    }
    let decode_secs = t.elapsed().as_secs_f64();
    println!(
        "decoding alone: {:.0} telegrams/s on one core ({values} values)",
        rows.len() as f64 / decode_secs
    );

    // Keys at rest: what a process pays once to open the sealed keys (read + AES-256-GCM),
    // measured on a second opening of the database (its key cache cold), and the reading
    // alone; the timed import below pays it too (its store has not opened its keys yet).
    let (keys_read, keys_open) = {
        let again = Store::open(&dir.path().join("import.db"))?;
        let t = Instant::now();
        let sealed = store::keys::all(&*again.reader()?)?;
        let read = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let opened = again.keys()?;
        assert_eq!(opened.len(), sealed.len());
        (read, t.elapsed().as_secs_f64())
    };
    let permit = system.permit(Permission::Import)?;
    let t = Instant::now();
    let r = releve_core::import::import_drive_by(&store, permit, "bench.txt", &file, NOW, &mut |_, _| {})?;
    let import_secs = t.elapsed().as_secs_f64();
    // The same file again into a copy of the park whose keys this process has already opened
    // (the baseline: keys in memory, as before keys at rest); then the import above minus
    // the key opening is what the keys at rest changed nothing in.
    let warm = Store::open(&dir.path().join("warm.db"))?;
    make_park(&warm)?;
    warm.keys()?;
    let t = Instant::now();
    let w = releve_core::import::import_drive_by(&warm, permit, "bench.txt", &file, NOW, &mut |_, _| {})?;
    let warm_secs = t.elapsed().as_secs_f64();
    assert_eq!(w.stored, r.stored);
    println!(
        "keys at rest: {meters} sealed keys opened once per process in {:.1} ms (reading {:.1} ms, AES-256-GCM {:.1} ms = {:.2} µs a key); import with the keys still sealed {import_secs:.2} s vs opened beforehand {warm_secs:.2} s: the opening is {:.2}% of the import",
        keys_open * 1e3,
        keys_read * 1e3,
        (keys_open - keys_read).max(0.0) * 1e3,
        (keys_open - keys_read).max(0.0) * 1e6 / f64::from(meters.max(1)),
        keys_open * 100.0 / import_secs
    );
    {
        // A million keys (a park of a million meters): sealed once, opened once per process.
        let vault = releve_core::keys::vault::Vault::beside(&dir.path().join("million.db"));
        let sealed: Vec<(String, Vec<u8>)> = (0..1_000_000u32)
            .map(|m| {
                let s = format!("{:08}", m);
                let v = vault.seal(&s, "KAM", &key(m)).map_err(|e| e.to_string());
                (s, v.unwrap_or_default())
            })
            .collect();
        let t = Instant::now();
        let mut keys = releve_core::keys::Keys::default();
        for (s, v) in &sealed {
            keys.insert(s.clone(), "KAM".into(), vault.open(s, "KAM", v)?);
        }
        println!(
            "keys at rest: 1,000,000 sealed keys opened (AES-256-GCM, into the key cache) in {:.2} s, once per process and key change",
            t.elapsed().as_secs_f64()
        );
    }
    assert_eq!(r.stored as usize, rows.len(), "every telegram stored: {:?}", r.rejected.first());

    // The same rows with a bare prepared-statement loop, same schema, same order.
    let bare = Store::open(&dir.path().join("bare.db"))?;
    make_park(&bare)?;
    let t = Instant::now();
    {
        let mut conn = bare.writer();
        let tx = conn.transaction()?;
        {
            let mut tel = tx.prepare(
                "INSERT INTO telegrams(id, meter_id, received_at, rssi, import_id, status, raw) VALUES (?1,?2,?3,?4,?5,?6,?7)",
            )?;
            let mut rd = tx.prepare(
                "INSERT INTO readings(meter_id, register, ts, value, telegram_id) VALUES (?1,?2,?3,?4,?5)",
            )?;
            for row in &rows {
                let id = store::telegrams::hash_id(&row.raw);
                tel.execute(rusqlite::params![id, row.meter, row.ts, 80, 1, "decoded", row.raw])?;
                rd.execute(rusqlite::params![row.meter, 1, row.ts, f64::from(row.litres) / 1000.0, id])?;
                rd.execute(rusqlite::params![row.meter, 11, row.ts, f64::from(row.meter as u32 - 1) / 10.0, id])?;
            }
        }
        tx.commit()?;
    }
    let bare_secs = t.elapsed().as_secs_f64();
    let n = rows.len() as f64;
    println!(
        "import of {} lines ({meters} meters x {hours} h, mode 5): {import_secs:.1} s = {:.0} telegrams/s decoded, decrypted and stored ({} readings)",
        rows.len(),
        n / import_secs,
        r.readings
    );
    println!(
        "bare rusqlite loop, same {} telegram rows and {} reading rows: {bare_secs:.1} s = {:.0} telegrams/s; ratio import/bare = {:.2}",
        rows.len(),
        rows.len() * 2,
        n / bare_secs,
        (n / import_secs) / (n / bare_secs)
    );

    // The same file again into a new database while a clerk logs in every 50 ms, and the
    // same logins with nothing else running: how long a login waits behind an import.
    let busy_store = Store::open(&dir.path().join("busy.db"))?;
    make_park(&busy_store)?;
    // The test cost of password hashes: this measures the wait behind the import, not argon2
    // (`releve-bench login` measures that).
    store::settings::set(&busy_store.writer(), "password_cost", "fast")?;
    let user = store::users::NewUser { salt: None, login: "clerk", name: "clerk", role: releve_core::access::Role::User, password: "pw", locale: "fr" };
    releve_core::access::create_user(&busy_store, system.permit(Permission::ManageUsers)?, &user, NOW)?;
    let login = || -> Result<Duration, releve_core::Error> {
        let t = Instant::now();
        releve_core::access::login(&busy_store, "clerk", "pw", "bench", "local", NOW)?;
        Ok(t.elapsed())
    };
    let mut idle = (0..100).map(|_| login()).collect::<Result<Vec<_>, _>>()?;
    let done = std::sync::atomic::AtomicBool::new(false);
    let (busy, busy_secs) = std::thread::scope(|s| -> Result<(Vec<Duration>, f64), Box<dyn std::error::Error>> {
        let importer = s.spawn(|| {
            let t = Instant::now();
            let r = system
                .permit(Permission::Import)
                .and_then(|permit| releve_core::import::import_drive_by(&busy_store, permit, "busy.txt", &file, NOW, &mut |_, _| {}));
            done.store(true, std::sync::atomic::Ordering::SeqCst);
            r.map(|_| t.elapsed().as_secs_f64())
        });
        let mut busy = Vec::new();
        while !done.load(std::sync::atomic::Ordering::SeqCst) {
            busy.push(login()?);
            std::thread::sleep(Duration::from_millis(50));
        }
        let secs = importer.join().map_err(|_| "import thread")??;
        Ok((busy, secs))
    })?;
    let mut busy = busy;
    idle.sort();
    busy.sort();
    let pct = |v: &[Duration], p: f64| v[((v.len() as f64 - 1.0) * p).round() as usize].as_secs_f64() * 1000.0;
    println!(
        "login while nothing runs: p50 {:.1} ms, p99 {:.1} ms (100 logins); during the import of the same {} lines ({busy_secs:.1} s, alone {import_secs:.1} s): p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms ({} logins)",
        pct(&idle, 0.5),
        pct(&idle, 0.99),
        rows.len(),
        pct(&busy, 0.5),
        pct(&busy, 0.99),
        pct(&busy, 1.0),
        busy.len()
    );
    Ok(())
}

/// The demo's latest telegram time.
fn latest_seen(store: &Store) -> Result<i64, releve_core::Error> {
    let t: Option<i64> = store.reader()?.query_row("SELECT max(last_seen) FROM meters", [], |r| r.get(0))?;
    Ok(t.unwrap_or(NOW))
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn time<T>(runs: u32, mut f: impl FnMut() -> Result<T, releve_core::Error>) -> Result<Duration, releve_core::Error> {
    let mut v = Vec::new();
    for _ in 0..runs.max(1) {
        let t = Instant::now();
        f()?;
        v.push(t.elapsed());
    }
    Ok(median(v))
}

/// Read-only timings on an existing database (the demo's, `releve-bench demo`), opened
/// without migrating it: meter-list pages, one meter's histograms, then the consumption
/// report (a year) and the reading-performance report (30 days) over every meter, ending
/// the day before the latest telegram.
fn queries(db: &Path, runs: u32) -> Res {
    use releve_core::meters::{meter_histogram, meters_list, HistogramQuery, ListQuery, Resolution};
    let store = Store::open_read_only(db)?;
    let session = Session::system("bench");
    let total = store::meters::count(&*store.reader()?)?;
    println!("{total} meters");
    let cases: Vec<(&str, ListQuery)> = vec![
        ("first page, by serial", ListQuery { limit: 50, ..Default::default() }),
        ("page at offset 50,000", ListQuery { limit: 50, offset: 50_000, ..Default::default() }),
        ("sorted by customer name", ListQuery { limit: 50, sort: Some("customer".into()), ..Default::default() }),
        ("search 'Gambetta'", ListQuery { limit: 50, search: Some("Gambetta".into()), ..Default::default() }),
        ("search one serial", ListQuery { limit: 50, search: Some("13731113".into()), ..Default::default() }),
        ("group filter", ListQuery { limit: 50, group_id: Some(1), ..Default::default() }),
        ("active alarms only", ListQuery { limit: 50, alarms_only: true, ..Default::default() }),
        // Issue 15: "not heard since N days" (the demo's last telegram is the reference).
        ("not heard for 2 days", ListQuery { limit: 50, not_heard_since: Some(latest_seen(&store)? - 2 * 86_400), ..Default::default() }),
        ("not heard for 2 days, by surname", ListQuery { limit: 50, sort: Some("customer".into()), not_heard_since: Some(latest_seen(&store)? - 2 * 86_400), ..Default::default() }),
        ("not heard for 2 days, search 'saint'", ListQuery { limit: 50, search: Some("saint".into()), not_heard_since: Some(latest_seen(&store)? - 2 * 86_400), ..Default::default() }),
    ];
    for (name, q) in &cases {
        let d = time(runs, || meters_list(&store, &session, q))?;
        println!("meter list, {name}: {:.1} ms (median of {runs})", d.as_secs_f64() * 1e3);
    }
    // An hourly meter: the demo makes every tenth meter (ids 1, 11, 21, ...) hourly.
    let meter: i64 = store.reader()?.query_row(
        "SELECT id FROM meters WHERE status = 'active' AND device_type = 'water' AND id % 10 = 1 AND id > 1 ORDER BY id LIMIT 1",
        [],
        |r| r.get(0),
    )?;
    let to = chrono::DateTime::from_timestamp(NOW, 0).unwrap_or_default().date_naive();
    let from = to - chrono::Duration::days(395);
    for (name, res) in [("hour", Resolution::Hour), ("day", Resolution::Day), ("month", Resolution::Month)] {
        let q = HistogramQuery { meter_id: meter, register: None, resolution: res, from, to, now: None, fit_to_readings: false };
        let mut buckets = 0;
        let d = time(runs, || meter_histogram(&store, &session, &q).map(|h| buckets = h.buckets.len()))?;
        println!("histogram of meter {meter}, 13 months by {name}: {:.1} ms ({buckets} buckets)", d.as_secs_f64() * 1e3);
    }
    reports(&store, &session, runs.min(3))
}

/// The consumption report (a year) and the performance report (30 days, one reading a day
/// expected) over every meter, each `runs` times (the first may read from disk).
fn reports(store: &Store, session: &Session, runs: u32) -> Res {
    use releve_core::reports::{report_consumption, report_performance, ConsumptionQuery, PerformanceQuery};
    let latest: Option<i64> = store.reader()?.query_row("SELECT max(last_seen) FROM meters", [], |r| r.get(0))?;
    let now = latest.unwrap_or(NOW);
    let today = chrono::DateTime::from_timestamp(now, 0).unwrap_or_default().with_timezone(&chrono_tz::Europe::Paris).date_naive();
    let yesterday = today - chrono::Duration::days(1);
    let seconds = |v: &[Duration]| v.iter().map(|d| format!("{:.2}", d.as_secs_f64())).collect::<Vec<_>>().join(", ");
    let q = ConsumptionQuery {
        from: yesterday - chrono::Duration::days(364),
        to: yesterday,
        group_id: None,
        above: None,
        below: None,
        register: None,
        device_type: None,
        offset: 0,
        limit: 200,
    };
    for (name, q) in [("a year", q.clone()), ("a year, above 150", ConsumptionQuery { above: Some(150.0), ..q })] {
        let mut v = Vec::new();
        let mut kept = 0;
        for _ in 0..runs.max(1) {
            let t = Instant::now();
            let r = report_consumption(store, session, &q, now)?;
            v.push(t.elapsed());
            kept = r.count;
        }
        println!("consumption report, {name} ({} to {}): {kept} meters kept; runs {} s", q.from, q.to, seconds(&v));
    }
    let q = PerformanceQuery {
        from: yesterday - chrono::Duration::days(29),
        to: yesterday,
        group_id: None,
        expected_per_day: 1.0,
        offset: 0,
        limit: 200,
    };
    let mut v = Vec::new();
    let mut meters = 0;
    for _ in 0..runs.max(1) {
        let t = Instant::now();
        meters = report_performance(store, session, &q, now)?.meters;
        v.push(t.elapsed());
    }
    println!("performance report, 30 days ({} to {}), 1 a day: {meters} meters; runs {} s", q.from, q.to, seconds(&v));
    Ok(())
}
