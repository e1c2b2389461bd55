// Parts of the drive-by import report (views/import.js): the counts in words (conflicts, heard
// devices, telegrams kept undecoded, an interrupted import completed), the table of readings in
// conflict, and a rejected line's reason worded from its code.
import { t, fmtInt, fmtNumber, fmtDateTime, fmtDate, registerLabel, unitLabel, rejectLabel, reasonText } from "../i18n.js";
import { icon } from "../icons.js";
import { esc } from "../dom.js";

// Canonical unit of each register (crates/core/src/model.rs `Register::unit`).
const UNITS = {
  volume: "m3", target_volume: "m3", energy: "kWh", a_plus: "kWh", a_minus: "kWh", target_energy: "kWh", target_hca: "",
  p_plus: "W", p_minus: "W", power: "W", flow: "m3/h", flow_temp: "C", return_temp: "C",
};
// Reject codes whose `reason` is English text the clerk should not read in French: the label says it all.
const WORDED_ONLY = new Set(["implausible_time"]);

const sum = (files, k) => files.reduce((n, f) => n + (f[k] || 0), 0);
const plural = (key, count, params) => t(key + (count === 1 ? ".one" : ".other"), { count: fmtInt(count), ...params });

function valueText(register, v) {
  if (v === null || v === undefined) return t("common.none");
  if (register === "target_date") return fmtDate(v * 86400);
  const unit = UNITS[register];
  return fmtNumber(v, 3) + (unit ? " " + unitLabel(unit) : "");
}

/** Sentences under the summary: conflicts, heard devices (with a link to their screen), undecoded, completed. */
export function reportNotesHtml(files) {
  const conflicts = sum(files, "conflicts");
  const heard = sum(files, "heard");
  const undecoded = sum(files, "kept_undecoded");
  const notes = [];
  if (conflicts) notes.push(`<li data-testid="import-conflicts-note" class="warn-text">${esc(plural("import.conflicts", conflicts))}</li>`);
  if (heard) {
    notes.push(`<li data-testid="import-heard-note">${esc(plural("import.heard", heard, { devices: fmtInt(sum(files, "heard_devices")) }))}
      <a class="btn btn-ghost" href="#/heard" data-testid="import-heard-link">${icon("antenna")}<span>${esc(t("import.heard.open"))}</span></a></li>`);
  }
  if (undecoded) notes.push(`<li data-testid="import-undecoded-note">${esc(plural("import.undecoded", undecoded))}</li>`);
  // Lines dated in the future (a terminal's or concentrator's clock ahead): refused, never
  // the meter's "last seen"; counted apart with their line numbers.
  const future = sum(files, "future");
  if (future) {
    const lines = files.flatMap((f) => (f.future_lines || []).map((n) => (files.length > 1 ? `${f.name}:${n}` : String(n))));
    const more = future > lines.length ? " …" : "";
    notes.push(`<li data-testid="import-future-note" data-count="${future}" class="warn-text">${esc(plural("import.future", future, { lines: lines.join(", ") + more }))}</li>`);
  }
  for (const f of files) {
    if (f.completes_interrupted_at !== null && f.completes_interrupted_at !== undefined) {
      notes.push(`<li data-testid="import-completes-note">${esc(t("import.completes", { name: f.name, line: fmtInt(f.completes_interrupted_at) }))}</li>`);
    }
  }
  return notes.length ? `<ul class="import-notes" data-testid="import-notes">${notes.join("")}</ul>` : "";
}

/** The table of readings not stored because another value was there (first kept). */
export function conflictsHtml(files) {
  const rows = [];
  for (const f of files) for (const c of f.conflict_list || []) rows.push({ file: f.name, ...c });
  if (!rows.length) return "";
  const many = files.length > 1;
  const capped = files.some((f) => (f.conflicts || 0) > (f.conflict_list || []).length);
  return `<h3>${esc(t("import.conflict.title"))} <span class="muted">(${fmtInt(sum(files, "conflicts"))})</span></h3>
    ${capped ? `<p class="muted small">${esc(t("import.conflict.capped"))}</p>` : ""}
    <div class="table-scroll rejected-scroll"><table class="table compact" data-testid="conflict-table">
      <thead><tr>${many ? `<th>${esc(t("import.conflict.file"))}</th>` : ""}<th class="num">${esc(t("import.conflict.line"))}</th><th>${esc(t("import.conflict.meter"))}</th><th>${esc(t("import.conflict.register"))}</th><th>${esc(t("import.conflict.time"))}</th><th class="num">${esc(t("import.conflict.kept"))}</th><th class="num">${esc(t("import.conflict.other"))}</th></tr></thead>
      <tbody>${rows.map((c) => `<tr data-testid="conflict-row" data-line="${c.line}" data-serial="${esc(c.serial)}">${many ? `<td>${esc(c.file)}</td>` : ""}<td class="num mono">${fmtInt(c.line)}</td><td class="mono">${esc(c.serial)}</td><td>${esc(registerLabel(c.register))}</td><td>${esc(fmtDateTime(c.ts))}</td><td class="num" title="${esc(c.kept_telegram || "")}"><b>${esc(valueText(c.register, c.kept_value))}</b></td><td class="num muted" title="${esc(c.other_telegram || "")}">${esc(valueText(c.register, c.other_value))}</td></tr>`).join("")}</tbody>
    </table></div>`;
}

/** A rejected line's reason: the words for its code, the core's text as a detail (or a tooltip when English-only). */
export function rejectReasonHtml(x) {
  const label = rejectLabel(x.code);
  // A bad line with a reason code (`not_hex`, `odd_hex`, ...): its words from the code and values.
  const worded = x.params && x.params.reason ? reasonText(x.params.reason, x.params) : null;
  if (label && worded) return `<b class="reject-label">${esc(label)}</b> <span class="muted small" title="${esc(x.reason || "")}">${esc(worded)}</span>`;
  if (!label) return esc(x.reason || x.code);
  if (WORDED_ONLY.has(x.code)) return `<b class="reject-label" title="${esc(x.reason || "")}">${esc(label)}</b>`;
  return `<b class="reject-label">${esc(label)}</b> <span class="muted small">${esc(x.reason || "")}</span>`;
}
