import { call } from "../api.js";
import {
  t, fmtNumber, fmtDateTime, fmtDate, deviceTypeLabel, statusLabel, codeLabel, registerLabel,
  unitLabel, errorText, isoDateInTz, getLocale,
} from "../i18n.js";
import { icon, deviceIcon } from "../icons.js";
import { esc, addDays, firstOfMonthsAgo, firstOfYearsAgo, isIsoDate } from "../dom.js";
import { renderHistogram } from "../chart.js";
import { renderPowerCurve } from "../power-chart.js";
import { isCumulative, isEnergyFlow, isPower, tariffOf, exportOf, importId, registerName } from "../registers.js";
import { exchangeFormHtml, wireExchangeForm, exchangeDoneHtml } from "./exchange-form.js";
import { consumerReportHtml, wireConsumerReport, PERM_REPORT, PERM_EMAIL } from "./consumer-report.js";
import { receptionsHtml, wireReceptions } from "./meter-receptions.js";
import { meterKeyHtml, meterKeyFormHtml, wireMeterKey } from "./meter-key.js";
import { occupantsHtml, personalButtonsHtml, moveOutHtml, wirePersonalData } from "./personal-data.js";
import { readingsCardHtml, wireReadings, meterEditHtml, wireMeterEdit, shownStatus } from "./meter-screen.js";

const RESOLUTIONS = ["hour", "day", "month", "year"];
const DEFAULT_REGISTER = { water: "volume", gas: "volume", heat: "energy", electricity: "flow:a_plus" };
// An electricity meter's energy is one choice per tariff ("flow:a_plus", "flow:a_plus_t1"):
// import (A+) and export (A-) in one chart; its power (P+, P-) has its own curve.
const FLOW = "flow:";
// Chart settings per meter id, kept while the clerk moves around.
const chartState = new Map();

export function defaultPeriod(res, anchorIso) {
  switch (res) {
    case "hour": return { from: addDays(anchorIso, -6), to: anchorIso };
    case "day": return { from: addDays(anchorIso, -59), to: anchorIso };
    case "month": return { from: firstOfMonthsAgo(anchorIso, 12), to: anchorIso };
    default: return { from: firstOfYearsAgo(anchorIso, 4), to: anchorIso };
  }
}

function kv(label, value, testid) {
  return `<div class="kv"><dt>${esc(label)}</dt><dd ${testid ? `data-testid="${testid}"` : ""}>${value}</dd></div>`;
}
const none = () => `<span class="muted">${esc(t("common.none"))}</span>`;
const txt = (v) => (v === null || v === undefined || v === "" ? none() : esc(v));

function customerCard(d, can) {
  const c = d.customer;
  const body = c
    ? `<dl class="kvs">${kv(t("meter.customer.number"), txt(c.number))}${kv(t("meter.customer.name"), txt(c.name))}
        ${kv(t("meter.customer.address"), txt([c.address, [c.postal_code, c.city].filter(Boolean).join(" ")].filter(Boolean).join(", ")))}
        ${c.email ? kv(t("meter.customer.email"), esc(c.email)) : ""}${c.phone ? kv(t("meter.customer.phone"), esc(c.phone)) : ""}</dl>`
    : `<p class="muted">${esc(t("meter.customer.none"))}</p>`;
  return `<section class="card" data-testid="customer-card"><h2>${icon("user")}<span>${esc(t("meter.customer"))}</span></h2>${body}
    ${occupantsHtml(d)}${personalButtonsHtml(d, can)}</section>`;
}

function installationCard(m, notes) {
  const gps = m.lat !== null && m.lat !== undefined && m.lon !== null && m.lon !== undefined
    ? `<span class="mono">${esc(fmtNumber(m.lat, 5))}, ${esc(fmtNumber(m.lon, 5))}</span>` : none();
  return `<section class="card"><h2>${icon("pin")}<span>${esc(t("meter.installation"))}</span></h2><dl class="kvs">
    ${kv(t("meter.installation.address"), txt([m.address, [m.postal_code, m.city].filter(Boolean).join(" ")].filter(Boolean).join(", ")))}
    ${kv(t("meter.installation.gps"), gps)}
    ${kv(t("meter.installation.installed"), m.installed_at ? esc(fmtDate(m.installed_at)) : none())}
    ${m.removed_at ? kv(t("meter.installation.removed"), esc(fmtDate(m.removed_at))) : ""}
    ${notes ? kv(t("meter.notes"), `<span class="pre-wrap">${esc(notes)}</span>`, "meter-notes") : ""}
  </dl></section>`;
}

/** A `target_date` register value (local date as days since 1970-01-01) as a date. */
function daysDate(days) {
  if (days === null || days === undefined) return t("common.none");
  return new Intl.DateTimeFormat(getLocale() === "fr" ? "fr-FR" : "en-GB", { dateStyle: "medium", timeZone: "UTC" }).format(new Date(days * 86400000));
}

function registersCard(regs) {
  const body = regs.length
    ? `<div class="table-scroll"><table class="table compact" data-testid="registers"><thead><tr><th>${esc(t("meter.registers.label"))}</th><th class="num">${esc(t("meter.registers.value"))}</th><th>${esc(t("meter.registers.time"))}</th></tr></thead><tbody>
      ${regs.map((r) => `<tr><td>${esc(registerName(r.register, r.label))}</td><td class="num">${r.register === "target_date" ? `<b>${esc(daysDate(r.last_value))}</b>` : `<b>${esc(fmtNumber(r.last_value, 3))}</b> ${esc(unitLabel(r.unit))}`}</td><td class="nowrap">${r.last_ts ? esc(fmtDateTime(r.last_ts)) : none()}</td></tr>`).join("")}
      </tbody></table></div>`
    : `<p class="muted">${esc(t("meter.registers.none"))}</p>`;
  return `<section class="card"><h2>${icon("meters")}<span>${esc(t("meter.registers"))}</span></h2>${body}</section>`;
}

function groupsCard(groups) {
  const body = groups.length
    ? `<div class="chips">${groups.map((g) => `<span class="chip">${esc(g.name)}</span>`).join("")}</div>`
    : `<p class="muted">${esc(t("meter.groups.none"))}</p>`;
  return `<section class="card"><h2>${icon("reports")}<span>${esc(t("meter.groups"))}</span></h2>${body}</section>`;
}

function infoCodesCard(codes) {
  const sorted = [...codes].sort((a, b) => b.started_at - a.started_at);
  const body = sorted.length
    ? `<div class="table-scroll"><table class="table compact" data-testid="infocode-history"><thead><tr><th>${esc(t("meter.infocodes.code"))}</th><th>${esc(t("meter.infocodes.started"))}</th><th>${esc(t("meter.infocodes.lastSeen"))}</th><th>${esc(t("meter.infocodes.ended"))}</th></tr></thead><tbody>
      ${sorted.map((c) => `<tr><td><span class="code-tag code-${esc(c.code)}">${c.ended_at ? "" : icon("warning")}${esc(codeLabel(c.code))}</span></td><td class="nowrap">${esc(fmtDateTime(c.started_at))}</td><td class="nowrap">${c.last_seen_at ? esc(fmtDateTime(c.last_seen_at)) : none()}</td><td class="nowrap">${c.ended_at ? esc(fmtDateTime(c.ended_at)) : `<span class="badge badge-warn">${esc(t("meter.infocodes.active"))}</span>`}</td></tr>`).join("")}
      </tbody></table></div>`
    : `<p class="muted">${esc(t("meter.infocodes.none"))}</p>`;
  return `<section class="card"><h2>${icon("infocodes")}<span>${esc(t("meter.infocodes"))}</span></h2>${body}</section>`;
}

function exchangesCard(ex) {
  const link = (id, serial) => (id ? `<a href="#/meters/${id}" class="mono">${esc(serial)}</a>` : `<span class="mono">${esc(serial || "")}</span>`);
  const body = ex.length
    ? `<ul class="exchanges" data-testid="exchanges">${ex.map((e) => `<li>
        <div class="ex-date">${esc(fmtDate(e.at))}</div>
        <div class="ex-flow">
          <div><span class="muted">${esc(t("meter.exchanges.old"))}</span> ${link(e.old_meter_id, e.old_serial)}
            <div class="small muted">${esc(t("meter.exchanges.final"))} <b>${esc(fmtNumber(e.final_value, 3))}</b></div></div>
          <span class="ex-arrow">${icon("chevronRight")}</span>
          <div><span class="muted">${esc(t("meter.exchanges.new"))}</span> ${link(e.new_meter_id, e.new_serial)}
            <div class="small muted">${esc(t("meter.exchanges.initial"))} <b>${esc(fmtNumber(e.initial_value, 3))}</b></div></div>
        </div></li>`).join("")}</ul>`
    : `<p class="muted">${esc(t("meter.exchanges.none"))}</p>`;
  return `<section class="card"><h2>${icon("settings")}<span>${esc(t("meter.exchanges"))}</span></h2>${body}</section>`;
}

/** Whether the meter is followed live (a priority meter): a switch for who may edit meters. */
function priorityHtml(m, canEdit) {
  const label = `<span>${esc(t("live.priority"))}</span>`;
  if (!canEdit) {
    return `<span data-testid="meter-priority">${label} <b>${esc(t(m.priority ? "live.priority.yes" : "live.priority.no"))}</b></span>`;
  }
  return `<label class="check priority-switch" title="${esc(t("live.priority.hint"))}"><input type="checkbox" data-testid="meter-priority-toggle" ${m.priority ? "checked" : ""}>${label}</label>
    <span class="small" data-testid="meter-priority-msg" aria-live="polite"></span>`;
}

function wirePriority(root, m) {
  const box = root.querySelector('[data-testid="meter-priority-toggle"]');
  if (!box) return;
  const msg = root.querySelector('[data-testid="meter-priority-msg"]');
  box.addEventListener("change", async () => {
    const on = box.checked;
    box.disabled = true;
    try {
      await call("meter_priority_set", { ids: [m.id], on });
      m.priority = on;
      msg.className = "small muted";
      msg.innerHTML = on ? `${esc(t("live.priority.set"))} <a href="#/live">${esc(t("nav.live"))}</a>` : esc(t("live.priority.cleared"));
    } catch (e) {
      box.checked = !on;
      msg.className = "small error-text";
      msg.textContent = t("common.error", { message: errorText(e) });
    } finally {
      box.disabled = false;
    }
  });
}

export function render(root, ctx) {
  const id = ctx.params.id;
  let alive = true;
  let chartCleanup = null;
  let receptionsCleanup = null;
  let powerCleanup = null;
  let readingsCleanup = null;
  let editCleanup = null;
  root.innerHTML = `<div class="page-head"><a class="back" href="#/meters">${icon("chevronLeft")}<span>${esc(t("meter.back"))}</span></a></div>
    <div class="card"><p class="muted">${esc(t("common.loading"))}</p></div>`;

  call("meter_get", { id }).then((d) => { if (alive) show(d); }).catch((e) => {
    if (!alive) return;
    root.innerHTML = `<div class="page-head"><a class="back" href="#/meters">${icon("chevronLeft")}<span>${esc(t("meter.back"))}</span></a></div>
      <div class="card"><p class="error-text" data-testid="meter-error">${esc(t("common.error", { message: errorText(e) }))}</p></div>`;
  });

  function show(d, flash) {
    if (readingsCleanup) { readingsCleanup(); readingsCleanup = null; }
    if (editCleanup) { editCleanup(); editCleanup = null; }
    const m = d.meter;
    const regs = d.registers || [];
    const activeCodes = (d.info_codes || []).filter((c) => !c.ended_at);
    // Index registers give a consumption; the others (power, temperatures) a mean per bucket.
    const has = new Set(regs.map((r) => r.register));
    const elec = m.device_type === "electricity" || regs.some((r) => isEnergyFlow(r.register) || isPower(r.register));
    const powers = regs.map((r) => r.register).filter(isPower).sort().reverse(); // p_plus* before p_minus*
    const tariffs = [...new Set(regs.map((r) => tariffOf(r.register)).filter((x) => x !== null))].sort();
    const flowChoices = (elec ? (tariffs.length ? tariffs : [""]) : [])
      .map((tf) => ({ id: FLOW + importId(tf), label: tf ? t("elec.energyTariff", { n: tf }) : t("elec.energy") }));
    const charted = regs.filter((r) => !r.register.startsWith("target_") && !(elec && (isEnergyFlow(r.register) || isPower(r.register))))
      .sort((a, b) => Number(isCumulative(b.register)) - Number(isCumulative(a.register)));
    const own = flowChoices.concat(charted.map((r) => ({ id: r.register, label: registerName(r.register, r.label) })));
    const fallback = DEFAULT_REGISTER[m.device_type] || "volume";
    const candidates = own.length ? own
      : [{ id: fallback, label: fallback.startsWith(FLOW) ? t("elec.energy") : registerLabel(fallback) }];
    const anchor = isoDateInTz(m.last_seen || Math.floor(Date.now() / 1000));
    // Hourly values are interval data: offered only to who may see them.
    const resolutions = ctx.can("view_intervals") ? RESOLUTIONS : RESOLUTIONS.filter((r) => r !== "hour");
    let st = chartState.get(id);
    if (st && !resolutions.includes(st.res)) { chartState.delete(id); st = null; }
    if (!st) {
      const def = DEFAULT_REGISTER[m.device_type];
      const reg = candidates.find((c) => c.id === def) ? def : candidates[0].id;
      st = { res: "day", register: reg, ...defaultPeriod("day", anchor) };
      chartState.set(id, st);
    }
    const canExchange = ctx.can("edit_meters") && m.status !== "removed";
    const canReport = ctx.can(PERM_REPORT);
    root.innerHTML = `
      <div class="page-head meter-head">
        <a class="back" href="#/meters">${icon("chevronLeft")}<span>${esc(t("meter.back"))}</span></a>
        <div class="meter-title">
          <div class="meter-type-icon">${deviceIcon(m.device_type)}</div>
          <div>
            <h1 data-testid="meter-serial"><span class="mono">${esc(m.serial)}</span>
              <span class="badge badge-${esc(shownStatus(d))}" data-testid="meter-status" data-status="${esc(shownStatus(d))}">${esc(statusLabel(shownStatus(d)))}</span>
              ${activeCodes.map((c) => `<span class="badge badge-warn" title="${esc(codeLabel(c.code))}">${icon("warning")}${esc(codeLabel(c.code))}</span>`).join("")}
            </h1>
            <div class="meter-meta">
              <span>${esc(t("meter.manufacturer"))} <b>${txt(m.manufacturer)}</b></span>
              <span>${esc(t("meter.type"))} <b>${esc(deviceTypeLabel(m.device_type))}</b></span>
              ${m.model ? `<span>${esc(t("meter.model"))} <b>${esc(m.model)}</b></span>` : ""}
              ${m.version !== null && m.version !== undefined ? `<span>${esc(t("meter.version"))} <b>${esc(m.version)}</b></span>` : ""}
              <span>${esc(t("meter.lastSeen"))} <b>${m.last_seen ? esc(fmtDateTime(m.last_seen)) : esc(t("meters.never"))}</b></span>
              ${meterKeyHtml(d)}
              ${priorityHtml(m, ctx.can("edit_meters"))}
            </div>
          </div>
          <div class="meter-actions">
            <a class="btn" href="#/compare?ids=${m.id}" data-testid="meter-compare">${icon("chart")}<span>${esc(t("meter.compare"))}</span></a>
            ${ctx.can("edit_meters") ? `<button type="button" class="btn" data-testid="med-open">${icon("edit")}<span>${esc(t("med.open"))}</span></button>` : ""}
            ${canExchange ? `<button type="button" class="btn" data-testid="exchange-open">${icon("edit")}<span>${esc(t("meter.exchange.button"))}</span></button>` : ""}
            <button type="button" class="btn" data-testid="crep-open" ${canReport ? "" : `disabled title="${esc(t("perm.denied", { perm: PERM_REPORT }))}"`}>${icon("file")}<span>${esc(t("crep.button"))}</span></button>
          </div>
        </div>
      </div>
      ${flash ? `<p class="notice ok-text" data-testid="meter-flash">${esc(flash)}</p>` : ""}
      ${meterEditHtml(d, ctx.can)}
      ${exchangeDoneHtml(m.id)}
      ${canExchange ? exchangeFormHtml(d) : ""}
      ${ctx.can("manage_keys") ? meterKeyFormHtml(d) : ""}
      ${canReport ? consumerReportHtml(d, ctx.can(PERM_EMAIL)) : ""}
      ${moveOutHtml(d, ctx.can)}
      <div class="grid-3">${customerCard(d, ctx.can)}${installationCard(m, d.notes)}${registersCard(regs)}</div>
      <section class="card chart-card">
        <div class="chart-head">
          <h2>${icon("reports")}<span>${esc(t(elec ? "elec.energy" : "meter.consumption"))}</span></h2>
          <div class="chart-total" data-testid="hist-total"></div>
        </div>
        <div class="chart-controls">
          <div class="segmented" role="group" aria-label="${esc(t("meter.consumption"))}">
            ${resolutions.map((r) => `<button type="button" data-res="${r}" data-testid="res-${r}" class="${st.res === r ? "active" : ""}" aria-pressed="${st.res === r}">${esc(t("meter.res." + r))}</button>`).join("")}
          </div>
          <label class="inline-field"><span>${esc(t("meter.from"))}</span><input type="date" data-testid="hist-from" value="${st.from}"></label>
          <label class="inline-field"><span>${esc(t("meter.to"))}</span><input type="date" data-testid="hist-to" value="${st.to}"></label>
          ${candidates.length > 1 ? `<label class="inline-field"><span>${esc(t("meter.register"))}</span><select data-testid="hist-register">${candidates.map((c) => `<option value="${c.id}" ${c.id === st.register ? "selected" : ""}>${esc(c.label)}</option>`).join("")}</select></label>` : ""}
        </div>
        ${m.last_seen || (d.exchanges || []).some((e) => e.new_meter_id === m.id) ? "" : `<p class="notice">${esc(t("meter.noReadings"))}</p>`}
        <div class="chart-wrap" data-testid="chart-wrap"><div class="chart-box"></div><div class="chart-msg" hidden></div></div>
      </section>
      ${powers.length ? `<section class="card chart-card" data-testid="power-card">
        <div class="chart-head"><h2>${icon("chart")}<span>${esc(t("elec.power"))}</span></h2></div>
        <p class="muted small">${esc(t("elec.powerHint"))}</p>
        <div class="chart-wrap" data-testid="power-wrap"><div class="power-box"></div><div class="chart-msg power-msg" hidden></div></div>
      </section>` : ""}
      ${readingsCardHtml(d, ctx.can)}
      <div class="grid-2">${infoCodesCard(d.info_codes || [])}<div class="stack">${groupsCard(d.groups || [])}${exchangesCard(d.exchanges || [])}</div></div>
      ${receptionsHtml()}`;
    receptionsCleanup = wireReceptions(root, id);
    const reload = (text) => call("meter_get", { id }).then((nd) => { if (alive) show(nd, text); });
    readingsCleanup = wireReadings(root, d, ctx.can, () => reload());
    editCleanup = wireMeterEdit(root, d, reload);
    if (ctx.can("manage_keys")) wireMeterKey(root, d, () => call("meter_get", { id }).then((nd) => { if (alive) show(nd); }));

    const box = root.querySelector(".chart-box");
    const msg = root.querySelector(".chart-msg");
    const wrap = root.querySelector(".chart-wrap");
    const totalEl = root.querySelector('[data-testid="hist-total"]');
    const fromEl = root.querySelector('[data-testid="hist-from"]');
    const toEl = root.querySelector('[data-testid="hist-to"]');
    let seq = 0;
    const powerBox = root.querySelector(".power-box");
    const powerMsg = root.querySelector(".power-msg");
    let powerSeq = 0;

    // P+ (and P-) as mean and max per hour or day; coarser buckets would hide the curve.
    async function loadPower() {
      if (!powerBox) return;
      const my = ++powerSeq;
      if (powerCleanup) { powerCleanup(); powerCleanup = null; }
      const say = (text, error) => { powerMsg.textContent = text; powerMsg.className = "chart-msg power-msg" + (error ? " error-text" : ""); powerMsg.hidden = !text; };
      if (st.res !== "hour" && st.res !== "day") { powerBox.innerHTML = ""; say(t("elec.powerCoarse")); return; }
      if (!isIsoDate(st.from) || !isIsoDate(st.to) || st.from > st.to) { powerBox.innerHTML = ""; say(t("meter.badPeriod"), true); return; }
      try {
        const hists = await Promise.all(powers.map((r) => call("meter_histogram", { id, register: r, resolution: st.res, from: st.from, to: st.to })));
        if (!alive || my !== powerSeq) return;
        const series = hists.map((h) => {
          const exp = h.register.startsWith("p_minus");
          return { hist: h, flow: exp ? "export" : "import", label: t(exp ? "elec.pMinus" : "elec.pPlus") };
        });
        powerCleanup = renderPowerCurve(powerBox, series);
        const any = hists.some((h) => h.buckets.some((b) => b.value !== null && b.value !== undefined));
        say(any ? "" : t("meter.noData"));
      } catch (e) {
        if (!alive || my !== powerSeq) return;
        say(t("common.error", { message: errorText(e) }), true);
      }
    }

    async function loadChart() {
      const my = ++seq;
      if (!isIsoDate(st.from) || !isIsoDate(st.to) || st.from > st.to) {
        msg.textContent = t("meter.badPeriod"); msg.hidden = false; msg.className = "chart-msg error-text";
        return;
      }
      wrap.classList.add("loading");
      loadPower();
      try {
        const flow = st.register.startsWith(FLOW);
        const register = flow ? st.register.slice(FLOW.length) : st.register;
        const ask = (r) => call("meter_histogram", { id, register: r, resolution: st.res, from: st.from, to: st.to });
        const exportId = flow ? exportOf(register) : null;
        const [h, x] = await Promise.all([ask(register), exportId && has.has(exportId) ? ask(exportId) : null]);
        if (!alive || my !== seq) return;
        if (chartCleanup) chartCleanup();
        const manual = (d.manual || []).filter((k) => k.register === h.register);
        chartCleanup = renderHistogram(box, h, { exportHist: x, manual });
        const valsOf = (hh) => (hh ? hh.buckets || [] : []).map((b) => b.value).filter((v) => v !== null && v !== undefined);
        const vals = valsOf(h);
        const xvals = valsOf(x);
        const any = vals.length > 0 || xvals.length > 0;
        msg.className = "chart-msg";
        msg.textContent = any ? "" : t("meter.noData");
        msg.hidden = any;
        const index = isCumulative(h.register);
        const sum = (vs) => vs.reduce((a, b) => a + b, 0);
        const total = sum(vals) / (index || !vals.length ? 1 : vals.length);
        const unit = esc(unitLabel(h.unit));
        const num = (vs, v, testid) => `<b data-testid="${testid}">${esc(vs.length ? fmtNumber(v, 3) : t("common.none"))}</b> ${vs.length ? unit : ""}`;
        totalEl.innerHTML = x
          ? `<span class="muted">${esc(t("elec.totalImport"))}</span> ${num(vals, total, "hist-total-value")} <span class="muted">· ${esc(t("elec.totalExport"))}</span> ${num(xvals, sum(xvals), "hist-total-export")}`
          : `<span class="muted">${esc(t(index ? "meter.total" : "meter.average"))}</span> ${num(vals, total, "hist-total-value")}`;
      } catch (e) {
        if (!alive || my !== seq) return;
        msg.className = "chart-msg error-text";
        msg.textContent = t("common.error", { message: errorText(e) });
        msg.hidden = false;
      } finally {
        if (alive && my === seq) wrap.classList.remove("loading");
      }
    }

    root.querySelectorAll("[data-res]").forEach((b) => b.addEventListener("click", () => {
      st.res = b.dataset.res;
      Object.assign(st, defaultPeriod(st.res, anchor));
      fromEl.value = st.from; toEl.value = st.to;
      root.querySelectorAll("[data-res]").forEach((bb) => { bb.classList.toggle("active", bb === b); bb.setAttribute("aria-pressed", String(bb === b)); });
      loadChart();
    }));
    fromEl.addEventListener("change", () => { st.from = fromEl.value; loadChart(); });
    toEl.addEventListener("change", () => { st.to = toEl.value; loadChart(); });
    wireExchangeForm(root, d, (r) => {
      chartState.delete(r.new_meter_id);
      ctx.navigate(`#/meters/${r.new_meter_id}`);
    });
    wireConsumerReport(root, d);
    wirePersonalData(root, d, () => call("meter_get", { id }).then((nd) => { if (alive) show(nd); }));
    wirePriority(root, m);
    const regSel = root.querySelector('[data-testid="hist-register"]');
    if (regSel) regSel.addEventListener("change", () => { st.register = regSel.value; loadChart(); });
    loadChart();
  }

  return () => { alive = false; if (readingsCleanup) readingsCleanup(); if (editCleanup) editCleanup(); if (chartCleanup) chartCleanup(); if (receptionsCleanup) receptionsCleanup(); if (powerCleanup) powerCleanup(); };
}
