// Export, two tabs. Billing layouts (export-layouts.js): saved per-meter billing files, CSV or
// fixed width, edited, previewed, dry-run and run. Quick export: the readings of a period as CSV
// with chosen columns (export_readings), streamed (api.js `callFile`): a progress bar of the
// rows written of those expected, and a cancel.
import { call, callFile } from "../api.js";
import { t, getLocale, fmtInt, fmtPercent, errorText, isoDateInTz } from "../i18n.js";
import { icon } from "../icons.js";
import { esc, addDays, firstOfMonthsAgo, isIsoDate } from "../dom.js";
import * as layoutsTab from "./export-layouts.js";

const TABS = ["layouts", "quick"];
let currentTab = "layouts";

// Kept while the clerk moves around; null fields are filled with defaults.
const st = { from: null, to: null, groupId: "", separator: null, decimal: null, columns: null, result: null };

function defaultsByLocale() {
  return getLocale() === "fr" ? { separator: ";", decimal: "," } : { separator: ",", decimal: "." };
}

export function render(root, ctx) {
  if (!ctx.can("export")) {
    root.innerHTML = `<div class="page-head"><h1>${icon("export")}<span>${esc(t("export.title"))}</span></h1></div>
      <div class="card placeholder-card"><div class="placeholder-icon">${icon("export")}</div><p>${esc(t("export.denied"))}</p></div>`;
    return;
  }
  if (TABS.includes(ctx.params.tab)) currentTab = ctx.params.tab;
  root.innerHTML = `<div class="page-head"><div><h1>${icon("export")}<span>${esc(t("export.title"))}</span></h1>
      <p class="muted">${esc(t("export.pageIntro"))}</p></div></div>
    <div class="segmented tabs" role="tablist">
      ${TABS.map((k) => `<button role="tab" data-tab="${k}" data-testid="export-tab-${k}">${esc(t("export.tab." + k))}</button>`).join("")}
    </div>
    <div id="export-body"></div>`;
  const body = root.querySelector("#export-body");
  let inner = null;
  const show = () => {
    if (typeof inner === "function") inner();
    root.querySelectorAll("[data-tab]").forEach((b) => {
      b.classList.toggle("active", b.dataset.tab === currentTab);
      b.setAttribute("aria-selected", String(b.dataset.tab === currentTab));
    });
    inner = currentTab === "quick" ? renderQuick(body, ctx) : layoutsTab.render(body, ctx);
  };
  root.querySelectorAll("[data-tab]").forEach((b) => b.addEventListener("click", () => {
    if (b.dataset.tab === currentTab) return;
    currentTab = b.dataset.tab;
    history.replaceState(null, "", currentTab === "quick" ? "#/export/quick" : "#/export");
    show();
  }));
  show();
  return () => { if (typeof inner === "function") inner(); };
}

/** The quick export: readings of a period, chosen columns, CSV. */
function renderQuick(root, ctx) {
  if (!st.from) {
    const today = isoDateInTz(Math.floor(Date.now() / 1000));
    const firstThis = firstOfMonthsAgo(today, 0);
    st.from = firstOfMonthsAgo(today, 1);
    st.to = addDays(firstThis, -1);
  }
  const def = defaultsByLocale();
  const sep = st.separator ?? def.separator;
  const dec = st.decimal ?? def.decimal;
  const colLabel = (c) => (getLocale() === "fr" ? c.label_fr : c.label_en) || c.id;
  // Every reading is interval data: offered only to who may see it; others export one a day.
  const intervals = ctx.can("view_intervals");
  const gran = intervals ? (st.granularity || "readings") : "days";
  // For a French Excel: UTF-8 with BOM (or Windows-1252), French titles and dates.
  const enc = st.encoding ?? (getLocale() === "fr" ? "utf-8-bom" : "utf-8");
  const french = st.french ?? getLocale() === "fr";

  root.innerHTML = `<div class="export-layout">
      <section class="card">
        <p class="muted">${esc(t("export.intro"))}</p>
        <div class="form-grid">
          <label class="field"><span>${esc(t("export.from"))}</span><input type="date" data-testid="export-from" value="${esc(st.from)}"></label>
          <label class="field"><span>${esc(t("export.to"))}</span><input type="date" data-testid="export-to" value="${esc(st.to)}"></label>
          <label class="field"><span>${esc(t("export.group"))}</span><select data-testid="export-group"><option value="">${esc(t("meters.group.all"))}</option></select></label>
          <label class="field"><span>${esc(t("export.separator"))}</span><select data-testid="export-separator">
            <option value=";" ${sep === ";" ? "selected" : ""}>${esc(t("export.sep.semicolon"))}</option>
            <option value="," ${sep === "," ? "selected" : ""}>${esc(t("export.sep.comma"))}</option>
            <option value="tab" ${sep === "\t" ? "selected" : ""}>${esc(t("export.sep.tab"))}</option></select></label>
          <label class="field"><span>${esc(t("export.decimal"))}</span><select data-testid="export-decimal">
            <option value="," ${dec === "," ? "selected" : ""}>${esc(t("export.dec.comma"))}</option>
            <option value="." ${dec === "." ? "selected" : ""}>${esc(t("export.dec.dot"))}</option></select></label>
          <label class="field"><span>${esc(t("export.granularity"))}</span><select data-testid="export-granularity">
            ${(intervals ? ["readings", "days"] : ["days"]).map((g) => `<option value="${g}" ${g === gran ? "selected" : ""}>${esc(t("export.granularity." + g))}</option>`).join("")}</select></label>
          <label class="field"><span>${esc(t("enc.label"))}</span><select data-testid="export-encoding">
            ${["utf-8-bom", "utf-8", "windows-1252"].map((e) => `<option value="${e}" ${e === enc ? "selected" : ""}>${esc(t("enc." + e))}</option>`).join("")}</select></label>
          <label class="check"><input type="checkbox" data-testid="export-french" ${french ? "checked" : ""}><span>${esc(t("export.french"))}</span></label>
        </div>
        ${intervals ? "" : `<p class="muted small" data-testid="export-daily-note">${esc(t("pd.daily"))}</p>`}
        <div class="export-actions">
          <button class="btn btn-primary" data-testid="export-button">${icon("export")}<span>${esc(t("export.run"))}</span></button>
          <span class="export-result" data-testid="export-result" role="status"></span>
        </div>
        <div class="export-progress" data-testid="export-progress-area" hidden>
          <div class="progress-row">
            <div class="progress" role="progressbar" data-testid="export-progress" aria-valuemin="0" aria-valuemax="100" aria-valuenow="0"><div class="progress-fill" style="width:0%"></div></div>
            <button type="button" class="btn" data-testid="export-cancel">${esc(t("export.cancel"))}</button>
          </div>
          <div class="progress-text muted" data-testid="export-progress-text"></div>
        </div>
      </section>
      <section class="card">
        <h2>${esc(t("export.columns"))}</h2>
        <p class="muted small">${esc(t("export.columns.hint"))}</p>
        <ul class="col-list" data-testid="export-columns"><li class="muted">${esc(t("common.loading"))}</li></ul>
      </section>
    </div>`;

  const q = (s) => root.querySelector(`[data-testid="${s}"]`);
  const fromEl = q("export-from"), toEl = q("export-to"), groupEl = q("export-group");
  const sepEl = q("export-separator"), decEl = q("export-decimal"), btn = q("export-button"), out = q("export-result");
  const colList = q("export-columns");
  let alive = true;
  let running = null;

  const paintColumns = () => {
    colList.innerHTML = st.columns.map((c, i) => `<li data-col="${esc(c.id)}">
      <label class="check"><input type="checkbox" data-testid="col-${esc(c.id)}" ${c.on ? "checked" : ""} data-i="${i}"><span>${esc(colLabel(c))}</span></label>
      <span class="col-moves">
        <button class="icon-btn" data-move="-1" data-i="${i}" title="${esc(t("export.up"))}" aria-label="${esc(t("export.up"))}" ${i === 0 ? "disabled" : ""}>${icon("arrowUp")}</button>
        <button class="icon-btn" data-move="1" data-i="${i}" title="${esc(t("export.down"))}" aria-label="${esc(t("export.down"))}" ${i === st.columns.length - 1 ? "disabled" : ""}>${icon("arrowDown")}</button>
      </span></li>`).join("");
  };
  colList.addEventListener("change", (e) => {
    const i = Number(e.target.dataset.i);
    if (!Number.isNaN(i)) st.columns[i].on = e.target.checked;
  });
  colList.addEventListener("click", (e) => {
    const b = e.target.closest("[data-move]");
    if (!b) return;
    const i = Number(b.dataset.i), j = i + Number(b.dataset.move);
    if (j < 0 || j >= st.columns.length) return;
    [st.columns[i], st.columns[j]] = [st.columns[j], st.columns[i]];
    paintColumns();
    const again = colList.querySelector(`[data-move="${b.dataset.move}"][data-i="${j}"]`);
    if (again && !again.disabled) again.focus();
  });
  if (st.columns) paintColumns();
  else call("export_columns", {}).then((cols) => {
    st.columns = cols.map((c) => ({ ...c, on: true }));
    if (alive) paintColumns();
  }).catch((e) => { if (alive) colList.innerHTML = `<li class="error-text">${esc(errorText(e))}</li>`; });

  call("groups_list", {}).then((gs) => {
    if (!alive) return;
    groupEl.innerHTML = `<option value="">${esc(t("meters.group.all"))}</option>` + gs.map((g) => `<option value="${g.id}">${esc(g.name)}</option>`).join("");
    groupEl.value = st.groupId;
  }).catch(() => {});

  fromEl.addEventListener("change", () => { st.from = fromEl.value; });
  toEl.addEventListener("change", () => { st.to = toEl.value; });
  groupEl.addEventListener("change", () => { st.groupId = groupEl.value; });
  sepEl.addEventListener("change", () => {
    st.separator = sepEl.value === "tab" ? "\t" : sepEl.value;
    // A comma separator with a comma decimal would break the columns.
    if (st.separator === "," && decEl.value === ",") { decEl.value = "."; st.decimal = "."; }
  });
  decEl.addEventListener("change", () => {
    st.decimal = decEl.value;
    if (st.decimal === "," && sepEl.value === ",") { sepEl.value = ";"; st.separator = ";"; }
  });

  if (st.result) out.innerHTML = st.result;

  btn.addEventListener("click", async () => {
    out.className = "export-result";
    if (!isIsoDate(st.from) || !isIsoDate(st.to) || st.from > st.to) {
      out.textContent = t("export.badPeriod"); out.classList.add("error-text"); return;
    }
    const cols = (st.columns || []).filter((c) => c.on).map((c) => c.id);
    if (st.columns && !cols.length) { out.textContent = t("export.noColumns"); out.classList.add("error-text"); return; }
    const args = {
      from: st.from, to: st.to,
      separator: sepEl.value === "tab" ? "\t" : sepEl.value,
      decimal: decEl.value,
      granularity: q("export-granularity").value,
      encoding: q("export-encoding").value,
      french: q("export-french").checked,
    };
    st.encoding = args.encoding;
    st.french = args.french;
    st.granularity = args.granularity;
    if (st.columns) args.columns = cols;
    if (st.groupId) args.group_id = Number(st.groupId);
    btn.disabled = true;
    out.textContent = t("export.busy");
    const area = q("export-progress-area"), bar = q("export-progress"), fill = bar.querySelector(".progress-fill");
    const text = q("export-progress-text"), cancelBtn = q("export-cancel");
    const paint = ({ rows, expected }) => {
      if (!alive) return;
      const ratio = expected > 0 ? Math.min(1, rows / expected) : 0;
      fill.style.width = (ratio * 100).toFixed(1) + "%";
      bar.setAttribute("aria-valuenow", String(Math.round(ratio * 100)));
      bar.dataset.rows = String(rows);
      text.textContent = t("export.progress", { rows: fmtInt(rows), expected: fmtInt(expected), pct: fmtPercent(ratio) });
    };
    const abort = new AbortController();
    running = abort;
    const onCancel = () => { cancelBtn.disabled = true; abort.abort(); };
    cancelBtn.disabled = false;
    cancelBtn.hidden = false;
    cancelBtn.addEventListener("click", onCancel);
    fill.classList.remove("done");
    paint({ rows: 0, expected: 0 });
    area.hidden = false;
    try {
      const res = await callFile("export_readings", args, { onProgress: paint, signal: abort.signal });
      if (!res) {
        // The clerk closed the save dialog: nothing was exported.
        st.result = "";
        if (alive) { out.textContent = ""; area.hidden = true; }
        return;
      }
      st.result = `${icon("check")}<span data-testid="export-rows" data-rows="${res.rows}">${esc(t("export.done", { rows: fmtInt(res.rows), filename: res.file_name }))}</span>`;
      if (alive) {
        paint({ rows: res.rows, expected: res.rows });
        fill.classList.add("done");
        out.innerHTML = st.result; out.classList.add("ok-text");
      }
    } catch (e) {
      if (e && e.code === "cancelled") {
        st.result = "";
        if (alive) { out.textContent = t("export.cancelled"); area.hidden = true; }
      } else if (alive) { out.textContent = t("common.error", { message: errorText(e) }); out.classList.add("error-text"); area.hidden = true; }
    } finally {
      running = null;
      cancelBtn.removeEventListener("click", onCancel);
      cancelBtn.disabled = true;
      cancelBtn.hidden = true;
      if (alive) btn.disabled = false;
    }
  });
  // Leaving the screen cancels a running export (its rows would be saved nowhere).
  return () => { alive = false; if (running) running.abort(); };
}
