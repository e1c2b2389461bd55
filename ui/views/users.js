// Users (Settings, the manager: `manage_users`): the accounts with their role, last login and
// lock; create a user with a temporary password, deactivate/reactivate, reset a password,
// change a role; the locked logins and addresses with unlock.
import { call } from "../api.js";
import { t, fmtDateTime, roleLabel, errorText, untilText } from "../i18n.js";
import { icon } from "../icons.js";
import { esc } from "../dom.js";

const ROLES = ["user", "superuser", "manager"];

export function settingsLinks(current) {
  const link = (hash, key, id) => `<a class="btn ${current === id ? "btn-primary" : ""}" href="${hash}" data-testid="settings-link-${id}">${esc(t(key))}</a>`;
  return `<div class="settings-links">${link("#/notifications", "nav.settings", "settings")}${link("#/users", "users.link", "users")}${link("#/permissions", "perms.link", "permissions")}${link("#/api-keys", "apikeys.link", "api-keys")}</div>`;
}

export function render(root, ctx) {
  if (!ctx.can("manage_users")) { ctx.navigate("#/"); return undefined; }
  let alive = true;
  const me = ctx.session.user && ctx.session.user.login;
  root.innerHTML = `
    <div class="page-head"><div><h1>${icon("user")}<span>${esc(t("users.title"))}</span></h1>
      <p class="muted">${esc(t("users.intro"))}</p></div>${settingsLinks("users")}</div>
    <div class="toolbar-msg" data-testid="users-msg" aria-live="polite"></div>
    <div class="card table-card"><div class="table-scroll"><table class="table users-table" data-testid="users-table">
      <thead><tr><th>${esc(t("users.col.login"))}</th><th>${esc(t("users.col.name"))}</th><th>${esc(t("users.col.role"))}</th>
        <th>${esc(t("users.col.last"))}</th><th>${esc(t("users.col.state"))}</th><th></th></tr></thead>
      <tbody id="users-rows"><tr class="empty-row"><td colspan="6">${esc(t("common.loading"))}</td></tr></tbody>
    </table></div></div>
    <form class="card nt-form" data-testid="user-create-form" novalidate>
      <h2>${icon("plus")}<span>${esc(t("users.new"))}</span></h2>
      <div class="form-grid">
        <label class="field"><span>${esc(t("users.col.login"))}</span><input name="login" data-testid="user-new-login" autocomplete="off" autocapitalize="off" spellcheck="false" maxlength="100" required></label>
        <label class="field"><span>${esc(t("users.col.name"))}</span><input name="name" data-testid="user-new-name" maxlength="200" required></label>
        <label class="field"><span>${esc(t("users.col.role"))}</span><select name="role" data-testid="user-new-role">${ROLES.map((r) => `<option value="${r}">${esc(roleLabel(r))}</option>`).join("")}</select></label>
        <label class="field"><span>${esc(t("users.locale"))}</span><select name="locale" data-testid="user-new-locale"><option value="fr">${esc(t("lang.fr"))}</option><option value="en">${esc(t("lang.en"))}</option></select></label>
        <label class="field"><span>${esc(t("users.password.temp"))}</span><input name="password" type="password" data-testid="user-new-password" autocomplete="new-password" minlength="10" required></label>
      </div>
      <div class="export-actions"><button class="btn btn-primary" type="submit" data-testid="user-create">${esc(t("users.create"))}</button></div>
    </form>
    <div class="card table-card"><h2 class="nt-log-title">${esc(t("users.locks"))}</h2>
      <p class="muted small locks-intro">${esc(t("users.locks.intro"))}</p>
      <div class="table-scroll"><table class="table" data-testid="locks-table">
      <thead><tr><th>${esc(t("users.locks.kind"))}</th><th>${esc(t("users.locks.key"))}</th><th class="num">${esc(t("users.locks.failures"))}</th>
        <th>${esc(t("users.locks.until"))}</th><th></th></tr></thead>
      <tbody id="locks-rows"></tbody></table></div></div>`;
  const msg = root.querySelector('[data-testid="users-msg"]');
  const say = (text, ok = true) => { msg.textContent = text; msg.className = "toolbar-msg " + (ok ? "ok-text" : "error-text"); };
  const act = async (fn, done) => {
    try { await fn(); if (done) say(done); } catch (e) { say(errorText(e), false); }
    // Shown as stored, also after a refusal (a role select back to the role kept).
    await load().catch((e) => say(errorText(e), false));
  };

  const rowHtml = (u) => {
    const state = [
      u.active ? "" : `<span class="badge badge-removed">${esc(t("users.inactive"))}</span>`,
      u.must_change_password ? `<span class="badge badge-warn">${esc(t("users.mustChange"))}</span>` : "",
      u.locked_until ? `<span class="badge badge-error" data-testid="user-locked">${esc(t("users.locked", { time: untilText(u.locked_until) }))}</span>` : "",
    ].join(" ");
    const self = u.login === me;
    return `<tr data-testid="user-row-${esc(u.login)}" data-id="${u.id}">
      <td class="mono">${esc(u.login)}${self ? ` <span class="muted small">(${esc(t("users.you"))})</span>` : ""}</td>
      <td>${esc(u.name)}</td>
      <td><select data-action="role" data-testid="user-role-${esc(u.login)}" aria-label="${esc(t("users.col.role"))}">${ROLES.map((r) => `<option value="${r}" ${r === u.role ? "selected" : ""}>${esc(roleLabel(r))}</option>`).join("")}</select></td>
      <td>${u.last_login ? esc(fmtDateTime(u.last_login)) : `<span class="muted">${esc(t("users.never"))}</span>`}</td>
      <td>${state}</td>
      <td class="row-actions">
        <button class="btn btn-sm" data-action="reset" data-testid="user-reset-${esc(u.login)}">${esc(t("users.reset"))}</button>
        ${u.locked_until ? `<button class="btn btn-sm" data-action="unlock" data-testid="user-unlock-${esc(u.login)}">${esc(t("users.unlock"))}</button>` : ""}
        ${self ? "" : u.active
          ? `<button class="btn btn-sm" data-action="deactivate" data-testid="user-deactivate-${esc(u.login)}">${esc(t("users.deactivate"))}</button>`
          : `<button class="btn btn-sm" data-action="reactivate" data-testid="user-reactivate-${esc(u.login)}">${esc(t("users.reactivate"))}</button>`}
      </td></tr>`;
  };

  async function load() {
    const [users, locks] = await Promise.all([call("users_list", {}), call("login_locks", {})]);
    if (!alive) return;
    const rows = root.querySelector("#users-rows");
    rows.innerHTML = users.map(rowHtml).join("");
    rows.querySelectorAll("tr").forEach((tr) => {
      const u = users.find((x) => String(x.id) === tr.dataset.id);
      tr.querySelector('[data-action="role"]').addEventListener("change", (e) =>
        act(() => call("user_set_role", { id: u.id, role: e.target.value }), t("users.roleDone", { login: u.login, role: roleLabel(e.target.value) })));
      tr.querySelector('[data-action="reset"]').addEventListener("click", () => {
        const pw = window.prompt(t("users.resetPrompt", { login: u.login }));
        if (pw) act(() => call("user_reset_password", { id: u.id, password: pw }), t("users.resetDone", { login: u.login }));
      });
      tr.querySelector('[data-action="unlock"]')?.addEventListener("click", () =>
        act(() => call("login_unlock", { kind: "login", key: u.login }), t("users.unlocked", { key: u.login })));
      tr.querySelector('[data-action="deactivate"]')?.addEventListener("click", () => {
        if (window.confirm(t("users.confirmDeactivate", { login: u.login }))) {
          act(() => call("user_set_active", { id: u.id, active: false }), t("users.activeDone", { login: u.login }));
        }
      });
      tr.querySelector('[data-action="reactivate"]')?.addEventListener("click", () =>
        act(() => call("user_set_active", { id: u.id, active: true }), t("users.reactivateDone", { login: u.login })));
    });
    const lockRows = root.querySelector("#locks-rows");
    lockRows.innerHTML = locks.length
      ? locks.map((l, i) => `<tr data-testid="lock-row-${esc(l.key)}"><td>${esc(t("users.locks.kind." + l.kind))}</td><td class="mono">${esc(l.key)}</td>
          <td class="num">${l.failures}</td><td>${esc(untilText(l.until))}</td>
          <td class="row-actions"><button class="btn btn-sm" data-lock="${i}" data-testid="lock-unlock-${esc(l.key)}">${esc(t("users.unlock"))}</button></td></tr>`).join("")
      : `<tr class="empty-row"><td colspan="5">${esc(t("users.locks.none"))}</td></tr>`;
    lockRows.querySelectorAll("[data-lock]").forEach((b) => b.addEventListener("click", () => {
      const l = locks[Number(b.dataset.lock)];
      act(() => call("login_unlock", { kind: l.kind, key: l.key }), t("users.unlocked", { key: l.key }));
    }));
  }

  const form = root.querySelector('[data-testid="user-create-form"]');
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const args = { login: form.login.value.trim(), name: form.name.value.trim(), role: form.role.value, locale: form.locale.value, password: form.password.value };
    act(async () => { await call("user_create", args); form.reset(); }, t("users.created", { login: args.login }));
  });
  load().catch((e) => say(errorText(e), false));
  return () => { alive = false; };
}
