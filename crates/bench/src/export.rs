//! `releve-bench export`: rows/s of the exports on 1,000,000 readings, each next to a bare
//! `csv::Writer` writing the same rows (same values, already in memory) in the same run.
//!
//! The database (made once, then reused): `--meters` water meters (100,000), 10 readings each
//! in January 2026 (1,000,000 readings), one more on 3 February; one meter in five also sends
//! target values for 1 February (target date register). Measured: the per-reading CSV export
//! of January (`export::export_readings`, 1,000,000 rows) with its SELECT alone (where the
//! time goes: reading the rows vs formatting and writing them), and a per-meter billing layout
//! over the park, as CSV and as fixed width (`billing::layout_run`: value lookups, formatting,
//! saving the last file's lines for the dry run), and the dry run.

use releve_core::access::Session;
use releve_core::billing::{self, Align, Field, Format, Layout, Period, Var};
use releve_core::model::Register;
use releve_core::store::{self, Store};
use std::path::Path;
use std::time::Instant;

type Res = Result<(), Box<dyn std::error::Error>>;

const DAY: i64 = 86_400;
const HOUR: i64 = 3_600;
/// 2026-01-01T00:00 in Paris.
const JAN1: i64 = 1_767_222_000;
const FEB1: i64 = JAN1 + 31 * DAY;
const NOW: i64 = FEB1 + 2 * DAY + 9 * HOUR;
const READINGS_PER_METER: i64 = 10;

pub fn run(db: &Path, meters: u32) -> Res {
    let store = open_or_make(db, meters)?;
    let session = Session::system("bench");
    let d = |day| chrono::NaiveDate::from_ymd_opt(2026, 1, day).ok_or("date");
    let period = Period::new(d(1)?, d(31)?)?;
    let mut table: Vec<(String, u64, f64)> = Vec::new();

    // 1. Per reading: the existing CSV export of the month, then the same rows with csv::Writer.
    let spec = releve_core::export::ExportSpec::new(period.from, period.to);
    let mut out: Vec<u8> = Vec::with_capacity(160 << 20);
    let t = Instant::now();
    let rows = releve_core::export::export_readings(&store, &session, &spec, &mut out, NOW)?;
    table.push(("per-reading CSV export (export_readings)".into(), rows, t.elapsed().as_secs_f64()));
    let records = read_back(&out, b';')?;
    let (n, secs) = bare_csv(&records)?;
    table.push(("  bare csv::Writer, same rows in memory".into(), n, secs));
    drop(records);
    // The SELECT alone: the same query and row reads, nothing formatted or written.
    let t = Instant::now();
    let mut read = 0u64;
    {
        let conn = store.reader()?;
        let (from, to) = (JAN1, FEB1);
        store::readings::for_export(&conn, from, to, None, &mut |_, _, _, _| {
            read += 1;
            Ok(())
        })?;
    }
    table.push(("  its SELECT alone (readings::for_export, nothing written)".into(), read, t.elapsed().as_secs_f64()));
    // Its two per-meter columns (info codes, exchanges) left out: what the rows cost alone.
    use releve_core::export::Column;
    let columns = Column::ALL.into_iter().filter(|c| !matches!(c, Column::InfoCodes | Column::MeterExchange)).collect();
    let spec = releve_core::export::ExportSpec { columns, ..spec };
    out.clear();
    let t = Instant::now();
    let rows = releve_core::export::export_readings(&store, &session, &spec, &mut out, NOW)?;
    table.push(("  the same without info_codes and meter_exchange".into(), rows, t.elapsed().as_secs_f64()));
    drop(out);

    // 2. Per meter: a billing layout as CSV and as fixed width, then the same rows bare.
    for (layout, label) in [
        (layout(Format::Csv), "layout CSV, one row per meter (layout_run)"),
        (layout(Format::Fixed), "layout fixed width (layout_run)"),
    ] {
        billing::layout_save(&store, &session, &layout, NOW)?;
        let t = Instant::now();
        let file = billing::layout_run(&store, &session, &layout.name, period, NOW)?;
        let secs = t.elapsed().as_secs_f64();
        table.push((label.into(), file.rows, secs));
        if layout.format == Format::Csv {
            let t = Instant::now();
            let dry = billing::layout_dry_run(&store, &session, &layout.name, period, NOW)?;
            table.push((
                "  its dry run against the last file (layout_dry_run)".into(),
                dry.rows,
                t.elapsed().as_secs_f64(),
            ));
            let targets = file.bytes.windows(8).filter(|w| w == b";target;").count();
            eprintln!(
                "  {} rows, {} warnings (interpolated ends), {targets} target values",
                file.rows,
                file.warnings.len()
            );
            let records = read_back(&file.bytes, b';')?;
            let (n, secs) = bare_csv(&records)?;
            table.push(("  bare csv::Writer, same rows in memory".into(), n, secs));
        }
    }
    // Formatting alone: a layout without register variables (no value lookups).
    let mut plain = Layout::new(
        "Bench sans index",
        Format::Csv,
        vec![
            Field::new(Var::CustomerNumber),
            Field::new(Var::MeterSerial),
            Field::new(Var::Address),
            Field::new(Var::City),
        ],
    );
    plain.csv.header = false;
    billing::layout_save(&store, &session, &plain, NOW)?;
    let t = Instant::now();
    let file = billing::layout_run(&store, &session, &plain.name, period, NOW)?;
    table.push(("layout CSV without register variables (no lookups)".into(), file.rows, t.elapsed().as_secs_f64()));

    println!("{:<58} {:>10} {:>9} {:>12}", "export", "rows", "seconds", "rows/s");
    for (name, rows, secs) in table {
        println!("{name:<58} {rows:>10} {secs:>9.2} {:>12.0}", rows as f64 / secs);
    }
    Ok(())
}

/// A typical billing layout: customer, meter, address, start and end values with their
/// sources, the reading time, the consumption, with header and trailer records.
fn layout(format: Format) -> Layout {
    let w = |var: Var, width: usize| Field { width: Some(width), ..Field::new(var) };
    let num = |var: Var| Field { width: Some(12), pad: Some('0'), implied_decimals: true, ..Field::new(var) };
    let name = match format {
        Format::Csv => "Bench CSV",
        Format::Fixed => "Bench largeur fixe",
    };
    let mut l = Layout::new(
        name,
        format,
        vec![
            w(Var::CustomerNumber, 10),
            w(Var::CustomerName, 30),
            w(Var::MeterSerial, 10),
            w(Var::Address, 40),
            w(Var::PostalCode, 5),
            w(Var::City, 30),
            num(Var::ValueStart),
            Field { align: Some(Align::Right), ..w(Var::SourceStart, 12) },
            num(Var::ValueEnd),
            Field { align: Some(Align::Right), ..w(Var::SourceEnd, 12) },
            w(Var::ReadingTimeEnd, 16),
            num(Var::Consumption),
        ],
    );
    let text = |t: &str| Field { text: Some(t.into()), width: Some(t.len()), ..Field::new(Var::Text) };
    l.header = vec![
        text("H"),
        Field { width: Some(10), ..Field::new(Var::PeriodFrom) },
        Field { width: Some(10), ..Field::new(Var::PeriodTo) },
    ];
    l.trailer = vec![
        text("T"),
        Field { width: Some(8), pad: Some('0'), ..Field::new(Var::RecordCount) },
        Field { width: Some(16), pad: Some('0'), implied_decimals: true, ..Field::new(Var::TotalConsumption) },
    ];
    l
}

/// The records of a CSV file, as strings (header and trailer lines included).
fn read_back(bytes: &[u8], separator: u8) -> Result<Vec<csv::StringRecord>, csv::Error> {
    csv::ReaderBuilder::new()
        .delimiter(separator)
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes)
        .records()
        .collect()
}

/// Write `records` with a bare csv::Writer into memory: (rows, seconds).
fn bare_csv(records: &[csv::StringRecord]) -> Result<(u64, f64), Box<dyn std::error::Error>> {
    let t = Instant::now();
    let mut w = csv::WriterBuilder::new().delimiter(b';').flexible(true).from_writer(Vec::with_capacity(160 << 20));
    for r in records {
        w.write_record(r)?;
    }
    let out = w.into_inner().map_err(|e| e.to_string())?;
    let secs = t.elapsed().as_secs_f64();
    std::hint::black_box(out);
    Ok((records.len() as u64, secs))
}

/// The bench database: reused when it has the park, else made (a minute or so).
fn open_or_make(db: &Path, meters: u32) -> Result<Store, Box<dyn std::error::Error>> {
    if db.exists() {
        let store = Store::open(db)?;
        let n = store::meters::count(&*store.reader()?)?;
        if n == i64::from(meters) {
            eprintln!("reusing {} ({n} meters)", db.display());
            return Ok(store);
        }
        drop(store);
        for ext in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{ext}", db.display()));
        }
    }
    let t = Instant::now();
    let store = Store::open(db)?;
    {
        let mut conn = store.writer();
        let tx = conn.transaction()?;
        // The target date register holds 1 February as days since 1970-01-01.
        let target_day = chrono::NaiveDate::from_ymd_opt(2026, 2, 1)
            .ok_or("date")?
            .signed_duration_since(chrono::NaiveDate::default())
            .num_days();
        for m in 0..i64::from(meters) {
            let serial = format!("{:08}", 10_000_000 + m * 7);
            let customer = store::customers::Customer {
                number: format!("C{:07}", m + 1),
                name: format!("Client {}", m + 1),
                address: String::new(),
                postal_code: String::new(),
                city: String::new(),
                email: None,
                phone: None,
            };
            let customer_id = store::customers::insert(&tx, &customer)?;
            let new = store::meters::NewMeter {
                serial,
                manufacturer: "KAM".into(),
                version: 0x1b,
                device_type: "water".into(),
                status: "active".into(),
                customer_id: Some(customer_id),
                address: format!("{} rue de la République", m % 180 + 1),
                postal_code: "42400".into(),
                city: "Saint-Chamond".into(),
                ..Default::default()
            };
            let id = store::meters::insert(&tx, &new, NOW)?;
            let put = |register: Register, ts: i64, value: f64| {
                store::readings::insert(
                    &tx,
                    &store::readings::Reading { meter_id: id, register: register.code(), ts, value, telegram_id: None },
                    NOW,
                )
            };
            let base = (m % 5_000) as f64 * 3.0;
            for k in 0..READINGS_PER_METER {
                let ts = JAN1 + 10 * HOUR + k * 3 * DAY + m % 3_000;
                put(Register::Volume, ts, base + k as f64 * 0.125 + 0.001 * (m % 7) as f64)?;
            }
            let after = FEB1 + 2 * DAY + 10 * HOUR; // 58 h after: the end is interpolated
            put(Register::Volume, after, base + 1.5)?;
            if m % 5 == 0 {
                put(Register::TargetVolume, after, base + 1.375)?;
                put(Register::TargetDate, after, target_day as f64)?;
            }
        }
        tx.commit()?;
    }
    store.checkpoint()?;
    eprintln!(
        "made {} ({meters} meters, {} readings in January) in {:.1} s",
        db.display(),
        i64::from(meters) * READINGS_PER_METER,
        t.elapsed().as_secs_f64()
    );
    Ok(store)
}
