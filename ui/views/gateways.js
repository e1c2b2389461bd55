// Gateways ("Passerelles"): the fixed network's concentrators and LoRaWAN gateways
// (command gateways) with their last contact, frames since midnight, meters heard in the
// last 7 days and those no other gateway heard (a gateway whose loss leaves meters unread);
// a silent one (no frame for its silent hours) is shown as such. A manager (`settings`)
// sets each one's label, position (for the map's gateways layer) and silent hours
// (gateway_set); the server is what refuses everyone else.
import { call } from "../api.js";
import { t, fmtInt, fmtNumber, fmtDateTime, errorText } from "../i18n.js";
import { icon } from "../icons.js";
import { esc } from "../dom.js";

export function render(root, ctx) {
  const manage = ctx.can("settings");
  let alive = true;
  let list = { default_silent_hours: 6, gateways: [] };
  let editing = null;
  root.innerHTML = `
    <div class="page-head"><div><h1>${icon("antenna")}<span>${esc(t("gw.title"))}</span></h1>
      <p class="muted">${esc(t("gw.intro"))}</p></div>
      <a class="btn" href="#/map?gateways=1" data-testid="gw-map">${icon("map")}<span>${esc(t("gw.onMap"))}</span></a></div>
    <p class="toolbar-msg" data-testid="gw-msg" aria-live="polite"></p>
    <div class="card table-card"><div class="table-scroll"><table class="table compact gw-table" data-testid="gw-table">
      <thead><tr><th>${esc(t("gw.col.name"))}</th><th>${esc(t("gw.col.state"))}</th><th>${esc(t("gw.col.last"))}</th>
        <th class="num">${esc(t("gw.col.today"))}</th><th class="num">${esc(t("gw.col.heard"))}</th><th class="num">${esc(t("gw.col.alone"))}</th>
        <th class="num">${esc(t("gw.col.silentHours"))}</th><th>${esc(t("gw.col.position"))}</th>${manage ? "<th></th>" : ""}</tr></thead>
      <tbody data-testid="gw-rows"><tr class="empty-row"><td colspan="9">${esc(t("common.loading"))}</td></tr></tbody>
    </table></div></div>`;
  const tbody = root.querySelector('[data-testid="gw-rows"]');
  const msg = root.querySelector('[data-testid="gw-msg"]');
  const say = (text, error) => { msg.textContent = text; msg.classList.toggle("error-text", !!error); };

  const hoursOf = (g) => (g.silent_hours === null || g.silent_hours === undefined
    ? `${fmtInt(list.default_silent_hours)} h <span class="muted small">${esc(t("gw.default"))}</span>`
    : g.silent_hours === 0 ? `<span class="muted">${esc(t("gw.never"))}</span>` : `${fmtInt(g.silent_hours)} h`);
  const position = (g) => (g.lat === null || g.lat === undefined ? `<span class="muted">—</span>`
    : `<span class="mono small nowrap">${esc(fmtNumber(g.lat, 5))}, ${esc(fmtNumber(g.lon, 5))}</span>`);
  const state = (g) => (g.silent_since
    ? `<span class="badge badge-warn" data-testid="gw-silent">${icon("warning")}${esc(t("gw.silent"))}</span> <div class="muted small nowrap">${esc(t("gw.since", { at: fmtDateTime(g.silent_since) }))}</div>`
    : `<span class="badge badge-active" data-testid="gw-ok">${esc(t("gw.ok"))}</span>`);

  function editRow(g) {
    const v = (x) => (x === null || x === undefined ? "" : esc(x));
    return `<tr class="edit-row" data-id="${g.id}"><td colspan="9"><form class="gw-edit" data-testid="gw-edit">
      <label class="field"><span>${esc(t("gw.label"))}</span><input type="text" name="label" maxlength="80" value="${v(g.label)}" data-testid="gw-label"></label>
      <label class="field"><span>${esc(t("gw.lat"))}</span><input type="number" name="lat" step="any" min="-90" max="90" value="${v(g.lat)}" data-testid="gw-lat"></label>
      <label class="field"><span>${esc(t("gw.lon"))}</span><input type="number" name="lon" step="any" min="-180" max="180" value="${v(g.lon)}" data-testid="gw-lon"></label>
      <label class="field"><span>${esc(t("gw.silentHours"))}</span><input type="number" name="hours" min="0" max="8760" step="1" value="${v(g.silent_hours)}" placeholder="${esc(t("gw.defaultHours", { n: list.default_silent_hours }))}" data-testid="gw-hours"></label>
      <div class="row-actions"><button class="btn btn-primary" type="submit" data-testid="gw-save">${icon("check")}<span>${esc(t("gw.save"))}</span></button>
        <button class="btn btn-ghost" type="button" data-act="cancel">${esc(t("heard.cancel"))}</button></div>
    </form></td></tr>`;
  }

  function paint() {
    if (!list.gateways.length) {
      tbody.innerHTML = `<tr class="empty-row"><td colspan="9">${esc(t("gw.empty"))}</td></tr>`;
      return;
    }
    tbody.innerHTML = list.gateways.map((g) => `<tr data-testid="gw-row" data-id="${g.id}" data-name="${esc(g.name)}" class="${g.silent_since ? "row-warn" : ""}">
      <td><strong class="mono">${esc(g.name)}</strong> <span class="muted small">${esc(t("gw.kind." + g.kind))}</span>${g.label ? `<div class="small">${esc(g.label)}</div>` : ""}</td>
      <td>${state(g)}</td>
      <td class="nowrap">${esc(fmtDateTime(g.last_contact))}${g.last_source ? `<div class="muted small">${esc(t("gw.via", { source: g.last_source }))}</div>` : ""}</td>
      <td class="num" data-testid="gw-today">${esc(fmtInt(g.frames_today))}</td>
      <td class="num" data-testid="gw-heard">${esc(fmtInt(g.meters_heard))}</td>
      <td class="num" data-testid="gw-alone">${g.meters_alone ? `<b class="warn-text">${esc(fmtInt(g.meters_alone))}</b>` : "0"}</td>
      <td class="num">${hoursOf(g)}</td><td>${position(g)}</td>
      ${manage ? `<td><button class="btn btn-ghost" data-act="edit" data-testid="gw-edit-open" title="${esc(t("gw.edit"))}" aria-label="${esc(t("gw.edit"))}">${icon("edit")}</button></td>` : ""}
    </tr>${editing === g.id ? editRow(g) : ""}`).join("");
  }

  async function load() {
    try {
      list = await call("gateways", {});
      if (alive && !tbody.querySelector("form")) paint();
    } catch (e) {
      if (alive) say(t("common.error", { message: errorText(e) }), true);
    }
  }

  tbody.addEventListener("click", (e) => {
    const b = e.target.closest("button[data-act]");
    if (!b) return;
    if (b.dataset.act === "edit") editing = Number(b.closest("tr").dataset.id);
    if (b.dataset.act === "cancel") editing = null;
    paint();
  });
  tbody.addEventListener("submit", async (e) => {
    e.preventDefault();
    const f = e.target;
    const num = (s) => (s.trim() === "" ? null : Number(s));
    try {
      const g = await call("gateway_set", {
        id: Number(f.closest("tr").dataset.id), label: f.label.value,
        lat: num(f.lat.value), lon: num(f.lon.value), silent_hours: num(f.hours.value),
      });
      if (!alive) return;
      editing = null;
      say(t("gw.saved", { name: g.name }));
      tbody.innerHTML = "";
      await load();
    } catch (err) {
      if (alive) say(t("common.error", { message: errorText(err) }), true);
    }
  });
  load();
  const timer = setInterval(load, 60_000);
  return () => { alive = false; clearInterval(timer); };
}
