// Scheduled exports: a saved billing layout written to a folder or e-mailed at set times.
// The list (schedule in words, destination, next run, how the last run went), the editor of a
// job, "Run now", and the run log. Changing jobs needs the permission `export`.
import { call } from "../api.js";
import { t, tOr, getLocale, fmtInt, fmtNumber, fmtDateTime, errorText } from "../i18n.js";
import { icon } from "../icons.js";
import { esc } from "../dom.js";

const PERM_EDIT = "manage_exports";
const EVERY = ["daily", "weekly", "monthly"];
const PERIODS = ["previous_day", "previous_week", "previous_month", "month_to_date"];
const EMPTY = {
  id: null, name: "", layout: "", every: "monthly", weekday: 1, day: 1, hour: 6, minute: 0, period: "previous_month",
  destination: "folder", folder: "", email_to: [], report_to: [], enabled: true,
};
const LOG_LIMIT = 100;

const list = (s) => s.split(/[\s,;]+/).map((x) => x.trim()).filter(Boolean);
const p2 = (n) => String(n).padStart(2, "0");

/** Name of weekday `n` (1 = Monday) in the clerk's language. */
export function weekdayName(n) {
  return new Intl.DateTimeFormat(getLocale() === "fr" ? "fr-FR" : "en-GB", { weekday: "long", timeZone: "UTC" })
    .format(new Date(Date.UTC(2024, 0, n))); // 1 January 2024 was a Monday
}

/** "every month on day 1 at 06:00" */
export function scheduleText(j) {
  const time = `${p2(j.hour)}:${p2(j.minute)}`;
  if (j.every === "daily") return t("job.sched.daily", { time });
  if (j.every === "weekly") return t("job.sched.weekly", { time, weekday: weekdayName(j.weekday) });
  return t("job.sched.monthly", { time, day: getLocale() === "fr" && Number(j.day) === 1 ? "1er" : j.day });
}

/** `YYYY-MM-DD` as the clerk writes dates. */
function localDate(s) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s || "");
  return m && getLocale() === "fr" ? `${m[3]}/${m[2]}/${m[1]}` : s;
}

/** A written file: its name, and the folder under it (an e-mail destination as it is). */
function fileCell(path) {
  const i = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"));
  if (i < 0) return esc(path);
  return `<span class="mono small">${esc(path.slice(i + 1))}</span><div class="cell-sub mono">${esc(path.slice(0, i + 1))}</div>`;
}

export function durationText(ms) {
  if (ms === null || ms === undefined) return t("common.none");
  return ms < 1000 ? `${fmtInt(ms)} ms` : `${fmtNumber(ms / 1000, 1)} s`;
}

export function statusBadge(status, testid = "") {
  const cls = status === "ok" ? "badge-active" : status === "failed" ? "badge-error" : "badge-running";
  return `<span class="badge ${cls}" ${testid ? `data-testid="${testid}"` : ""} data-status="${esc(status)}">${esc(t("job.status." + status))}</span>`;
}

export function render(root, ctx) {
  let alive = true;
  const canEdit = ctx.can(PERM_EDIT);
  let jobs = [];
  let layouts = [];
  let current = { ...EMPTY };
  let deleting = null;
  let logJob = "";

  root.innerHTML = `
    <div class="page-head"><div><h1>${icon("clock")}<span>${esc(t("job.title"))}</span></h1>
      <p class="muted">${esc(t("job.intro"))}</p></div>
      ${canEdit ? `<button class="btn btn-primary" data-testid="job-new">${icon("plus")}<span>${esc(t("job.new"))}</span></button>` : ""}</div>
    ${canEdit ? "" : `<p class="notice" data-testid="job-denied">${esc(t("job.denied"))}</p>`}
    <div class="card table-card jobs-card"><div class="table-scroll"><table class="table jobs-table">
      <thead><tr><th>${esc(t("job.col.name"))}</th><th>${esc(t("job.col.layout"))}</th><th>${esc(t("job.col.schedule"))}</th>
        <th>${esc(t("job.col.destination"))}</th><th>${esc(t("job.col.next"))}</th><th>${esc(t("job.col.last"))}</th><th></th></tr></thead>
      <tbody data-testid="job-list"><tr class="empty-row"><td colspan="7">${esc(t("common.loading"))}</td></tr></tbody>
    </table></div><p class="toolbar-msg job-list-msg" data-testid="job-list-msg" aria-live="polite"></p></div>
    <form class="card job-form" data-testid="job-form" novalidate>
      <h2 data-testid="job-form-title"></h2>
      <div class="job-grid">
        <label class="field"><span>${esc(t("job.name"))}</span><input type="text" name="jname" data-testid="job-name" maxlength="80" required></label>
        <label class="field"><span>${esc(t("job.layout"))}</span><select name="layout" data-testid="job-layout"></select></label>
        <div class="field job-wide"><span>${esc(t("job.every"))}</span><div class="segmented" role="group" aria-label="${esc(t("job.every"))}">
          ${EVERY.map((e) => `<button type="button" data-every="${e}" data-testid="job-every-${e}">${esc(t("job.every." + e))}</button>`).join("")}</div></div>
        <label class="field" data-when="weekly"><span>${esc(t("job.weekday"))}</span><select name="weekday" data-testid="job-weekday">
          ${[1, 2, 3, 4, 5, 6, 7].map((d) => `<option value="${d}">${esc(weekdayName(d))}</option>`).join("")}</select></label>
        <label class="field" data-when="monthly"><span>${esc(t("job.day"))}</span><input type="number" name="day" data-testid="job-day" min="1" max="28" step="1"></label>
        <label class="field"><span>${esc(t("job.time"))}</span><input type="time" name="time" data-testid="job-time" required></label>
        <label class="field"><span>${esc(t("job.period"))}</span><select name="period" data-testid="job-period">
          ${PERIODS.map((p) => `<option value="${p}">${esc(t("job.period." + p))}</option>`).join("")}</select></label>
      </div>
      <p class="muted small job-sched" data-testid="job-sched-text"></p>
      <div class="job-grid">
        <div class="field"><span>${esc(t("job.destination"))}</span><div class="segmented" role="group" aria-label="${esc(t("job.destination"))}">
          <button type="button" data-dest="folder" data-testid="job-dest-folder">${icon("file")}<span>${esc(t("job.dest.folder"))}</span></button>
          <button type="button" data-dest="email" data-testid="job-dest-email">${icon("upload")}<span>${esc(t("job.dest.email"))}</span></button></div></div>
        <label class="field job-wide" data-dest-when="folder"><span>${esc(t("job.folder"))}</span><input type="text" name="folder" class="mono" data-testid="job-folder" placeholder="${esc(t("job.folder.placeholder"))}"></label>
        <label class="field job-wide" data-dest-when="email"><span>${esc(t("job.emailTo"))}</span><input type="text" name="email_to" data-testid="job-email" placeholder="facturation@exemple.fr"></label>
        <label class="field job-wide"><span>${esc(t("job.reportTo"))}</span><input type="text" name="report_to" data-testid="job-report-to" placeholder="exploitation@exemple.fr"></label>
      </div>
      <label class="check"><input type="checkbox" name="enabled" data-testid="job-enabled"><span>${esc(t("job.enabled"))}</span></label>
      <div class="export-actions job-actions">
        ${canEdit ? `<button class="btn btn-primary" type="submit" data-testid="job-save">${icon("check")}<span>${esc(t("job.save"))}</span></button>
        <button class="btn" type="button" data-testid="job-test" title="${esc(t("job.testHint"))}">${icon("check")}<span>${esc(t("job.test"))}</span></button>
        <button class="btn" type="button" data-testid="job-run-now">${icon("export")}<span>${esc(t("job.runNow"))}</span></button>` : ""}
        <span class="toolbar-msg" data-testid="job-msg" aria-live="polite"></span>
      </div>
    </form>
    <div class="card table-card job-log-card">
      <div class="card-head job-log-head"><h2>${icon("reports")}<span>${esc(t("job.log"))}</span></h2>
        <label class="inline-field"><span>${esc(t("job.log.filter"))}</span><select data-testid="job-log-filter"><option value="">${esc(t("job.log.all"))}</option></select></label>
        <button class="btn btn-ghost" type="button" data-testid="job-log-refresh">${icon("chevronRight")}<span>${esc(t("job.log.refresh"))}</span></button></div>
      <div class="table-scroll"><table class="table compact job-log">
      <thead><tr><th>${esc(t("job.log.at"))}</th><th>${esc(t("job.col.name"))}</th><th>${esc(t("job.log.period"))}</th><th>${esc(t("job.log.status"))}</th>
        <th class="num">${esc(t("job.log.attempt"))}</th><th>${esc(t("job.log.file"))}</th><th class="num">${esc(t("job.log.rows"))}</th>
        <th>SHA-256</th><th class="num">${esc(t("job.log.duration"))}</th><th>${esc(t("job.log.error"))}</th></tr></thead>
      <tbody data-testid="job-log"></tbody></table></div></div>`;

  const form = root.querySelector('[data-testid="job-form"]');
  const msg = root.querySelector('[data-testid="job-msg"]');
  const listMsg = root.querySelector('[data-testid="job-list-msg"]');
  const tbody = root.querySelector('[data-testid="job-list"]');
  const logBody = root.querySelector('[data-testid="job-log"]');
  const logFilter = root.querySelector('[data-testid="job-log-filter"]');
  const say = (el, text, kind) => { el.textContent = text; el.classList.toggle("error-text", kind === "error"); el.classList.toggle("ok-text", kind === "ok"); };
  const fail = (el) => (e) => { if (alive) say(el, t("common.error", { message: errorText(e) }), "error"); };

  function layoutOptions(value) {
    const names = layouts.map((l) => l.name);
    if (value && !names.includes(value)) names.push(value);
    form.layout.innerHTML = names.length
      ? names.map((n) => `<option value="${esc(n)}" ${n === value ? "selected" : ""}>${esc(n)}</option>`).join("")
      : `<option value="">${esc(t("job.noLayouts"))}</option>`;
  }

  function showParts() {
    form.querySelectorAll("[data-every]").forEach((b) => { const on = b.dataset.every === current.every; b.classList.toggle("active", on); b.setAttribute("aria-pressed", String(on)); });
    form.querySelectorAll("[data-dest]").forEach((b) => { const on = b.dataset.dest === current.destination; b.classList.toggle("active", on); b.setAttribute("aria-pressed", String(on)); });
    form.querySelectorAll("[data-when]").forEach((el) => { el.hidden = el.dataset.when !== current.every; });
    form.querySelectorAll("[data-dest-when]").forEach((el) => { el.hidden = el.dataset.destWhen !== current.destination; });
    const j = read();
    root.querySelector('[data-testid="job-sched-text"]').textContent = t("job.sched.summary", { schedule: scheduleText(j), period: t("job.period." + j.period).toLowerCase() });
  }

  function fill(j) {
    current = { ...EMPTY, ...j };
    root.querySelector('[data-testid="job-form-title"]').textContent = current.id ? t("job.edit", { name: current.name }) : t("job.new");
    form.jname.value = current.name;
    layoutOptions(current.layout || (layouts[0] && layouts[0].name) || "");
    form.weekday.value = String(current.weekday);
    form.day.value = current.day;
    form.time.value = `${p2(current.hour)}:${p2(current.minute)}`;
    form.period.value = current.period;
    form.folder.value = current.folder || "";
    form.email_to.value = (current.email_to || []).join(", ");
    form.report_to.value = (current.report_to || []).join(", ");
    form.enabled.checked = !!current.enabled;
    const runNowBtn = form.querySelector('[data-testid="job-run-now"]');
    if (runNowBtn) runNowBtn.hidden = !current.id;
    say(msg, "");
    showParts();
  }

  function read() {
    const [h, m] = (form.time.value || "06:00").split(":").map(Number);
    return {
      id: current.id ?? null,
      name: form.jname.value.trim(),
      layout: form.layout.value,
      every: current.every,
      weekday: Number(form.weekday.value || 1),
      day: Number(form.day.value || 1),
      hour: Number.isFinite(h) ? h : 6,
      minute: Number.isFinite(m) ? m : 0,
      period: form.period.value,
      destination: current.destination,
      folder: form.folder.value.trim(),
      email_to: list(form.email_to.value),
      report_to: list(form.report_to.value),
      enabled: form.enabled.checked,
    };
  }

  function jobRow(j) {
    const last = j.last_run;
    const dest = j.destination === "email"
      ? `${icon("upload")} ${esc((j.email_to || []).join(", "))}`
      : `${icon("file")} <span class="mono small">${esc(j.folder)}</span>`;
    let actions = canEdit ? `<button class="btn" data-act="run" data-testid="job-run">${icon("export")}<span>${esc(t("job.runNow"))}</span></button>
      <button class="icon-btn" data-act="edit" data-testid="job-edit" title="${esc(t("nt.editBtn"))}" aria-label="${esc(t("nt.editBtn"))}">${icon("edit")}</button>
      <button class="icon-btn danger" data-act="delete" data-testid="job-delete" title="${esc(t("groups.delete"))}" aria-label="${esc(t("groups.delete"))}">${icon("trash")}</button>` : "";
    if (deleting === j.id) {
      actions = `<span class="warn-text">${esc(t("job.confirmDelete", { name: j.name }))}</span>
        <button class="btn btn-danger" data-act="delete-ok" data-testid="job-delete-ok">${esc(t("groups.delete"))}</button>
        <button class="btn btn-ghost" data-act="cancel">${esc(t("groups.cancel"))}</button>`;
    }
    return `<tr data-testid="job-row" data-id="${j.id}" data-name="${esc(j.name)}" class="${current.id === j.id ? "row-active" : ""}">
      <td class="strong">${esc(j.name)}${j.enabled ? "" : ` <span class="badge">${esc(t("job.disabled"))}</span>`}</td>
      <td>${esc(j.layout)}</td>
      <td data-testid="job-schedule">${esc(scheduleText(j))}<div class="cell-sub">${esc(t("job.period." + j.period))}</div></td>
      <td class="job-dest">${dest}</td>
      <td class="nowrap" data-testid="job-next">${j.next_run_at ? esc(fmtDateTime(j.next_run_at)) : `<span class="muted">${esc(t("common.none"))}</span>`}</td>
      <td class="nowrap">${last ? `${statusBadge(last.status, "job-last-status")}<div class="cell-sub">${esc(fmtDateTime(last.started_at))}</div>` : `<span class="muted">${esc(t("job.never"))}</span>`}</td>
      <td><div class="row-actions">${actions}</div></td></tr>`;
  }

  function drawJobs() {
    tbody.innerHTML = jobs.length ? jobs.map(jobRow).join("")
      : `<tr class="empty-row"><td colspan="7" data-testid="job-empty">${esc(t("job.empty"))}</td></tr>`;
    const v = logFilter.value;
    logFilter.innerHTML = `<option value="">${esc(t("job.log.all"))}</option>` + jobs.map((j) => `<option value="${j.id}">${esc(j.name)}</option>`).join("");
    logFilter.value = v;
  }

  async function loadJobs() {
    jobs = await call("export_jobs_list", {});
    if (alive) drawJobs();
  }

  async function loadLog() {
    const args = { limit: LOG_LIMIT };
    if (logJob) args.job_id = Number(logJob);
    const runs = await call("export_runs_list", args);
    if (!alive) return;
    logBody.innerHTML = runs.length ? runs.map((r) => `<tr data-testid="job-run-row" data-id="${r.id}" data-job="${r.job_id}" data-status="${esc(r.status)}">
        <td class="nowrap">${esc(fmtDateTime(r.started_at))}<div class="cell-sub">${esc(t("job.trigger." + r.trigger))}</div></td>
        <td>${esc(r.job)}<div class="cell-sub">${esc(r.layout)}</div></td>
        <td class="nowrap">${esc(localDate(r.period_from))} → ${esc(localDate(r.period_to))}</td>
        <td>${statusBadge(r.status, "job-run-status")}</td>
        <td class="num">${esc(fmtInt(r.attempt))}</td>
        <td class="job-file" data-testid="job-run-file" data-path="${esc(r.file || "")}" title="${esc(r.file || "")}">${r.file ? fileCell(r.file) : `<span class="muted">${esc(t("common.none"))}</span>`}</td>
        <td class="num" data-testid="job-run-rows">${r.rows === null || r.rows === undefined ? "" : esc(fmtInt(r.rows))}</td>
        <td class="mono small" title="${esc(r.sha256 || "")}">${r.sha256 ? esc(r.sha256.slice(0, 12)) : ""}</td>
        <td class="num nowrap">${esc(durationText(r.duration_ms))}</td>
        <td class="job-error error-text" data-testid="job-run-error" title="${esc(r.error || "")}">${esc(runErrorText(r))}</td></tr>`).join("")
      : `<tr class="empty-row"><td colspan="10" data-testid="job-log-empty">${esc(t("job.log.empty"))}</td></tr>`;
  }

  async function runNow(id, el) {
    const j = jobs.find((x) => x.id === id) || current;
    say(el, t("job.running", { name: j.name }));
    try {
      const r = await call("export_job_run_now", { id });
      if (!alive) return;
      if (r.status === "ok") say(el, t("job.ran", { rows: fmtInt(r.rows ?? 0), file: r.file || "" }), "ok");
      else say(el, t("job.ranFailed", { error: runErrorText(r) }), "error");
      await Promise.all([loadJobs(), loadLog()]);
    } catch (e) { fail(el)(e); }
  }

  form.addEventListener("click", (e) => {
    const ev = e.target.closest("[data-every]");
    if (ev) { current.every = ev.dataset.every; showParts(); return; }
    const d = e.target.closest("[data-dest]");
    if (d) { current.destination = d.dataset.dest; showParts(); }
  });
  form.addEventListener("input", () => showParts());
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const j = read();
    if (!j.name) { say(msg, t("job.err.name"), "error"); form.jname.focus(); return; }
    if (!j.layout) { say(msg, t("job.err.layout"), "error"); return; }
    form.folder.setAttribute("aria-invalid", "false");
    try {
      const r = await call("export_job_save", j);
      current.id = r.id ?? current.id;
      await loadJobs();
      fill(jobs.find((x) => x.id === current.id) || { ...j, id: current.id });
      say(msg, t("job.saved"), "ok");
    } catch (err) {
      // A refused folder (not allowed, the database's): worded by errorText, its field marked.
      if (String((err.details && err.details.code) || "").startsWith("folder_")) { form.folder.setAttribute("aria-invalid", "true"); form.folder.focus(); }
      fail(msg)(err);
    }
  });
  root.querySelector('[data-testid="job-run-now"]')?.addEventListener("click", () => { if (current.id) runNow(current.id, msg); });
  // Test: the job as on screen (saved or not), checked and delivered now; not a run.
  root.querySelector('[data-testid="job-test"]')?.addEventListener("click", async () => {
    const j = read();
    form.folder.setAttribute("aria-invalid", "false");
    say(msg, t("job.testing"));
    try {
      const r = await call("export_job_test", j);
      say(msg, t("job.tested", { rows: fmtInt(r.rows), file: r.file_name, to: r.delivered_to }), "ok");
    } catch (err) {
      if (String((err.details && err.details.code) || "").startsWith("folder_")) form.folder.setAttribute("aria-invalid", "true");
      fail(msg)(err);
    }
  });
  root.querySelector('[data-testid="job-new"]')?.addEventListener("click", () => { fill(EMPTY); drawJobs(); form.jname.focus(); });
  tbody.addEventListener("click", async (e) => {
    const b = e.target.closest("button[data-act]");
    if (!b) return;
    const id = Number(b.closest("tr").dataset.id);
    const j = jobs.find((x) => x.id === id);
    const act = b.dataset.act;
    if (act === "edit") { fill(j); drawJobs(); form.scrollIntoView({ behavior: "smooth", block: "start" }); }
    if (act === "run") runNow(id, listMsg);
    if (act === "delete") { deleting = id; drawJobs(); }
    if (act === "cancel") { deleting = null; drawJobs(); }
    if (act === "delete-ok") {
      try {
        await call("export_job_delete", { id });
        deleting = null;
        if (current.id === id) fill(EMPTY);
        await loadJobs();
        say(listMsg, t("job.deleted", { name: j.name }), "ok");
      } catch (err) { fail(listMsg)(err); }
    }
  });
  logFilter.addEventListener("change", () => { logJob = logFilter.value; loadLog().catch(fail(listMsg)); });
  root.querySelector('[data-testid="job-log-refresh"]').addEventListener("click", () => { loadJobs().catch(fail(listMsg)); loadLog().catch(fail(listMsg)); });

  fill(EMPTY);
  call("export_layouts_list", {}).then((ls) => {
    layouts = ls;
    if (alive) layoutOptions(form.layout.value || current.layout || (ls[0] && ls[0].name) || "");
  }).catch(() => {});
  loadJobs().catch(fail(listMsg));
  loadLog().catch(fail(listMsg));
  return () => { alive = false; };
}

/** Why a run failed, in the reader's words (its stored code and params), or nothing. */
function runErrorText(r) {
  if (!r.error) return "";
  if (!r.error_code) return r.error;
  return tOr("job.err." + r.error_code, null) || errorText({ code: r.error_code, message: r.error, params: r.error_params || {} });
}
