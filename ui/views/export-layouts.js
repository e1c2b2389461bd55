// Billing export layouts (tab of the Export screen): the saved layouts (open, copy, delete,
// new) and the editor of one: name, CSV or fixed width and their options, date formats,
// billing options, the ordered fields of the data line (one per meter) and of the optional
// header and trailer lines. A period, then Preview (the first lines exactly as written, a
// column ruler for fixed width, warnings and errors), Dry run (differences to the last file),
// Save and Run (downloads the file).
import { call } from "../api.js";
import { t, getLocale, fmtInt, fmtNumber, fmtDateTime, registerLabel, errorText, isoDateInTz } from "../i18n.js";
import { registerName } from "../registers.js";
import { icon } from "../icons.js";
import { esc, addDays, firstOfMonthsAgo, isIsoDate, downloadFile, base64Bytes } from "../dom.js";

// Permissions the core asks for (crates/core/src/billing).
const PERM_EDIT = "manage_exports";
const PERM_RUN = "export";

const RECORDS = ["header", "fields", "trailer"]; // in file order
const SCOPE_OF = { header: "header", fields: "record", trailer: "trailer" };
const REGISTERS = ["volume", "energy", "a_plus", "a_minus", "hca"];
const DATE_FORMATS = ["%d/%m/%Y", "%Y-%m-%d", "%Y%m%d", "%d%m%Y", "%d.%m.%Y", "%d%m%y"];
const DATETIME_FORMATS = ["%d/%m/%Y %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y%m%d%H%M", "%d.%m.%Y %H:%M"];
const SEPARATORS = [";", ",", "\t", "|"];
const ENCODINGS = ["utf-8-bom", "utf-8", "windows-1252"];
const GROUP_OF = {
  customer_number: "customer", customer_name: "customer", customer_email: "customer", customer_phone: "customer",
  meter_serial: "meter", manufacturer: "meter", device_type: "meter", address: "meter", postal_code: "meter", city: "meter",
  latitude: "meter", longitude: "meter",
  value_start: "values", value_end: "values", consumption: "values", reading_time_start: "values", reading_time_end: "values",
  source_start: "values", source_end: "values", unit: "values",
  info_codes: "alarms", info_codes_now: "alarms",
  exchange_date: "exchange", exchange_old_serial: "exchange", exchange_old_final: "exchange", exchange_new_initial: "exchange",
  record_count: "totals", total_consumption: "totals", total_value_end: "totals",
};
const GROUPS = ["customer", "meter", "values", "alarms", "exchange", "totals", "file"];
const TEXT_WIDTH = { customer_name: 30, address: 40, city: 25, postal_code: 5, customer_email: 40, customer_phone: 15, customer_number: 10, meter_serial: 12, unit: 4, device_type: 12, manufacturer: 3 };
const DEFAULT_FIELDS = ["customer_number", "meter_serial", "value_start", "value_end", "consumption"];
const PREVIEW_LINES = 20;
const MAX_LISTED = 50;
const SAMPLE = new Date(Date.UTC(2025, 0, 31, 14, 5, 9));

// Kept while the clerk moves around the application.
const st = {
  vars: null, layouts: null, groups: [], cur: null, orig: null, dirty: false,
  from: null, to: null, copying: null, deleting: null, out: null, moved: [],
};

/** A chrono strftime pattern applied to a sample date, to show what it writes. */
export function strftime(fmt, d = SAMPLE) {
  const p2 = (n) => String(n).padStart(2, "0");
  const Y = String(d.getUTCFullYear()), m = p2(d.getUTCMonth() + 1), dd = p2(d.getUTCDate());
  const H = p2(d.getUTCHours()), M = p2(d.getUTCMinutes()), S = p2(d.getUTCSeconds());
  const map = { d: dd, e: String(d.getUTCDate()).padStart(2, " "), m, Y, y: Y.slice(2), H, M, S, F: `${Y}-${m}-${dd}`, T: `${H}:${M}:${S}`, R: `${H}:${M}`, "%": "%" };
  return String(fmt || "").replace(/%([a-zA-Z%])/g, (all, c) => map[c] ?? all);
}

const varInfo = (id) => (st.vars || []).find((v) => v.id === id) || { id, kind: "text", register_bound: false, scopes: ["record"] };
export function varLabel(id) {
  const v = varInfo(id);
  return (getLocale() === "fr" ? v.label_fr : v.label_en) || id;
}
const isNumber = (kind) => kind === "number" || kind === "integer";
const isDate = (kind) => kind === "date" || kind === "date_time" || kind === "datetime";

function defaultPeriod() {
  const today = isoDateInTz(Math.floor(Date.now() / 1000));
  return { from: firstOfMonthsAgo(today, 1), to: addDays(firstOfMonthsAgo(today, 0), -1) };
}

function defaultWidth(f, layout) {
  const v = varInfo(f.var);
  if (f.var === "text") return Math.max(1, (f.text || "").length);
  if (isDate(v.kind)) return strftime(f.date_format || (v.kind === "date" ? layout.date_format : layout.datetime_format)).length;
  if (v.kind === "integer") return 6;
  if (v.kind === "number") return 12;
  return TEXT_WIDTH[f.var] || 20;
}

function newField(id, layout) {
  const v = varInfo(id);
  const f = { var: id };
  if (v.kind === "number") f.decimals = id === "latitude" || id === "longitude" ? 6 : 3;
  if (id === "text") f.text = "";
  if (layout.format === "fixed") f.width = defaultWidth(f, layout);
  return f;
}

function newLayout() {
  const fr = getLocale() === "fr";
  const l = {
    name: "", format: "csv", encoding: fr ? "utf-8-bom" : "utf-8",
    csv: { separator: fr ? ";" : ",", quote: "necessary", decimal: fr ? "," : ".", header: true, line_end: "crlf" },
    fixed: { line_end: "crlf", decimal: fr ? "," : "." },
    date_format: fr ? "%d/%m/%Y" : "%Y-%m-%d", datetime_format: fr ? "%d/%m/%Y %H:%M" : "%Y-%m-%d %H:%M",
    billing: { tolerance_hours: 48, interpolate: true }, group_id: null, fields: [], header: [], trailer: [],
  };
  l.fields = DEFAULT_FIELDS.map((id) => newField(id, l));
  return l;
}

/** A layout as received, with every part present for the editor. */
function normalise(raw) {
  const l = raw && (raw.layout || raw.definition) ? (raw.layout || raw.definition) : raw;
  const def = newLayout();
  return {
    ...def, ...l,
    csv: { ...def.csv, ...(l.csv || {}) }, fixed: { ...def.fixed, ...(l.fixed || {}) },
    billing: { ...def.billing, ...(l.billing || {}) },
    fields: (l.fields || []).map((f) => ({ ...f })), header: (l.header || []).map((f) => ({ ...f })), trailer: (l.trailer || []).map((f) => ({ ...f })),
  };
}

/** The layout as the core reads it: only its own keys, nothing empty. */
export function cleanLayout(l) {
  const field = (f) => {
    const o = { var: f.var };
    for (const k of ["register", "label", "date_format", "align", "pad"]) if (f[k] !== undefined && f[k] !== null && f[k] !== "") o[k] = f[k];
    if (f.var === "text") o.text = f.text ?? "";
    for (const k of ["width", "decimals"]) if (Number.isFinite(f[k])) o[k] = f[k];
    if (f.implied_decimals) o.implied_decimals = true;
    return o;
  };
  return {
    name: (l.name || "").trim(), format: l.format, encoding: l.encoding || "utf-8",
    csv: { separator: l.csv.separator, quote: l.csv.quote, decimal: l.csv.decimal, header: !!l.csv.header, line_end: l.csv.line_end },
    fixed: { line_end: l.fixed.line_end, decimal: l.fixed.decimal },
    date_format: l.date_format, datetime_format: l.datetime_format,
    billing: { tolerance_hours: Math.max(0, Math.round(Number(l.billing.tolerance_hours) || 0)), interpolate: !!l.billing.interpolate },
    group_id: l.group_id ?? null,
    fields: l.fields.map(field), header: l.header.map(field), trailer: l.trailer.map(field),
  };
}

const widthText = (n) => t(n === 1 ? "lay.rec.width1" : "lay.rec.width", { n: fmtInt(n) });

/** Positions (1-based, inclusive) of the fields of a fixed-width record. */
function positions(fields) {
  let at = 1;
  return fields.map((f) => { const w = Number(f.width) || 0; const p = [at, at + w - 1]; at += w; return p; });
}

// --- Problems in a clerk's words --------------------------------------------------------------

/** How a CSV separator is named in a sentence (a tab has no visible character). */
function sepName(c) {
  return c === "\t" ? t("export.sep.tab") : c;
}

/**
 * A value the core cannot write (Preview.errors, DryRun.errors, a refused run's
 * `details.errors`) in the clerk's words, built from its fields: {record: "header"|"data"|
 * "trailer", meter?, row?, field (1-based), var, value, problem, width?, character?,
 * encoding?, separator?, message (English)}.
 */
export function valueErrorText(e) {
  if (!e || typeof e !== "object") return String(e ?? "");
  const where = t("lay.err.where." + (["header", "data", "trailer"].includes(e.record) ? e.record : "data"), { meter: e.meter ?? "", pos: fmtInt(e.field), field: varLabel(e.var) });
  const value = e.value ?? "";
  switch (e.problem) {
    case "too_wide": return t("lay.err.width", { where, value, width: fmtInt(e.width) });
    case "not_encodable": return t("lay.err.encoding", { where, value, char: e.character, encoding: e.encoding });
    case "unquoted_separator": return t("lay.err.separator", { where, value, sep: sepName(e.separator) });
    case "control_character": return t("lay.err.control", { where, value });
    default: return t("lay.err.other", { where, value, problem: e.message || e.problem || "" });
  }
}
const errorLine = (e) => esc(valueErrorText(e));

/** Scheduled exports ({id, name}) as « A », « B » in the clerk's language. */
function jobNames(jobs) {
  const q = getLocale() === "fr" ? (n) => `« ${n} »` : (n) => `“${n}”`;
  return (jobs || []).map((j) => q(j.name)).join(", ");
}

/** A core error in the clerk's words: refused values and layouts in use are worded here. */
function layoutErrorText(err) {
  const d = err && err.details;
  if (d && Array.isArray(d.errors) && d.errors.length) {
    const more = (Number(d.count) || d.errors.length) - 1;
    return t("lay.err.refused", { error: valueErrorText(d.errors[0]), more: more > 0 ? t("lay.more", { n: fmtInt(more) }) : "" }).trim();
  }
  if (err && err.code === "in_use" && d && Array.isArray(d.jobs)) {
    return t(d.jobs.length === 1 ? "lay.err.inUse1" : "lay.err.inUse", { name: d.layout ?? "", jobs: jobNames(d.jobs) });
  }
  return t("common.error", { message: errorText(err) });
}

/** `YYYY-MM-DD[ HH:MM]` in the clerk's way of writing dates. */
function localDate(s) {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?: (\d{2}:\d{2}))?$/.exec(s || "");
  if (!m) return s;
  const d = getLocale() === "fr" ? `${m[3]}/${m[2]}/${m[1]}` : `${m[1]}-${m[2]}-${m[3]}`;
  return m[4] ? `${d} ${m[4]}` : d;
}
const num = (v) => (Number.isFinite(Number(v)) ? fmtNumber(Number(v), 3) : v);

/** A warning of the core ({meter, field, message}) in the clerk's words. */
export function warningText(w) {
  const msg = String(w.message || "");
  const fm = /^(\w+)(?: \((\w+)\))?$/.exec(w.field || "");
  const field = fm ? varLabel(fm[1]) + (fm[2] ? ` (${registerLabel(fm[2])})` : "") : w.field || "";
  let text = null, m;
  const replaced = (r) => (r ? t("lay.warn.replaced", { serial: r }) : "");
  if ((m = /^interpolated at (\S+)(?: \(replaced meter (\S+)\))? between the readings of (.+?) \((\S+)\) and (.+?) \((\S+)\)$/.exec(msg))) {
    text = t("lay.warn.interpolated", { date: localDate(m[1]), replaced: replaced(m[2]), t0: localDate(m[3]), v0: num(m[4]), t1: localDate(m[5]), v1: num(m[6]) });
  } else if ((m = /^no value at (\S+)(?: \(replaced meter (\S+)\))?: no target value, no reading within (\d+) h, (.*)$/.exec(msg))) {
    text = t("lay.warn.missing", { date: localDate(m[1]), replaced: replaced(m[2]), h: m[3], why: t(/interpolation is off/.test(m[4]) ? "lay.warn.why.off" : "lay.warn.why.none") });
  }
  return { meter: t("lay.warn.meter", { meter: w.meter }), field, text: text ?? msg, raw: text ? msg : "" };
}
function warningLine(w) {
  const x = warningText(w);
  const colon = getLocale() === "fr" ? " : " : ": ";
  return `${esc(x.meter)}${x.field ? ` — <b>${esc(x.field)}</b>` : ""}${colon}${esc(x.text)}`;
}

// --- The file as written ----------------------------------------------------------------------

/** A ruler of column positions (tens above units) for `width` characters. */
function ruler(width) {
  let tens = "", units = "";
  for (let i = 1; i <= width; i++) {
    units += String(i % 10);
    tens += i % 10 === 0 ? String((i / 10) % 10) : " ";
  }
  return `${tens}\n${units}`;
}

/** One written line, its fields tinted by turns when the fixed-width record fits it exactly. */
function lineHtml(line, fields) {
  if (!fields || !fields.length) return esc(line);
  const widths = fields.map((f) => Number(f.width) || 0);
  if (widths.reduce((a, b) => a + b, 0) !== line.length) return esc(line);
  let at = 0;
  return widths.map((w, i) => { const s = line.slice(at, at + w); at += w; return `<span class="fv-f fv-f${i % 2}" title="${esc(varLabel(fields[i].var))}">${esc(s)}</span>`; }).join("");
}

function fileView(lines, layout, totalRows, errors = []) {
  // Lines holding a value that cannot be written: data records by their row, header, trailer.
  const badRows = new Set(errors.filter((e) => e.record === "data").map((e) => e.row));
  const badFile = new Set(errors.filter((e) => e.record !== "data").map((e) => e.record));
  const fixed = layout.format === "fixed";
  const width = Math.max(0, ...lines.map((l) => l.length));
  const hasTitles = !fixed && layout.csv.header;
  const hasHeader = layout.header.length > 0;
  const lastIsTrailer = layout.trailer.length > 0 && lines.length >= (hasTitles ? 1 : 0) + (hasHeader ? 1 : 0) + totalRows + 1;
  // In file order: the header record, the column titles (CSV), the meters, the trailer record.
  const kindOf = (i) => {
    let k = i;
    if (hasHeader) { if (k === 0) return "header"; k--; }
    if (hasTitles) { if (k === 0) return "titles"; k--; }
    if (lastIsTrailer && i === lines.length - 1) return "trailer";
    return "data";
  };
  let row = 0;
  const rows = lines.map((l, i) => {
    const kind = kindOf(i);
    if (kind === "data") row++;
    const fields = !fixed ? null : kind === "header" ? layout.header : kind === "trailer" ? layout.trailer : layout.fields;
    const wrong = kind === "data" ? badRows.has(row) : badFile.has(kind);
    return `<div class="fv-row fv-${kind}${wrong ? " fv-bad" : ""}" data-testid="lay-line" data-kind="${kind}"><span class="fv-n" title="${esc(t(wrong ? "lay.line.bad" : "lay.line.kind." + kind))}">${i + 1}</span><span class="fv-t">${lineHtml(l, fields)}</span></div>`;
  }).join("");
  return `<div class="file-view mono" data-testid="lay-file">
    ${fixed ? `<div class="fv-row fv-ruler" aria-hidden="true"><span class="fv-n"></span><span class="fv-t">${esc(ruler(width))}</span></div>` : ""}
    ${rows || `<div class="fv-row"><span class="fv-n"></span><span class="fv-t muted">${esc(t("lay.preview.empty"))}</span></div>`}</div>`;
}

function problemsHtml(errors, warnings) {
  let html = "";
  if (errors && errors.length) {
    html += `<div class="lay-problems lay-errors" data-testid="lay-errors" data-count="${errors.length}">
      <h3>${icon("warning")}<span>${esc(t("lay.errors.title", { n: fmtInt(errors.length) }))}</span></h3>
      <ul>${errors.slice(0, MAX_LISTED).map((e) => `<li data-testid="lay-error" data-record="${esc(e.record)}" data-problem="${esc(e.problem)}" data-field="${esc(e.field)}"${e.meter ? ` data-meter="${esc(e.meter)}"` : ""} title="${esc(e.message || "")}">${errorLine(e)}</li>`).join("")}</ul>
      ${errors.length > MAX_LISTED ? `<p class="muted small">${esc(t("lay.more", { n: fmtInt(errors.length - MAX_LISTED) }))}</p>` : ""}</div>`;
  }
  if (warnings && warnings.length) {
    html += `<div class="lay-problems lay-warnings" data-testid="lay-warnings" data-count="${warnings.length}">
      <h3>${icon("warning")}<span>${esc(t("lay.warnings.title", { n: fmtInt(warnings.length) }))}</span></h3>
      <ul>${warnings.slice(0, MAX_LISTED).map((w) => `<li data-testid="lay-warning" data-meter="${esc(w.meter)}">${warningLine(w)}</li>`).join("")}</ul>
      ${warnings.length > MAX_LISTED ? `<p class="muted small">${esc(t("lay.more", { n: fmtInt(warnings.length - MAX_LISTED) }))}</p>` : ""}</div>`;
  }
  return html;
}

/** Old and new line with the differing characters marked (same length), or as they are. */
function diffPair(a, b) {
  if (a.length !== b.length) return [esc(a), esc(b)];
  let x = "", y = "";
  for (let i = 0; i < a.length; i++) {
    if (a[i] === b[i]) { x += esc(a[i]); y += esc(b[i]); } else { x += `<mark>${esc(a[i])}</mark>`; y += `<mark>${esc(b[i])}</mark>`; }
  }
  return [x.replace(/<\/mark><mark>/g, ""), y.replace(/<\/mark><mark>/g, "")];
}

function dryRunHtml(d) {
  const n = (v) => (Array.isArray(v) ? v.length : Number(v) || 0);
  const changed = d.changed || [];
  const added = d.added_lines || (Array.isArray(d.added) ? d.added : []);
  const removed = d.removed_lines || (Array.isArray(d.removed) ? d.removed : []);
  const last = d.last_run;
  const stat = (key, value, cls, testid) => `<div class="stat card"><div class="stat-value ${cls}" data-testid="${testid}" data-n="${value}">${esc(fmtInt(value))}</div><div class="stat-label">${esc(t(key))}</div></div>`;
  const lineOf = (x) => (typeof x === "string" ? { meter: "", line: x } : x);
  const list = (title, rows, testid) => rows.length ? `<h3>${esc(title)}</h3><div class="table-scroll"><table class="table compact dry-table" data-testid="${testid}">
      <thead><tr><th>${esc(t("lay.dry.meter"))}</th><th>${esc(t("lay.dry.line"))}</th></tr></thead>
      <tbody>${rows.slice(0, MAX_LISTED).map(lineOf).map((r) => `<tr><td class="mono nowrap">${esc(r.meter)}</td><td class="mono pre">${esc(r.line)}</td></tr>`).join("")}</tbody></table></div>` : "";
  return `<div class="dry" data-testid="lay-dry">
    <p class="muted">${last ? esc(t("lay.dry.against", { date: fmtDateTime(last.at), file: last.file_name, from: localDate(last.from), to: localDate(last.to), rows: fmtInt(last.rows) }))
      : esc(t("lay.dry.noLast"))}</p>
    <div class="stats stats-5">
      ${stat("lay.dry.rows", n(d.rows), "", "lay-dry-rows")}
      ${stat("lay.dry.added", n(d.added), n(d.added) ? "ok-text" : "", "lay-dry-added")}
      ${stat("lay.dry.removed", n(d.removed), n(d.removed) ? "warn" : "", "lay-dry-removed")}
      ${stat("lay.dry.changed", changed.length, changed.length ? "warn" : "", "lay-dry-changed")}
      ${stat("lay.dry.unchanged", n(d.unchanged), "", "lay-dry-unchanged")}
    </div>
    ${changed.length ? `<h3>${esc(t("lay.dry.changedTitle"))}</h3><div class="table-scroll"><table class="table compact dry-table" data-testid="lay-dry-changes">
      <thead><tr><th>${esc(t("lay.dry.meter"))}</th><th>${esc(t("lay.dry.oldNew"))}</th></tr></thead><tbody>
      ${changed.slice(0, MAX_LISTED).map((c) => { const [o, nn] = diffPair(c.old, c.new); return `<tr data-testid="lay-dry-change" data-meter="${esc(c.meter)}"><td class="mono nowrap">${esc(c.meter)}</td>
        <td><div class="mono dry-old"><span class="dry-tag">${esc(t("lay.dry.old"))}</span><span class="pre" data-testid="lay-dry-old">${o}</span></div><div class="mono dry-new"><span class="dry-tag">${esc(t("lay.dry.new"))}</span><span class="pre" data-testid="lay-dry-new">${nn}</span></div></td></tr>`; }).join("")}
      </tbody></table></div>` : ""}
    ${list(t("lay.dry.addedTitle"), added, "lay-dry-added-lines")}
    ${list(t("lay.dry.removedTitle"), removed, "lay-dry-removed-lines")}
    ${problemsHtml(d.errors || [], d.warnings)}
  </div>`;
}

// --- The view -----------------------------------------------------------------------------------

const opt = (value, label, selected) => `<option value="${esc(value)}" ${selected ? "selected" : ""}>${esc(label)}</option>`;

function formatSelect(attrs, value, presets, inherit) {
  const list = [...presets];
  if (value && !list.includes(value)) list.push(value);
  return `<select ${attrs}>
    ${inherit !== undefined ? opt("", t("lay.fmt.inherit", { example: strftime(inherit) }), !value) : ""}
    ${list.map((f) => opt(f, strftime(f), f === value)).join("")}
    ${opt("__custom", t("lay.fmt.custom"), false)}</select>`;
}

export function render(root, ctx) {
  let alive = true;
  const canEdit = ctx.can(PERM_EDIT);
  const canRun = ctx.can(PERM_RUN);
  const deny = (perm) => `disabled title="${esc(t("perm.denied", { perm }))}"`;
  if (!st.from) Object.assign(st, defaultPeriod());
  if (!st.cur) { st.cur = null; }

  root.innerHTML = `
    <section class="card table-card lay-list-card">
      <div class="card-head"><h2>${icon("file")}<span>${esc(t("lay.list.title"))}</span></h2>
        ${canEdit ? `<button class="btn btn-primary" data-testid="lay-new">${icon("plus")}<span>${esc(t("lay.new"))}</span></button>` : ""}</div>
      <div class="table-scroll"><table class="table lay-table"><thead><tr>
        <th>${esc(t("lay.col.name"))}</th><th>${esc(t("lay.col.format"))}</th><th class="num">${esc(t("lay.col.fields"))}</th>
        <th>${esc(t("lay.col.updated"))}</th><th>${esc(t("lay.col.lastRun"))}</th><th></th></tr></thead>
        <tbody data-testid="lay-list"><tr class="empty-row"><td colspan="6">${esc(t("common.loading"))}</td></tr></tbody></table></div>
      <p class="toolbar-msg lay-list-msg" data-testid="lay-list-msg" aria-live="polite"></p>
    </section>
    <div data-testid="lay-editor-area"></div>`;
  const listBody = root.querySelector('[data-testid="lay-list"]');
  const listMsg = root.querySelector('[data-testid="lay-list-msg"]');
  const area = root.querySelector('[data-testid="lay-editor-area"]');
  const say = (el, text, kind) => { el.textContent = text; el.classList.toggle("error-text", kind === "error"); el.classList.toggle("ok-text", kind === "ok"); };

  // --- list ---
  function drawList() {
    const ls = st.layouts || [];
    if (!ls.length) {
      listBody.innerHTML = `<tr class="empty-row"><td colspan="6" data-testid="lay-empty">${esc(t("lay.list.empty"))}</td></tr>`;
      return;
    }
    listBody.innerHTML = ls.map((l) => {
      const active = st.orig === l.name;
      let actions;
      if (st.copying === l.name) {
        actions = `<input type="text" data-testid="lay-copy-name" maxlength="80" value="${esc(t("lay.copy.defaultName", { name: l.name }))}" aria-label="${esc(t("lay.copy.name"))}">
          <button class="btn btn-primary" data-act="copy-ok" data-testid="lay-copy-ok">${esc(t("lay.copy.ok"))}</button>
          <button class="btn btn-ghost" data-act="cancel">${esc(t("groups.cancel"))}</button>`;
      } else if (st.deleting === l.name) {
        actions = `<span class="warn-text">${esc(t("lay.delete.confirm", { name: l.name }))}</span>
          <button class="btn btn-danger" data-act="delete-ok" data-testid="lay-delete-ok">${esc(t("groups.delete"))}</button>
          <button class="btn btn-ghost" data-act="cancel">${esc(t("groups.cancel"))}</button>`;
      } else {
        actions = `<button class="btn btn-ghost" data-act="open" data-testid="lay-open">${icon("edit")}<span>${esc(t("lay.open"))}</span></button>
          ${canEdit ? `<button class="btn btn-ghost" data-act="copy" data-testid="lay-copy">${icon("file")}<span>${esc(t("lay.copy"))}</span></button>
          <button class="btn btn-ghost danger" data-act="delete" data-testid="lay-delete">${icon("trash")}<span>${esc(t("groups.delete"))}</span></button>` : ""}`;
      }
      const lr = l.last_run;
      return `<tr data-testid="lay-row" data-name="${esc(l.name)}" class="${active ? "row-active" : ""}">
        <td class="strong">${esc(l.name)}</td>
        <td><span class="badge">${esc(t("lay.format." + l.format))}</span></td>
        <td class="num">${l.fields === undefined ? "" : esc(fmtInt(Array.isArray(l.fields) ? l.fields.length : l.fields))}</td>
        <td class="nowrap">${l.updated_at ? esc(fmtDateTime(l.updated_at)) : ""}</td>
        <td>${lr ? `<span class="nowrap">${esc(fmtDateTime(lr.at))}</span><div class="cell-sub">${esc(t("lay.lastRun.rows", { rows: fmtInt(lr.rows), from: localDate(lr.from), to: localDate(lr.to) }))}</div>` : `<span class="muted">${esc(t("lay.lastRun.never"))}</span>`}</td>
        <td><div class="row-actions">${actions}</div></td></tr>`;
    }).join("");
    const input = listBody.querySelector('[data-testid="lay-copy-name"]');
    if (input) { input.focus(); input.select(); }
  }

  async function loadList() {
    try {
      st.layouts = await call("export_layouts_list", {});
      if (alive) drawList();
    } catch (e) {
      if (alive) listBody.innerHTML = `<tr class="empty-row"><td colspan="6" class="error-text">${esc(t("common.error", { message: errorText(e) }))}</td></tr>`;
    }
  }

  const leaveOk = () => !st.dirty || confirm(t("lay.discard"));

  async function open(name) {
    if (!leaveOk()) return;
    try {
      const l = await call("export_layout_get", { name });
      if (!alive) return;
      st.cur = normalise(l);
      st.orig = st.cur.name;
      st.dirty = false;
      st.out = null;
      drawList();
      drawEditor();
      area.scrollIntoView({ behavior: "smooth", block: "start" });
    } catch (e) { say(listMsg, t("common.error", { message: errorText(e) }), "error"); }
  }

  listBody.addEventListener("click", async (e) => {
    const b = e.target.closest("[data-act]");
    if (!b) return;
    const name = b.closest("tr").dataset.name;
    const act = b.dataset.act;
    say(listMsg, "");
    if (act === "open") open(name);
    else if (act === "copy") { st.copying = name; st.deleting = null; drawList(); }
    else if (act === "delete") { st.deleting = name; st.copying = null; drawList(); }
    else if (act === "cancel") { st.copying = null; st.deleting = null; drawList(); }
    else if (act === "copy-ok") {
      const newName = listBody.querySelector('[data-testid="lay-copy-name"]').value.trim();
      try {
        await call("export_layout_copy", { name, new_name: newName });
        st.copying = null;
        await loadList();
        say(listMsg, t("lay.copy.done", { name: newName }), "ok");
      } catch (err) { say(listMsg, t("common.error", { message: errorText(err) }), "error"); }
    } else if (act === "delete-ok") {
      try {
        await call("export_layout_delete", { name });
        st.deleting = null;
        if (st.orig === name) { st.cur = null; st.orig = null; st.dirty = false; st.out = null; drawEditor(); }
        await loadList();
        say(listMsg, t("lay.delete.done", { name }), "ok");
      } catch (err) { st.deleting = null; drawList(); say(listMsg, layoutErrorText(err), "error"); }
    }
  });
  listBody.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && e.target.matches('[data-testid="lay-copy-name"]')) { e.preventDefault(); listBody.querySelector('[data-act="copy-ok"]').click(); }
    if (e.key === "Escape") { st.copying = null; st.deleting = null; drawList(); }
  });
  root.querySelector('[data-testid="lay-new"]')?.addEventListener("click", () => {
    if (!leaveOk()) return;
    st.cur = newLayout();
    st.orig = null;
    st.dirty = false;
    st.out = null;
    drawList();
    drawEditor();
    const name = area.querySelector('[data-testid="lay-name"]');
    if (name) name.focus();
  });

  // --- editor ---
  function recordHtml(rec) {
    const l = st.cur;
    const fixed = l.format === "fixed";
    const fields = l[rec];
    const titled = !fixed && rec === "fields"; // column titles: the data line of a CSV file
    const pos = positions(fields);
    const scope = SCOPE_OF[rec];
    const vars = (st.vars || []).filter((v) => (v.scopes || []).includes(scope));
    const byGroup = GROUPS.map((g) => [g, vars.filter((v) => (GROUP_OF[v.id] || "file") === g)]).filter(([, vs]) => vs.length);
    const rows = fields.map((f, i) => {
      const v = varInfo(f.var);
      const kind = v.kind;
      // The core lists what a billing file may read (index registers, A+ and A- and their tariffs).
      const regs = [...(v.registers && v.registers.length ? v.registers : REGISTERS)];
      if (f.register && !regs.includes(f.register)) regs.push(f.register);
      const reg = v.register_bound ? `<select data-k="register" class="reg-select" aria-label="${esc(t("lay.f.register"))}" title="${esc(t("lay.f.register"))}">
          ${opt("", t("lay.f.register.main"), !f.register)}${regs.map((r) => opt(r, registerName(r), r === f.register)).join("")}</select>` : "";
      let format = `<span class="muted">${esc(t("common.none"))}</span>`;
      if (f.var === "text") format = `<input type="text" data-k="text" class="w-text" value="${esc(f.text ?? "")}" placeholder="${esc(t("lay.f.text"))}" aria-label="${esc(t("lay.f.text"))}">`;
      else if (kind === "number") {
        format = `<label class="inline-field"><span>${esc(t("lay.f.decimals"))}</span><input type="number" data-k="decimals" class="w-num" min="0" max="9" step="1" value="${f.decimals ?? 3}"></label>
          ${fixed ? `<label class="check" title="${esc(t("lay.f.implied.hint"))}"><input type="checkbox" data-k="implied_decimals" ${f.implied_decimals ? "checked" : ""}><span>${esc(t("lay.f.implied"))}</span></label>` : ""}`;
      } else if (isDate(kind)) {
        format = formatSelect(`data-k="date_format" aria-label="${esc(t("lay.f.dateFormat"))}"`, f.date_format || "", kind === "date" ? DATE_FORMATS : DATETIME_FORMATS, kind === "date" ? l.date_format : l.datetime_format);
      }
      const move = (d, ic, label, disabled) => `<button type="button" class="icon-btn" data-act="move" data-d="${d}" title="${esc(t(label))}" aria-label="${esc(t(label))}" ${disabled ? "disabled" : ""}>${icon(ic)}</button>`;
      return `<tr data-testid="lay-field" data-rec="${rec}" data-i="${i}" data-var="${esc(f.var)}">
        <td class="num muted">${i + 1}</td>
        <td class="lay-var"><div class="strong">${esc(varLabel(f.var))}</div>${reg}</td>
        ${fixed ? `<td class="mono nowrap lay-pos" data-testid="lay-pos">${pos[i][1] >= pos[i][0] ? `${pos[i][0]}–${pos[i][1]}` : "?"}</td>
          <td><input type="number" data-k="width" class="w-num" min="1" max="1000" step="1" value="${f.width ?? ""}" required aria-label="${esc(t("lay.f.width"))}"></td>
          <td><select data-k="align" aria-label="${esc(t("lay.f.align"))}">${opt("", t(isNumber(kind) ? "lay.f.align.autoRight" : "lay.f.align.autoLeft"), !f.align)}${opt("left", t("lay.f.align.left"), f.align === "left")}${opt("right", t("lay.f.align.right"), f.align === "right")}</select></td>
          <td><input type="text" data-k="pad" class="w-char mono" maxlength="1" value="${esc(f.pad ?? "")}" placeholder="␣" title="${esc(t("lay.f.pad.hint"))}" aria-label="${esc(t("lay.f.pad"))}"></td>`
        : titled ? `<td><input type="text" data-k="label" class="w-label" maxlength="80" value="${esc(f.label ?? "")}" placeholder="${esc(f.var)}" aria-label="${esc(t("lay.f.label"))}"></td>` : ""}
        <td class="lay-fmt">${format}</td>
        <td class="field-actions">${move(-1, "arrowUp", "export.up", i === 0)}${move(1, "arrowDown", "export.down", i === fields.length - 1)}
          <button type="button" class="icon-btn danger" data-act="remove" data-testid="lay-remove" title="${esc(t("lay.f.remove"))}" aria-label="${esc(t("lay.f.remove"))}">${icon("trash")}</button></td>
      </tr>`;
    }).join("");
    const total = fixed && fields.length ? pos[pos.length - 1][1] : null;
    return `<section class="lay-record" data-testid="lay-record-${rec}">
      <div class="lay-record-head"><h3>${esc(t("lay.rec." + rec))}</h3><span class="muted small">${esc(t("lay.rec." + rec + ".hint"))}</span>
        ${total !== null ? `<span class="spacer"></span><span class="small" data-testid="lay-linewidth-${rec}">${esc(widthText(total))}</span>` : ""}</div>
      ${fields.length ? `<div class="table-scroll"><table class="table compact lay-fields"><thead><tr><th class="num">#</th><th>${esc(t("lay.f.var"))}</th>
        ${fixed ? `<th>${esc(t("lay.f.pos"))}</th><th>${esc(t("lay.f.width"))}</th><th>${esc(t("lay.f.align"))}</th><th>${esc(t("lay.f.pad"))}</th>` : titled ? `<th>${esc(t("lay.f.label"))}</th>` : ""}
        <th>${esc(t("lay.f.format"))}</th><th></th></tr></thead><tbody>${rows}</tbody></table></div>` : `<p class="muted small lay-record-empty">${esc(t("lay.rec.empty"))}</p>`}
      <div class="lay-add"><select data-testid="lay-add-${rec}" data-add="${rec}" aria-label="${esc(t("lay.add"))}">
        <option value="">${esc(t("lay.add"))}</option>
        ${byGroup.map(([g, vs]) => `<optgroup label="${esc(t("lay.vgroup." + g))}">${vs.map((v) => opt(v.id, varLabel(v.id), false)).join("")}</optgroup>`).join("")}
      </select></div>
    </section>`;
  }

  function optionsHtml() {
    const l = st.cur;
    const fixed = l.format === "fixed";
    const sepLabel = { ";": "export.sep.semicolon", ",": "export.sep.comma", "\t": "export.sep.tab", "|": "lay.sep.pipe" };
    return `<div class="lay-options">
      <fieldset class="lay-box"><legend>${esc(t("lay.box.file"))}</legend>
        <label class="field"><span>${esc(t("enc.label"))}</span><select data-opt="encoding" data-testid="lay-encoding">
          ${ENCODINGS.map((e) => opt(e, t("enc." + e), (l.encoding || "utf-8") === e)).join("")}</select></label>
        ${fixed ? `
        <label class="field"><span>${esc(t("lay.lineEnd"))}</span><select data-opt="fixed.line_end" data-testid="lay-line-end">
          ${opt("crlf", t("lay.lineEnd.crlf"), l.fixed.line_end === "crlf")}${opt("lf", t("lay.lineEnd.lf"), l.fixed.line_end === "lf")}</select></label>
        <label class="field"><span>${esc(t("export.decimal"))}</span><select data-opt="fixed.decimal" data-testid="lay-fixed-decimal">
          ${opt(",", t("export.dec.comma"), l.fixed.decimal === ",")}${opt(".", t("export.dec.dot"), l.fixed.decimal === ".")}</select></label>
        <p class="muted small">${esc(t("lay.fixed.hint"))}</p>` : `
        <label class="field"><span>${esc(t("export.separator"))}</span><select data-opt="csv.separator" data-testid="lay-separator">
          ${SEPARATORS.map((s) => opt(s === "\t" ? "tab" : s, t(sepLabel[s]), l.csv.separator === s)).join("")}</select></label>
        <label class="field"><span>${esc(t("lay.quote"))}</span><select data-opt="csv.quote" data-testid="lay-quote">
          ${["necessary", "always", "never"].map((q) => opt(q, t("lay.quote." + q), l.csv.quote === q)).join("")}</select></label>
        <label class="field"><span>${esc(t("export.decimal"))}</span><select data-opt="csv.decimal" data-testid="lay-decimal">
          ${opt(",", t("export.dec.comma"), l.csv.decimal === ",")}${opt(".", t("export.dec.dot"), l.csv.decimal === ".")}</select></label>
        <label class="field"><span>${esc(t("lay.lineEnd"))}</span><select data-opt="csv.line_end" data-testid="lay-line-end">
          ${opt("crlf", t("lay.lineEnd.crlf"), l.csv.line_end === "crlf")}${opt("lf", t("lay.lineEnd.lf"), l.csv.line_end === "lf")}</select></label>
        <label class="check"><input type="checkbox" data-opt="csv.header" data-testid="lay-csv-header" ${l.csv.header ? "checked" : ""}><span>${esc(t("lay.csvHeader"))}</span></label>`}
      </fieldset>
      <fieldset class="lay-box"><legend>${esc(t("lay.box.dates"))}</legend>
        <label class="field"><span>${esc(t("lay.dateFormat"))}</span>${formatSelect('data-opt="date_format" data-testid="lay-date-format"', l.date_format, DATE_FORMATS)}</label>
        <label class="field"><span>${esc(t("lay.datetimeFormat"))}</span>${formatSelect('data-opt="datetime_format" data-testid="lay-datetime-format"', l.datetime_format, DATETIME_FORMATS)}</label>
      </fieldset>
      <fieldset class="lay-box"><legend>${esc(t("lay.box.billing"))}</legend>
        <label class="field"><span>${esc(t("lay.tolerance"))}</span><input type="number" min="0" max="2160" step="1" data-opt="billing.tolerance_hours" data-testid="lay-tolerance" value="${esc(l.billing.tolerance_hours)}"></label>
        <label class="check"><input type="checkbox" data-opt="billing.interpolate" data-testid="lay-interpolate" ${l.billing.interpolate ? "checked" : ""}><span>${esc(t("lay.interpolate"))}</span></label>
        <p class="muted small">${esc(t("lay.billing.hint"))}</p>
      </fieldset>
    </div>`;
  }

  function drawEditor() {
    if (!st.cur) {
      area.innerHTML = `<div class="card muted lay-hint" data-testid="lay-hint">${esc(t("lay.hint"))}</div>`;
      return;
    }
    const l = st.cur;
    const title = st.orig ? t("lay.edit", { name: st.orig }) : t("lay.new.title");
    area.innerHTML = `<form class="card lay-editor" data-testid="lay-editor" novalidate>
      <div class="card-head"><h2>${icon("edit")}<span data-testid="lay-title">${esc(title)}</span></h2>
        <span class="badge badge-warn" data-testid="lay-dirty" ${st.dirty ? "" : "hidden"}>${esc(t("lay.unsaved"))}</span></div>
      <div class="lay-top">
        <label class="field"><span>${esc(t("lay.name"))}</span><input type="text" data-opt="name" data-testid="lay-name" maxlength="80" value="${esc(l.name)}" required></label>
        <div class="field"><span>${esc(t("lay.format"))}</span><div class="segmented" role="group" aria-label="${esc(t("lay.format"))}">
          ${["csv", "fixed"].map((f) => `<button type="button" data-format="${f}" data-testid="lay-format-${f}" class="${l.format === f ? "active" : ""}" aria-pressed="${l.format === f}">${esc(t("lay.format." + f))}</button>`).join("")}</div></div>
        <label class="field"><span>${esc(t("lay.group"))}</span><select data-opt="group_id" data-testid="lay-group">
          ${opt("", t("lay.group.all"), l.group_id == null)}${st.groups.map((g) => opt(g.id, g.name, g.id === l.group_id)).join("")}</select></label>
      </div>
      ${optionsHtml()}
      <div class="lay-records" data-testid="lay-records">${RECORDS.map(recordHtml).join("")}</div>
      <div class="lay-run">
        <label class="inline-field"><span>${esc(t("export.from"))}</span><input type="date" data-testid="lay-from" value="${esc(st.from)}"></label>
        <label class="inline-field"><span>${esc(t("export.to"))}</span><input type="date" data-testid="lay-to" value="${esc(st.to)}"></label>
        <button type="button" class="btn" data-testid="lay-preview" ${canRun ? "" : deny(PERM_RUN)}>${icon("search")}<span>${esc(t("lay.preview"))}</span></button>
        <button type="button" class="btn" data-testid="lay-dry-run" ${canRun ? "" : deny(PERM_RUN)}>${icon("reports")}<span>${esc(t("lay.dryRun"))}</span></button>
        <span class="spacer"></span>
        ${canEdit ? `<button type="submit" class="btn" data-testid="lay-save">${icon("check")}<span>${esc(t("lay.save"))}</span></button>` : ""}
        <button type="button" class="btn btn-primary" data-testid="lay-run" ${canRun ? "" : deny(PERM_RUN)}>${icon("download")}<span>${esc(t("lay.run"))}</span></button>
      </div>
      <div class="lay-confirm" data-testid="lay-confirm" role="alertdialog" hidden></div>
      <p class="toolbar-msg lay-msg" data-testid="lay-msg" aria-live="polite"></p>
      <div class="lay-out" data-testid="lay-out"></div>
    </form>`;
    if (st.out) area.querySelector('[data-testid="lay-out"]').innerHTML = st.out;
    wireEditor();
  }

  function markDirty() {
    st.dirty = true;
    const b = area.querySelector('[data-testid="lay-dirty"]');
    if (b) b.hidden = false;
  }

  function redrawRecord(rec) {
    const sec = area.querySelector(`[data-testid="lay-record-${rec}"]`);
    if (sec) sec.outerHTML = recordHtml(rec);
  }

  function setOpt(path, el) {
    const l = st.cur;
    let v = el.type === "checkbox" ? el.checked : el.value;
    if (path === "csv.separator" && v === "tab") v = "\t";
    if (path === "billing.tolerance_hours") v = Number(v);
    if (path === "group_id") v = v === "" ? null : Number(v);
    const [a, b] = path.split(".");
    if (b) l[a][b] = v; else l[a] = v;
    // The separator and the decimal mark must differ.
    if (path === "csv.separator" && l.csv.separator === l.csv.decimal) { l.csv.decimal = l.csv.separator === "," ? "." : ","; const d = area.querySelector('[data-opt="csv.decimal"]'); if (d) d.value = l.csv.decimal; }
    if (path === "csv.decimal" && l.csv.separator === l.csv.decimal) { l.csv.separator = ";"; const s = area.querySelector('[data-opt="csv.separator"]'); if (s) s.value = ";"; }
  }

  /** A format select whose "Other…" entry asks for a pattern. Returns the chosen value or null. */
  function askFormat(sel, current) {
    if (sel.value !== "__custom") return sel.value;
    const v = prompt(t("lay.fmt.prompt"), current || "%d/%m/%Y");
    if (v === null || !v.trim()) { sel.value = current || ""; return null; }
    const o = document.createElement("option");
    o.value = v.trim(); o.textContent = strftime(v.trim());
    sel.insertBefore(o, sel.querySelector('option[value="__custom"]'));
    sel.value = v.trim();
    return v.trim();
  }

  function wireEditor() {
    const form = area.querySelector('[data-testid="lay-editor"]');
    const msg = area.querySelector('[data-testid="lay-msg"]');
    const out = area.querySelector('[data-testid="lay-out"]');
    const l = st.cur;

    form.addEventListener("click", (e) => {
      const fb = e.target.closest("[data-format]");
      if (fb) {
        if (l.format === fb.dataset.format) return;
        l.format = fb.dataset.format;
        // A byte-order mark is for Excel's CSV; fixed-width files start with their first record.
        if (l.format === "fixed" && l.encoding === "utf-8-bom") l.encoding = "utf-8";
        if (l.format === "fixed") for (const rec of RECORDS) for (const f of l[rec]) if (!f.width) f.width = defaultWidth(f, l);
        markDirty();
        st.out = null;
        drawEditor();
        return;
      }
      const b = e.target.closest("[data-act]");
      if (!b) return;
      const tr = b.closest("tr[data-rec]");
      const rec = tr.dataset.rec, i = Number(tr.dataset.i);
      const fields = l[rec];
      if (b.dataset.act === "remove") fields.splice(i, 1);
      if (b.dataset.act === "move") {
        const j = i + Number(b.dataset.d);
        if (j < 0 || j >= fields.length) return;
        [fields[i], fields[j]] = [fields[j], fields[i]];
      }
      markDirty();
      redrawRecord(rec);
      if (b.dataset.act === "move") {
        const again = area.querySelector(`tr[data-rec="${rec}"][data-i="${i + Number(b.dataset.d)}"] [data-act="move"][data-d="${b.dataset.d}"]`);
        if (again && !again.disabled) again.focus();
      }
    });

    const onField = (e) => {
      const el = e.target;
      const tr = el.closest("tr[data-rec]");
      if (!tr || !el.dataset.k) return;
      const f = l[tr.dataset.rec][Number(tr.dataset.i)];
      const k = el.dataset.k;
      if (k === "date_format") {
        if (e.type !== "change") return;
        const v = askFormat(el, f.date_format);
        if (v === null) return;
        f.date_format = v || undefined;
      } else if (el.type === "checkbox") f[k] = el.checked;
      else if (k === "width" || k === "decimals") f[k] = el.value === "" ? undefined : Math.round(Number(el.value));
      else f[k] = el.value === "" ? undefined : el.value;
      if (k === "text" && l.format === "fixed" && (f.text || "").length > (f.width || 0)) {
        f.width = f.text.length;
        const w = tr.querySelector('[data-k="width"]');
        if (w) w.value = f.width;
      }
      if (k === "width" || k === "text") {
        const rec = tr.dataset.rec;
        const pos = positions(l[rec]);
        area.querySelectorAll(`tr[data-rec="${rec}"] .lay-pos`).forEach((td, i) => { td.textContent = pos[i][1] >= pos[i][0] ? `${pos[i][0]}–${pos[i][1]}` : "?"; });
        const tw = area.querySelector(`[data-testid="lay-linewidth-${rec}"]`);
        if (tw && pos.length) tw.textContent = widthText(pos[pos.length - 1][1]);
      }
      markDirty();
    };
    form.addEventListener("input", onField);
    form.addEventListener("change", (e) => {
      const el = e.target;
      if (el.dataset.add) {
        if (!el.value) return;
        const rec = el.dataset.add;
        l[rec].push(newField(el.value, l));
        markDirty();
        redrawRecord(rec);
        const added = area.querySelector(`[data-testid="lay-record-${rec}"] tr[data-i="${l[rec].length - 1}"]`);
        if (added) { added.classList.add("just-added"); const first = added.querySelector("input, select"); if (first) first.focus(); }
        return;
      }
      if (el.dataset.k) { if (el.dataset.k === "date_format" || el.type === "checkbox" || el.tagName === "SELECT") onField(e); return; }
      if (el.dataset.opt) {
        if (el.dataset.opt === "date_format" || el.dataset.opt === "datetime_format") {
          const v = askFormat(el, l[el.dataset.opt]);
          if (v === null || v === "") return;
          l[el.dataset.opt] = v;
          markDirty();
          redrawRecord("fields"); redrawRecord("header"); redrawRecord("trailer");
          return;
        }
        setOpt(el.dataset.opt, el);
        markDirty();
        if (el.dataset.opt === "csv.header") st.out = null;
      }
      if (el.matches('[data-testid="lay-from"]')) st.from = el.value;
      if (el.matches('[data-testid="lay-to"]')) st.to = el.value;
    });
    form.addEventListener("input", (e) => {
      const el = e.target;
      if (el.dataset.opt === "name" || el.dataset.opt === "billing.tolerance_hours") { setOpt(el.dataset.opt, el); markDirty(); }
    });
    form.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && e.target.tagName === "INPUT" && e.target.type !== "submit") e.preventDefault();
    });

    const period = () => {
      if (!isIsoDate(st.from) || !isIsoDate(st.to)) throw new Error(t("rep.err.dates"));
      if (st.to < st.from) throw new Error(t("export.badPeriod"));
      return { from: st.from, to: st.to };
    };
    const busy = (on) => form.querySelectorAll(".lay-run button").forEach((b) => { if (on) { b.dataset.was = b.disabled ? "1" : ""; b.disabled = true; } else b.disabled = b.dataset.was === "1"; });
    const fail = (e) => say(msg, layoutErrorText(e), "error");
    const show = (html) => { st.out = html; out.innerHTML = html; };

    async function save() {
      const layout = cleanLayout(l);
      if (!layout.name) { say(msg, t("lay.err.name"), "error"); form.querySelector('[data-testid="lay-name"]').focus(); throw null; }
      // Saving a new or renamed layout under another one's name would replace that one.
      if (st.orig !== layout.name && (st.layouts || []).some((x) => x.name === layout.name)) {
        say(msg, t("lay.err.nameTaken", { name: layout.name }), "error");
        form.querySelector('[data-testid="lay-name"]').focus();
        throw null;
      }
      // Renamed: one call saves it under the new name and moves its scheduled exports along
      // (refused if another layout has that name).
      const renamed = st.orig && st.orig !== layout.name;
      const r = await call("export_layout_save", renamed ? { layout, previous_name: st.orig } : { layout });
      st.moved = (r && r.jobs_moved) || [];
      st.orig = layout.name;
      st.dirty = false;
      area.querySelector('[data-testid="lay-dirty"]').hidden = true;
      area.querySelector('[data-testid="lay-title"]').textContent = t("lay.edit", { name: layout.name });
      await loadList();
    }

    // "Save changes?": saving a layout replaces what every run and scheduled export of it
    // uses, so it is asked, naming the layout (a new layout is saved at once).
    function askSave() {
      const bar = area.querySelector('[data-testid="lay-confirm"]');
      bar.innerHTML = `<span>${icon("warning")}${esc(t("lay.confirmSave", { name: st.orig }))}</span>
        <button type="button" class="btn btn-primary" data-testid="lay-confirm-save">${esc(t("lay.save"))}</button>
        <button type="button" class="btn btn-ghost" data-testid="lay-confirm-cancel">${esc(t("groups.cancel"))}</button>`;
      bar.hidden = false;
      bar.querySelector('[data-testid="lay-confirm-save"]').focus();
    }
    form.addEventListener("click", (e) => {
      if (e.target.closest('[data-testid="lay-save-after"]')) { e.preventDefault(); if (st.orig) askSave(); else form.requestSubmit(); }
      if (e.target.closest('[data-testid="lay-confirm-cancel"]')) { const bar = area.querySelector('[data-testid="lay-confirm"]'); bar.hidden = true; bar.innerHTML = ""; }
      if (e.target.closest('[data-testid="lay-confirm-save"]')) { const bar = area.querySelector('[data-testid="lay-confirm"]'); bar.hidden = true; bar.innerHTML = ""; doSave(); }
    });
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      if (st.orig && st.dirty) { askSave(); return; }
      doSave();
    });
    async function doSave() {
      busy(true);
      try {
        await save();
        const moved = st.moved.length ? " " + t(st.moved.length === 1 ? "lay.saved.moved1" : "lay.saved.moved", { jobs: jobNames(st.moved.map((name) => ({ name }))) }) : "";
        say(msg, t("lay.saved", { name: st.orig }) + moved, "ok");
        const note = area.querySelector('[data-testid="lay-ran-unsaved"]');
        if (note) note.remove();
      } catch (err) { if (err) fail(err); } finally { busy(false); }
    }

    form.querySelector('[data-testid="lay-preview"]').addEventListener("click", async () => {
      busy(true);
      say(msg, t("common.loading"));
      try {
        const p = period();
        const r = await call("export_layout_preview", { layout: cleanLayout(l), ...p, limit: PREVIEW_LINES });
        if (!alive) return;
        const errs = r.errors || [];
        say(msg, "");
        show(`<div class="lay-summary" data-testid="lay-summary">
            <span><b data-testid="lay-rows" data-rows="${r.total_rows}">${esc(fmtInt(r.total_rows))}</b> ${esc(t("lay.preview.rows", { from: localDate(p.from), to: localDate(p.to) }))}</span>
            ${errs.length ? `<span class="badge badge-error">${esc(t("lay.preview.blocked"))}</span>` : `<span class="badge badge-active">${esc(t("lay.preview.ok"))}</span>`}
            <span class="muted small">${esc(t("lay.preview.first", { n: fmtInt(r.lines.length) }))}</span></div>
          ${problemsHtml(errs, r.warnings)}
          ${fileView(r.lines || [], l, r.total_rows, errs)}`);
      } catch (e) { if (alive) fail(e); } finally { if (alive) busy(false); }
    });

    // Dry run and run take the layout on screen; they never save it (issue 15). With unsaved
    // edits, the result says so and offers to save them (asked, like every save).
    const onScreen = (p) => ({ layout: cleanLayout(l), ...(st.orig ? { name: st.orig } : {}), ...p });
    const unsavedNote = () => st.dirty || !st.orig
      ? `<div class="lay-unsaved-note warn-text" data-testid="lay-ran-unsaved">${esc(t(st.orig ? "lay.ranUnsaved" : "lay.ranNew"))}
          ${canEdit ? `<button type="button" class="btn btn-ghost" data-testid="lay-save-after">${icon("check")}<span>${esc(t("lay.saveChanges"))}</span></button>` : ""}</div>`
      : "";

    form.querySelector('[data-testid="lay-dry-run"]').addEventListener("click", async () => {
      busy(true);
      try {
        const p = period();
        say(msg, t("common.loading"));
        const d = await call("export_layout_dry_run", onScreen(p));
        if (!alive) return;
        say(msg, "");
        show(unsavedNote() + dryRunHtml(d));
      } catch (e) { if (alive && e) fail(e); } finally { if (alive) busy(false); }
    });

    form.querySelector('[data-testid="lay-run"]').addEventListener("click", async () => {
      busy(true);
      try {
        const p = period();
        say(msg, t("export.busy"));
        const r = await call("export_layout_run", onScreen(p));
        if (!alive) return;
        const name = r.file_name || r.filename;
        if (r.content_base64 !== undefined) downloadFile(name, base64Bytes(r.content_base64), "application/octet-stream");
        else downloadFile(name, r.content, l.format === "csv" ? "text/csv;charset=utf-8" : "text/plain;charset=utf-8");
        say(msg, "");
        show(`<div class="lay-summary ok-line" data-testid="lay-ran" data-rows="${r.rows}" data-file="${esc(name)}">${icon("check")}
            <span>${esc(t("lay.ran", { rows: fmtInt(r.rows), file: name }))}</span>
            <span class="muted small mono" title="SHA-256 ${esc(r.sha256 || "")}">SHA-256 ${esc((r.sha256 || "").slice(0, 12))}…</span></div>
          ${unsavedNote()}${problemsHtml([], r.warnings)}`);
        loadList();
      } catch (e) { if (alive && e) fail(e); } finally { if (alive) busy(false); }
    });
  }

  // --- start ---
  const loads = [
    st.vars ? Promise.resolve() : call("export_variables", {}).then((v) => { st.vars = v; }),
    call("groups_list", {}).then((g) => { st.groups = g; }).catch(() => {}),
  ];
  drawEditor();
  Promise.all(loads).then(() => { if (alive) drawEditor(); }).catch((e) => {
    if (alive) area.innerHTML = `<div class="card error-text">${esc(t("common.error", { message: errorText(e) }))}</div>`;
  });
  loadList();
  if (ctx.guardLeave) {
    ctx.guardLeave({
      question: () => (alive && st.cur && st.dirty ? t("lay.leave", { name: st.orig || st.cur.name || "" }) : null),
      discard: () => { st.cur = null; st.orig = null; st.dirty = false; st.out = null; },
    });
  }
  return () => { alive = false; };
}
