// #/compare?ids=1,2&group=3: up to 8 meters (and a group's sum) in one chart, command `meters_compare`.
import { call } from "../api.js";
import { t, errorText, isoDateInTz } from "../i18n.js";
import { isPower, registerName } from "../registers.js";
import { icon } from "../icons.js";
import { esc, debounce, isIsoDate } from "../dom.js";
import { renderCompare, seriesColor } from "../compare-chart.js";
import { defaultPeriod } from "./meter.js";

const MAX = 8;
const RESOLUTIONS = ["hour", "day", "month", "year"];
// "" is each meter's own register; A- is electricity's export, P+/P- its power (kW, a mean
// per bucket, never summed for a group).
const REGISTERS = ["", "volume", "energy", "a_plus", "a_minus", "p_plus", "p_minus", "hca"];
// Kept while the clerk moves around.
const state = { res: "month", mode: "lines", ids: [], names: new Map(), group: null, from: null, to: null, register: "" };

export function render(root, ctx) {
  let alive = true;
  let cleanupChart = null;
  const q = ctx.query;
  if (q.get("ids")) {
    state.ids = q.get("ids").split(",").map(Number).filter((n) => Number.isInteger(n) && n > 0).slice(0, MAX);
  }
  if (q.has("group")) state.group = Number(q.get("group")) || null;
  // Hourly values are interval data: offered only to who may see them.
  const resolutions = ctx.can("view_intervals") ? RESOLUTIONS : RESOLUTIONS.filter((r) => r !== "hour");
  if (!resolutions.includes(state.res)) { state.res = "day"; state.from = null; }
  if (!state.from) Object.assign(state, defaultPeriod(state.res, isoDateInTz(Math.floor(Date.now() / 1000))));
  const back = state.ids.length === 1 ? `#/meters/${state.ids[0]}` : "#/meters";
  const seg = (name, values, current, label) => `<div class="segmented" role="group">${values.map((v) => `<button type="button" data-${name}="${v}" data-testid="${name}-${v}" class="${v === current ? "active" : ""}" aria-pressed="${v === current}">${esc(label(v))}</button>`).join("")}</div>`;

  root.innerHTML = `
    <div class="page-head"><a class="back" href="${back}">${icon("chevronLeft")}<span>${esc(t("common.back"))}</span></a></div>
    <section class="card chart-card" data-testid="compare-view">
      <div class="chart-head"><h2>${icon("chart")}<span>${esc(t("compare.title"))}</span></h2></div>
      <div class="chart-controls">
        <div class="compare-picker">
          <input type="search" data-testid="compare-search" placeholder="${esc(t("compare.search"))}" autocomplete="off">
          <div class="compare-results" data-testid="compare-results" hidden></div>
        </div>
        <label class="inline-field"><span>${esc(t("compare.group"))}</span><select data-testid="compare-group"><option value="">${esc(t("compare.group.none"))}</option></select></label>
        <label class="inline-field"><span>${esc(t("rep.register"))}</span><select data-testid="compare-register">${REGISTERS.map((r) => `<option value="${r}" ${r === state.register ? "selected" : ""}>${esc(r ? registerName(r) : t("rep.register.default"))}</option>`).join("")}</select></label>
      </div>
      <div class="compare-chips" data-testid="compare-chips"></div>
      <div class="chart-controls">
        ${seg("res", resolutions, state.res, (r) => t("meter.res." + r))}
        <label class="inline-field"><span>${esc(t("meter.from"))}</span><input type="date" data-testid="compare-from" value="${state.from}"></label>
        <label class="inline-field"><span>${esc(t("meter.to"))}</span><input type="date" data-testid="compare-to" value="${state.to}"></label>
        ${seg("mode", ["lines", "bars"], state.mode, (m) => t("compare." + m))}
      </div>
      <p class="notice" data-testid="compare-nosum" hidden>${esc(t("elec.noSum"))}</p>
      <div class="chart-wrap" data-testid="compare-wrap"><div class="chart-box"></div><div class="chart-msg" hidden></div></div>
    </section>`;

  const box = root.querySelector(".chart-box");
  const msg = root.querySelector(".chart-msg");
  const wrap = root.querySelector(".chart-wrap");
  const chips = root.querySelector('[data-testid="compare-chips"]');
  const search = root.querySelector('[data-testid="compare-search"]');
  const results = root.querySelector('[data-testid="compare-results"]');
  const groupSel = root.querySelector('[data-testid="compare-group"]');
  let seq = 0;
  let colors = new Map();

  function showChips() {
    chips.innerHTML = state.ids.map((id) => `<span class="compare-chip" data-testid="compare-chip" data-id="${id}">
        <i style="background:${colors.get(id) || "#c5ccd5"}"></i><a class="mono" href="#/meters/${id}">${esc(state.names.get(id) || "#" + id)}</a>
        <button type="button" class="icon-btn" data-remove="${id}" title="${esc(t("compare.remove"))}" aria-label="${esc(t("compare.remove"))}">${icon("trash")}</button></span>`).join("")
      + (state.ids.length >= MAX ? `<span class="muted small">${esc(t("compare.max", { n: MAX }))}</span>` : "");
    chips.querySelectorAll("[data-remove]").forEach((b) => b.addEventListener("click", () => {
      state.ids = state.ids.filter((x) => x !== Number(b.dataset.remove));
      showChips();
      load();
    }));
  }

  function message(text, error) {
    msg.textContent = text;
    msg.className = "chart-msg" + (error ? " error-text" : "");
    msg.hidden = !text;
  }

  async function load() {
    const my = ++seq;
    if (cleanupChart) { cleanupChart(); cleanupChart = null; }
    if (!state.ids.length && !state.group) { box.innerHTML = ""; message(t("compare.empty")); return; }
    if (!isIsoDate(state.from) || !isIsoDate(state.to) || state.from > state.to) { message(t("meter.badPeriod"), true); return; }
    wrap.classList.add("loading");
    try {
      const args = { ids: state.ids, resolution: state.res, from: state.from, to: state.to };
      if (state.register) args.register = state.register;
      // A power is never summed: the group's sum is left out (and said so).
      const noSum = Boolean(state.group) && isPower(state.register);
      root.querySelector('[data-testid="compare-nosum"]').hidden = !noSum;
      if (state.group && !noSum) args.sum_of_group = state.group;
      if (!state.ids.length && noSum) { box.innerHTML = ""; message(t("compare.empty")); return; }
      const cmp = await call("meters_compare", args);
      if (!alive || my !== seq) return;
      colors = new Map();
      cmp.series.forEach((s, i) => { if (s.kind === "meter") { state.names.set(s.id, s.name); colors.set(s.id, seriesColor(s, i)); } });
      showChips();
      message("");
      cleanupChart = renderCompare(box, cmp, state.mode);
    } catch (e) {
      if (!alive || my !== seq) return;
      message(t("common.error", { message: errorText(e) }), true);
    } finally {
      if (alive && my === seq) wrap.classList.remove("loading");
    }
  }

  const find = debounce(async () => {
    const text = search.value.trim();
    if (!text) { results.hidden = true; return; }
    try {
      const page = await call("meters_list", { search: text, limit: 8 });
      if (!alive || search.value.trim() !== text) return;
      results.innerHTML = page.rows.length
        ? page.rows.map((r) => `<button type="button" data-testid="compare-result" data-id="${r.id}" data-serial="${esc(r.serial)}"><b class="mono">${esc(r.serial)}</b> <span class="muted">${esc([r.customer_name, r.address, r.city].filter(Boolean).join(" · "))}</span></button>`).join("")
        : `<div class="muted" style="padding:8px 10px">${esc(t("compare.noResult"))}</div>`;
      results.hidden = false;
      results.querySelectorAll("[data-testid=compare-result]").forEach((b) => b.addEventListener("click", () => {
        const id = Number(b.dataset.id);
        if (!state.ids.includes(id) && state.ids.length < MAX) state.ids.push(id);
        state.names.set(id, b.dataset.serial);
        search.value = "";
        results.hidden = true;
        showChips();
        load();
      }));
    } catch (e) {
      if (!alive) return;
      results.innerHTML = `<div class="error-text" style="padding:8px 10px">${esc(errorText(e))}</div>`;
      results.hidden = false;
    }
  }, 200);
  search.addEventListener("input", find);
  search.addEventListener("keydown", (e) => { if (e.key === "Escape") results.hidden = true; });

  call("groups_list", {}).then((groups) => {
    if (!alive) return;
    groupSel.innerHTML += groups.map((g) => `<option value="${g.id}" ${g.id === state.group ? "selected" : ""}>${esc(g.name)} (${g.meter_count})</option>`).join("");
  }).catch(() => {});
  groupSel.addEventListener("change", () => { state.group = Number(groupSel.value) || null; load(); });
  root.querySelector('[data-testid="compare-register"]').addEventListener("change", (e) => { state.register = e.target.value; load(); });

  root.querySelectorAll("[data-res]").forEach((b) => b.addEventListener("click", () => {
    state.res = b.dataset.res;
    const anchor = state.to && isIsoDate(state.to) ? state.to : isoDateInTz(Math.floor(Date.now() / 1000));
    Object.assign(state, defaultPeriod(state.res, anchor));
    root.querySelector('[data-testid="compare-from"]').value = state.from;
    root.querySelector('[data-testid="compare-to"]').value = state.to;
    root.querySelectorAll("[data-res]").forEach((x) => { x.classList.toggle("active", x === b); x.setAttribute("aria-pressed", String(x === b)); });
    load();
  }));
  root.querySelectorAll("[data-mode]").forEach((b) => b.addEventListener("click", () => {
    state.mode = b.dataset.mode;
    root.querySelectorAll("[data-mode]").forEach((x) => { x.classList.toggle("active", x === b); x.setAttribute("aria-pressed", String(x === b)); });
    load();
  }));
  root.querySelector('[data-testid="compare-from"]').addEventListener("change", (e) => { state.from = e.target.value; load(); });
  root.querySelector('[data-testid="compare-to"]').addEventListener("change", (e) => { state.to = e.target.value; load(); });

  showChips();
  load();
  return () => { alive = false; if (cleanupChart) cleanupChart(); };
}
