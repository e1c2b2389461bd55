// Wired M-Bus ("Bus M-Bus"): the buses Relevé reads as the master (a level converter on a
// serial port, or a transparent gateway on TCP). A manager (`settings`) adds and edits
// buses (mbus_bus_save, mbus_bus_delete) and puts found meters on a bus and in the park
// (mbus_add_found); whoever may import scans a bus (mbus_scan_start, a background task
// followed with import_status: a progress bar and the found list as it grows) and reads
// now (mbus_read_now). Each meter's last answer: its raw frames and the decoded records
// (mbus_last_answers); errors in words from their code (no answer, collision, checksum...).
import { call } from "../api.js";
import { t, tOr, fmtInt, fmtNumber, fmtDateTime, fmtPercent, errorText } from "../i18n.js";
import { icon } from "../icons.js";
import { esc } from "../dom.js";

const BAUDS = [300, 600, 1200, 2400, 4800, 9600, 19200, 38400];
const MEDIA = { 0: "other", 1: "oil", 2: "electricity", 3: "gas", 4: "heat", 6: "hot_water", 7: "water", 10: "cooling", 12: "heat", 13: "heat_cooling", 22: "cold_water" };

/** A medium code in words (its number when not a common one). */
export function mediumText(code) {
  if (code === null || code === undefined) return "—";
  const key = MEDIA[code];
  return key ? t("mbus.medium." + key) : `0x${Number(code).toString(16).padStart(2, "0").toUpperCase()}`;
}

/** A problem code of the master (no_answer, collision, checksum, timeout, truncated) in words. */
export function problemText(code) {
  return code ? t("mbus.problem." + code) : "";
}

export function render(root, ctx) {
  const manage = ctx.can("settings");
  const reads = ctx.can("import");
  let alive = true;
  let buses = [];
  let current = null; // selected bus id
  let editing = null; // bus being edited (object), or null
  let scan = null; // { task, secondary, done, total, found, state, error }
  let answers = null; // mbus_last_answers of the current bus
  let reading = null; // { task, done, total }: mbus_read_start followed with import_status
  let open = new Set(); // addresses whose answer is unfolded
  root.innerHTML = `
    <div class="page-head"><div><h1>${icon("antenna")}<span>${esc(t("mbus.title"))}</span></h1>
      <p class="muted">${esc(t("mbus.intro"))}</p></div>
      ${manage ? `<button class="btn btn-primary" data-testid="mbus-add" type="button">${icon("plus")}<span>${esc(t("mbus.add"))}</span></button>` : ""}</div>
    <p class="toolbar-msg" data-testid="mbus-msg" aria-live="polite"></p>
    <div data-testid="mbus-form-area"></div>
    <div class="card table-card"><div class="table-scroll"><table class="table compact" data-testid="mbus-buses">
      <thead><tr><th>${esc(t("mbus.col.name"))}</th><th>${esc(t("mbus.col.line"))}</th><th>${esc(t("mbus.col.schedule"))}</th>
        <th class="num">${esc(t("mbus.col.meters"))}</th><th>${esc(t("mbus.col.state"))}</th><th></th></tr></thead>
      <tbody data-testid="mbus-bus-rows"><tr class="empty-row"><td colspan="6">${esc(t("common.loading"))}</td></tr></tbody>
    </table></div></div>
    <div data-testid="mbus-detail"></div>`;
  const tbody = root.querySelector('[data-testid="mbus-bus-rows"]');
  const msg = root.querySelector('[data-testid="mbus-msg"]');
  const formArea = root.querySelector('[data-testid="mbus-form-area"]');
  const detail = root.querySelector('[data-testid="mbus-detail"]');
  const say = (text, error) => { msg.textContent = text; msg.classList.toggle("error-text", !!error); };
  const fail = (e) => { if (alive) say(t("common.error", { message: errorText(e) }), true); };

  const lineText = (b) => `${b.transport === "tcp" ? "TCP" : t("mbus.serial")} <span class="mono">${esc(b.target)}</span> · ${esc(fmtInt(b.baud))} ${esc(t("mbus.baud"))}${b.echo ? ` · ${esc(t("mbus.echo"))}` : ""}`;
  const failedOf = (b) => b.meters.filter((m) => m.error_code).length;

  function paintBuses() {
    if (!buses.length) {
      tbody.innerHTML = `<tr class="empty-row"><td colspan="6">${esc(t("mbus.empty"))}</td></tr>`;
      return;
    }
    tbody.innerHTML = buses.map((b) => {
      const failed = failedOf(b);
      const state = !b.enabled ? `<span class="badge">${esc(t("mbus.disabled"))}</span>`
        : failed ? `<span class="badge badge-warn">${icon("warning")}${esc(t("mbus.failedCount", { n: failed }))}</span>`
          : !b.meters.some((m) => m.answer_at) ? `<span class="muted">${esc(t("mbus.never"))}</span>`
          : `<span class="badge badge-active">${esc(t("mbus.ok"))}</span>`;
      return `<tr data-testid="mbus-bus-row" data-id="${b.id}" data-name="${esc(b.name)}" class="${b.id === current ? "row-selected" : ""}">
        <td><button class="link-btn" data-act="open"><strong>${esc(b.name)}</strong></button></td>
        <td>${lineText(b)}</td><td>${esc(t("mbus.schedule." + b.schedule))}</td>
        <td class="num">${esc(fmtInt(b.meters.length))}</td><td>${state}</td>
        <td class="nowrap">${manage ? `<button class="btn btn-ghost" data-act="edit" data-testid="mbus-edit" title="${esc(t("mbus.edit"))}" aria-label="${esc(t("mbus.edit"))}">${icon("edit")}</button>
          <button class="btn btn-ghost" data-act="delete" data-testid="mbus-delete" title="${esc(t("mbus.delete"))}" aria-label="${esc(t("mbus.delete"))}">${icon("trash")}</button>` : ""}</td></tr>`;
    }).join("");
  }

  function paintForm() {
    if (!editing) { formArea.innerHTML = ""; return; }
    const b = editing;
    formArea.innerHTML = `<form class="card form-card mbus-form" data-testid="mbus-form">
      <h2>${esc(b.id ? t("mbus.editTitle", { name: b.name }) : t("mbus.newTitle"))}</h2>
      <div class="form-grid">
      <label class="field"><span>${esc(t("mbus.f.name"))}</span><input type="text" name="name" maxlength="100" required value="${esc(b.name)}" data-testid="mbus-f-name"></label>
      <label class="field"><span>${esc(t("mbus.f.transport"))}</span><select name="transport" data-testid="mbus-f-transport">
        <option value="serial" ${b.transport === "serial" ? "selected" : ""}>${esc(t("mbus.f.serial"))}</option>
        <option value="tcp" ${b.transport === "tcp" ? "selected" : ""}>${esc(t("mbus.f.tcp"))}</option></select></label>
      <label class="field"><span>${esc(t("mbus.f.target"))}</span><input type="text" name="target" required value="${esc(b.target)}" placeholder="/dev/ttyUSB0 · 192.168.1.20:10001" data-testid="mbus-f-target"></label>
      <label class="field"><span>${esc(t("mbus.f.baud"))}</span><select name="baud" data-testid="mbus-f-baud">
        ${BAUDS.map((v) => `<option value="${v}" ${v === b.baud ? "selected" : ""}>${esc(fmtInt(v))}</option>`).join("")}</select></label>
      <label class="field"><span>${esc(t("mbus.f.latency"))}</span><input type="number" name="latency" min="0" max="5000" step="1" value="${esc(b.latency_ms)}" data-testid="mbus-f-latency"></label>
      <label class="field"><span>${esc(t("mbus.f.schedule"))}</span><select name="schedule" data-testid="mbus-f-schedule">
        ${["off", "hourly", "daily"].map((s) => `<option value="${s}" ${s === b.schedule ? "selected" : ""}>${esc(t("mbus.schedule." + s))}</option>`).join("")}</select></label>
      <label class="check"><input type="checkbox" name="echo" ${b.echo ? "checked" : ""} data-testid="mbus-f-echo"> ${esc(t("mbus.f.echo"))}</label>
      <label class="check"><input type="checkbox" name="enabled" ${b.enabled ? "checked" : ""} data-testid="mbus-f-enabled"> ${esc(t("mbus.f.enabled"))}</label>
      </div>
      <div class="row-actions"><button class="btn btn-primary" type="submit" data-testid="mbus-f-save">${icon("check")}<span>${esc(t("mbus.save"))}</span></button>
        <button class="btn btn-ghost" type="button" data-act="cancel">${esc(t("heard.cancel"))}</button></div></form>`;
  }

  function progressHtml() {
    if (!scan) return "";
    const ratio = scan.total ? Math.min(1, scan.done / scan.total) : 0;
    const head = scan.state === "done" ? t("mbus.scanDone", { n: scan.found.filter((f) => !f.problem).length })
      : scan.state === "failed" ? t("common.error", { message: scan.error })
        : t(scan.secondary ? "mbus.scanningSecondary" : "mbus.scanningPrimary");
    return `<div class="progress-block"><div class="progress-title ${scan.state === "failed" ? "error-text" : ""}" data-testid="mbus-scan-state">${esc(head)}</div>
      <div class="progress" role="progressbar" data-testid="mbus-progress" aria-valuemin="0" aria-valuemax="100" aria-valuenow="${Math.round(ratio * 100)}">
        <div class="progress-fill ${scan.state === "done" ? "done" : ""}" style="width:${(ratio * 100).toFixed(1)}%"></div></div>
      <div class="progress-text muted">${esc(scan.secondary ? fmtPercent(ratio) : t("mbus.addressesDone", { done: fmtInt(scan.done), total: fmtInt(scan.total) }))}</div></div>`;
  }

  // Reading the bus now: a bar of the meters read so far.
  function readingHtml() {
    if (!reading) return "";
    const ratio = reading.total ? Math.min(1, reading.done / reading.total) : 0;
    return `<div class="progress-block" data-testid="mbus-reading"><div class="progress-title">${esc(t("mbus.reading"))}</div>
      <div class="progress" role="progressbar" aria-valuemin="0" aria-valuemax="100" aria-valuenow="${Math.round(ratio * 100)}">
        <div class="progress-fill" style="width:${(ratio * 100).toFixed(1)}%"></div></div>
      <div class="progress-text muted">${esc(t("mbus.metersDone", { done: fmtInt(reading.done), total: fmtInt(reading.total) }))}</div></div>`;
  }

  function foundHtml(bus) {
    if (!scan || !scan.found.length) return scan && scan.state === "done" ? `<p class="muted">${esc(t("mbus.noneFound"))}</p>` : "";
    const addresses = new Set(bus.meters.map((m) => m.address));
    const serials = new Set(bus.meters.map((m) => m.serial).filter(Boolean));
    // Already on the bus: by the same address, or the same meter by its other address.
    const addressOf = (f) => (scan.secondary ? f.secondary : f.primary === null ? null : String(f.primary));
    const known = (f) => addresses.has(addressOf(f)) || (f.id && serials.has(f.id));
    return `<table class="table compact" data-testid="mbus-found"><thead><tr>${manage ? "<th></th>" : ""}<th>${esc(t("mbus.col.primary"))}</th><th>${esc(t("mbus.col.secondary"))}</th>
      <th>${esc(t("mbus.col.id"))}</th><th>${esc(t("mbus.col.manufacturer"))}</th><th>${esc(t("mbus.col.medium"))}</th><th class="num">${esc(t("mbus.col.version"))}</th><th>${esc(t("mbus.col.state"))}</th></tr></thead><tbody>
      ${scan.found.map((f, i) => {
    const a = addressOf(f);
    const can = manage && !f.problem && a && !known(f);
    return `<tr data-testid="mbus-found-row" data-id="${esc(f.id || "")}" class="${f.problem ? "row-warn" : ""}">
        ${manage ? `<td>${can ? `<input type="checkbox" data-i="${i}" checked data-testid="mbus-found-pick" aria-label="${esc(t("mbus.pick"))}">` : !f.problem && known(f) ? `<span class="muted small">${esc(t("mbus.onBus"))}</span>` : ""}</td>` : ""}
        <td class="num">${f.primary === null || f.primary === undefined ? "—" : esc(f.primary)}</td>
        <td class="mono small">${esc(f.secondary || f.mask || "—")}</td><td class="mono">${esc(f.id || "—")}</td>
        <td>${esc(f.manufacturer || "—")}</td><td>${esc(mediumText(f.medium))}</td><td class="num">${f.version === null || f.version === undefined ? "—" : esc(f.version)}</td>
        <td>${f.problem ? `<span class="badge badge-warn" data-testid="mbus-found-problem">${icon("warning")}${esc(problemText(f.problem))}</span>` : `<span class="badge badge-active">${esc(t("mbus.found"))}</span>`}</td></tr>`;
  }).join("")}</tbody></table>
      ${manage && scan.state === "done" && scan.found.some((f) => !f.problem && addressOf(f) && !known(f)) ? `<div class="row-actions"><button class="btn btn-primary" data-act="add-found" data-testid="mbus-add-found">${icon("plus")}<span>${esc(t("mbus.addFound"))}</span></button></div>` : ""}`;
  }

  function recordsHtml(decoded) {
    if (!decoded || decoded.error) return `<p class="error-text small">${esc(decoded ? decoded.error : "")}</p>`;
    const rows = (decoded.records || []).map((r) => {
      const v = typeof r.value === "number" ? fmtNumber(r.value) : (r.value && typeof r.value === "object" ? Object.values(r.value).join(" ") : String(r.value ?? ""));
      const words = (prefix, code) => tOr(prefix + code, String(code ?? "").replace(/_/g, " "));
      return `<tr data-testid="mbus-record"><td>${esc(words("mbus.q.", r.quantity))}</td><td class="num">${esc(v)}</td><td>${esc(r.unit === "none" ? "" : r.unit)}</td><td class="num">${esc(r.storage)}</td><td>${esc(words("mbus.fn.", r.function))}</td></tr>`;
    }).join("");
    return `<table class="table compact mbus-records"><thead><tr><th>${esc(t("mbus.rec.quantity"))}</th><th class="num">${esc(t("mbus.rec.value"))}</th><th>${esc(t("mbus.rec.unit"))}</th><th class="num">${esc(t("mbus.rec.storage"))}</th><th>${esc(t("mbus.rec.function"))}</th></tr></thead><tbody>${rows}</tbody></table>`;
  }

  function metersHtml() {
    if (!answers) return `<p class="muted">${esc(t("common.loading"))}</p>`;
    if (!answers.meters.length) return `<p class="muted" data-testid="mbus-no-meters">${esc(t("mbus.noMeters"))}</p>`;
    return `<table class="table compact" data-testid="mbus-meters"><thead><tr><th>${esc(t("mbus.col.address"))}</th><th>${esc(t("mbus.col.meter"))}</th>
      <th>${esc(t("mbus.col.lastAnswer"))}</th><th>${esc(t("mbus.col.state"))}</th><th></th></tr></thead><tbody>
      ${answers.meters.map((m) => `<tr data-testid="mbus-meter-row" data-address="${esc(m.address)}" class="${m.error_code ? "row-warn" : ""}">
        <td class="mono">${esc(m.address)}</td>
        <td>${m.meter_id ? `<a href="#/meters/${m.meter_id}" class="mono">${esc(m.serial || m.meter_id)}</a>` : `<span class="muted">—</span>`}</td>
        <td class="nowrap">${m.answer_at ? esc(fmtDateTime(m.answer_at)) : `<span class="muted">${esc(t("mbus.never"))}</span>`}</td>
        <td>${m.error_code ? `<span class="badge badge-warn" data-testid="mbus-meter-error" title="${esc(m.error || "")}">${icon("warning")}${esc(problemText(m.error_code))}</span>`
    : m.frames.length ? `<span class="badge badge-active">${esc(t("mbus.telegrams", { n: m.frames.length }))}</span>` : ""}</td>
        <td class="nowrap">${m.frames.length ? `<button class="btn btn-ghost" data-act="toggle" data-testid="mbus-answer-toggle">${esc(t(open.has(m.address) ? "mbus.hideAnswer" : "mbus.showAnswer"))}</button>` : ""}
          ${reads ? `<button class="btn btn-ghost" data-act="read-one" data-testid="mbus-read-one">${icon("download")}<span>${esc(t("mbus.readOne"))}</span></button>` : ""}</td></tr>
        ${open.has(m.address) ? `<tr class="detail-row"><td colspan="5" data-testid="mbus-answer">${m.frames.map((f, i) => `<div class="mbus-frame"><div class="muted small">${esc(t("mbus.telegramN", { i: i + 1, n: m.frames.length }))}</div>
          <pre class="mono small mbus-raw" data-testid="mbus-raw">${esc(f.replace(/(..)/g, "$1 ").trim())}</pre>${recordsHtml(m.decoded[i])}</div>`).join("")}</td></tr>` : ""}`).join("")}
      </tbody></table>`;
  }

  function paintDetail() {
    const bus = buses.find((b) => b.id === current);
    if (!bus) { detail.innerHTML = ""; return; }
    detail.innerHTML = `<div class="card" data-testid="mbus-bus-detail"><div class="card-head"><h2>${esc(bus.name)}</h2>
      <div class="row-actions">${reads ? `<button class="btn" data-act="scan-primary" data-testid="mbus-scan-primary" ${scan && scan.state === "running" ? "disabled" : ""}>${icon("search")}<span>${esc(t("mbus.scanPrimary"))}</span></button>
        <button class="btn" data-act="scan-secondary" data-testid="mbus-scan-secondary" ${scan && scan.state === "running" ? "disabled" : ""}>${icon("search")}<span>${esc(t("mbus.scanSecondary"))}</span></button>
        <button class="btn btn-primary" data-act="read-all" data-testid="mbus-read-now" ${bus.meters.length ? "" : "disabled"}>${icon("download")}<span>${esc(t("mbus.readNow"))}</span></button>` : ""}</div></div>
      <div data-testid="mbus-scan">${progressHtml()}${foundHtml(bus)}</div>
      <h3>${esc(t("mbus.metersTitle"))}</h3>${readingHtml()}<div data-testid="mbus-meters-area">${metersHtml()}</div></div>`;
  }

  async function load() {
    try {
      buses = await call("mbus_buses_list", {});
      if (!alive) return;
      if (current === null && buses.length) current = buses[0].id;
      paintBuses();
      if (current !== null) {
        answers = await call("mbus_last_answers", { bus_id: current });
        const bus = buses.find((b) => b.id === current);
        if (bus && !scan && bus.last_scan && bus.last_scan.finished_at) {
          scan = { secondary: bus.last_scan.kind === "secondary", done: 1, total: 1, found: bus.last_scan.found, state: bus.last_scan.error ? "failed" : "done", error: bus.last_scan.error };
        }
      }
      if (alive) paintDetail();
    } catch (e) { fail(e); }
  }

  async function follow(task) {
    while (alive && scan && scan.task === task) {
      try {
        const s = await call("import_status", { task });
        scan.done = s.processed_lines || 0;
        scan.total = s.total_lines || 1;
        scan.found = (s.report && s.report.found) || scan.found;
        if (s.state === "done") { scan.state = "done"; paintDetail(); await load(); return; }
        if (s.state === "failed") { scan.state = "failed"; scan.error = errorText(s.error); paintDetail(); return; }
        paintDetail();
      } catch (e) { scan.state = "failed"; scan.error = errorText(e); paintDetail(); return; }
      await new Promise((r) => setTimeout(r, 400));
    }
  }

  root.addEventListener("click", async (e) => {
    const b = e.target.closest("[data-act]");
    if (!b) return;
    const act = b.dataset.act;
    const row = b.closest("tr");
    try {
      if (act === "open") { current = Number(row.dataset.id); scan = null; answers = null; open = new Set(); paintBuses(); paintDetail(); await load(); }
      if (act === "edit") { editing = { ...buses.find((x) => x.id === Number(row.dataset.id)) }; paintForm(); }
      if (act === "cancel") { editing = null; paintForm(); }
      if (act === "delete") {
        const bus = buses.find((x) => x.id === Number(row.dataset.id));
        if (!confirm(t("mbus.confirmDelete", { name: bus.name }))) return;
        await call("mbus_bus_delete", { id: bus.id });
        if (current === bus.id) { current = null; scan = null; answers = null; }
        say(t("mbus.deleted", { name: bus.name }));
        await load();
      }
      if (act === "scan-primary" || act === "scan-secondary") {
        const secondary = act === "scan-secondary";
        const { task } = await call("mbus_scan_start", { bus_id: current, secondary });
        scan = { task, secondary, done: 0, total: secondary ? 1000 : 251, found: [], state: "running" };
        paintDetail();
        follow(task);
      }
      if (act === "add-found") {
        const picks = [...detail.querySelectorAll('[data-testid="mbus-found-pick"]:checked')].map((c) => scan.found[Number(c.dataset.i)]);
        if (!picks.length) return;
        const found = picks.map((f) => ({ address: scan.secondary ? f.secondary : String(f.primary), id: f.id, manufacturer: f.manufacturer, version: f.version, medium: f.medium }));
        await call("mbus_add_found", { bus_id: current, found });
        say(t("mbus.added", { n: found.length }));
        await load();
      }
      if (act === "read-all" || act === "read-one") {
        b.disabled = true;
        say(t("mbus.reading"));
        const args = { bus_id: current };
        if (act === "read-one") args.address = row.dataset.address;
        const { task } = await call("mbus_read_start", args);
        reading = { task, done: 0, total: 1 };
        paintDetail();
        let r = null;
        while (alive && reading && reading.task === task) {
          const st = await call("import_status", { task });
          reading.done = st.processed_lines || 0;
          reading.total = st.total_lines || 1;
          if (st.state === "failed") { reading = null; throw st.error; }
          if (st.state === "done") { r = st.report; reading = null; break; }
          paintDetail();
          await new Promise((res) => setTimeout(res, 400));
        }
        if (!r) return;
        const failed = r.meters.filter((m) => m.error);
        say(failed.length ? t("mbus.readFailed", { ok: r.meters.length - failed.length, failed: failed.map((m) => t("mbus.atAddress", { address: m.address, problem: problemText(m.error.code) })).join(" ; ") })
          : t("mbus.readDone", { n: r.meters.length }), failed.length > 0);
        await load();
      }
      if (act === "toggle") {
        const a = row.dataset.address;
        if (open.has(a)) open.delete(a); else open.add(a);
        paintDetail();
      }
    } catch (err) { fail(err); b.disabled = false; }
  });

  root.querySelector('[data-testid="mbus-add"]')?.addEventListener("click", () => {
    editing = { id: 0, name: "", transport: "tcp", target: "", baud: 2400, latency_ms: 0, echo: false, schedule: "daily", enabled: true };
    paintForm();
  });
  formArea.addEventListener("submit", async (e) => {
    e.preventDefault();
    const f = e.target;
    try {
      const saved = await call("mbus_bus_save", {
        id: editing.id, name: f.name.value, transport: f.transport.value, target: f.target.value, baud: Number(f.baud.value),
        latency_ms: Number(f.latency.value || 0), echo: f.echo.checked, schedule: f.schedule.value, enabled: f.enabled.checked,
      });
      if (!alive) return;
      editing = null;
      paintForm();
      current = saved.id;
      scan = null;
      say(t("mbus.saved", { name: saved.name }));
      await load();
    } catch (err) { fail(err); }
  });

  load();
  return () => { alive = false; };
}
