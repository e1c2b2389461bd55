//! `releve`: the command line. Each subcommand is one call into the core (or the API for
//! `serve`), with the same names as the UI's commands.

mod api_keys;
mod events;
mod log;
mod mbus;
mod progress;
mod rest;
mod serve;
mod users;

use clap::{Parser, Subcommand};
use releve_core::access::{self, Permission, Session};
use releve_core::{demo, export, import, keys, Store};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "releve", version, about = "Relevé: meter readings for water, heat and electricity utilities")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build a demo database: meters around Saint-Chamond with 13 months of readings.
    Demo {
        #[arg(long)]
        db: PathBuf,
        #[arg(long, default_value_t = 2000)]
        meters: u32,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Build as of this time (Unix seconds or YYYY-MM-DD) instead of now.
        #[arg(long)]
        now: Option<String>,
    },
    /// Serve the UI and the API to a browser.
    Serve {
        #[arg(long)]
        db: PathBuf,
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: String,
        /// Folder of the UI files (default: ui/ next to the sources).
        #[arg(long)]
        ui: Option<PathBuf>,
    },
    /// Import drive-by files (one telegram a line: hex, telegram=|HEX|, rtl-wmbus).
    Import {
        #[arg(long)]
        db: PathBuf,
        #[command(flatten)]
        acting: Acting,
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Customers and meters (billing files through a saved column mapping).
    Park {
        #[command(subcommand)]
        command: ParkCommand,
    },
    /// Alarm notifications.
    Notify {
        #[command(subcommand)]
        command: NotifyCommand,
    },
    /// Webhooks (endpoints are registered in the app, Settings > Webhooks).
    Webhooks {
        #[command(subcommand)]
        command: WebhooksCommand,
    },
    /// Retention: compact old readings, drop what is past its period, shrink the file.
    Retention {
        #[command(subcommand)]
        command: RetentionCommand,
    },
    /// Scheduled billing exports.
    Jobs {
        #[command(subcommand)]
        command: JobsCommand,
    },
    /// Reports handed out to consumers.
    Report {
        #[command(subcommand)]
        command: ReportCommand,
    },
    /// AES keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// API keys of billing systems and portals (the manager): list, create (prints the secret
    /// once), revoke.
    ApiKeys {
        #[command(subcommand)]
        command: api_keys::ApiKeysCommand,
    },
    /// User accounts (the manager): list, create, deactivate, reset a password, change a role.
    Users {
        #[command(subcommand)]
        command: users::UsersCommand,
    },
    /// Sources that deliver readings by themselves (concentrators pushing over HTTP).
    Sources {
        #[command(subcommand)]
        command: SourcesCommand,
    },
    /// LoRaWAN connected objects (the registry by DevEUI).
    Lorawan {
        #[command(subcommand)]
        command: LorawanCommand,
    },
    /// The Elia C8/06 aFRR gateway (delivery points sent every 4 seconds over MQTTS).
    C806 {
        #[command(subcommand)]
        command: C806Command,
    },
    /// The fixed network's gateways.
    Gateways {
        #[command(subcommand)]
        command: GatewaysCommand,
    },
    /// Supervision of the fixed network.
    Network {
        #[command(subcommand)]
        command: NetworkCommand,
    },
    /// Electricity meters read through their optical port (IEC 62056-21).
    Optical {
        #[command(subcommand)]
        command: OpticalCommand,
    },
    /// Wired M-Bus: Relevé as the master of a bus (scan, read a meter, read every bus).
    Mbus {
        #[command(subcommand)]
        command: mbus::MbusCommand,
    },
    /// Decode one telegram and print it as JSON.
    Decode {
        #[arg(long)]
        key: Option<String>,
        /// An earlier telegram of the same meter (a full frame before a compact frame); repeatable.
        #[arg(long)]
        previous: Vec<String>,
        /// Add every layer as it was read (CI, key, compact-frame layout, where it stopped).
        #[arg(long)]
        explain: bool,
        hex: String,
    },
    /// Export readings of a period to CSV, or with --layout a saved billing-export layout
    /// (one row per meter).
    Export {
        #[arg(long)]
        db: PathBuf,
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
        #[arg(long)]
        out: PathBuf,
        /// A saved billing-export layout (export_layouts_list): its file instead of readings.
        #[arg(long, conflicts_with_all = ["columns", "decimal"])]
        layout: Option<String>,
        /// Comma-separated column ids (default: all).
        #[arg(long)]
        columns: Option<String>,
        #[arg(long, default_value = ";")]
        separator: String,
        #[arg(long)]
        decimal: Option<String>,
        /// `readings` (every reading: needs view_intervals) or `days` (one a day); default:
        /// readings for a user who may see interval data, else days.
        #[arg(long, conflicts_with = "layout")]
        granularity: Option<String>,
        #[command(flatten)]
        acting: Acting,
    },
}

/// Who runs a command that changes or exports data.
#[derive(clap::Args)]
pub(crate) struct Acting {
    #[arg(long, default_value = "manager")]
    user: String,
    /// Password of --user (default: the RELEVE_PASSWORD variable; the demo accounts' password is their login).
    #[arg(long, env = "RELEVE_PASSWORD", hide_env_values = true)]
    password: Option<String>,
}

#[derive(Subcommand)]
enum OpticalCommand {
    /// Read the meter in front of an optical head (mode C with the baud-rate switch, or A/B)
    /// and store the readout; prints what was read.
    Read {
        #[arg(long)]
        db: PathBuf,
        /// The optical head's serial device (/dev/ttyUSB0, COM3).
        #[arg(long, conflicts_with = "tcp", required_unless_present = "tcp")]
        serial: Option<String>,
        /// A serial server in front of the head: HOST:PORT.
        #[arg(long)]
        tcp: Option<String>,
        /// The meter expected (its serial): a readout of another meter is refused.
        #[arg(long)]
        meter: Option<String>,
        /// The device address sent in the sign-on (/?ADDRESS!); none by default.
        #[arg(long, default_value = "")]
        address: String,
        /// Wake a battery meter first (NULs for 2.2 s).
        #[arg(long)]
        wake: bool,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        acting: Acting,
    },
}

#[derive(Subcommand)]
enum ParkCommand {
    /// Import the new files of every due profile folder (done/ or failed/ afterwards).
    ImportFolder {
        #[arg(long)]
        db: PathBuf,
        #[command(flatten)]
        acting: Acting,
    },
}

#[derive(Subcommand)]
enum NotifyCommand {
    /// Raise the silences due now (`network check`), then send the notices due now (what
    /// `serve` does every minute).
    Run(RunAt),
}

#[derive(Subcommand)]
enum WebhooksCommand {
    /// Make the events that happened since the last round, attempt the deliveries due and
    /// forget the log past its days (what the open app does every 2 seconds).
    Run(RunAt),
}

/// A database and the time a scheduled run acts as of.
#[derive(clap::Args)]
struct RunAt {
    #[arg(long)]
    db: PathBuf,
    /// Run as of this time (Unix seconds, YYYY-MM-DD or "YYYY-MM-DD HH:MM" local time) instead of now.
    #[arg(long)]
    now: Option<String>,
}

impl RunAt {
    fn open(&self) -> Result<(Store, i64), Failure> {
        let store = Store::open(&self.db)?;
        let at = match &self.now {
            None => now(),
            Some(s) => parse_local_time(&store, s)?,
        };
        Ok((store, at))
    }
}

#[derive(Subcommand)]
enum RetentionCommand {
    /// Run retention now (what the open app does every night): old readings compacted to one
    /// a day, what is past its period deleted, the file shrunk. Needs settings; audited.
    Run {
        #[arg(long)]
        db: PathBuf,
        /// Run as of this time (ISO 8601 `2028-12-06T03:00:00+01:00`, `YYYY-MM-DD HH:MM` local,
        /// `YYYY-MM-DD` or Unix seconds) instead of now.
        #[arg(long)]
        now: Option<String>,
        /// Print what a run would remove (the preview) and remove nothing.
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        acting: Acting,
    },
}

#[derive(Subcommand)]
enum JobsCommand {
    /// Run the scheduled exports due now and retry the failed ones (what the open app does
    /// every minute); for cron or Task Scheduler. Exit status 1 if a run failed.
    Run(RunAt),
}

#[derive(Subcommand)]
enum ReportCommand {
    /// Everything held about one customer (subject access) as a ZIP of CSV files and a PDF
    /// summary, written straight to the file (needs personal_data; audited).
    PersonalData {
        #[arg(long)]
        db: PathBuf,
        /// The customer's number.
        #[arg(long)]
        customer: String,
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        acting: Acting,
    },
    /// One consumer's consumption over a period (chart and table) as PDF or HTML, written to
    /// a file or e-mailed (to the customer's address unless one is given).
    Consumer {
        #[arg(long)]
        db: PathBuf,
        /// Serial number of the meter.
        #[arg(long)]
        meter: String,
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
        #[arg(long, default_value = "day", value_parser = ["day", "month"])]
        resolution: String,
        #[arg(long, default_value = "pdf", value_parser = ["pdf", "html"])]
        format: String,
        /// Language of the report (default: the --user's).
        #[arg(long, value_parser = ["fr", "en"])]
        locale: Option<String>,
        /// Write the report to this file.
        #[arg(long, required_unless_present = "email", conflicts_with = "email")]
        out: Option<PathBuf>,
        /// E-mail the report as an attachment, to ADDRESS or else to the customer.
        #[arg(long, value_name = "ADDRESS", num_args = 0..=1)]
        email: Option<Option<String>>,
        #[command(flatten)]
        acting: Acting,
    },
    /// The yearly count of connected objects (the LoRaWAN convention's procès-verbal): the
    /// objects in service during the year, counts by brand and model, signature block; PDF
    /// or CSV by the extension of --out.
    Objects {
        #[arg(long)]
        db: PathBuf,
        #[arg(long)]
        year: i32,
        /// FILE.pdf or FILE.csv.
        #[arg(long)]
        out: PathBuf,
        /// Language of the report (default: the --user's).
        #[arg(long, value_parser = ["fr", "en"])]
        locale: Option<String>,
        #[command(flatten)]
        acting: Acting,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Import a key file: `serial;key` CSV (`;`, `,` or tab; manufacturer column optional),
    /// or a Kamstrup KEM / KEM2 file opened with `--password`.
    Import {
        #[arg(long)]
        db: PathBuf,
        #[command(flatten)]
        acting: Acting,
        /// The password of a KEM/KEM2 file (the one the utility received with it); not
        /// `--password`, which is the acting user's.
        #[arg(long = "kem-password", env = "RELEVE_KEM_PASSWORD", hide_env_values = true)]
        kem_password: Option<String>,
        file: PathBuf,
    },
    /// Write every stored key as a `serial;key;manufacturer` CSV (the manager only; audited).
    Export {
        #[arg(long)]
        db: PathBuf,
        #[command(flatten)]
        acting: Acting,
        #[arg(long)]
        out: PathBuf,
    },
}

// `add` carries the MQTT settings; the command is parsed once, its size does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum LorawanCommand {
    /// The registry of LoRaWAN objects.
    Devices {
        #[command(subcommand)]
        command: LorawanDevicesCommand,
    },
}

#[derive(Subcommand)]
enum LorawanDevicesCommand {
    /// Import `dev_eui;serial;brand;model;payload;address;city;commissioned` (a header row, `;`,
    /// UTF-8, dates YYYY-MM-DD); a bad line and nothing is stored; devices already there are updated.
    Import {
        #[arg(long)]
        db: PathBuf,
        #[command(flatten)]
        acting: Acting,
        file: PathBuf,
    },
    /// The registry as `;`-separated rows: the import's columns, then manufacturer, last
    /// uplink (UTC) and uplinks counted.
    List {
        #[arg(long)]
        db: PathBuf,
        #[command(flatten)]
        acting: Acting,
    },
}

#[derive(Subcommand)]
enum C806Command {
    /// Run the gateway in the foreground (also inside `releve serve` and the desktop window).
    Run {
        #[arg(long)]
        db: PathBuf,
    },
    /// Set the gateway: the platform's broker, GID (GatewayBusinessId), SID (sender id).
    Gateway {
        #[arg(long)]
        db: PathBuf,
        #[command(flatten)]
        acting: Acting,
        /// mqtts://HOST:PORT
        #[arg(long)]
        broker: String,
        #[arg(long)]
        gid: String,
        #[arg(long)]
        sid: String,
        /// The broker's CA (PEM); the system's roots without it.
        #[arg(long)]
        ca: Option<String>,
        /// An MQTT user name, when the platform asks for one.
        #[arg(long)]
        username: Option<String>,
        /// Send (without it the settings are kept, the gateway idle).
        #[arg(long)]
        enable: bool,
    },
    /// Import the gateway's certificate and private key from the platform's PFX file.
    PfxImport {
        #[arg(long)]
        db: PathBuf,
        #[command(flatten)]
        acting: Acting,
        file: PathBuf,
        /// The PFX file's password (or the RELEVE_PFX_PASSWORD variable).
        #[arg(long, env = "RELEVE_PFX_PASSWORD", hide_env_values = true)]
        pfx_password: String,
    },
    /// Add or change a delivery point: its EAN and the electricity meter (id) giving DPM,
    /// or none (a power feed: `releve c806 setpoints --dpm`).
    Sdp {
        #[arg(long)]
        db: PathBuf,
        #[command(flatten)]
        acting: Acting,
        #[arg(long)]
        ean: String,
        #[arg(long)]
        meter: Option<i64>,
        #[arg(long)]
        disable: bool,
    },
    /// What the BSP's SCADA gives a delivery point (each left out keeps its value).
    Setpoints {
        #[arg(long)]
        db: PathBuf,
        #[command(flatten)]
        acting: Acting,
        #[arg(long)]
        ean: String,
        /// The measured power (MW) of an SDP without a linked meter.
        #[arg(long, allow_hyphen_values = true)]
        dpm: Option<f64>,
        /// The baseline (MW) for the slot's time + 1 minute.
        #[arg(long, allow_hyphen_values = true)]
        dpb: Option<f64>,
        /// aFRR active (AS): 0 or 1.
        #[arg(long = "as")]
        active: Option<u8>,
        /// The aFRR power supplied (PS, MW).
        #[arg(long, allow_hyphen_values = true)]
        ps: Option<f64>,
    },
    /// The gateway's state, keys, buffer and delivery points (JSON).
    Status {
        #[arg(long)]
        db: PathBuf,
        #[command(flatten)]
        acting: Acting,
    },
    /// A fallback file: the 4-second values of the SDPs between two UTC dates (CSV).
    Fallback {
        #[arg(long)]
        db: PathBuf,
        #[command(flatten)]
        acting: Acting,
        /// First day (YYYY-MM-DD, UTC).
        #[arg(long)]
        from: String,
        /// Last day (YYYY-MM-DD, UTC), included.
        #[arg(long)]
        to: String,
        #[arg(long)]
        out: PathBuf,
    },
}

// Parsed once per run: the size of the `add` variant costs nothing worth a box.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum SourcesCommand {
    /// Make a source; prints its token (shown this once).
    Add {
        #[arg(long)]
        db: PathBuf,
        /// Who makes the source (needs `settings`).
        #[arg(long, default_value = "manager")]
        user: String,
        /// Password of --user (default: the RELEVE_PASSWORD variable). Here `--password` is
        /// the broker's, as MQTT tools name it.
        #[arg(long, env = "RELEVE_PASSWORD", hide_env_values = true)]
        user_password: Option<String>,
        #[arg(long)]
        name: String,
        /// http (concentrators push to POST /ingest/<name>), folder (they drop files into
        /// --folder) or mqtt (Relevé subscribes to --topic on the broker at --url).
        #[arg(long, default_value = "http")]
        kind: String,
        /// lines (the drive-by line formats), jsonl or elvaco (CMe gateway report rows).
        #[arg(long)]
        format: String,
        /// The largest body a push (or a dropped file) may carry, bytes (16 MiB).
        #[arg(long)]
        max_body: Option<i64>,
        /// A folder source's folder (also --path): concentrators upload files there (an allowed folder).
        #[arg(long, alias = "path")]
        folder: Option<String>,
        /// An MQTT source's broker: mqtt://HOST:PORT or mqtts://HOST:PORT.
        #[arg(long)]
        url: Option<String>,
        /// An MQTT source's topic filter (+ and # allowed).
        #[arg(long)]
        topic: Option<String>,
        /// The broker's user name.
        #[arg(long)]
        username: Option<String>,
        /// The broker's password (never shown back); also --broker-password.
        #[arg(long, alias = "broker-password", env = "RELEVE_BROKER_PASSWORD", hide_env_values = true)]
        password: Option<String>,
        /// PEM files for an mqtts:// broker: its CA, this client's certificate and key.
        #[arg(long)]
        ca: Option<String>,
        #[arg(long)]
        cert: Option<String>,
        #[arg(long)]
        key: Option<String>,
    },
    /// Take the files waiting in the folder sources' folders (for cron when the app is closed).
    Run {
        #[arg(long)]
        db: PathBuf,
    },
    /// The sources, one JSON object a line.
    List {
        #[arg(long)]
        db: PathBuf,
        #[command(flatten)]
        acting: Acting,
    },
    /// Remove a source: its token stops working.
    Remove {
        #[arg(long)]
        db: PathBuf,
        #[command(flatten)]
        acting: Acting,
        #[arg(long)]
        name: String,
    },
}

#[derive(Subcommand)]
enum GatewaysCommand {
    /// The gateways with last contact, frames today, meters heard (7 days) and heard by no
    /// other; one JSON object a line.
    List {
        #[arg(long)]
        db: PathBuf,
        #[command(flatten)]
        acting: Acting,
    },
}

#[derive(Subcommand)]
enum NetworkCommand {
    /// Raise the alarms of gateways and meters silent for their period (what the open app
    /// does every minute; `releve notify run` does it too before sending).
    Check(RunAt),
}

/// A failure as the user sees it: `{"error":{code,message}}` for JSON commands, words otherwise.
pub(crate) struct Failure {
    code: String,
    message: String,
    details: Option<serde_json::Value>,
}

impl From<releve_core::Error> for Failure {
    fn from(e: releve_core::Error) -> Failure {
        Failure { code: e.code().into(), message: e.to_string(), details: None }
    }
}

impl From<releve_api::ApiError> for Failure {
    fn from(e: releve_api::ApiError) -> Failure {
        Failure { code: e.code, message: e.message, details: Some(serde_json::Value::Object(e.params)) }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let json_errors = matches!(cli.command, Command::Decode { .. });
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            if json_errors {
                let mut out = serde_json::json!({"error": {"code": f.code, "message": f.message}});
                if let Some(serde_json::Value::Object(more)) = f.details {
                    for (k, v) in more {
                        out[k] = v;
                    }
                }
                println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
            } else {
                eprintln!("releve: {} ({})", f.message, f.code);
            }
            ExitCode::FAILURE
        }
    }
}

pub(crate) fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Log the acting user in for `command` (the API command this CLI command does, a row of
/// `access::COMMANDS`): refused as the API would refuse it.
pub(crate) fn login(store: &Store, acting: &Acting, command: &str) -> Result<Session, Failure> {
    // The demo accounts' password is their login; real installations pass RELEVE_PASSWORD.
    let password = acting.password.as_deref().unwrap_or(&acting.user);
    let session = access::login(store, &acting.user, password, &releve_api::computer_name(), releve_api::LOCAL, now())?;
    access::authorize(&session, command)?;
    Ok(session)
}

fn print_optical(r: &releve_core::optical::ReadReport) {
    println!(
        "{} meter {} ({}), mode {:?} '{}': data at {} baud{}, {} bytes in {:.1} s{}",
        r.manufacturer,
        r.serial.as_deref().unwrap_or("?"),
        r.ident,
        r.mode,
        r.baud_character,
        r.baud,
        if r.switched { " (line switched)" } else { "" },
        r.bytes,
        r.took_ms as f64 / 1000.0,
        if r.attempts > 1 { format!(", {} attempts", r.attempts) } else { String::new() }
    );
    if let Some(t) = &r.meter_time {
        println!("  meter clock {t}");
    }
    for reg in &r.registers {
        println!("  {:<12} {} {}", reg.register, reg.value, reg.unit);
    }
    for d in r.data_sets.iter().filter(|d| d.role.is_none()) {
        let values: Vec<String> = d.values.iter().map(|v| format!("({}{})", v.value, v.unit.as_deref().map(|u| format!("*{u}")).unwrap_or_default())).collect();
        println!("  unknown      {}{}", d.address, values.join(""));
    }
    println!("{}", import_summary(&r.import));
}

fn read(path: &PathBuf) -> Result<Vec<u8>, Failure> {
    std::fs::read(path).map_err(|e| releve_core::Error::io(path, e).into())
}

fn run(cli: Cli) -> Result<(), Failure> {
    match cli.command {
        Command::Demo { db, meters, seed, now: at } => {
            let at = match at {
                None => now(),
                Some(s) => parse_time(&s)?,
            };
            let store = Store::open(&db)?;
            let started = std::time::Instant::now();
            let mut bar = progress::Bar::new("Building demo");
            let report = demo::build_demo(&store, &demo::DemoSpec { meters, seed }, at, &mut |_, done, total| {
                bar.set(done, total)
            })?;
            bar.finish();
            let size = std::fs::metadata(&db).map(|m| m.len()).unwrap_or(0);
            println!(
                "Demo ready in {:.1} s: {} meters ({} hourly), {} customers, {} telegrams, {} readings, {:.1} MB in {}",
                started.elapsed().as_secs_f64(),
                report.meters,
                report.hourly_meters,
                report.customers,
                report.telegrams,
                report.readings,
                size as f64 / 1e6,
                db.display()
            );
            println!("Logins: manager/manager, superuser/superuser, clerk/clerk");
            Ok(())
        }
        Command::Serve { db, addr, ui } => serve::run(&db, &addr, ui),
        Command::Import { db, acting, files } => {
            let store = Store::open(&db)?;
            let session = login(&store, &acting, "import_start")?;
            let permit = session.permit(Permission::Import)?;
            let mut nothing_committed = Vec::new();
            for file in &files {
                let content = read(file)?;
                let name = file.display().to_string();
                let mut bar = progress::Bar::new(&name);
                let r = import::import_drive_by(&store, permit, &name, &content, now(), &mut |d, t| bar.set(d, t))?;
                bar.finish();
                println!("{}", import_summary(&r));
                for rej in &r.rejected {
                    println!("  {name}, line {}: {} ({})", rej.line, rej.reason, rej.code);
                }
                for c in &r.conflict_list {
                    println!(
                        "  {name}, line {}: meter {} {} at {}: value {} not stored, {} kept (telegrams {} and {})",
                        c.line,
                        c.serial,
                        c.register,
                        c.ts,
                        c.other_value,
                        c.kept_value,
                        c.other_telegram.as_deref().unwrap_or("-"),
                        c.kept_telegram.as_deref().unwrap_or("-")
                    );
                }
                if r.stored == 0 && r.duplicates == 0 && r.heard == 0 && r.rejected_count > 0 {
                    nothing_committed.push(name);
                }
            }
            if !nothing_committed.is_empty() {
                return Err(Failure {
                    code: "nothing_imported".into(),
                    message: format!("nothing was stored from {}: every line was rejected (see above)", nothing_committed.join(", ")),
                    details: None,
                });
            }
            Ok(())
        }
        Command::Optical { command: OpticalCommand::Read { db, serial, tcp, meter, address, wake, json, acting } } => {
            let store = Store::open(&db)?;
            let session = login(&store, &acting, "optical_read")?;
            let target = match (serial, tcp) {
                (Some(device), _) => releve_core::port::Target::Serial(device),
                (None, Some(address)) => releve_core::port::Target::Tcp(address),
                (None, None) => return Err(releve_core::Error::bad_input("serial", "give --serial DEVICE or --tcp HOST:PORT").into()),
            };
            let mut options = releve_core::optical::Options::new(target);
            options.meter = meter;
            options.address = address;
            options.wake = wake;
            let r = releve_core::optical::read(&store, &session, &options, now())?;
            if json {
                println!("{}", serde_json::to_string_pretty(&r).unwrap_or_default());
            } else {
                print_optical(&r);
            }
            Ok(())
        }
        Command::Park { command: ParkCommand::ImportFolder { db, acting } } => {
            let store = Store::open(&db)?;
            let session = login(&store, &acting, "park_import_folder")?;
            let permit = session.permit(Permission::EditMeters)?;
            let r = releve_core::park_folder::park_import_folder(&store, permit, now())?;
            for f in &r.files {
                match &f.report {
                    Some(p) => println!(
                        "{} ({}): {} -> {}; customers {} added, {} changed; meters {} added, {} changed; {} rejected",
                        f.file, f.profile, f.outcome, f.moved_to, p.customers_added, p.customers_changed,
                        p.meters_added, p.meters_changed, p.rejected.len()
                    ),
                    None => println!("{} ({}): {} -> {}: {}", f.file, f.profile, f.outcome, f.moved_to, f.error.as_deref().unwrap_or("")),
                }
            }
            for f in &r.refused {
                eprintln!("{}: folder not read: {}", f.profile, f.reason);
            }
            for f in &r.skipped {
                println!("{} ({}): left in the folder: {}", f.file, f.profile, f.reason.words());
            }
            println!("{} profile folder(s) due, {} file(s) imported", r.profiles.len(), r.files.len());
            if !r.refused.is_empty() {
                let message = format!("{} profile folder(s) not read (see above)", r.refused.len());
                return Err(Failure { code: "folder_refused".into(), message, details: None });
            }
            Ok(())
        }
        Command::Notify { command: NotifyCommand::Run(run_at) } => {
            let (store, at) = run_at.open()?;
            let c = releve_core::silence::network_check(&store, at)?;
            if c.gateways_silent + c.meters_silent > 0 {
                println!("{} gateway(s) and {} meter(s) fell silent", c.gateways_silent, c.meters_silent);
            }
            let r = releve_core::notify::notify_run(&store, at)?;
            println!("{} notices sent, {} failed, {} held back by quiet hours", r.sent, r.failed, r.held);
            Ok(())
        }
        Command::Webhooks { command: WebhooksCommand::Run(run_at) } => {
            let (store, at) = run_at.open()?;
            let made = releve_core::webhooks::events::poll(&store, at)?;
            let r = releve_core::webhooks::deliver_due(&store, at, releve_core::http::client()?)?;
            releve_core::webhooks::deliver::purge(&store, at)?;
            println!("{made} deliveries made; {} delivered, {} to try again, {} failed", r.delivered, r.retried, r.failed);
            Ok(())
        }
        Command::Network { command: NetworkCommand::Check(run_at) } => {
            let (store, at) = run_at.open()?;
            let c = releve_core::silence::network_check(&store, at)?;
            println!("{} gateway(s) and {} meter(s) fell silent", c.gateways_silent, c.meters_silent);
            Ok(())
        }
        Command::Gateways { command: GatewaysCommand::List { db, acting } } => {
            let store = Store::open(&db)?;
            let session = login(&store, &acting, "gateways")?;
            for g in releve_core::gateways::gateways_list(&store, &session, now())?.gateways {
                println!("{}", serde_json::to_string(&g).map_err(|e| Failure { code: "internal".into(), message: e.to_string(), details: None })?);
            }
            Ok(())
        }
        Command::Retention { command: RetentionCommand::Run { db, now: at, dry_run, acting } } => {
            use releve_core::retention;
            let store = Store::open(&db)?;
            let at = match at.as_deref() {
                Some(s) => match chrono::DateTime::parse_from_rfc3339(s.trim()) {
                    Ok(t) => t.timestamp(),
                    Err(_) => parse_local_time(&store, s)?,
                },
                None => now(),
            };
            if dry_run {
                let session = login(&store, &acting, "retention_preview")?;
                let p = retention::retention_preview(&store, &session, at)?;
                print_counts("would remove", &p.counts);
                println!(
                    "full resolution from {}, nothing before {}, telegrams from {}; oldest reading kept {}; file {} bytes{}",
                    day_of(&store, p.cutoffs.full_from)?,
                    day_of(&store, p.cutoffs.purge_before)?,
                    day_of(&store, p.cutoffs.telegrams_before)?,
                    p.oldest_kept.map(|t| day_of(&store, t)).transpose()?.unwrap_or_else(|| "-".into()),
                    p.file_bytes,
                    if p.incremental_vacuum { "" } else { " (no incremental vacuum: the first run rewrites the file once)" }
                );
                return Ok(());
            }
            let session = login(&store, &acting, "retention_run")?;
            let permit = session.permit(releve_core::access::Permission::Settings)?;
            let mut bar = progress::Bar::new("Retention");
            let r = retention::retention_run(&store, permit, at, &mut |p| {
                bar.set(p.meters_done, p.meters_total);
                std::ops::ControlFlow::Continue(())
            })?;
            bar.finish();
            print_counts("removed", &r.counts);
            println!(
                "{} chunk(s){}; file {} -> {} bytes{}",
                r.chunks,
                if r.interrupted { " (interrupted)" } else { "" },
                r.file_bytes_before,
                r.file_bytes_after,
                if r.full_vacuum { " (rewritten once by VACUUM)" } else { "" }
            );
            Ok(())
        }
        Command::Jobs { command: JobsCommand::Run(run_at) } => {
            let (store, at) = run_at.open()?;
            let runner = format!("{} (pid {})", releve_api::computer_name(), std::process::id());
            let r = releve_core::jobs::jobs_run(&store, &runner, at)?;
            for run in &r.runs {
                let place = run.file.as_deref().unwrap_or("-");
                match run.status.as_str() {
                    "ok" => println!("{}: {} to {}, {} rows -> {place}", run.job, run.period_from, run.period_to, run.rows.unwrap_or(0)),
                    _ => eprintln!(
                        "{}: {} to {}, attempt {} FAILED: {}",
                        run.job,
                        run.period_from,
                        run.period_to,
                        run.attempt,
                        run.error.as_deref().unwrap_or("unknown error")
                    ),
                }
            }
            println!("{} run(s), {} failed", r.runs.len(), r.failed());
            if r.failed() > 0 {
                let message = format!("{} of {} export run(s) failed (they are retried at the next runs)", r.failed(), r.runs.len());
                return Err(Failure { code: "export_failed".into(), message, details: None });
            }
            Ok(())
        }
        Command::Report {
            command: ReportCommand::Consumer { db, meter, from, to, resolution, format, locale, out, email, acting },
        } => {
            use releve_core::consumer_report::{self as report, ConsumerReportRequest, Format, Locale};
            let store = Store::open(&db)?;
            let session = login(&store, &acting, if email.is_some() { "consumer_report_email" } else { "consumer_report" })?;
            let req = ConsumerReportRequest {
                meter_id: report::meter_of_serial(&store, &session, &meter)?,
                from: releve_api::commands::date("--from", &from)?,
                to: releve_api::commands::date("--to", &to)?,
                resolution: releve_core::meters::Resolution::parse(&resolution)?,
                format: Format::parse(&format)?,
                locale: locale.as_deref().map(Locale::parse).transpose()?,
            };
            match (out, email) {
                (_, Some(address)) => {
                    let sent = report::consumer_report_email(&store, &session, &req, address.as_deref(), now())?;
                    println!("{} sent to {}", sent.file_name, sent.sent_to);
                }
                (Some(out), None) => {
                    let file = report::consumer_report(&store, &session, &req, now())?;
                    std::fs::write(&out, &file.bytes).map_err(|e| releve_core::Error::io(&out, e))?;
                    println!("{} written to {} ({} bytes)", file.file_name, out.display(), file.bytes.len());
                }
                (None, None) => {
                    let message = "give --out FILE or --email [ADDRESS]".to_string();
                    return Err(Failure { code: "bad_request".into(), message, details: None });
                }
            }
            Ok(())
        }
        Command::Report { command: ReportCommand::PersonalData { db, customer, out, acting } } => {
            let store = Store::open(&db)?;
            let session = login(&store, &acting, "customer_subject_access")?;
            let id = releve_core::personal::customer_of_number(&store, &session, &customer)?;
            let file = std::fs::File::create(&out).map_err(|e| releve_core::Error::io(&out, e))?;
            let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
            let written = releve_core::personal::customer_subject_access(&store, &session, id, &mut w, now())
                .and_then(|s| std::io::Write::flush(&mut w).map(|_| s).map_err(|e| releve_core::Error::io(&out, e)));
            let summary = match written {
                Ok(s) => s,
                Err(e) => {
                    drop(w);
                    let _ = std::fs::remove_file(&out);
                    return Err(e.into());
                }
            };
            println!(
                "customer {customer}: {} meters, {} readings, {} alarms, {} notices, {} exports, {} consumer reports written to {} (suggested name {})",
                summary.meters, summary.readings, summary.alarms, summary.notices, summary.exports, summary.consumer_reports, out.display(), summary.file_name
            );
            Ok(())
        }
        Command::Report { command: ReportCommand::Objects { db, year, out, locale, acting } } => {
            use releve_core::reports::objects::{report_objects, Format, ObjectsRequest};
            let extension = out.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).unwrap_or_default();
            let format = Format::parse(&extension).map_err(|_| Failure {
                code: "bad_input".into(),
                message: format!("--out {}: the file name ends with .pdf or .csv", out.display()),
                details: None,
            })?;
            let store = Store::open(&db)?;
            let session = login(&store, &acting, "report_objects")?;
            let locale = locale.as_deref().map(releve_core::consumer_report::Locale::parse).transpose()?;
            let file = report_objects(&store, &session, &ObjectsRequest { year, format, locale }, now())?;
            std::fs::write(&out, &file.bytes).map_err(|e| releve_core::Error::io(&out, e))?;
            println!("{} written to {} ({} bytes)", file.file_name, out.display(), file.bytes.len());
            Ok(())
        }
        Command::Keys { command: KeysCommand::Import { db, acting, kem_password, file } } => {
            let store = Store::open(&db)?;
            let session = login(&store, &acting, "keys_import")?;
            let permit = session.permit(Permission::ManageKeys)?;
            let r = keys::import_key_file(&store, permit, &file.display().to_string(), &read(&file)?, kem_password.as_deref(), now())?;
            println!(
                "{}: {} keys imported ({} replaced), {} rejected; {} meters decoded again: {} stored telegrams decoded with the new keys ({} readings), {} still failing; {} heard devices taken into the park",
                file.display(),
                r.imported,
                r.replaced,
                r.rejected.len(),
                r.meters,
                r.redecoded,
                r.readings,
                r.still_failing,
                r.adopted
            );
            for rej in &r.rejected {
                println!("  {}", rej.reason);
            }
            Ok(())
        }
        Command::Keys { command: KeysCommand::Export { db, acting, out } } => {
            let store = Store::open(&db)?;
            let session = login(&store, &acting, "keys_export")?;
            let csv = keys::keys_export(&store, &session, now())?;
            write_private(&out, csv.as_bytes())?;
            println!("{} keys written to {}", csv.lines().count().saturating_sub(1), out.display());
            Ok(())
        }
        Command::Sources { command } => sources(command),
        Command::ApiKeys { command } => api_keys::run(command),
        Command::Users { command } => users::run(command),
        Command::Mbus { command } => mbus::run(command),
        Command::C806 { command } => c806(command),
        Command::Lorawan { command: LorawanCommand::Devices { command } } => lorawan_devices(command),
        Command::Decode { key, previous, explain, hex } => {
            let v = releve_api::commands::decode(&hex, key.as_deref(), &previous, explain)?;
            println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
            Ok(())
        }
        Command::Export { db, from, to, out, layout: Some(layout), acting, .. } => {
            let store = Store::open(&db)?;
            let session = login(&store, &acting, "export_layout_run")?;
            let period = releve_core::billing::Period::new(
                releve_api::commands::date("--from", &from)?,
                releve_api::commands::date("--to", &to)?,
            )?;
            let file = releve_core::billing::layout_run(&store, &session, &layout, period, now())?;
            std::fs::write(&out, &file.bytes).map_err(|e| releve_core::Error::io(&out, e))?;
            for w in &file.warnings {
                eprintln!("warning: meter {}, {}: {}", w.meter, w.field, w.message);
            }
            println!(
                "{} meters written to {} (layout {layout}, {} warnings, sha256 {}; suggested name {})",
                file.rows,
                out.display(),
                file.warnings.len(),
                file.sha256,
                file.file_name
            );
            Ok(())
        }
        Command::Export { db, from, to, out, columns, separator, decimal, granularity, acting, layout: None } => {
            let store = Store::open(&db)?;
            let session = login(&store, &acting, "export_readings")?;
            let args = releve_api::commands::ExportArgs {
                from,
                to,
                columns: columns.map(|c| c.split(',').map(|s| s.trim().to_string()).collect()),
                separator: Some(separator),
                decimal,
                group_id: None,
                granularity,
                encoding: None,
                french: false,
            };
            let spec = releve_api::commands::export_spec(&args)?;
            let file = std::fs::File::create(&out).map_err(|e| releve_core::Error::io(&out, e))?;
            let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
            let rows = export::export_readings(&store, &session, &spec, &mut w, now())?;
            println!("{rows} readings written to {}", out.display());
            Ok(())
        }
    }
}

fn print_counts(what: &str, c: &releve_core::retention::Counts) {
    println!(
        "{what}: {} readings compacted, {} readings past the retention period, {} telegrams, {} info code events, {} reading conflicts; {} meters; about {} bytes",
        c.readings_compacted, c.readings_purged, c.telegrams, c.info_code_events, c.reading_conflicts, c.meters, c.bytes_estimate
    );
}

/// The local date of `t` in the store's time zone.
fn day_of(store: &Store, t: i64) -> Result<String, Failure> {
    let tz = releve_core::settings::timezone(&*store.reader()?)?;
    Ok(chrono::DateTime::from_timestamp(t, 0).map(|d| d.with_timezone(&tz).date_naive().to_string()).unwrap_or_default())
}

/// `--now` for commands that follow the utility's clock: also "YYYY-MM-DD HH:MM" in the
/// store's time zone.
fn parse_local_time(store: &Store, s: &str) -> Result<i64, Failure> {
    match chrono::NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%d %H:%M") {
        Ok(local) => Ok(releve_core::settings::local_time(store, local)?),
        Err(_) => parse_time(s),
    }
}

fn parse_time(s: &str) -> Result<i64, Failure> {
    if let Ok(n) = s.parse::<i64>() {
        return Ok(n);
    }
    let d = releve_api::commands::date("--now", s)?;
    Ok(d.and_hms_opt(12, 0, 0).map(|t| t.and_utc().timestamp()).unwrap_or_default())
}

/// What an import committed, in one line.
fn import_summary(r: &import::FileReport) -> String {
    let mut s = format!(
        "{}: {} lines, {} telegrams stored ({} with values, {} kept without values), {} duplicates, {} readings, {} conflicts, {} new meters, {} rejected",
        r.name,
        r.lines,
        r.stored,
        r.stored - r.kept_undecoded,
        r.kept_undecoded,
        r.duplicates,
        r.readings,
        r.conflicts,
        r.new_meters,
        r.rejected_count
    );
    if r.heard > 0 {
        s.push_str(&format!(
            ", {} telegrams of {} devices not in the park kept in the heard-devices list",
            r.heard, r.heard_devices
        ));
    }
    if let Some(line) = r.completes_interrupted_at {
        s.push_str(&format!(" (an earlier import of this file stopped at line {line}; this one completed it)"));
    }
    s
}

/// `releve sources add|list|remove`.
fn c806(command: C806Command) -> Result<(), Failure> {
    use releve_core::c806;
    let json = |v: &dyn erased::Json| println!("{}", v.text());
    match command {
        C806Command::Run { db } => {
            let store = Store::open(&db)?;
            let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
            // Ctrl-C or SIGTERM: the runner stops at its next turn and gives the gateway up
            // (another runner of the database takes it at once, not 6 s later).
            let flag = stop.clone();
            std::thread::spawn(move || {
                if let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() {
                    rt.block_on(serve::stop_signal());
                    flag.store(true, std::sync::atomic::Ordering::Relaxed);
                }
            });
            eprintln!("releve: C8/06 gateway running on {} (Ctrl-C stops it)", db.display());
            c806::runner::run(&store, &c806::runner::Options::from_env(), &c806::runner::system_ms(), &stop);
            Ok(())
        }
        C806Command::Gateway { db, acting, broker, gid, sid, ca, username, enable } => {
            let store = Store::open(&db)?;
            let session = login(&store, &acting, "c806_gateway_save")?;
            let edit = c806::GatewayEdit { broker_url: broker, gid, sid, username, topic_up: None, topic_down: None, ca_file: ca, enabled: enable };
            json(&c806::gateway_save(&store, &session, &edit, now())?);
            Ok(())
        }
        C806Command::PfxImport { db, acting, file, pfx_password } => {
            let store = Store::open(&db)?;
            let session = login(&store, &acting, "c806_pfx_import")?;
            let bytes = read(&file)?;
            let g = c806::pfx_import(&store, &session, &bytes, &pfx_password, now())?;
            println!("certificate {} imported for gateway {}", g.cert_subject.unwrap_or_default(), g.config.map(|c| c.gid).unwrap_or_default());
            Ok(())
        }
        C806Command::Sdp { db, acting, ean, meter, disable } => {
            let store = Store::open(&db)?;
            let session = login(&store, &acting, "c806_sdp_save")?;
            let id = releve_core::c806::sdp_list(&store, &session)?.into_iter().find(|s| s.ean == ean.trim()).map(|s| s.id);
            json(&c806::sdp_save(&store, &session, &c806::SdpEdit { id, ean, meter_id: meter, enabled: !disable }, now())?);
            Ok(())
        }
        C806Command::Setpoints { db, acting, ean, dpm, dpb, active, ps } => {
            let store = Store::open(&db)?;
            let session = login(&store, &acting, "c806_setpoints")?;
            let afrr_active = match active {
                None => None,
                Some(0) => Some(false),
                Some(1) => Some(true),
                Some(n) => return Err(Failure { code: "bad_input".into(), message: format!("--as {n}: AS is 0 or 1"), details: None }),
            };
            json(&c806::setpoints(&store, &session, &c806::Setpoints { ean, dpm_mw: dpm, dpb_mw: dpb, afrr_active, ps_mw: ps }, now())?);
            Ok(())
        }
        C806Command::Status { db, acting } => {
            let store = Store::open(&db)?;
            let session = login(&store, &acting, "c806_status")?;
            json(&c806::status(&store, &session, now())?);
            Ok(())
        }
        C806Command::Fallback { db, acting, from, to, out } => {
            let store = Store::open(&db)?;
            let session = login(&store, &acting, "c806_fallback")?;
            let day = |flag: &str, d: &str| -> Result<i64, Failure> {
                let date = releve_api::commands::date(flag, d)?;
                Ok(date.and_hms_opt(0, 0, 0).map_or(0, |t| t.and_utc().timestamp()))
            };
            let csv = c806::fallback(&store, &session, day("--from", &from)?, day("--to", &to)? + 86_399, now())?;
            std::fs::write(&out, &csv).map_err(|e| Failure::from(releve_core::Error::io(&out, e)))?;
            println!("{} values written to {}", csv.lines().count().saturating_sub(1), out.display());
            Ok(())
        }
    }
}

/// Print a command's result as one JSON line.
mod erased {
    pub trait Json {
        fn text(&self) -> String;
    }
    impl<T: serde::Serialize> Json for T {
        fn text(&self) -> String {
            serde_json::to_string(self).unwrap_or_default()
        }
    }
}

fn sources(command: SourcesCommand) -> Result<(), Failure> {
    use releve_core::sources::{source_add, source_remove, sources_list, NewSource};
    match command {
        SourcesCommand::Add { db, user, user_password, name, kind, format, max_body, folder, url, topic, username, password, ca, cert, key } => {
            let store = Store::open(&db)?;
            let session = login(&store, &Acting { user, password: user_password }, "source_add")?;
            let new = NewSource { name, kind, format, max_body, folder, url, topic, username, password, ca_file: ca, cert_file: cert, key_file: key };
            let added = source_add(&store, &session, &new, now())?;
            let s = &added.source;
            match &added.token {
                Some(token) => {
                    println!("source {} ({} {}) made; push to POST /ingest/{} with the header", s.name, s.kind, s.format, s.name);
                    println!("Authorization: Bearer {token}");
                    println!("(the token is shown this once; remove the source and make it again to get another)");
                }
                None if s.kind == "mqtt" => println!(
                    "source {} (mqtt {}) made: releve serve and the desktop window receive {} from {} while they run",
                    s.name,
                    s.format,
                    s.topic.as_deref().unwrap_or("?"),
                    s.url.as_deref().unwrap_or("?")
                ),
                None => println!("source {} ({} {}) made: files dropped into {} are taken every minute", s.name, s.kind, s.format, s.folder.as_deref().unwrap_or("?")),
            }
            Ok(())
        }
        SourcesCommand::Run { db } => {
            let store = Store::open(&db)?;
            let r = releve_core::sources::sources_folder_run(&store, now(), &releve_core::drop_folder::Watch::default())?;
            for f in &r.files {
                match &f.report {
                    Some(rep) => println!("{} {}: {} -> {}", f.source, import_summary(rep), f.outcome, f.moved_to),
                    None => println!("{} {}: {} ({}) -> {}", f.source, f.file, f.outcome, f.error.as_deref().unwrap_or(""), f.moved_to),
                }
            }
            for (source, file, why) in &r.skipped {
                println!("{source}: {file} left: {why}");
            }
            for (source, why) in &r.refused {
                println!("{source}: folder not read: {why}");
            }
            if !r.refused.is_empty() || r.files.iter().any(|f| f.outcome == "failed") {
                return Err(Failure { code: "source_failed".into(), message: "a folder source's file or folder was refused (see above)".into(), details: None });
            }
            Ok(())
        }
        SourcesCommand::List { db, acting } => {
            let store = Store::open(&db)?;
            let session = login(&store, &acting, "sources_list")?;
            for s in sources_list(&store, &session, now())? {
                println!("{}", serde_json::to_string(&s).map_err(|e| Failure { code: "internal".into(), message: e.to_string(), details: None })?);
            }
            Ok(())
        }
        SourcesCommand::Remove { db, acting, name } => {
            let store = Store::open(&db)?;
            let session = login(&store, &acting, "source_remove")?;
            source_remove(&store, &session, &name, now())?;
            println!("source {name} removed");
            Ok(())
        }
    }
}

/// `releve lorawan devices import|list`.
fn lorawan_devices(command: LorawanDevicesCommand) -> Result<(), Failure> {
    use releve_core::lorawan::{lorawan_devices, lorawan_devices_import};
    match command {
        LorawanDevicesCommand::Import { db, acting, file } => {
            let store = Store::open(&db)?;
            let session = login(&store, &acting, "lorawan_devices_import")?;
            let name = file.file_name().map_or_else(|| file.display().to_string(), |n| n.to_string_lossy().into_owned());
            let content = read(&file)?;
            match lorawan_devices_import(&store, &session, &name, &content, now()) {
                Ok(r) => {
                    println!("{}: {} devices, {} added, {} updated", r.name, r.rows, r.created, r.updated);
                    Ok(())
                }
                Err(releve_core::Error::BadLines { source_name, lines, count }) => {
                    for (line, reason) in &lines {
                        eprintln!("{source_name}, line {line}: {reason}");
                    }
                    let message = format!("{source_name}: {count} bad lines, nothing stored");
                    Err(Failure { code: "bad_lines".into(), message, details: None })
                }
                Err(e) => Err(e.into()),
            }
        }
        LorawanDevicesCommand::List { db, acting } => {
            let store = Store::open(&db)?;
            let session = login(&store, &acting, "lorawan_devices")?;
            let q = releve_core::store::lorawan::DeviceQuery { limit: i64::MAX, ..Default::default() };
            println!("dev_eui;serial;brand;model;payload;address;city;commissioned;manufacturer;last_uplink;uplinks");
            for d in lorawan_devices(&store, &session, &q)?.devices {
                let last = d.last_uplink.and_then(|t| chrono::DateTime::from_timestamp(t, 0)).map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string());
                let fields = [
                    d.dev_eui,
                    d.serial,
                    d.brand,
                    d.model,
                    d.payload,
                    d.address,
                    d.city,
                    d.commissioned.unwrap_or_default(),
                    d.manufacturer,
                    last.unwrap_or_default(),
                    d.uplinks.to_string(),
                ];
                let row: Vec<String> = fields.iter().map(|f| f.replace([';', '\n', '\r'], " ")).collect();
                println!("{}", row.join(";"));
            }
            Ok(())
        }
    }
}

/// Write a file only its owner may read (exported keys).
fn write_private(path: &std::path::Path, bytes: &[u8]) -> Result<(), releve_core::Error> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options.open(path).map_err(|e| releve_core::Error::io(path, e))?;
    f.write_all(bytes).map_err(|e| releve_core::Error::io(path, e))
}
