// Alarm notifications (Settings): rules (codes, group, customer class, minimum duration,
// quiet hours, e-mail and SMS recipients), a 12-month preview of a rule, the e-mail and SMS
// channel settings, the allowed folders (allowed-folders.js), and the log of notices sent.
// Editing needs the permission `settings`.
import { call } from "../api.js";
import { renderAllowedFolders } from "./allowed-folders.js";
import { renderImportTimes } from "./import-times.js";
import { t, fmtInt, fmtDateTime, codeLabel, errorText } from "../i18n.js";
import { icon } from "../icons.js";
import { esc } from "../dom.js";
import { SEVERITY } from "./infocodes.js";
import { renderSilenceSettings } from "./silence-settings.js";
import { settingsLinks } from "./users.js";

/** Gateway events a rule may select besides the meters' info codes. */
const GATEWAY_CODES = ["gateway_silent"];

const EMPTY = { id: null, name: "", codes: ["burst", "leak"], group_id: null, customer_class: null, min_duration_minutes: 60,
  quiet_from: null, quiet_to: null, email_to: [], sms_to: [], enabled: true };

const list = (s) => s.split(/[\s,;]+/).map((x) => x.trim()).filter(Boolean);

export function render(root, ctx) {
  let alive = true;
  let rules = [];
  let groups = [];
  let current = { ...EMPTY };
  root.innerHTML = `
    <div class="page-head"><div><h1>${icon("settings")}<span>${esc(t("nt.title"))}</span></h1>
      <p><a href="#/keys" data-testid="settings-keys-link">${esc(t("keys.settingsLink"))}</a></p>
      <p class="muted">${esc(t("nt.intro"))}</p>
      <p><a href="#/gdpr-register" data-testid="gr-link">${icon("file")}<span>${esc(t("gr.link"))}</span></a></p></div>
      <div class="settings-head-actions">${ctx.can("manage_users") ? settingsLinks("settings") : ""}
      <a class="btn" href="#/webhooks" data-testid="nav-webhooks">${icon("upload")}<span>${esc(t("wh.link"))}</span></a>
      ${ctx.can("settings") ? `<a class="btn" href="#/retention" data-testid="nav-retention">${icon("settings")}<span>${esc(t("ret.link"))}</span></a>` : ""}
      ${ctx.can("settings") ? `<a class="btn" href="#/letterhead" data-testid="nav-letterhead">${icon("file")}<span>${esc(t("lh.link"))}</span></a>` : ""}
      ${ctx.can("audit") ? `<a class="btn" href="#/audit" data-testid="nav-audit">${icon("reports")}<span>${esc(t("audit.link"))}</span></a>` : ""}
      <button class="btn btn-primary" data-testid="nt-new">${icon("plus")}<span>${esc(t("nt.new"))}</span></button></div></div>
    <div class="card table-card"><div class="table-scroll"><table class="table">
      <thead><tr><th>${esc(t("nt.col.name"))}</th><th>${esc(t("nt.col.codes"))}</th><th class="num">${esc(t("nt.col.min"))}</th>
        <th>${esc(t("nt.col.quiet"))}</th><th>${esc(t("nt.col.to"))}</th><th>${esc(t("nt.col.state"))}</th><th></th></tr></thead>
      <tbody id="nt-rules"><tr class="empty-row"><td colspan="7">${esc(t("common.loading"))}</td></tr></tbody>
    </table></div></div>
    <form class="card nt-form" data-testid="nt-form">
      <h2 id="nt-form-title"></h2>
      <div class="form-grid">
        <label class="field"><span>${esc(t("nt.name"))}</span><input type="text" name="rname" data-testid="nt-name" maxlength="80" required></label>
        <label class="field"><span>${esc(t("nt.min"))}</span><input type="number" name="min" data-testid="nt-min" min="0" step="1" required></label>
      </div>
      <div class="field"><span>${esc(t("nt.codes"))}</span><div class="watch-codes">${[...SEVERITY, ...GATEWAY_CODES].map((c) =>
        `<label class="check"><input type="checkbox" value="${c}" data-testid="nt-code-${c}"><span>${esc(codeLabel(c))}</span></label>`).join("")}</div></div>
      <div class="form-grid">
        <label class="field"><span>${esc(t("meters.group"))}</span><select name="group" data-testid="nt-group"><option value="">${esc(t("meters.group.all"))}</option></select></label>
        <label class="field"><span>${esc(t("nt.class"))}</span><input type="text" name="class" data-testid="nt-class" placeholder="C01"></label>
        <label class="field"><span>${esc(t("nt.quietFrom"))}</span><input type="time" name="qfrom" data-testid="nt-quiet-from"></label>
        <label class="field"><span>${esc(t("nt.quietTo"))}</span><input type="time" name="qto" data-testid="nt-quiet-to"></label>
        <label class="field"><span>${esc(t("nt.email"))}</span><input type="text" name="email" data-testid="nt-email" placeholder="astreinte@exemple.fr"></label>
        <label class="field"><span>${esc(t("nt.sms"))}</span><input type="text" name="sms" data-testid="nt-sms" placeholder="+33612345678"></label>
      </div>
      <label class="check"><input type="checkbox" name="enabled" data-testid="nt-enabled"><span>${esc(t("nt.enabled"))}</span></label>
      <div class="export-actions nt-actions">
        <button class="btn btn-primary" type="submit" data-testid="nt-save">${esc(t("nt.save"))}</button>
        <button class="btn" type="button" data-testid="nt-preview">${icon("infocodes")}<span>${esc(t("nt.preview"))}</span></button>
        <span class="toolbar-msg" data-testid="nt-msg" aria-live="polite"></span>
      </div>
      <div data-testid="nt-preview-out" class="nt-preview"></div>
    </form>
    <form class="card nt-form" data-testid="nt-settings-form">
      <h2>${esc(t("nt.channels"))}</h2>
      <div class="form-grid">
        <label class="field"><span>${esc(t("nt.smtpHost"))}</span><input type="text" name="smtp_host" data-testid="nt-smtp-host"></label>
        <label class="field"><span>${esc(t("nt.smtpPort"))}</span><input type="number" name="smtp_port" min="1" max="65535"></label>
        <label class="field"><span>${esc(t("nt.smtpFrom"))}</span><input type="text" name="smtp_from"></label>
        <label class="field"><span>${esc(t("nt.smtpTls"))}</span><select name="smtp_tls"><option value="none">${esc(t("nt.tls.none"))}</option><option value="starttls">STARTTLS</option><option value="tls">TLS</option></select></label>
        <label class="field"><span>${esc(t("nt.smtpUser"))}</span><input type="text" name="smtp_user" autocomplete="off"></label>
        <label class="field"><span>${esc(t("nt.smtpPassword"))}</span><input type="password" name="smtp_password" autocomplete="new-password"></label>
      </div>
      <label class="field"><span>${esc(t("nt.smsUrl"))}</span><input type="text" name="sms_url_template" class="mono" placeholder="http://127.0.0.1:9000/send?to={to}&amp;text={text}"></label>
      <div class="export-actions"><button class="btn btn-primary" type="submit" data-testid="nt-settings-save">${esc(t("nt.save"))}</button>
        <span class="toolbar-msg" data-testid="nt-settings-msg" aria-live="polite"></span></div>
      <div class="export-actions nt-test-mail">
        <label class="inline-field"><span>${esc(t("nt.testTo"))}</span><input type="email" name="test_to" data-testid="nt-test-to" placeholder="vous@exemple.fr"></label>
        <button class="btn" type="button" data-testid="nt-test-send">${icon("upload")}<span>${esc(t("nt.testSend"))}</span></button>
        <span class="toolbar-msg" data-testid="nt-test-msg" aria-live="polite"></span></div>
    </form>
    <div data-testid="af-section"></div>
    <div data-testid="it-section"></div>
    <div data-testid="sil-section"></div>
    <div class="card table-card"><h2 class="nt-log-title">${esc(t("nt.log"))}</h2><div class="table-scroll"><table class="table">
      <thead><tr><th>${esc(t("nt.log.at"))}</th><th>${esc(t("nt.col.name"))}</th><th>${esc(t("nt.log.meter"))}</th><th>${esc(t("nt.log.code"))}</th>
        <th>${esc(t("nt.log.to"))}</th><th>${esc(t("nt.col.state"))}</th></tr></thead>
      <tbody id="nt-log"></tbody></table></div></div>`;
  const form = root.querySelector('[data-testid="nt-form"]');
  const sform = root.querySelector('[data-testid="nt-settings-form"]');
  const msg = root.querySelector('[data-testid="nt-msg"]');
  const out = root.querySelector('[data-testid="nt-preview-out"]');
  const say = (el, text, error) => { el.textContent = text; el.classList.toggle("error-text", !!error); };
  const fail = (el) => (e) => { if (alive) say(el, t("common.error", { message: errorText(e) }), true); };

  function fill(r) {
    current = { ...EMPTY, ...r };
    root.querySelector("#nt-form-title").textContent = current.id ? t("nt.edit", { name: current.name }) : t("nt.new");
    form.rname.value = current.name;
    form.min.value = current.min_duration_minutes;
    form.querySelectorAll(".watch-codes input").forEach((i) => { i.checked = current.codes.includes(i.value); });
    form.group.value = current.group_id == null ? "" : String(current.group_id);
    form.class.value = current.customer_class || "";
    form.qfrom.value = current.quiet_from || "";
    form.qto.value = current.quiet_to || "";
    form.email.value = current.email_to.join(", ");
    form.sms.value = current.sms_to.join(", ");
    form.enabled.checked = !!current.enabled;
    out.innerHTML = "";
    say(msg, "");
  }

  function read() {
    return {
      id: current.id,
      name: form.rname.value,
      codes: [...form.querySelectorAll(".watch-codes input:checked")].map((i) => i.value),
      group_id: form.group.value ? Number(form.group.value) : null,
      customer_class: form.class.value.trim() || null,
      min_duration_minutes: Number(form.min.value || 0),
      quiet_from: form.qfrom.value || null,
      quiet_to: form.qto.value || null,
      email_to: list(form.email.value),
      sms_to: list(form.sms.value),
      enabled: form.enabled.checked,
    };
  }

  function ruleRow(r) {
    const quiet = r.quiet_from ? `${r.quiet_from}–${r.quiet_to}` : t("common.none");
    return `<tr data-testid="nt-rule" data-id="${r.id}"><td class="strong">${esc(r.name)}</td>
      <td>${r.codes.map((c) => `<span class="chip">${esc(codeLabel(c))}</span>`).join(" ")}</td>
      <td class="num">${fmtInt(r.min_duration_minutes)} min</td><td class="nowrap">${esc(quiet)}</td>
      <td>${esc([...r.email_to, ...r.sms_to].join(", "))}</td>
      <td>${r.enabled ? `<span class="badge badge-active">${esc(t("nt.on"))}</span>` : `<span class="badge">${esc(t("nt.off"))}</span>`}</td>
      <td class="row-actions"><button class="btn btn-ghost" data-act="edit" data-testid="nt-edit">${icon("edit")}<span>${esc(t("nt.editBtn"))}</span></button>
        <button class="btn btn-ghost danger" data-act="delete" data-testid="nt-delete">${icon("trash")}<span>${esc(t("groups.delete"))}</span></button></td></tr>`;
  }

  async function loadRules() {
    rules = await call("notify_rules_list", {});
    if (!alive) return;
    root.querySelector("#nt-rules").innerHTML = rules.length ? rules.map(ruleRow).join("")
      : `<tr class="empty-row"><td colspan="7" data-testid="nt-empty">${esc(t("nt.empty"))}</td></tr>`;
  }

  async function loadLog() {
    const log = await call("notify_log", { limit: 50 });
    if (!alive) return;
    root.querySelector("#nt-log").innerHTML = log.length ? log.map((n) => `<tr data-testid="nt-log-row" data-status="${esc(n.status)}">
      <td class="nowrap">${esc(fmtDateTime(n.sent_at))}</td><td>${esc(n.rule_name || "#" + n.rule_id)}</td>
      <td><a class="mono" href="${n.code === "gateway_silent" ? "#/gateways" : `#/meters/${n.meter_id}`}">${esc(n.serial || n.meter_id)}</a></td><td>${esc(codeLabel(n.code))}</td>
      <td>${icon(n.channel === "sms" ? "user" : "download")} ${esc(n.recipient)}</td>
      <td>${n.status === "sent" ? `<span class="ok-text">${esc(t("nt.sent"))}</span>` : `<span class="error-text" title="${esc(n.error || "")}">${esc(t("nt.failed", { n: n.attempts }))}: ${esc(n.error || "")}</span>`}</td></tr>`).join("")
      : `<tr class="empty-row"><td colspan="6">${esc(t("nt.log.empty"))}</td></tr>`;
  }

  async function loadSettings() {
    const s = await call("notify_settings_get", {});
    if (!alive) return;
    for (const k of ["smtp_host", "smtp_port", "smtp_from", "smtp_user", "smtp_tls", "sms_url_template"]) sform[k].value = s[k] ?? "";
    sform.smtp_password.placeholder = s.smtp_password_set ? t("nt.passwordSet") : "";
  }

  root.querySelector("#nt-rules").addEventListener("click", async (e) => {
    const b = e.target.closest("button[data-act]");
    if (!b) return;
    const id = Number(b.closest("tr").dataset.id);
    const r = rules.find((x) => x.id === id);
    if (b.dataset.act === "edit") { fill(r); form.scrollIntoView({ behavior: "smooth" }); }
    if (b.dataset.act === "delete" && confirm(t("nt.confirmDelete", { name: r.name }))) {
      try { await call("notify_rule_delete", { id }); if (current.id === id) fill(EMPTY); await loadRules(); } catch (err) { fail(msg)(err); }
    }
  });
  root.querySelector('[data-testid="nt-new"]').addEventListener("click", () => { fill(EMPTY); form.rname.focus(); });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      const saved = await call("notify_rule_save", read());
      fill(saved);
      say(msg, t("nt.saved"));
      await loadRules();
    } catch (err) { fail(msg)(err); }
  });
  root.querySelector('[data-testid="nt-preview"]').addEventListener("click", async () => {
    out.innerHTML = `<p class="muted">${esc(t("common.loading"))}</p>`;
    try {
      const rule = read();
      if (!rule.email_to.length && !rule.sms_to.length) rule.email_to = ["preview@example.invalid"];
      const p = await call("notify_preview", { rule });
      if (!alive) return;
      out.innerHTML = `<p class="strong" data-testid="nt-preview-count" data-count="${p.count}">${esc(t("nt.previewCount", { n: fmtInt(p.count) }))}</p>
        ${p.rows.length ? `<div class="table-scroll nt-preview-table"><table class="table"><thead><tr><th>${esc(t("nt.fireAt"))}</th><th>${esc(t("nt.log.meter"))}</th>
          <th>${esc(t("nt.log.customer"))}</th><th>${esc(t("nt.log.code"))}</th><th>${esc(t("nt.since"))}</th></tr></thead><tbody>
          ${p.rows.slice(0, 10).map((r) => `<tr data-testid="nt-preview-row"><td class="nowrap">${esc(fmtDateTime(r.fire_at))}</td><td class="mono">${esc(r.serial)}</td>
            <td>${esc(r.customer_name || t("common.none"))}<div class="cell-sub">${esc(r.address)} ${esc(r.city)}</div></td><td>${esc(codeLabel(r.code))}</td>
            <td class="nowrap">${esc(fmtDateTime(r.started_at))}</td></tr>`).join("")}</tbody></table></div>` : ""}`;
    } catch (err) { out.innerHTML = ""; fail(msg)(err); }
  });
  sform.addEventListener("submit", async (e) => {
    e.preventDefault();
    const smsg = root.querySelector('[data-testid="nt-settings-msg"]');
    const s = {
      smtp_host: sform.smtp_host.value, smtp_port: Number(sform.smtp_port.value || 25), smtp_from: sform.smtp_from.value,
      smtp_user: sform.smtp_user.value || null, smtp_tls: sform.smtp_tls.value, sms_url_template: sform.sms_url_template.value,
    };
    if (sform.smtp_password.value) s.smtp_password = sform.smtp_password.value;
    try { await call("notify_settings", s); sform.smtp_password.value = ""; say(smsg, t("nt.saved")); await loadSettings(); } catch (err) { fail(smsg)(err); }
  });

  // "Send a test e-mail": through the saved settings (save first).
  root.querySelector('[data-testid="nt-test-send"]').addEventListener("click", async () => {
    const tmsg = root.querySelector('[data-testid="nt-test-msg"]');
    const to = sform.test_to.value.trim();
    say(tmsg, t("nt.testSending"));
    try { const r = await call("notify_test_email", { to }); say(tmsg, t("nt.testSent", { to: r.sent_to })); } catch (err) { fail(tmsg)(err); }
  });

  fill(EMPTY);
  call("groups_list", {}).then((g) => {
    groups = g;
    if (!alive) return;
    form.group.insertAdjacentHTML("beforeend", groups.map((x) => `<option value="${x.id}">${esc(x.name)}</option>`).join(""));
    form.group.value = current.group_id == null ? "" : String(current.group_id);
  }).catch(() => {});
  loadRules().catch(fail(msg));
  loadSettings().catch(fail(root.querySelector('[data-testid="nt-settings-msg"]')));
  loadLog().catch(() => {});
  const folders = renderAllowedFolders(root.querySelector('[data-testid="af-section"]'), ctx);
  const times = renderImportTimes(root.querySelector('[data-testid="it-section"]'), ctx);
  const silence = renderSilenceSettings(root.querySelector('[data-testid="sil-section"]'), ctx);
  return () => { alive = false; folders(); times(); silence(); };
}
