// LoRaWAN connected objects: the yearly count the convention asks for (report_objects_count
// on screen, report_objects as PDF or CSV; the parties and agreement in objects_settings,
// changed with `settings`), and the registry (lorawan_devices: DevEUI, brand, model, payload
// format, address, commune, commissioning, last uplink, uplinks) with a text filter and a CSV
// import (lorawan_devices_import, needs `settings`; a file with a bad line is refused whole,
// its lines listed by number).
import { call, importFile } from "../api.js";
import { t, tOr, fmtInt, fmtDateTime, errorText, getLocale, isoDateInTz } from "../i18n.js";
import { icon } from "../icons.js";
import { esc, debounce, downloadFile, base64Bytes } from "../dom.js";

const PAGE = 50;
const state = { filter: "", offset: 0, year: null };

/** A calendar date `YYYY-MM-DD` in the clerk's language (05/12/2026, 5 Dec 2026). */
function dayText(ymd) {
  if (!ymd) return t("common.none");
  const [y, m, d] = ymd.split("-").map(Number);
  if (!y || !m || !d) return ymd;
  const opts = getLocale() === "fr" ? { day: "2-digit", month: "2-digit", year: "numeric" } : { day: "numeric", month: "short", year: "numeric" };
  return new Intl.DateTimeFormat(getLocale() === "fr" ? "fr-FR" : "en-GB", { timeZone: "UTC", ...opts }).format(new Date(Date.UTC(y, m - 1, d)));
}

export function render(root, ctx) {
  const canExport = ctx.can("export");
  const canSettings = ctx.can("settings");
  const canImport = ctx.can("settings");
  const thisYear = Number(isoDateInTz(Math.floor(Date.now() / 1000)).slice(0, 4));
  if (!state.year) state.year = thisYear;
  let alive = true;
  let seq = 0;
  root.innerHTML = `
    <div class="page-head"><div><h1>${icon("antenna")}<span>${esc(t("lw.title"))}</span></h1>
      <p class="muted">${esc(t("lw.intro"))}</p></div></div>
    <section class="card lw-count" data-testid="lw-count">
      <h2>${icon("file")}<span>${esc(t("lw.count.title"))}</span></h2>
      <p class="muted small">${esc(t("lw.count.intro"))}</p>
      <div class="export-actions">
        <label class="field"><span>${esc(t("lw.count.year"))}</span>
          <input type="number" min="1970" max="2200" step="1" data-testid="lw-year" value="${state.year}" style="width:110px"></label>
        <button class="btn btn-primary" data-testid="lw-pdf" ${canExport ? "" : `disabled title="${esc(t("perm.denied", { perm: "export" }))}"`}>${icon("download")}<span>${esc(t("lw.count.pdf"))}</span></button>
        <button class="btn" data-testid="lw-csv" ${canExport ? "" : `disabled title="${esc(t("perm.denied", { perm: "export" }))}"`}>${icon("download")}<span>${esc(t("lw.count.csv"))}</span></button>
        <span class="toolbar-msg" data-testid="lw-count-msg" aria-live="polite"></span>
      </div>
      <div class="lw-summary" data-testid="lw-summary"></div>
      <details class="lw-parties" data-testid="lw-parties">
        <summary>${esc(t("lw.parties.title"))}</summary>
        <form class="form-grid" data-testid="lw-parties-form" style="grid-template-columns:repeat(auto-fill,minmax(220px,1fr));margin-top:10px">
          <label class="field"><span>${esc(t("lw.parties.municipality"))}</span><input type="text" name="municipality" maxlength="120" placeholder="Ville de Saint-Chamond"></label>
          <label class="field"><span>${esc(t("lw.parties.operator"))}</span><input type="text" name="operator" maxlength="120" placeholder="SIEL-TE"></label>
          <label class="field"><span>${esc(t("lw.parties.network"))}</span><input type="text" name="network" maxlength="120" placeholder="ROC42"></label>
          <label class="field"><span>${esc(t("lw.parties.access"))}</span><select name="access">
            <option value="">${esc(t("lw.parties.access.none"))}</option><option value="advanced">${esc(t("lw.parties.access.advanced"))}</option>
            <option value="simple">${esc(t("lw.parties.access.simple"))}</option></select></label>
          <label class="field"><span>${esc(t("lw.parties.joined"))}</span><input type="number" name="joined_year" min="1970" max="2200" step="1"></label>
          <label class="field"><span>${esc(t("lw.parties.deliberation"))}</span><input type="date" name="deliberation"></label>
          <div class="form-actions" style="grid-column:1/-1">
            ${canSettings ? `<button class="btn btn-primary" type="submit" data-testid="lw-parties-save">${esc(t("lw.parties.save"))}</button>`
              : `<span class="muted small">${esc(t("lw.parties.denied"))}</span>`}
            <span class="toolbar-msg" data-testid="lw-parties-msg" aria-live="polite"></span>
          </div>
        </form>
      </details>
    </section>
    <div class="toolbar card lw-toolbar">
      <label class="search">${icon("search")}
        <input type="search" data-testid="lw-filter" placeholder="${esc(t("lw.filter"))}" aria-label="${esc(t("lw.filter"))}" value="${esc(state.filter)}" autocomplete="off" spellcheck="false"></label>
      <span class="spacer"></span>
      ${canImport ? `<label class="btn btn-file" data-testid="lw-import">${icon("upload")}<span>${esc(t("lw.import"))}</span>
        <input type="file" accept=".csv,.txt,text/csv,text/plain" data-testid="lw-import-input"></label>` : ""}
    </div>
    <div class="lw-import-report" data-testid="lw-import-report" aria-live="polite"></div>
    <div class="card table-card lw-table-card"><div class="table-scroll"><table class="table compact" data-testid="lw-table">
      <thead><tr><th>${esc(t("lw.col.dev_eui"))}</th><th>${esc(t("lw.col.brand"))}</th><th>${esc(t("lw.col.model"))}</th>
        <th>${esc(t("lw.col.payload"))}</th><th>${esc(t("lw.col.address"))}</th><th>${esc(t("lw.col.city"))}</th>
        <th>${esc(t("lw.col.commissioned"))}</th><th>${esc(t("lw.col.last"))}</th><th class="num">${esc(t("lw.col.uplinks"))}</th></tr></thead>
      <tbody data-testid="lw-rows"><tr class="empty-row"><td colspan="9">${esc(t("common.loading"))}</td></tr></tbody>
    </table></div>
    <div class="pager">
      <span class="pager-range" data-testid="lw-range"></span>
      <div class="pager-buttons">
        <button class="btn" data-testid="lw-prev">${icon("chevronLeft")}<span>${esc(t("meters.prev"))}</span></button>
        <button class="btn" data-testid="lw-next"><span>${esc(t("meters.next"))}</span>${icon("chevronRight")}</button>
      </div>
    </div></div>
    <section class="card lw-kept" data-testid="lw-kept">
      <h2>${icon("antenna")}<span>${esc(t("lw.kept.title"))}</span></h2>
      <p class="muted small">${esc(t("lw.kept.intro"))}</p>
      <div class="export-actions">
        <label class="field"><span>${esc(t("lw.kept.outcome"))}</span><select data-testid="lw-kept-outcome">
          ${["unknown-device", "dropped", "raw", "status", ""].map((o) => `<option value="${o}">${esc(t("lw.kept.outcome." + (o || "all")))}</option>`).join("")}
        </select></label>
        <span class="muted small" data-testid="lw-kept-total"></span>
      </div>
      <div class="table-scroll"><table class="table compact" data-testid="lw-kept-table">
        <thead><tr><th>${esc(t("lw.col.dev_eui"))}</th><th>${esc(t("lw.kept.col.at"))}</th><th class="num">fCnt</th><th class="num">${esc(t("lw.kept.col.port"))}</th>
          <th>${esc(t("lw.kept.col.outcome"))}</th><th>${esc(t("lw.kept.col.reason"))}</th></tr></thead>
        <tbody data-testid="lw-kept-rows"></tbody></table></div>
    </section>`;
  const $ = (id) => root.querySelector(`[data-testid="${id}"]`);
  const tbody = $("lw-rows");
  const countMsg = $("lw-count-msg");
  const say = (el, text, kind) => { el.textContent = text; el.classList.toggle("error-text", kind === "error"); el.classList.toggle("ok-text", kind === "ok"); };

  // --- the yearly count ---
  function year() {
    const y = Number($("lw-year").value);
    if (!Number.isInteger(y) || y < 1970 || y > 2200) throw new Error(t("lw.count.badYear"));
    return y;
  }

  function drawSummary(s) {
    const brands = s.brands.map((b) => {
      const models = b.models.map((m) => esc(t("lw.count.model", { model: m.model || t("common.none"), n: fmtInt(m.objects) }))).join(" · ");
      return `<li data-testid="lw-brand" data-brand="${esc(b.brand)}" data-objects="${b.objects}"><b>${esc(b.brand || t("lw.noBrand"))}</b> ${esc(fmtInt(b.objects))}
        <span class="muted small">(${models})</span></li>`;
    }).join("");
    $("lw-summary").innerHTML = `<p class="summary"><b class="lw-total" data-testid="lw-total" data-total="${s.total}">${esc(t(s.total === 1 ? "lw.count.one" : "lw.count.many", { n: fmtInt(s.total), year: s.year }))}</b></p>
      ${brands ? `<ul class="lw-brands">${brands}</ul>` : ""}
      ${s.undated ? `<p class="warn-text small" data-testid="lw-undated">${esc(t("lw.count.undated", { n: fmtInt(s.undated) }))}</p>` : ""}`;
  }

  async function loadCount() {
    let y;
    try { y = year(); } catch (e) { say(countMsg, e.message, "error"); return; }
    state.year = y;
    say(countMsg, "");
    try {
      const s = await call("report_objects_count", { year: y });
      if (alive && s.year === state.year) drawSummary(s);
    } catch (e) { if (alive) say(countMsg, t("common.error", { message: errorText(e) }), "error"); }
  }

  async function download(format) {
    let y;
    try { y = year(); } catch (e) { say(countMsg, e.message, "error"); return; }
    const btn = $("lw-" + format);
    btn.disabled = true;
    say(countMsg, t("common.loading"));
    try {
      const r = await call("report_objects", { year: y, format, locale: getLocale() });
      downloadFile(r.file_name, base64Bytes(r.content_base64), r.content_type || "application/octet-stream");
      if (alive) say(countMsg, t("lw.count.saved", { file: r.file_name }), "ok");
    } catch (e) { if (alive) say(countMsg, t("common.error", { message: errorText(e) }), "error"); }
    btn.disabled = false;
  }

  $("lw-year").addEventListener("change", loadCount);
  $("lw-pdf").addEventListener("click", () => download("pdf"));
  $("lw-csv").addEventListener("click", () => download("csv"));

  // --- the parties of the count ---
  const form = $("lw-parties-form");
  form.querySelectorAll("input, select").forEach((el) => { el.disabled = !canSettings; });
  call("objects_settings", {}).then((s) => {
    if (!alive) return;
    for (const k of ["municipality", "operator", "network", "access"]) form.elements[k].value = s[k] || "";
    form.elements.joined_year.value = s.joined_year ?? "";
    form.elements.deliberation.value = s.deliberation || "";
    if (!s.municipality) $("lw-parties").open = true;
  }).catch(() => {});
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const f = form.elements;
    const joined = f.joined_year.value.trim();
    const args = {
      municipality: f.municipality.value, operator: f.operator.value, network: f.network.value, access: f.access.value,
      joined_year: joined ? Number(joined) : null, deliberation: f.deliberation.value || null,
    };
    try {
      await call("objects_settings_set", args);
      say($("lw-parties-msg"), t("lw.parties.saved"), "ok");
    } catch (err) { say($("lw-parties-msg"), t("common.error", { message: errorText(err) }), "error"); }
  });

  // --- the registry ---
  function rowHtml(d) {
    const gone = d.decommissioned ? `<div class="muted small">${esc(t("lw.decommissioned", { date: dayText(d.decommissioned) }))}</div>` : "";
    return `<tr data-testid="lw-row" data-eui="${esc(d.dev_eui)}">
      <td class="mono strong">${esc(d.dev_eui)}</td>
      <td>${esc(d.brand || t("common.none"))}</td>
      <td>${esc(d.model || t("common.none"))}</td>
      <td class="nowrap" title="${esc(tOr("lw.payload." + d.payload, d.payload))}">${esc(tOr("lw.payloadShort." + d.payload, d.payload))}</td>
      <td>${esc(d.address || t("common.none"))}</td>
      <td class="nowrap">${esc(d.city || t("common.none"))}</td>
      <td class="nowrap">${d.commissioned ? esc(dayText(d.commissioned)) : `<span class="warn-text">${esc(t("lw.undated"))}</span>`}${gone}</td>
      <td class="nowrap">${d.last_uplink ? esc(fmtDateTime(d.last_uplink)) : `<span class="muted">${esc(t("lw.never"))}</span>`}</td>
      <td class="num">${esc(fmtInt(d.uplinks || 0))}</td></tr>`;
  }

  async function loadList() {
    const my = ++seq;
    tbody.classList.add("loading");
    const args = { offset: state.offset, limit: PAGE };
    if (state.filter.trim()) args.search = state.filter.trim();
    try {
      const res = await call("lorawan_devices", args);
      if (!alive || my !== seq) return;
      if (res.devices.length === 0 && state.offset > 0 && res.total > 0) {
        state.offset = Math.max(0, Math.floor((res.total - 1) / PAGE) * PAGE);
        loadList();
        return;
      }
      tbody.innerHTML = res.devices.length ? res.devices.map(rowHtml).join("")
        : `<tr class="empty-row"><td colspan="9" data-testid="lw-empty">${esc(t(state.filter.trim() ? "lw.emptyFilter" : "lw.empty"))}</td></tr>`;
      $("lw-range").textContent = res.devices.length
        ? t("meters.range", { from: fmtInt(state.offset + 1), to: fmtInt(state.offset + res.devices.length), total: fmtInt(res.total) })
        : t("meters.range.empty", { total: fmtInt(res.total) });
      $("lw-prev").disabled = state.offset <= 0;
      $("lw-next").disabled = state.offset + res.devices.length >= res.total;
    } catch (e) {
      if (alive && my === seq) tbody.innerHTML = `<tr class="empty-row"><td colspan="9" class="error-text">${esc(t("common.error", { message: errorText(e) }))}</td></tr>`;
    } finally { tbody.classList.remove("loading"); }
  }

  const refilter = debounce(() => { state.offset = 0; loadList(); }, 250);
  $("lw-filter").addEventListener("input", (e) => { state.filter = e.target.value; refilter(); });
  $("lw-prev").addEventListener("click", () => { state.offset = Math.max(0, state.offset - PAGE); loadList(); });
  $("lw-next").addEventListener("click", () => { state.offset += PAGE; loadList(); });

  // --- the CSV import ---
  /** Refused lines, from a result (`rejected`/`errors`) or an error's details (`lines`). */
  function refusedLines(x) {
    const list = (x && (x.rejected || x.errors || x.lines)) || [];
    return Array.isArray(list) ? list.filter((l) => l && l.line !== undefined) : [];
  }

  function drawImport(file, result, error) {
    const lines = refusedLines(error ? error.details : result);
    const items = lines.slice(0, 200).map((l) => {
      const why = tOr("lw.reject." + (l.code || ""), null) || l.reason || l.message || l.code || "";
      return `<li data-testid="lw-import-line" data-line="${l.line}">${esc(t("lw.import.line", { line: fmtInt(l.line) }))} ${esc(why)}</li>`;
    }).join("");
    const more = lines.length > 200 ? `<li class="muted">${esc(t("lw.import.more", { n: fmtInt(lines.length - 200) }))}</li>` : "";
    let head;
    if (error) {
      const message = error.code === "bad_lines" ? t("lw.import.badLines", { n: fmtInt((error.details && error.details.count) || lines.length) }) : errorText(error);
      head = `<p class="error-text" data-testid="lw-import-error">${esc(t("lw.import.failed", { file, message }))}</p>`;
    }
    else {
      const n = (...keys) => fmtInt(Number(keys.map((k) => result[k]).find((v) => v !== undefined) || 0));
      head = `<p class="ok-text" data-testid="lw-import-done">${esc(t("lw.import.done", { file, added: n("created", "added"), updated: n("updated") }))}</p>`;
    }
    $("lw-import-report").innerHTML = `<div class="card">${head}${items ? `<ul class="lw-import-lines">${items}${more}</ul>` : ""}</div>`;
  }

  const input = $("lw-import-input");
  if (input) {
    input.addEventListener("change", async () => {
      const file = input.files && input.files[0];
      if (!file) return;
      $("lw-import-report").innerHTML = `<p class="muted">${esc(t("common.loading"))}</p>`;
      try {
        const result = await call("lorawan_devices_import", await importFile(file));
        if (!alive) return;
        drawImport(file.name, result || {}, null);
        state.offset = 0;
        loadList();
        loadCount();
      } catch (e) { if (alive) drawImport(file.name, null, e); }
      input.value = "";
    });
  }

  // --- uplinks that gave no telegram: unknown DevEUIs (kept, never dropped), dropped telegrams ---
  async function loadKept() {
    const outcome = $("lw-kept-outcome").value;
    const args = { limit: 100 };
    if (outcome) args.outcome = outcome;
    try {
      const r = await call("lorawan_uplinks", args);
      if (!alive) return;
      $("lw-kept-total").textContent = t("lw.kept.total", { n: fmtInt(r.total) });
      $("lw-kept-rows").innerHTML = r.uplinks.length ? r.uplinks.map((u) => `<tr data-testid="lw-kept-row" data-eui="${esc(u.dev_eui)}" data-outcome="${esc(u.outcome)}">
          <td class="mono">${esc(u.dev_eui)}</td><td class="nowrap">${esc(fmtDateTime(u.received_at))}</td>
          <td class="num">${esc(fmtInt(u.f_cnt))}</td><td class="num">${esc(String(u.f_port))}</td>
          <td class="nowrap">${esc(t("lw.kept.outcome." + u.outcome))}</td>
          <td>${esc(u.status ? t("lw.kept.status", { battery: fmtInt(u.status.battery_mv), firmware: u.status.firmware }) : (u.reason || ""))}</td></tr>`).join("")
        : `<tr class="empty-row"><td colspan="6">${esc(t("lw.kept.empty"))}</td></tr>`;
    } catch (e) { if (alive) $("lw-kept-rows").innerHTML = `<tr class="empty-row"><td colspan="6" class="error-text">${esc(t("common.error", { message: errorText(e) }))}</td></tr>`; }
  }
  $("lw-kept-outcome").addEventListener("change", loadKept);

  loadCount();
  loadList();
  loadKept();
  return () => { alive = false; refilter.cancel(); };
}
