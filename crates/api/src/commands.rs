//! The command table: argument shapes (DTOs) and one call into the core per command.

use crate::{ApiError, Ctx};
use crate::bounds::{MAX_DAYS, amount, id, ids, opt_id, page, range, Bounded};
use chrono::NaiveDate;
use releve_core::access::{self, Permission};
use releve_core::{compare, exchange, export, groups, import, info_codes, map, meters};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

pub(crate) fn call(ctx: &Ctx, address: &str, token: Option<&str>, name: &str, args: Value) -> Result<Value, ApiError> {
    if name == "login" {
        return login(ctx, address, parse(args)?);
    }
    let session = ctx.session(token)?;
    let store = ctx.store();
    let now = ctx.now();
    access::authorize(&session, name)?;
    match name {
        "logout" => {
            if let Some(t) = token {
                ctx.sessions.lock().map_err(|_| ApiError::new("internal", "sessions"))?.remove(t);
            }
            ok(json!({}))
        }
        "session_info" => ok(session_json(ctx, &session)?),
        "settings_set_locale" => {
            let a: LocaleArgs = parse(args)?;
            access::set_locale(store, &session, &a.locale, now)?;
            if let Some(t) = token {
                if let Some(s) = ctx.sessions.lock().map_err(|_| ApiError::new("internal", "sessions"))?.get_mut(t) {
                    s.session.locale = a.locale.clone();
                }
            }
            ok(json!({ "locale": a.locale }))
        }
        _ if crate::api_keys::NAMES.contains(&name) => match crate::api_keys::call(store, &session, name, args, now) {
            Some(result) => result,
            None => Err(ApiError::new("unknown_command", format!("unknown command '{name}'"))),
        },
        _ if crate::v1::is_v1(name) => crate::v1::call(ctx, &session, name, args, now)?.into_value(),
        _ if crate::users::NAMES.contains(&name) => match crate::users::call(store, &session, name, args, now) {
            Some(result) => result,
            None => Err(ApiError::new("unknown_command", format!("unknown command '{name}'"))),
        },
        "meters_list" => {
            let a: MetersListArgs = parse(args)?;
            let mut q = a.filter.query(now)?;
            q.sort = a.sort;
            q.desc = a.desc;
            q.offset = a.offset;
            q.limit = a.limit.unwrap_or(50);
            ok(meters::meters_list(store, &session, &q)?)
        }
        "meters_selection_file" => {
            let a: SelectionFileArgs = parse(args)?;
            let kind = releve_core::selection::FileKind::parse(&a.kind)?;
            let start = a.start.map(|s| releve_core::route::Point { lat: s.lat, lon: s.lon });
            ok(releve_core::selection::selection_file(store, &session, &a.selection.get(now)?, kind, start, now)?)
        }
        "group_add_selection" => {
            let a: GroupAddSelectionArgs = parse(args)?;
            let target = match (a.group_id, a.new_name) {
                (Some(id), None) => releve_core::selection::GroupTarget::Existing(id),
                (None, Some(name)) => releve_core::selection::GroupTarget::New(name),
                _ => return Err(ApiError::new("bad_input", "give group_id or new_name")),
            };
            ok(releve_core::selection::group_add_selection(store, &session, &target, &a.selection.get(now)?, now)?)
        }
        "groups_list" => ok(meters::groups_list(store, &session)?),
        "group_create" => {
            let a: GroupCreateArgs = parse(args)?;
            ok(groups::group_create(store, &session, &a.name, &a.meter_ids, now)?)
        }
        "group_rename" => {
            let a: GroupRenameArgs = parse(args)?;
            groups::group_rename(store, &session, a.id, &a.name, now)?;
            ok(json!({}))
        }
        "group_delete" => {
            let a: IdArgs = parse(args)?;
            groups::group_delete(store, &session, a.id, now)?;
            ok(json!({}))
        }
        "group_add_meters" => {
            let a: GroupMembersArgs = parse(args)?;
            ok(json!({ "added": groups::group_add_meters(store, &session, a.id, &a.meter_ids, now)? }))
        }
        "group_remove_meters" => {
            let a: GroupMembersArgs = parse(args)?;
            ok(json!({ "removed": groups::group_remove_meters(store, &session, a.id, &a.meter_ids, now)? }))
        }
        "info_codes_overview" => {
            let a: InfoCodesArgs = parse(args)?;
            ok(info_codes::info_codes_overview(store, &session, &info_codes_query(&a)?, now)?)
        }
        "info_codes_export" => {
            let a: InfoCodesArgs = parse(args)?;
            let mut out = Vec::new();
            let rows = info_codes::info_codes_export(store, &session, &info_codes_query(&a)?, &mut out, now)?;
            let content = String::from_utf8(out).map_err(|e| ApiError::new("internal", e.to_string()))?;
            let filename = format!("info-codes-{}.csv", a.state.as_deref().unwrap_or("active"));
            ok(json!({"filename": filename, "rows": rows, "content": content}))
        }
        "info_codes_watched" => ok(info_codes::info_codes_watched(store, &session)?),
        "alarm_get" => {
            let a: AlarmArgs = parse(args)?;
            ok(info_codes::alarm_get(store, &session, &a.alarm())?)
        }
        "alarm_acknowledge" => {
            let a: AlarmArgs = parse(args)?;
            ok(info_codes::alarm_acknowledge(store, &session, &a.alarm(), a.ack.unwrap_or(true), now)?)
        }
        "alarm_assign" => {
            let a: AlarmArgs = parse(args)?;
            ok(info_codes::alarm_assign(store, &session, &a.alarm(), a.login.as_deref(), now)?)
        }
        "alarm_comment" => {
            let a: AlarmArgs = parse(args)?;
            ok(info_codes::alarm_comment(store, &session, &a.alarm(), a.comment.as_deref().unwrap_or(""), now)?)
        }
        "today" => ok(releve_core::today::today(store, &session, now)?),
        "info_codes_set_watched" => {
            let a: WatchedArgs = parse(args)?;
            ok(info_codes::info_codes_set_watched(store, &session, &a.codes, a.global, now)?)
        }
        "map_points" => {
            let a: MapPointsArgs = parse(args)?;
            let q = map::MapQuery {
                group_id: a.group_id,
                not_heard_since: a.not_heard_since.as_deref().map(|d| date("not_heard_since", d)).transpose()?,
            };
            ok(map::map_points(store, &session, &q, now)?)
        }
        "map_settings" => ok(map::map_settings(store, &session)?),
        "map_tile" => {
            let a: TileArgs = parse(args)?;
            ok(releve_core::basemap::map_tile(store, &session, a.z, a.x, a.y, now)?)
        }
        "map_tile_cache" => ok(releve_core::basemap::map_tile_cache(store, &session)?),
        "map_set_settings" => {
            let a: MapSettingsArgs = parse(args)?;
            let new = map::MapSettings {
                tile_url: a.tile_url,
                stale_days: a.stale_days.unwrap_or(map::DEFAULT_STALE_DAYS),
                mbtiles_path: a.mbtiles_path.unwrap_or_default(),
                cache_mb: a.cache_mb.unwrap_or(map::DEFAULT_CACHE_MB),
            };
            ok(map::map_set_settings(store, &session, &new, now)?)
        }
        "meter_get" => {
            let a: IdArgs = parse(args)?;
            ok(meters::meter_get(store, &session, a.id)?)
        }
        "meter_exchange" => {
            let a: ExchangeArgs = parse(args)?;
            let at = chrono::NaiveDateTime::parse_from_str(a.at.trim(), "%Y-%m-%dT%H:%M")
                .map_err(|_| {
                    ApiError::new("bad_input", format!("at: '{}' is not a time like 2025-01-31T14:30", a.at))
                        .with_params(json!({"field": "at", "reason": "not_a_time", "value": a.at}))
                })?;
            let req = exchange::ExchangeRequest {
                old_id: a.old_id,
                new_serial: &a.new_serial,
                new_manufacturer: a.new_manufacturer.as_deref(),
                at,
                final_value: a.final_value,
                initial_value: a.initial_value,
            };
            ok(exchange::meter_exchange(store, &session, &req, now)?)
        }
        "meters_compare" => {
            let a: CompareArgs = parse(args)?;
            let q = compare::CompareQuery {
                ids: &a.ids,
                register: a.register.as_deref(),
                resolution: meters::Resolution::parse(&a.resolution)?,
                from: date("from", &a.from)?,
                to: date("to", &a.to)?,
                sum_of_group: a.sum_of_group,
                now,
            };
            ok(compare::meters_compare(store, &session, &q)?)
        }
        "meter_histogram" => {
            let a: HistogramArgs = parse(args)?;
            let q = meters::HistogramQuery {
                meter_id: a.id,
                register: a.register.as_deref(),
                resolution: meters::Resolution::parse(&a.resolution)?,
                from: date("from", &a.from)?,
                to: date("to", &a.to)?,
                now: Some(now),
                fit_to_readings: true,
            };
            ok(meters::meter_histogram(store, &session, &q)?)
        }
        "import_start" => import_start(ctx, session, parse(args)?),
        "import_status" => {
            let a: TaskArgs = parse(args)?;
            let state = ctx.tasks.get(session.user_id, &a.task).ok_or_else(|| ApiError::new("not_found", format!("no task {}", a.task)))?;
            ok(state)
        }
        "import_time_settings" => ok(import::import_time_settings(store, &session)?),
        "import_time_settings_set" => {
            let a: import::TimeSettings = parse(args)?;
            ok(import::import_time_settings_set(store, &session, &a, now)?)
        }
        "sources_list" => ok(releve_core::sources::sources_list(store, &session, now)?),
        "source_add" => {
            let a: releve_core::sources::NewSource = parse(args)?;
            ok(releve_core::sources::source_add(store, &session, &a, now)?)
        }
        "source_log" => {
            let a: SourceLogArgs = parse(args)?;
            ok(releve_core::sources::source_log(store, &session, &a.name, a.limit.unwrap_or(100))?)
        }
        "source_remove" => {
            let a: NameArgs = parse(args)?;
            releve_core::sources::source_remove(store, &session, &a.name, now)?;
            ok(json!({}))
        }
        "heard_devices_list" => {
            let a: PageArgs = parse(args)?;
            ok(releve_core::heard::heard_devices_list(store, &session, a.offset.unwrap_or(0), a.limit.unwrap_or(100))?)
        }
        "heard_device_adopt" => {
            let a: IdArgs = parse(args)?;
            ok(releve_core::heard::heard_device_adopt(store, &session, a.id, now)?)
        }
        "heard_device_dismiss" => {
            let a: IdArgs = parse(args)?;
            releve_core::heard::heard_device_dismiss(store, &session, a.id, now)?;
            ok(json!({}))
        }
        "export_columns" => {
            session.permit(Permission::View)?;
            let cols: Vec<Value> = export::Column::ALL
                .iter()
                .map(|c| json!({"id": c.id(), "label_en": c.labels().0, "label_fr": c.labels().1}))
                .collect();
            ok(cols)
        }
        "export_readings" => {
            let a: ExportArgs = parse(args)?;
            let spec = export_spec(&a)?;
            let mut out = Vec::new();
            let rows = export::export_readings(store, &session, &spec, &mut out, now)?;
            let content = spec.encoding.decode(&out);
            let content_base64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &out);
            ok(json!({"filename": spec.file_name(), "rows": rows, "content": content,
                      "content_base64": content_base64, "encoding": spec.encoding}))
        }
        "park_profiles_list" => ok(releve_core::park_profiles::park_profiles_list(store, &session)?),
        "park_profile_save" => {
            let a: ParkProfileArgs = parse(args)?;
            let spec = releve_core::park_profiles::ProfileSpec {
                name: a.name,
                separator: a.separator,
                has_header: a.has_header,
                mapping: a.mapping,
                folder: a.folder,
                interval_minutes: a.interval_minutes,
            };
            ok(releve_core::park_profiles::park_profile_save(store, &session, &spec, now)?)
        }
        "folders_allowed" => ok(releve_core::folders::folders_allowed(store, &session)?),
        "folders_allowed_set" => {
            let a: FoldersArgs = parse(args)?;
            ok(releve_core::folders::folders_allowed_set(store, &session, &a.folders, now)?)
        }
        "park_profile_delete" => {
            let a: NameArgs = parse(args)?;
            releve_core::park_profiles::park_profile_delete(store, &session, &a.name, now)?;
            ok(json!({}))
        }
        "park_import" => {
            let a: ParkImportArgs = parse(args)?;
            let permit = session.permit(Permission::EditMeters)?;
            ok(releve_core::park_import::park_import(store, permit, &a.profile, &a.name, a.content.as_bytes(), now)?)
        }
        "park_import_folder" => {
            let permit = session.permit(Permission::EditMeters)?;
            ok(releve_core::park_folder::park_import_folder(store, permit, now)?)
        }
        "decode" => {
            session.permit(Permission::View)?;
            let a: DecodeArgs = parse(args)?;
            decode(&a.hex, a.key.as_deref(), &a.previous, a.explain)
        }
        _ if name.starts_with("export_layout") || name == "export_variables" => {
            match crate::export_layouts::call(store, &session, name, args, now) {
                Some(result) => result,
                None => Err(ApiError::new("unknown_command", format!("unknown command '{name}'"))),
            }
        }
        _ if name.starts_with("export_job") || name == "export_runs_list" => {
            let runner = crate::jobs::runner(&ctx.computer);
            match crate::export_jobs::call(store, &session, name, args, &runner, now) {
                Some(result) => result,
                None => Err(ApiError::new("unknown_command", format!("unknown command '{name}'"))),
            }
        }
        _ if name.starts_with("consumer_report") => match crate::consumer_report::call(store, &session, name, args, now) {
            Some(result) => result,
            None => Err(ApiError::new("unknown_command", format!("unknown command '{name}'"))),
        },
        _ if crate::keys::NAMES.contains(&name) => match crate::keys::call(ctx, &session, name, args, now) {
            Some(result) => result,
            None => Err(ApiError::new("unknown_command", format!("unknown command '{name}'"))),
        },
        _ if name.starts_with("lorawan_") => match crate::lorawan::call(ctx, &session, name, args, now) {
            Some(result) => result,
            None => Err(ApiError::new("unknown_command", format!("unknown command '{name}'"))),
        },
        _ if crate::objects::NAMES.contains(&name) => match crate::objects::call(store, &session, name, args, now) {
            Some(result) => result,
            None => Err(ApiError::new("unknown_command", format!("unknown command '{name}'"))),
        },
        _ if crate::meter_screen::NAMES.contains(&name) => match crate::meter_screen::call(store, &session, name, args, now) {
            Some(result) => result,
            None => Err(ApiError::new("unknown_command", format!("unknown command '{name}'"))),
        },
        _ if crate::live::COMMANDS.contains(&name) => match crate::live::call(store, &session, name, args, now) {
            Some(result) => result,
            None => Err(ApiError::new("unknown_command", format!("unknown command '{name}'"))),
        },
        _ if crate::optical::NAMES.contains(&name) => match crate::optical::call(store, &session, name, args, now) {
            Some(result) => result,
            None => Err(ApiError::new("unknown_command", format!("unknown command '{name}'"))),
        },
        _ if crate::mbus::NAMES.contains(&name) => match crate::mbus::call(ctx, &session, name, args, now) {
            Some(result) => result,
            None => Err(ApiError::new("unknown_command", format!("unknown command '{name}'"))),
        },
        _ if crate::retention::NAMES.contains(&name) => match crate::retention::call(ctx, &session, name, args, now) {
            Some(result) => result,
            None => Err(ApiError::new("unknown_command", format!("unknown command '{name}'"))),
        },
        _ if crate::c806::NAMES.contains(&name) => match crate::c806::call(store, &session, name, args, now) {
            Some(result) => result,
            None => Err(ApiError::new("unknown_command", format!("unknown command '{name}'"))),
        },
        _ if crate::audit::NAMES.contains(&name) => match crate::audit::call(store, &session, name, args, now) {
            Some(result) => result,
            None => Err(ApiError::new("unknown_command", format!("unknown command '{name}'"))),
        },
        _ if crate::import_journal::NAMES.contains(&name) => match crate::import_journal::call(store, &session, name, args) {
            Some(result) => result,
            None => Err(ApiError::new("unknown_command", format!("unknown command '{name}'"))),
        },
        _ if crate::personal::NAMES.contains(&name) => match crate::personal::call(store, &session, name, args, now) {
            Some(result) => result,
            None => Err(ApiError::new("unknown_command", format!("unknown command '{name}'"))),
        },
        _ if crate::gateways::NAMES.contains(&name) => match crate::gateways::call(store, &session, name, args, now) {
            Some(result) => result,
            None => Err(ApiError::new("unknown_command", format!("unknown command '{name}'"))),
        },
        _ if crate::webhooks::NAMES.contains(&name) => match crate::webhooks::call(store, &session, name, args, now) {
            Some(result) => result,
            None => Err(ApiError::new("unknown_command", format!("unknown command '{name}'"))),
        },
        _ if name.starts_with("notify_") => match crate::notify::call(store, &session, name, args, now) {
            Some(result) => result,
            None => Err(ApiError::new("unknown_command", format!("unknown command '{name}'"))),
        },
        _ => match crate::reports::call(store, &session, name, args, now) {
            Some(result) => result,
            None => Err(ApiError::new("unknown_command", format!("unknown command '{name}'"))),
        },
    }
}

/// A command's result as JSON.
pub(crate) fn ok<T: Serialize>(v: T) -> Result<Value, ApiError> {
    serde_json::to_value(v).map_err(|e| ApiError::new("internal", e.to_string()))
}

/// A command's JSON arguments as `T` (absent arguments are `{}`), within its bounds.
pub(crate) fn parse<T: DeserializeOwned + Bounded>(args: Value) -> Result<T, ApiError> {
    let args = if args.is_null() { json!({}) } else { args };
    let a: T = serde_json::from_value(args).map_err(|e| ApiError::new("bad_request", format!("invalid arguments: {e}")))?;
    a.check()?;
    Ok(a)
}

/// A date argument, like 2025-01-31, in the years 1970 to 2200.
pub fn date(field: &str, s: &str) -> Result<NaiveDate, ApiError> {
    use chrono::Datelike;
    let d = NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| {
            ApiError::new("bad_input", format!("{field}: '{s}' is not a date like 2025-01-31"))
                .with_params(json!({"field": field, "reason": "not_a_date", "value": s}))
        })?;
    crate::bounds::range(field, d.year(), 1970, 2200)?;
    Ok(d)
}

#[derive(Deserialize)]
struct LoginArgs {
    login: String,
    password: String,
}

impl Bounded for LoginArgs {}

/// The longest login and password accepted: longer ones are refused before any work.
pub const MAX_LOGIN_CHARS: usize = 100;
pub const MAX_PASSWORD_CHARS: usize = 1024;

fn login(ctx: &Ctx, address: &str, a: LoginArgs) -> Result<Value, ApiError> {
    if a.login.chars().count() > MAX_LOGIN_CHARS {
        return Err(ApiError::bad_input("login", format!("at most {MAX_LOGIN_CHARS} characters")));
    }
    if a.password.chars().count() > MAX_PASSWORD_CHARS {
        return Err(ApiError::bad_input("password", format!("at most {MAX_PASSWORD_CHARS} characters")));
    }
    let session = match access::login(ctx.store(), a.login.trim(), &a.password, &ctx.computer, address, ctx.now()) {
        Ok(session) => session,
        Err(e) => {
            if matches!(e, releve_core::Error::WrongPassword) {
                std::thread::sleep(ctx.failed_login_delay);
            }
            return Err(e.into());
        }
    };
    let token = new_token();
    let mut v = session_json(ctx, &session)?;
    v["token"] = json!(token);
    ctx.open_session(token, session)?;
    Ok(v)
}

fn new_token() -> String {
    crate::random_hex(24)
}

fn session_json(ctx: &Ctx, s: &access::Session) -> Result<Value, ApiError> {
    let conn = ctx.store().reader()?;
    let tz = releve_core::settings::timezone(&conn)?;
    Ok(json!({
        "user": {"login": s.login, "name": s.name, "role": s.role},
        "permissions": s.permissions,
        "must_change_password": s.must_change_password,
        "settings": {"locale": s.locale, "timezone": tz.name()},
    }))
}

#[derive(Deserialize)]
struct LocaleArgs {
    locale: String,
}

impl Bounded for LocaleArgs {}

#[derive(Deserialize)]
struct MetersListArgs {
    #[serde(flatten)]
    filter: MeterFilterArgs,
    sort: Option<String>,
    #[serde(default)]
    desc: bool,
    #[serde(default)]
    offset: i64,
    limit: Option<i64>,
}

/// The meter list's filters (`meters_list`, and a selection of "all N results").
#[derive(Deserialize, Default)]
struct MeterFilterArgs {
    search: Option<String>,
    group_id: Option<i64>,
    #[serde(default)]
    alarms_only: bool,
    #[serde(default)]
    priority_only: bool,
    /// Only the meters of this key status (`never_seen`, `ok`, `no_key`, ...).
    key_status: Option<String>,
    /// Only the meters in service (not removed).
    #[serde(default)]
    in_service: bool,
    /// Only the meters in service not heard for this many days (never heard included).
    not_heard_days: Option<i64>,
}

impl MeterFilterArgs {
    fn check(&self) -> Result<(), ApiError> {
        opt_id("group_id", self.group_id)?;
        self.not_heard_days.map_or(Ok(()), |d| crate::bounds::range("not_heard_days", d, 0, crate::bounds::MAX_DAYS))
    }

    fn query(self, now: i64) -> Result<meters::ListQuery, ApiError> {
        Ok(meters::ListQuery {
            search: self.search,
            group_id: self.group_id,
            alarms_only: self.alarms_only,
            priority_only: self.priority_only,
            in_service: self.in_service,
            key_status: self.key_status.as_deref().map(|s| releve_core::keys::KeyStatus::parse(s).map(|k| k.code())).transpose()?,
            not_heard_since: self.not_heard_days.map(|d| releve_core::today::not_heard_before(d, now)),
            ..Default::default()
        })
    }
}

impl Bounded for MetersListArgs {
    fn check(&self) -> Result<(), ApiError> {
        self.filter.check()?;
        page(self.offset, self.limit)
    }
}

/// A selection of the meter list: the ticked `ids`, or every meter matching `filter`.
#[derive(Deserialize)]
struct SelectionArgs {
    ids: Option<Vec<i64>>,
    filter: Option<MeterFilterArgs>,
}

impl SelectionArgs {
    fn check(&self) -> Result<(), ApiError> {
        if let Some(ids) = &self.ids {
            crate::bounds::ids("ids", ids)?;
        }
        self.filter.as_ref().map_or(Ok(()), MeterFilterArgs::check)
    }

    fn get(self, now: i64) -> Result<releve_core::selection::Selection, ApiError> {
        match (self.ids, self.filter) {
            (Some(ids), None) => Ok(releve_core::selection::Selection::Ids(ids)),
            (None, Some(f)) => Ok(releve_core::selection::Selection::Filter(f.query(now)?)),
            _ => Err(ApiError::new("bad_input", "give ids or filter")),
        }
    }
}

#[derive(Deserialize)]
struct StartPoint {
    lat: f64,
    lon: f64,
}

#[derive(Deserialize)]
struct SelectionFileArgs {
    #[serde(flatten)]
    selection: SelectionArgs,
    /// `list_csv`, `route_csv` or `route_gpx`.
    kind: String,
    start: Option<StartPoint>,
}

impl Bounded for SelectionFileArgs {
    fn check(&self) -> Result<(), ApiError> {
        self.selection.check()?;
        if let Some(s) = &self.start {
            crate::bounds::range("start.lat", s.lat, -90.0, 90.0)?;
            crate::bounds::range("start.lon", s.lon, -180.0, 180.0)?;
        }
        Ok(())
    }
}

#[derive(Deserialize)]
struct GroupAddSelectionArgs {
    #[serde(flatten)]
    selection: SelectionArgs,
    group_id: Option<i64>,
    new_name: Option<String>,
}

impl Bounded for GroupAddSelectionArgs {
    fn check(&self) -> Result<(), ApiError> {
        opt_id("group_id", self.group_id)?;
        self.selection.check()
    }
}

/// The arguments of a command on one thing named by its id.
#[derive(Deserialize)]
pub(crate) struct IdArgs {
    pub(crate) id: i64,
}

impl Bounded for IdArgs {
    fn check(&self) -> Result<(), ApiError> {
        id("id", self.id)
    }
}

#[derive(Deserialize)]
struct GroupCreateArgs {
    name: String,
    #[serde(default)]
    meter_ids: Vec<i64>,
}

impl Bounded for GroupCreateArgs {
    fn check(&self) -> Result<(), ApiError> {
        ids("meter_ids", &self.meter_ids)
    }
}

#[derive(Deserialize)]
struct GroupRenameArgs {
    id: i64,
    name: String,
}

impl Bounded for GroupRenameArgs {
    fn check(&self) -> Result<(), ApiError> {
        id("id", self.id)
    }
}

#[derive(Deserialize)]
struct GroupMembersArgs {
    id: i64,
    meter_ids: Vec<i64>,
}

impl Bounded for GroupMembersArgs {
    fn check(&self) -> Result<(), ApiError> {
        id("id", self.id)?;
        ids("meter_ids", &self.meter_ids)
    }
}

#[derive(Deserialize)]
struct InfoCodesArgs {
    state: Option<String>,
    codes: Option<Vec<String>>,
    group_id: Option<i64>,
    period_days: Option<i64>,
    sort: Option<String>,
    #[serde(default)]
    offset: i64,
    limit: Option<i64>,
    /// `acknowledged`, `not_acknowledged`, `mine`, `assigned` (to anyone).
    handling: Option<String>,
    /// Only the alarms assigned to this login.
    assigned_to: Option<String>,
    /// Only the alarms started today.
    #[serde(default)]
    today: bool,
}

impl Bounded for InfoCodesArgs {
    fn check(&self) -> Result<(), ApiError> {
        opt_id("group_id", self.group_id)?;
        if let Some(days) = self.period_days {
            range("period_days", days, 1, MAX_DAYS)?;
        }
        page(self.offset, self.limit)
    }
}

fn info_codes_query(a: &InfoCodesArgs) -> Result<info_codes::OverviewQuery, ApiError> {
    Ok(info_codes::OverviewQuery {
        state: info_codes::State::parse(a.state.as_deref().unwrap_or("active"))?,
        codes: a.codes.clone(),
        group_id: a.group_id,
        period_days: a.period_days,
        sort: info_codes::parse_sort(a.sort.as_deref().unwrap_or("newest"))?,
        offset: a.offset,
        limit: a.limit.unwrap_or(200),
        handling: info_codes::HandlingQuery::parse(a.handling.as_deref(), a.assigned_to.as_deref())?,
        today: a.today,
    })
}

/// One alarm (an info-code event: meter, code, start) and what to do with it.
#[derive(Deserialize)]
struct AlarmArgs {
    meter_id: i64,
    code: String,
    started_at: i64,
    /// alarm_acknowledge: false takes the acknowledgement back.
    ack: Option<bool>,
    /// alarm_assign: the colleague's login; none unassigns.
    login: Option<String>,
    /// alarm_comment: the text.
    comment: Option<String>,
}

impl AlarmArgs {
    fn alarm(&self) -> info_codes::AlarmRef {
        info_codes::AlarmRef { meter_id: self.meter_id, code: self.code.clone(), started_at: self.started_at }
    }
}

impl Bounded for AlarmArgs {
    fn check(&self) -> Result<(), ApiError> {
        id("meter_id", self.meter_id)?;
        range("code length", self.code.len(), 1, 64)?;
        range("login length", self.login.as_deref().map_or(0, str::len), 0, 200)?;
        range("comment length", self.comment.as_deref().map_or(0, str::len), 0, 4 * info_codes::MAX_COMMENT_CHARS)
    }
}

#[derive(Deserialize)]
struct WatchedArgs {
    codes: Vec<String>,
    #[serde(default)]
    global: bool,
}

impl Bounded for WatchedArgs {}

#[derive(Deserialize)]
struct ParkProfileArgs {
    name: String,
    separator: String,
    #[serde(default)]
    has_header: bool,
    mapping: std::collections::BTreeMap<String, usize>,
    folder: Option<String>,
    interval_minutes: Option<i64>,
}

impl Bounded for ParkProfileArgs {
    fn check(&self) -> Result<(), ApiError> {
        for (field, column) in &self.mapping {
            range(&format!("mapping.{field}"), *column, 0, 999)?;
        }
        if let Some(m) = self.interval_minutes {
            range("interval_minutes", m, 1, 7 * 24 * 60)?;
        }
        Ok(())
    }
}

#[derive(Deserialize)]
struct FoldersArgs {
    folders: Vec<String>,
}

impl Bounded for FoldersArgs {}

impl Bounded for releve_core::sources::NewSource {
    fn check(&self) -> Result<(), ApiError> {
        self.max_body.map_or(Ok(()), |m| range("max_body", m, 1024, 1 << 30))
    }
}

impl Bounded for import::TimeSettings {
    fn check(&self) -> Result<(), ApiError> {
        range("earliest_year", self.earliest_year, *import::TimeSettings::YEARS.start(), *import::TimeSettings::YEARS.end())?;
        range("max_future_minutes", self.max_future_minutes, *import::TimeSettings::MINUTES.start(), *import::TimeSettings::MINUTES.end())
    }
}

#[derive(Deserialize)]
struct NameArgs {
    name: String,
}

impl Bounded for NameArgs {}

#[derive(Deserialize)]
struct SourceLogArgs {
    name: String,
    limit: Option<i64>,
}

impl Bounded for SourceLogArgs {
    fn check(&self) -> Result<(), ApiError> {
        self.limit.map_or(Ok(()), |l| range("limit", l, 1, 1000))
    }
}

#[derive(Deserialize)]
struct ParkImportArgs {
    profile: String,
    name: String,
    content: String,
}

impl Bounded for ParkImportArgs {}

#[derive(Deserialize)]
struct MapPointsArgs {
    group_id: Option<i64>,
    not_heard_since: Option<String>,
}

impl Bounded for MapPointsArgs {
    fn check(&self) -> Result<(), ApiError> {
        opt_id("group_id", self.group_id)
    }
}

#[derive(Deserialize)]
struct MapSettingsArgs {
    tile_url: String,
    stale_days: Option<i64>,
    mbtiles_path: Option<String>,
    cache_mb: Option<i64>,
}

impl Bounded for MapSettingsArgs {
    fn check(&self) -> Result<(), ApiError> {
        self.stale_days.map_or(Ok(()), |d| range("stale_days", d, 1, MAX_DAYS))?;
        self.cache_mb.map_or(Ok(()), |d| range("cache_mb", d, 1, 100_000))
    }
}

#[derive(Deserialize)]
struct TileArgs {
    z: u8,
    x: u32,
    y: u32,
}

impl Bounded for TileArgs {
    fn check(&self) -> Result<(), ApiError> {
        range("z", i64::from(self.z), 0, i64::from(releve_core::basemap::MAX_ZOOM))
    }
}

#[derive(Deserialize)]
struct ExchangeArgs {
    old_id: i64,
    new_serial: String,
    new_manufacturer: Option<String>,
    at: String,
    final_value: f64,
    initial_value: f64,
}

impl Bounded for ExchangeArgs {
    fn check(&self) -> Result<(), ApiError> {
        id("old_id", self.old_id)?;
        amount("final_value", self.final_value)?;
        amount("initial_value", self.initial_value)
    }
}

#[derive(Deserialize)]
struct CompareArgs {
    #[serde(default)]
    ids: Vec<i64>,
    register: Option<String>,
    resolution: String,
    from: String,
    to: String,
    sum_of_group: Option<i64>,
}

impl Bounded for CompareArgs {
    fn check(&self) -> Result<(), ApiError> {
        ids("ids", &self.ids)?;
        opt_id("sum_of_group", self.sum_of_group)
    }
}

#[derive(Deserialize)]
struct HistogramArgs {
    id: i64,
    register: Option<String>,
    resolution: String,
    from: String,
    to: String,
}

impl Bounded for HistogramArgs {
    fn check(&self) -> Result<(), ApiError> {
        id("id", self.id)
    }
}

#[derive(Deserialize)]
struct PageArgs {
    offset: Option<i64>,
    limit: Option<i64>,
}

impl Bounded for PageArgs {
    fn check(&self) -> Result<(), ApiError> {
        page(self.offset.unwrap_or(0), self.limit)?;
        self.limit.map_or(Ok(()), |l| range("limit", l, 1, 1000))
    }
}

#[derive(Deserialize)]
struct TaskArgs {
    task: String,
}

impl Bounded for TaskArgs {}

#[derive(Deserialize)]
struct ImportArgs {
    files: Vec<ImportFile>,
}

impl Bounded for ImportArgs {}

/// A file to import: its `content` (the desktop window), or the id of an `upload` made
/// with `POST /api/upload` (the browser).
#[derive(Deserialize)]
struct ImportFile {
    name: String,
    content: Option<String>,
    upload: Option<String>,
}

/// Where an import file's bytes are: in the request, or in a spool file (deleted after).
enum ImportSource {
    Content(String),
    Spool(std::path::PathBuf),
}

fn import_start(ctx: &Ctx, session: access::Session, a: ImportArgs) -> Result<Value, ApiError> {
    session.permit(Permission::Import)?;
    if a.files.is_empty() {
        return Err(ApiError::new("bad_input", "choose at least one file"));
    }
    let mut files = Vec::with_capacity(a.files.len());
    for f in a.files {
        let (source, lines) = match (f.content, f.upload) {
            (Some(content), None) => {
                let lines = content.lines().count() as u64;
                (ImportSource::Content(content), lines)
            }
            (None, Some(id)) => {
                let upload = ctx.uploads.take(session.user_id, &id)?;
                (ImportSource::Spool(upload.path), upload.lines)
            }
            _ => return Err(ApiError::bad_input("files", format!("{}: give either content or upload", f.name))),
        };
        files.push((f.name, source, lines));
    }
    let total: u64 = files.iter().map(|(_, _, lines)| lines).sum();
    let (id, task) = ctx.tasks.start(session.user_id, total);
    let store = ctx.store.clone();
    let clock = ctx.clock.clone();
    std::thread::spawn(move || {
        let set = |f: &mut dyn FnMut(&mut crate::tasks::TaskState)| {
            let mut t = task.lock().unwrap_or_else(|p| p.into_inner());
            f(&mut t);
        };
        let mut reports: Vec<import::FileReport> = Vec::new();
        let mut base = 0u64;
        let mut failed = None;
        for (name, source, lines) in &files {
            if failed.is_some() {
                break;
            }
            let result = read_source(source).and_then(|bytes| {
                let permit = session.permit(Permission::Import)?;
                import::import_drive_by(&store, permit, name, &bytes, clock(), &mut |done, _| {
                    set(&mut |t| t.processed_lines = base + done)
                })
                .map_err(ApiError::from)
            });
            match result {
                Ok(r) => reports.push(r),
                Err(e) => failed = Some(ApiError { message: format!("{name}: {}", e.message), ..e }),
            }
            base += lines;
        }
        for (_, source, _) in &files {
            if let ImportSource::Spool(path) = source {
                let _ = std::fs::remove_file(path);
            }
        }
        if let Some(e) = failed {
            set(&mut |t| {
                t.state = "failed";
                t.error = Some(e.clone());
            });
            return;
        }
        let summary = json!({
            "stored": reports.iter().map(|r| r.stored).sum::<u64>(),
            "duplicates": reports.iter().map(|r| r.duplicates).sum::<u64>(),
            "rejected_count": reports.iter().map(|r| r.rejected_count).sum::<u64>(),
            "files": reports,
        });
        set(&mut |t| {
            t.state = "done";
            t.processed_lines = t.total_lines;
            t.report = Some(summary.clone());
        });
    });
    ok(json!({ "task": id }))
}

fn read_source(source: &ImportSource) -> Result<std::borrow::Cow<'_, [u8]>, ApiError> {
    match source {
        ImportSource::Content(content) => Ok(content.as_bytes().into()),
        ImportSource::Spool(path) => std::fs::read(path)
            .map(Into::into)
            .map_err(|e| ApiError::new("io", format!("cannot read the uploaded file: {e}"))),
    }
}

#[derive(Deserialize)]
pub struct ExportArgs {
    pub from: String,
    pub to: String,
    pub columns: Option<Vec<String>>,
    pub separator: Option<String>,
    pub decimal: Option<String>,
    pub group_id: Option<i64>,
    /// `readings` (every reading: interval data, `view_intervals` only) or `days`; default:
    /// readings with `view_intervals`, else days.
    pub granularity: Option<String>,
    /// `utf-8` (default), `utf-8-bom` or `windows-1252`.
    #[serde(default)]
    pub encoding: Option<releve_core::billing::Encoding>,
    /// French column titles and dates.
    #[serde(default)]
    pub french: bool,
}

impl Bounded for ExportArgs {
    fn check(&self) -> Result<(), ApiError> {
        opt_id("group_id", self.group_id)
    }
}

pub fn export_spec(a: &ExportArgs) -> Result<export::ExportSpec, ApiError> {
    let mut spec = export::ExportSpec::new(date("from", &a.from)?, date("to", &a.to)?);
    if let Some(cols) = &a.columns {
        spec.columns = cols.iter().map(|c| export::Column::parse(c)).collect::<Result<_, _>>()?;
    }
    spec.separator = match a.separator.as_deref() {
        None | Some(";") => b';',
        Some(",") => b',',
        Some("\t") | Some("tab") => b'\t',
        Some(other) => return Err(ApiError::new("bad_input", format!("separator '{other}' is not one of ; , tab"))),
    };
    spec.decimal = match a.decimal.as_deref() {
        Some(".") => '.',
        Some(",") => ',',
        None => if spec.separator == b',' { '.' } else { ',' },
        Some(other) => return Err(ApiError::new("bad_input", format!("decimal mark '{other}' is not . or ,"))),
    };
    if spec.separator == b',' && spec.decimal == ',' {
        return Err(ApiError::new("bad_input", "the decimal mark cannot be the separator"));
    }
    spec.group_id = a.group_id;
    spec.granularity = a.granularity.as_deref().filter(|g| !g.is_empty()).map(export::Granularity::parse).transpose()?;
    spec.encoding = a.encoding.unwrap_or_default();
    spec.french = a.french;
    Ok(spec)
}

#[derive(Deserialize)]
struct DecodeArgs {
    hex: String,
    key: Option<String>,
    #[serde(default)]
    previous: Vec<String>,
    #[serde(default)]
    explain: bool,
}

impl Bounded for DecodeArgs {}

fn hex_bytes(what: &str, text: &str) -> Result<Vec<u8>, ApiError> {
    let clean: String = text.chars().filter(|c| !c.is_whitespace() && *c != '_').collect();
    hex::decode(clean.trim_start_matches("0x"))
        .map_err(|e| ApiError::new("bad_input", format!("{what} is not hexadecimal: {e}")))
}

/// Decode one telegram given in hex: the `decode` command. `previous` are earlier telegrams
/// of the same meter (full frames before a compact frame); `explain` adds every layer read.
pub fn decode(hex_text: &str, key: Option<&str>, previous: &[String], explain: bool) -> Result<Value, ApiError> {
    let bytes = hex_bytes("the telegram", hex_text)?;
    // An optical readout (IEC 62056-21) kept as a telegram: its data sets, mapped or not.
    if let Some(view) = releve_core::optical::decoded_view(&bytes) {
        return view.map_err(|e| ApiError::new(e.code(), e.to_string())).and_then(ok);
    }
    let key = key
        .map(mbus::AesKey::from_hex)
        .transpose()
        .map_err(|e| ApiError::new("bad_key", e.to_string()))?;
    let mut formats = mbus::FormatCache::new();
    for (i, p) in previous.iter().enumerate() {
        let frame = hex_bytes(&format!("previous telegram {}", i + 1), p)?;
        formats.learn(&frame, key.as_ref());
    }
    if explain {
        let e = mbus::explain(&bytes, key.as_ref(), Some(&formats));
        let mut out = match &e.telegram {
            Some(t) => serde_json::to_value(t).map_err(|x| ApiError::new("internal", x.to_string()))?,
            None => json!({}),
        };
        let layers = json!({"length": e.length, "key_given": e.key_given, "steps": e.steps});
        if let (None, Some(err)) = (&e.telegram, &e.error) {
            return Err(ApiError::new(err.code, err.message.clone()).with_params(json!({ "explain": layers })));
        }
        out["explain"] = layers;
        return Ok(out);
    }
    let t = mbus::decode_with_formats(&bytes, key.as_ref(), &formats).map_err(|e| ApiError::new(e.code(), e.to_string()))?;
    ok(t)
}
