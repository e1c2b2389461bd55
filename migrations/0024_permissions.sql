-- Finer permissions (issue 12): billing layouts and scheduled exports, mail to consumers,
-- interval data, key export, the audit log and personal data get their own permission.
-- Defaults: a user views and exports; a superuser also imports, edits the park, manages keys,
-- exports and mails; a manager may do everything. The manager edits the first two roles.
INSERT OR IGNORE INTO role_permissions(role, permission) VALUES
    ('superuser', 'view_intervals'), ('superuser', 'manage_exports'), ('superuser', 'send_mail'),
    ('manager', 'view_intervals'), ('manager', 'manage_exports'), ('manager', 'send_mail'),
    ('manager', 'export_keys'), ('manager', 'audit'), ('manager', 'personal_data');
