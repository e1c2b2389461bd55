//! The one table of commands: for every command of the API (and the CLI commands that
//! change or export data, which name the API command they do), the permission it needs and
//! whether it changes data (an allowed change writes one audit entry). Every front asks
//! [`authorize`] before it runs a command; a command missing here is refused by every front
//! and fails the permission walk test (crates/api/tests/permissions.rs).

use super::{Permission, Scope, Session};
use crate::error::{Error, Result};
use serde::Serialize;

/// What a command needs of its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "permission")]
pub enum Need {
    /// Anyone, before login (only `login`).
    Anyone,
    /// Any logged-in user, on their own things (their session, language, password, tasks).
    Session,
    /// A permission of the matrix.
    Permission(Permission),
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct CommandRule {
    pub name: &'static str,
    pub need: Need,
    /// Changes data or writes a file: an allowed call writes one audit entry.
    pub mutates: bool,
}

const fn p(name: &'static str, permission: Permission, mutates: bool) -> CommandRule {
    CommandRule { name, need: Need::Permission(permission), mutates }
}

const fn s(name: &'static str, mutates: bool) -> CommandRule {
    CommandRule { name, need: Need::Session, mutates }
}

use Permission::*;

/// Every command, by name (sorted).
pub const COMMANDS: &[CommandRule] = &[
    p("api_key_create", ManageUsers, true),
    p("api_key_revoke", ManageUsers, true),
    p("api_keys_list", ManageUsers, false),
    p("audit_log", Audit, false),
    p("audit_log_export", Audit, true),
    p("c806_fallback", Export, false),
    p("c806_gateway_get", Settings, false),
    p("c806_gateway_save", Settings, true),
    p("c806_pfx_import", Settings, true),
    p("c806_sdp_delete", Settings, true),
    p("c806_sdp_list", View, false),
    p("c806_sdp_save", Settings, true),
    p("c806_setpoints", Import, true),
    p("c806_status", View, false),
    p("consumer_report", View, false),
    p("consumer_report_email", SendMail, true),
    p("consumer_report_letterhead", View, false),
    p("consumer_report_letterhead_set", Settings, true),
    p("customer_move_out", PersonalData, true),
    p("customer_subject_access", PersonalData, true),
    p("decode", View, false),
    p("export_columns", View, false),
    p("export_job_delete", ManageExports, true),
    p("export_job_run_now", ManageExports, true),
    p("export_job_save", ManageExports, true),
    p("export_job_test", ManageExports, true),
    p("export_jobs_list", View, false),
    p("export_layout_copy", ManageExports, true),
    p("export_layout_delete", ManageExports, true),
    p("export_layout_dry_run", Export, false),
    p("export_layout_get", View, false),
    p("export_layout_preview", Export, false),
    p("export_layout_run", Export, true),
    p("export_layout_save", ManageExports, true),
    p("export_layouts_list", View, false),
    p("export_readings", Export, true),
    p("export_runs_list", View, false),
    p("export_variables", View, false),
    p("folders_allowed", View, false),
    p("folders_allowed_set", Settings, true),
    p("gateway_set", Settings, true),
    p("gateways", View, false),
    p("gdpr_register", View, false),
    p("group_add_meters", EditMeters, true),
    p("group_create", EditMeters, true),
    p("group_delete", EditMeters, true),
    p("group_remove_meters", EditMeters, true),
    p("group_rename", EditMeters, true),
    p("groups_list", View, false),
    p("heard_device_adopt", EditMeters, true),
    p("heard_device_dismiss", EditMeters, true),
    p("heard_devices_list", View, false),
    p("import_start", Import, true),
    s("import_status", false),
    p("import_time_settings", View, false),
    p("import_time_settings_set", Settings, true),
    p("info_codes_export", Export, true),
    p("info_codes_overview", View, false),
    p("info_codes_set_watched", View, true),
    p("info_codes_watched", View, false),
    p("keys_export", ExportKeys, true),
    p("keys_import", ManageKeys, true),
    p("keys_status", View, false),
    p("live", View, false),
    CommandRule { name: "login", need: Need::Anyone, mutates: false },
    p("login_locks", ManageUsers, false),
    p("login_settings", Settings, false),
    p("login_settings_set", Settings, true),
    p("login_unlock", ManageUsers, true),
    s("logout", false),
    p("lorawan_device_set", Settings, true),
    p("lorawan_devices", View, false),
    p("lorawan_devices_import", Settings, true),
    p("lorawan_uplinks", View, false),
    p("map_points", View, false),
    p("map_set_settings", Settings, true),
    p("map_settings", View, false),
    p("map_tile", View, false),
    p("map_tile_cache", View, false),
    p("mbus_add_found", Settings, true),
    p("mbus_bus_delete", Settings, true),
    p("mbus_bus_save", Settings, true),
    p("mbus_buses_list", View, false),
    p("mbus_last_answers", View, false),
    p("mbus_read_now", Import, true),
    p("mbus_read_start", Import, true),
    p("mbus_remove_meter", Settings, true),
    p("mbus_scan_start", Import, true),
    p("meter_exchange", EditMeters, true),
    p("meter_get", View, false),
    p("meter_histogram", View, false),
    p("meter_key_set", ManageKeys, true),
    p("meter_priority_set", EditMeters, true),
    p("meter_receptions", View, false),
    p("meters_compare", View, false),
    p("meters_list", View, false),
    p("notify_log", View, false),
    p("notify_preview", View, false),
    p("notify_rule_delete", Settings, true),
    p("notify_rule_save", Settings, true),
    p("notify_rules_list", View, false),
    p("notify_settings", Settings, true),
    p("notify_settings_get", Settings, false),
    p("notify_test_email", Settings, true),
    p("objects_settings", View, false),
    p("objects_settings_set", Settings, true),
    p("optical_read", Import, true),
    p("park_import", EditMeters, true),
    p("park_import_folder", EditMeters, true),
    p("park_profile_delete", EditMeters, true),
    p("park_profile_save", EditMeters, true),
    p("park_profiles_list", View, false),
    s("password_change", true),
    p("permissions_matrix", ManageUsers, false),
    p("permissions_matrix_preview", ManageUsers, false),
    p("permissions_matrix_set", ManageUsers, true),
    p("report_consumption", View, false),
    p("report_consumption_export", Export, true),
    p("report_objects", Export, true),
    p("report_objects_count", View, false),
    p("report_performance", View, false),
    p("report_performance_comment", View, true),
    p("report_performance_export", Export, true),
    p("report_performance_list", View, false),
    p("report_performance_save", View, true),
    p("retention_preview", Settings, false),
    p("retention_run", Settings, true),
    p("retention_settings", Settings, false),
    p("retention_settings_set", Settings, true),
    s("session_info", false),
    s("settings_set_locale", true),
    p("silence_settings", View, false),
    p("silence_settings_set", Settings, true),
    p("source_add", Settings, true),
    p("source_log", View, false),
    p("source_remove", Settings, true),
    p("sources_list", View, false),
    p("user_create", ManageUsers, true),
    p("user_reset_password", ManageUsers, true),
    p("user_set_active", ManageUsers, true),
    p("user_set_role", ManageUsers, true),
    p("users_list", ManageUsers, false),
    p("v1_customer_consumption", View, false),
    p("v1_customer_get", View, false),
    p("v1_customers_list", View, false),
    p("v1_exchange_create", EditMeters, true),
    p("v1_exchanges_list", View, false),
    p("v1_export_file", Export, false),
    p("v1_export_get", Export, false),
    p("v1_export_start", Export, true),
    p("v1_info_codes_active", View, false),
    p("v1_info_codes_feed", View, false),
    p("v1_meter_get", View, false),
    p("v1_meter_readings", View, false),
    p("v1_meters_list", View, false),
    p("v1_readings_feed", View, false),
    p("webhook_add", Settings, true),
    p("webhook_deliveries", Settings, false),
    p("webhook_remove", Settings, true),
    p("webhook_set_active", Settings, true),
    p("webhook_settings", Settings, true),
    p("webhook_test", Settings, true),
    p("webhooks_list", Settings, false),
];

/// The open API's operations (`/api/v1/`, each a command of the table above) and the scope an
/// API key needs for each (sorted by name). A user's session runs them by permission like any
/// command; a key's session runs only these.
pub const SCOPED: &[(&str, Scope)] = &[
    ("v1_customer_consumption", Scope::ReadingsRead),
    ("v1_customer_get", Scope::CustomersRead),
    ("v1_customers_list", Scope::CustomersRead),
    ("v1_exchange_create", Scope::ExchangesWrite),
    ("v1_exchanges_list", Scope::ExchangesRead),
    ("v1_export_file", Scope::ExportsRun),
    ("v1_export_get", Scope::ExportsRun),
    ("v1_export_start", Scope::ExportsRun),
    ("v1_info_codes_active", Scope::InfoCodesRead),
    ("v1_info_codes_feed", Scope::InfoCodesRead),
    ("v1_meter_get", Scope::MetersRead),
    ("v1_meter_readings", Scope::ReadingsRead),
    ("v1_meters_list", Scope::MetersRead),
    ("v1_readings_feed", Scope::ReadingsRead),
];

/// The scope an API key needs to run command `name` (None: keys may not run it).
pub fn scope_of(name: &str) -> Option<Scope> {
    SCOPED.binary_search_by(|(n, _)| (*n).cmp(name)).ok().map(|i| SCOPED[i].1)
}

/// The rule of command `name`, if it is one.
pub fn rule(name: &str) -> Option<&'static CommandRule> {
    COMMANDS.binary_search_by(|r| r.name.cmp(name)).ok().map(|i| &COMMANDS[i])
}

/// The commands a user whose password was reset may run before changing it.
pub const WHILE_PASSWORD_CHANGE_REQUIRED: [&str; 4] = ["logout", "password_change", "session_info", "settings_set_locale"];

/// May `session` run command `name`? `unknown_command` for a name not in the table,
/// `password_change_required` while a reset password is not changed, `forbidden` (naming the
/// permission) when the session's role lacks it.
pub fn authorize(session: &Session, name: &str) -> Result<&'static CommandRule> {
    let rule = rule(name).ok_or_else(|| Error::UnknownCommand { name: name.to_string() })?;
    if session.must_change_password && !WHILE_PASSWORD_CHANGE_REQUIRED.contains(&rule.name) {
        return Err(Error::PasswordChangeRequired);
    }
    if let Some(key) = &session.key {
        // An API key runs the open API's operations its scopes allow, nothing else.
        let Some(scope) = scope_of(rule.name) else {
            let permission = match rule.need {
                Need::Permission(p) => p.as_str(),
                _ => "session",
            };
            return Err(Error::Forbidden { role: "api_key".into(), permission });
        };
        if !key.has(scope) {
            return Err(Error::Refused(crate::problem::Problem::ScopeMissing { key: key.name.clone(), scope: scope.as_str() }));
        }
    }
    if let Need::Permission(permission) = rule.need {
        session.permit(permission)?;
    }
    Ok(rule)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_sorted_without_duplicates() {
        for pair in COMMANDS.windows(2) {
            assert!(pair[0].name < pair[1].name, "{} before {}", pair[0].name, pair[1].name);
        }
        assert_eq!(rule("meters_list").map(|r| r.need), Some(Need::Permission(View)));
        assert!(rule("no_such_command").is_none());
        for pair in SCOPED.windows(2) {
            assert!(pair[0].0 < pair[1].0, "{} before {}", pair[0].0, pair[1].0);
        }
        for (name, _) in SCOPED {
            assert!(rule(name).is_some(), "{name} is scoped but not a command");
        }
    }
}
