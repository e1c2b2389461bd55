// Reports, two tabs. Consumption: per consumer over a period, limits to find abnormal ones,
// the listed meters into a group in one click, CSV. Reading performance: received vs expected
// readings per meter, summaries saved with a comment, CSV.
import { call } from "../api.js";
import { t, fmtInt, fmtNumber, fmtDateTime, unitLabel, errorText, isoDateInTz, deviceTypeLabel } from "../i18n.js";
import { registerName } from "../registers.js";
import { icon } from "../icons.js";
import { esc, addDays, firstOfMonthsAgo, isIsoDate, downloadFile } from "../dom.js";

const PAGE = 200;
// Index registers only: electricity's A- is its export; a power (P+, P-) is never summed
// into a consumption (the core refuses it).
const REGISTERS = ["volume", "energy", "a_plus", "a_minus", "hca"];
const EXPECTED = ["1", "2", "4", "24", "96"];
// The meter types a consumption report may be narrowed to.
const DEVICE_TYPES = ["water", "warm_water", "hot_water", "cold_water", "heat", "heat_cooling", "electricity", "gas", "heat_cost_allocator"];
const PRESETS = {
  month: (d) => [firstOfMonthsAgo(d, 1), addDays(firstOfMonthsAgo(d, 0), -1)],
  "3months": (d) => [firstOfMonthsAgo(d, 3), addDays(firstOfMonthsAgo(d, 0), -1)],
  "12months": (d) => [firstOfMonthsAgo(d, 12), addDays(firstOfMonthsAgo(d, 0), -1)],
  "7days": (d) => [addDays(d, -7), addDays(d, -1)],
  "30days": (d) => [addDays(d, -30), addDays(d, -1)],
};
const state = {
  tab: "consumption",
  c: { preset: "3months", from: "", to: "", groupId: "", deviceType: "", register: "", limitKind: "", limit: "", offset: 0 },
  p: { preset: "30days", from: "", to: "", groupId: "", expected: "1", offset: 0 },
};

const today = () => isoDateInTz(Math.floor(Date.now() / 1000));
const field = (label, html) => `<label class="inline-field"><span>${esc(t(label))}</span>${html}</label>`;
const options = (list, value, label) => list.map((v) => `<option value="${esc(v)}" ${String(v) === String(value) ? "selected" : ""}>${esc(label(v))}</option>`).join("");

/** The CSV of a report command (with a BOM, so spreadsheet programs read the accents). */
function download(res) {
  downloadFile(res.filename, "\ufeff" + res.content, "text/csv;charset=utf-8");
}

function perfClass(pct) { return pct >= 95 ? "perf-ok" : pct >= 80 ? "perf-mid" : "perf-low"; }
function perfBar(pct, big = false) {
  return `<div class="perf ${big ? "perf-big" : ""}"><div class="perf-bar"><span class="perf-fill ${perfClass(pct)}" style="width:${Math.max(0, Math.min(100, pct))}%"></span></div>
    <span class="perf-num ${perfClass(pct)}">${esc(fmtNumber(pct, 1))} %</span></div>`;
}

function periodFields(prefix, s, presets) {
  return field("rep.period", `<select data-testid="${prefix}-preset">${options([...presets, "custom"], s.preset, (p) => t("rep.preset." + p))}</select>`) +
    field("rep.from", `<input type="date" data-testid="${prefix}-from" value="${esc(s.from)}">`) +
    field("rep.to", `<input type="date" data-testid="${prefix}-to" value="${esc(s.to)}">`);
}

function wirePeriod(root, prefix, s) {
  const $ = (id) => root.querySelector(`[data-testid="${prefix}-${id}"]`);
  const apply = () => { if (PRESETS[s.preset]) { [s.from, s.to] = PRESETS[s.preset](today()); $("from").value = s.from; $("to").value = s.to; } };
  if (!s.from || !s.to) apply();
  $("preset").addEventListener("change", (e) => { s.preset = e.target.value; apply(); });
  for (const k of ["from", "to"]) $(k).addEventListener("change", (e) => { s[k] = e.target.value; s.preset = "custom"; $("preset").value = "custom"; });
}

const consumer = (r) => r.customer_name
  ? `<div class="cell-main">${esc(r.customer_name)}</div><div class="cell-sub">${esc(r.customer_number || "")}</div>`
  : `<span class="muted">${esc(t("rep.noCustomer"))}</span>`;

function consumptionRow(r) {
  const value = r.consumption === null ? `<span class="muted" title="${esc(t("rep.noData"))}">${esc(t("common.none"))}</span>`
    : `<b>${esc(fmtNumber(r.consumption, 3))}</b> <span class="unit">${esc(unitLabel(r.unit))}</span>`;
  return `<tr data-testid="rc-row" data-meter="${r.meter_id}" data-consumption="${r.consumption ?? ""}">
    <td>${consumer(r)}</td>
    <td>${esc(r.address)}<div class="cell-sub">${esc([r.postal_code, r.city].filter(Boolean).join(" "))}</div></td>
    <td><a class="mono strong" href="#/meters/${r.meter_id}">${esc(r.serial)}</a><div class="cell-sub">${esc(registerName(r.register))}</div></td>
    <td class="num">${r.start_value === null ? "" : esc(fmtNumber(r.start_value, 3))}<div class="cell-sub">${r.start_ts ? esc(fmtDateTime(r.start_ts)) : ""}</div></td>
    <td class="num">${r.end_value === null ? "" : esc(fmtNumber(r.end_value, 3))}<div class="cell-sub">${r.end_ts ? esc(fmtDateTime(r.end_ts)) : ""}</div></td>
    <td class="num nowrap">${value}</td>
    <td><a class="icon-btn" href="#/meters/${r.meter_id}" title="${esc(t("rep.openChart"))}" data-testid="rc-chart">${icon("chart")}</a></td>
  </tr>`;
}

function performanceRow(r) {
  return `<tr data-testid="rp-row" data-meter="${r.meter_id}" data-performance="${r.performance}">
    <td>${esc(r.address)}</td><td>${esc(r.postal_code)}</td><td>${esc(r.city)}</td>
    <td><a class="mono strong" href="#/meters/${r.meter_id}">${esc(r.serial)}</a></td>
    <td class="nowrap">${r.last_missing_day ? esc(r.last_missing_day) : `<span class="muted">${esc(t("common.none"))}</span>`}</td>
    <td class="num nowrap">${esc(fmtInt(r.received))} / ${esc(fmtNumber(r.expected, 2))}</td>
    <td class="perf-cell">${perfBar(r.performance)}</td>
  </tr>`;
}

function pager(prefix) {
  return `<div class="pager"><span class="pager-range" data-testid="${prefix}-range"></span><div class="pager-buttons">
    <button class="btn" data-testid="${prefix}-prev">${icon("chevronLeft")}<span>${esc(t("meters.prev"))}</span></button>
    <button class="btn" data-testid="${prefix}-next"><span>${esc(t("meters.next"))}</span>${icon("chevronRight")}</button></div></div>`;
}

export function render(root, ctx) {
  let alive = true;
  let seq = 0;
  let groups = [];
  if (ctx.params.tab === "performance" || ctx.params.tab === "consumption") state.tab = ctx.params.tab;
  root.innerHTML = `
    <div class="page-head"><h1>${icon("reports")}<span>${esc(t("rep.title"))}</span></h1></div>
    <div class="segmented tabs" role="tablist">
      <button role="tab" data-tab="consumption" data-testid="tab-consumption">${esc(t("rep.tab.consumption"))}</button>
      <button role="tab" data-tab="performance" data-testid="tab-performance">${esc(t("rep.tab.performance"))}</button>
    </div>
    <div id="rep-body"></div>`;
  const body = root.querySelector("#rep-body");
  const $ = (id) => root.querySelector(`[data-testid="${id}"]`);
  const groupOptions = (value) => `<option value="">${esc(t("meters.group.all"))}</option>` +
    groups.map((g) => `<option value="${g.id}" ${String(g.id) === String(value) ? "selected" : ""}>${esc(g.name)} (${fmtInt(g.meter_count)})</option>`).join("");
  const refreshGroups = () => call("groups_list", {}).then((gs) => {
    if (!alive) return;
    groups = gs;
    root.querySelectorAll("[data-group-select]").forEach((s) => { const v = s.value; s.innerHTML = groupOptions(v); s.value = v; });
  }).catch(() => {});

  function guard(s) {
    if (!isIsoDate(s.from) || !isIsoDate(s.to)) throw new Error(t("rep.err.dates"));
    if (s.to < s.from) throw new Error(t("rep.err.order"));
  }
  const fail = (el, e) => { el.innerHTML = `<div class="card error-text" data-testid="rep-error">${esc(t("common.error", { message: errorText(e) }))}</div>`; };

  // --- Consumption ---------------------------------------------------------------------
  function consumptionArgs() {
    const s = state.c;
    const a = { from: s.from, to: s.to };
    if (s.groupId) a.group_id = Number(s.groupId);
    if (s.deviceType) a.device_type = s.deviceType;
    if (s.register) a.register = s.register;
    if (s.limitKind && s.limit !== "") a[s.limitKind] = Number(s.limit);
    return a;
  }

  function showConsumption() {
    const s = state.c;
    body.innerHTML = `<div class="toolbar card report-form">
        ${periodFields("rc", s, ["month", "3months", "12months"])}
        ${field("meters.group", `<select data-testid="rc-group" data-group-select>${groupOptions(s.groupId)}</select>`)}
        ${field("rep.deviceType", `<select data-testid="rc-type"><option value="">${esc(t("rep.deviceType.all"))}</option>${options(DEVICE_TYPES, s.deviceType, (d) => deviceTypeLabel(d))}</select>`)}
        ${field("rep.register", `<select data-testid="rc-register"><option value="">${esc(t("rep.register.default"))}</option>${options(REGISTERS, s.register, (r) => registerName(r))}</select>`)}
        ${field("rep.limit", `<select data-testid="rc-limit-kind">${options(["", "above", "below"], s.limitKind, (k) => t("rep.limit." + (k || "none")))}</select>
          <input type="number" step="any" class="limit-input" data-testid="rc-limit" value="${esc(s.limit)}" ${s.limitKind ? "" : "disabled"} aria-label="${esc(t("rep.limit.value"))}">`)}
        <button class="btn btn-primary" data-testid="rc-run">${icon("reports")}<span>${esc(t("rep.run"))}</span></button>
      </div><div data-testid="rc-result"><div class="card muted">${esc(t("rep.hint.consumption"))}</div></div>`;
    wirePeriod(body, "rc", s);
    $("rc-group").addEventListener("change", (e) => { s.groupId = e.target.value; });
    $("rc-type").addEventListener("change", (e) => { s.deviceType = e.target.value; });
    $("rc-register").addEventListener("change", (e) => { s.register = e.target.value; });
    $("rc-limit-kind").addEventListener("change", (e) => {
      s.limitKind = e.target.value;
      $("rc-limit").disabled = !s.limitKind;
      if (s.limitKind) $("rc-limit").focus();
    });
    $("rc-limit").addEventListener("input", (e) => { s.limit = e.target.value; });
    $("rc-run").addEventListener("click", () => { s.offset = 0; runConsumption(); });
  }

  async function runConsumption() {
    const out = $("rc-result");
    const my = ++seq;
    try { guard(state.c); } catch (e) { fail(out, e); return; }
    out.classList.add("loading");
    try {
      const r = await call("report_consumption", { ...consumptionArgs(), offset: state.c.offset, limit: PAGE });
      if (!alive || my !== seq) return;
      drawConsumption(out, r);
    } catch (e) { if (alive && my === seq) fail(out, e); } finally { out.classList.remove("loading"); }
  }

  function drawConsumption(out, r) {
    const s = state.c;
    // One total per kind (meter type, register, unit): heat kWh and electricity kWh apart.
    const totals = r.totals.length ? r.totals.map((x) => `<div class="unit-total" data-testid="rc-unit-total" data-type="${esc(x.device_type)}" data-unit="${esc(x.unit)}" data-value="${x.consumption}">
        <span class="unit-total-kind">${esc(t("rep.totalOf", { type: deviceTypeLabel(x.device_type), register: registerName(x.register), n: fmtInt(x.meters) }))}</span>
        <b>${esc(fmtNumber(x.consumption, 1))} ${esc(unitLabel(x.unit))}</b></div>`).join("") : esc(t("common.none"));
    // Rows come ranked within their kind: a heading row where a kind begins.
    const kindOf = (x) => `${x.device_type}|${x.register}|${x.unit}`;
    const rowsHtml = r.rows.map((row, i) => (i === 0 || kindOf(r.rows[i - 1]) !== kindOf(row)
      ? `<tr class="kind-row" data-testid="rc-kind" data-kind="${esc(kindOf(row))}"><th colspan="7">${esc(deviceTypeLabel(row.device_type))} · ${esc(registerName(row.register))} (${esc(unitLabel(row.unit))})</th></tr>` : "") + consumptionRow(row)).join("");
    const canGroup = ctx.can("edit_meters");
    out.innerHTML = `<div class="stats">
        <div class="stat card"><div class="stat-value" data-testid="rc-count" data-count="${r.count}">${esc(fmtInt(r.count))}</div><div class="stat-label">${esc(t("rep.listed", { total: fmtInt(r.meters) }))}</div></div>
        <div class="stat card"><div class="stat-value totals" data-testid="rc-total">${totals}</div><div class="stat-label">${esc(t("rep.total"))}</div></div>
        <div class="stat card"><div class="stat-value ${r.no_data ? "warn" : ""}" data-testid="rc-nodata">${esc(fmtInt(r.no_data))}</div><div class="stat-label">${esc(t("rep.noDataCount"))}</div></div>
      </div>
      <div class="card report-actions">
        ${canGroup ? `<span class="strong">${esc(t("rep.group.title", { n: fmtInt(r.count) }))}</span>
          <select data-testid="rc-target"><option value="new">${esc(t("rep.group.new"))}</option>${groups.map((g) => `<option value="${g.id}">${esc(g.name)}</option>`).join("")}</select>
          <input type="text" data-testid="rc-group-name" maxlength="80" value="${esc(t("rep.group.defaultName", { from: s.from, to: s.to }))}">
          <button class="btn" data-testid="rc-add-group" ${r.count ? "" : "disabled"}>${icon("groups")}<span>${esc(t("rep.group.add"))}</span></button>`
          : `<span class="muted" title="${esc(t("perm.denied", { perm: "edit_meters" }))}">${esc(t("rep.group.denied"))}</span>`}
        <span class="spacer"></span>
        ${ctx.can("export") ? `<button class="btn" data-testid="rc-export">${icon("download")}<span>${esc(t("rep.export"))}</span></button>` : ""}
        <span class="toolbar-msg" data-testid="rc-message" aria-live="polite"></span>
      </div>
      <div class="card table-card"><div class="table-scroll"><table class="table report-table">
        <thead><tr><th>${esc(t("rep.col.customer"))}</th><th>${esc(t("rep.col.address"))}</th><th>${esc(t("rep.col.meter"))}</th>
          <th class="num">${esc(t("rep.col.start"))}</th><th class="num">${esc(t("rep.col.end"))}</th><th class="num">${esc(t("rep.col.consumption"))}</th><th></th></tr></thead>
        <tbody>${r.rows.length ? rowsHtml : `<tr class="empty-row"><td colspan="7" data-testid="rc-empty">${esc(t("rep.empty"))}</td></tr>`}</tbody>
      </table></div>${pager("rc")}</div>`;
    $("rc-range").textContent = r.rows.length ? t("ic.range", { from: fmtInt(s.offset + 1), to: fmtInt(s.offset + r.rows.length), total: fmtInt(r.count) }) : "";
    $("rc-prev").disabled = s.offset <= 0;
    $("rc-next").disabled = s.offset + r.rows.length >= r.count;
    $("rc-prev").addEventListener("click", () => { s.offset = Math.max(0, s.offset - PAGE); runConsumption(); });
    $("rc-next").addEventListener("click", () => { s.offset += PAGE; runConsumption(); });
    const msg = $("rc-message");
    if ($("rc-target")) {
      $("rc-target").addEventListener("change", (e) => { $("rc-group-name").hidden = e.target.value !== "new"; });
      $("rc-add-group").addEventListener("click", async () => {
        const btn = $("rc-add-group");
        btn.disabled = true;
        try {
          const target = $("rc-target").value;
          let id, name, added;
          if (target === "new") {
            ({ id, name, added } = await call("group_create", { name: $("rc-group-name").value, meter_ids: r.meter_ids }));
          } else {
            id = Number(target);
            name = (groups.find((g) => g.id === id) || {}).name;
            ({ added } = await call("group_add_meters", { id, meter_ids: r.meter_ids }));
          }
          msg.innerHTML = `<span class="ok-text" data-testid="rc-group-done" data-group="${id}" data-added="${added}">${esc(t("rep.group.done", { n: fmtInt(added), name }))}</span> <a href="#/meters?group=${id}">${esc(t("rep.group.open"))}</a>`;
          refreshGroups();
        } catch (e) { msg.innerHTML = `<span class="error-text">${esc(t("common.error", { message: errorText(e) }))}</span>`; } finally { btn.disabled = false; }
      });
    }
    if ($("rc-export")) {
      $("rc-export").addEventListener("click", async () => {
        try {
          const res = await call("report_consumption_export", consumptionArgs());
          download(res);
          msg.innerHTML = `<span data-testid="rc-exported" data-rows="${res.rows}">${esc(t("ic.exported", { rows: fmtInt(res.rows), filename: res.filename }))}</span>`;
        } catch (e) { msg.textContent = t("common.error", { message: errorText(e) }); }
      });
    }
  }

  // --- Reading performance -----------------------------------------------------------------
  function performanceArgs() {
    const s = state.p;
    const a = { from: s.from, to: s.to, expected_per_day: Number(s.expected) };
    if (s.groupId) a.group_id = Number(s.groupId);
    return a;
  }

  function showPerformance() {
    const s = state.p;
    body.innerHTML = `<div class="toolbar card report-form">
        ${periodFields("rp", s, ["7days", "30days", "month"])}
        ${field("meters.group", `<select data-testid="rp-group" data-group-select>${groupOptions(s.groupId)}</select>`)}
        ${field("rep.expected", `<select data-testid="rp-expected">${options(EXPECTED, s.expected, (e) => t("rep.expected." + e))}</select>`)}
        <button class="btn btn-primary" data-testid="rp-run">${icon("reports")}<span>${esc(t("rep.run"))}</span></button>
      </div><div class="card saved-card"><h2>${esc(t("rep.saved.title"))}</h2><div data-testid="rp-saved">${esc(t("common.loading"))}</div></div>
      <div data-testid="rp-result"><div class="card muted">${esc(t("rep.hint.performance"))}</div></div>`;
    wirePeriod(body, "rp", s);
    $("rp-group").addEventListener("change", (e) => { s.groupId = e.target.value; });
    $("rp-expected").addEventListener("change", (e) => { s.expected = e.target.value; });
    $("rp-run").addEventListener("click", () => { s.offset = 0; runPerformance(); });
    loadSaved();
  }

  async function runPerformance() {
    const out = $("rp-result");
    const my = ++seq;
    try { guard(state.p); } catch (e) { fail(out, e); return; }
    out.classList.add("loading");
    try {
      const r = await call("report_performance", { ...performanceArgs(), offset: state.p.offset, limit: PAGE });
      if (!alive || my !== seq) return;
      drawPerformance(out, r);
    } catch (e) { if (alive && my === seq) fail(out, e); } finally { out.classList.remove("loading"); }
  }

  function drawPerformance(out, r) {
    const s = state.p;
    out.innerHTML = `<div class="stats">
        <div class="stat card"><div class="stat-label">${esc(t("rep.average"))}</div><div data-testid="rp-average" data-value="${r.average}">${perfBar(r.average, true)}</div>
          <div class="cell-sub">${esc(t("rep.days", { days: fmtInt(r.days), from: r.from, to: r.to }))}</div></div>
        <div class="stat card"><div class="stat-value" data-testid="rp-meters">${esc(fmtInt(r.meters))}</div><div class="stat-label">${esc(r.group_name ? t("rep.metersIn", { group: r.group_name }) : t("rep.metersAll"))}</div></div>
        <div class="stat card"><div class="stat-value ${r.missing ? "warn" : ""}" data-testid="rp-missing">${esc(fmtInt(r.missing))}</div><div class="stat-label">${esc(t("rep.missing"))}</div></div>
      </div>
      <div class="card report-actions">
        <input type="text" class="comment-input" data-testid="rp-comment" maxlength="4000" placeholder="${esc(t("rep.comment.placeholder"))}">
        <button class="btn" data-testid="rp-save">${icon("check")}<span>${esc(t("rep.save"))}</span></button>
        <span class="spacer"></span>
        ${ctx.can("export") ? `<button class="btn" data-testid="rp-export">${icon("download")}<span>${esc(t("rep.export"))}</span></button>` : ""}
        <span class="toolbar-msg" data-testid="rp-message" aria-live="polite"></span>
      </div>
      <div class="card table-card"><div class="table-scroll"><table class="table report-table">
        <thead><tr><th>${esc(t("rep.col.address"))}</th><th>${esc(t("rep.col.postal"))}</th><th>${esc(t("rep.col.city"))}</th><th>${esc(t("rep.col.meter"))}</th>
          <th>${esc(t("rep.col.lastMissing"))}</th><th class="num">${esc(t("rep.col.received"))}</th><th>${esc(t("rep.col.performance"))}</th></tr></thead>
        <tbody>${r.rows.length ? r.rows.map(performanceRow).join("") : `<tr class="empty-row"><td colspan="7">${esc(t("rep.empty"))}</td></tr>`}</tbody>
      </table></div>${pager("rp")}</div>`;
    $("rp-range").textContent = r.rows.length ? t("ic.range", { from: fmtInt(s.offset + 1), to: fmtInt(s.offset + r.rows.length), total: fmtInt(r.meters) }) : "";
    $("rp-prev").disabled = s.offset <= 0;
    $("rp-next").disabled = s.offset + r.rows.length >= r.meters;
    $("rp-prev").addEventListener("click", () => { s.offset = Math.max(0, s.offset - PAGE); runPerformance(); });
    $("rp-next").addEventListener("click", () => { s.offset += PAGE; runPerformance(); });
    const msg = $("rp-message");
    $("rp-save").addEventListener("click", async () => {
      try {
        const saved = await call("report_performance_save", { params: performanceArgs(), comment: $("rp-comment").value });
        msg.innerHTML = `<span class="ok-text" data-testid="rp-saved-msg" data-id="${saved.id}">${esc(t("rep.saved.done"))}</span>`;
        loadSaved();
      } catch (e) { msg.textContent = t("common.error", { message: errorText(e) }); }
    });
    if ($("rp-export")) {
      $("rp-export").addEventListener("click", async () => {
        try {
          const res = await call("report_performance_export", performanceArgs());
          download(res);
          msg.innerHTML = `<span data-testid="rp-exported" data-rows="${res.rows}">${esc(t("ic.exported", { rows: fmtInt(res.rows), filename: res.filename }))}</span>`;
        } catch (e) { msg.textContent = t("common.error", { message: errorText(e) }); }
      });
    }
  }

  async function loadSaved() {
    const box = $("rp-saved");
    try {
      const list = await call("report_performance_list", {});
      if (!alive || !box.isConnected) return;
      box.innerHTML = list.length ? `<div class="table-scroll"><table class="table compact">
        <thead><tr><th>${esc(t("rep.saved.at"))}</th><th>${esc(t("rep.period"))}</th><th>${esc(t("meters.group"))}</th><th class="num">${esc(t("rep.expectedShort"))}</th>
          <th class="num">${esc(t("rep.col.meters"))}</th><th class="num">${esc(t("rep.col.missing"))}</th><th>${esc(t("rep.col.average"))}</th><th>${esc(t("rep.comment"))}</th></tr></thead>
        <tbody>${list.map((x) => `<tr data-testid="saved-row" data-id="${x.id}">
          <td class="nowrap">${esc(fmtDateTime(x.created_at))}<div class="cell-sub">${esc(x.user)}</div></td>
          <td class="nowrap">${esc(x.from)} → ${esc(x.to)}</td><td>${esc(x.group_name || t("meters.group.all"))}</td>
          <td class="num">${esc(fmtNumber(x.expected_per_day, 2))}</td><td class="num">${esc(fmtInt(x.meters))}</td><td class="num">${esc(fmtInt(x.missing))}</td>
          <td class="perf-cell">${perfBar(x.average)}</td>
          <td class="comment-cell"><span data-testid="saved-comment">${esc(x.comment) || `<span class="muted">${esc(t("common.none"))}</span>`}</span>
            <button class="icon-btn" data-edit="${x.id}" data-testid="saved-edit" title="${esc(t("rep.comment.edit"))}">${icon("edit")}</button></td></tr>`).join("")}</tbody></table></div>`
        : `<p class="muted">${esc(t("rep.saved.none"))}</p>`;
      box.querySelectorAll("[data-edit]").forEach((b) => b.addEventListener("click", () => {
        const x = list.find((y) => String(y.id) === b.dataset.edit);
        const cell = b.closest("td");
        cell.innerHTML = `<input type="text" class="comment-input" maxlength="4000" data-testid="saved-comment-input" value="${esc(x.comment)}">
          <button class="btn" data-testid="saved-comment-save">${esc(t("rep.comment.save"))}</button>`;
        cell.querySelector("button").addEventListener("click", async () => {
          try { await call("report_performance_comment", { id: x.id, comment: cell.querySelector("input").value }); loadSaved(); } catch (e) { cell.append(` ${t("common.error", { message: errorText(e) })}`); }
        });
      }));
    } catch (e) { if (alive && box.isConnected) box.textContent = t("common.error", { message: errorText(e) }); }
  }

  function show() {
    root.querySelectorAll("[data-tab]").forEach((b) => { b.classList.toggle("active", b.dataset.tab === state.tab); b.setAttribute("aria-selected", String(b.dataset.tab === state.tab)); });
    seq++;
    if (state.tab === "consumption") showConsumption(); else showPerformance();
  }
  root.querySelectorAll("[data-tab]").forEach((b) => b.addEventListener("click", () => { state.tab = b.dataset.tab; show(); }));
  show();
  refreshGroups();
  return () => { alive = false; };
}
