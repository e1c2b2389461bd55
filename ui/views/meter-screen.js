// The meter page's readings table (command `meter_readings`, keyset pages), a reading entered
// (`meter_reading_add`, needs import) or corrected (`meter_reading_correct`, needs
// edit_meters) by hand with a reason, and the meter and its customer edited (`meter_update`,
// `customer_update`, `customers_search`; needs edit_meters) with a small map whose marker is
// dragged to the meter's place.
import { call } from "../api.js";
import { t, fmtNumber, fmtDateTime, unitLabel, errorText, statusLabel, registerLabel, getLocale } from "../i18n.js";
import { icon } from "../icons.js";
import { esc, debounce, downloadFile, base64Bytes } from "../dom.js";
import { loadLeaflet } from "../mapcanvas.js";
import { baseLayer } from "./map.js";

const PAGE = 50;
const STATUSES = ["active", "to_remove", "unassigned", "removed"];
// Table settings and the message to show after a reload, per meter id.
const tableState = new Map();

/** The status a clerk sees: "to remove" (à déposer) is an active meter marked so. */
export function shownStatus(d) {
  return d.to_remove && d.meter.status === "active" ? "to_remove" : d.meter.status;
}

const msgHtml = (testid) => `<p class="small" data-testid="${testid}" aria-live="polite"></p>`;
function say(el, text, error) {
  if (!el) return;
  el.className = "small " + (error ? "error-text" : "ok-text");
  el.textContent = text;
}

/** A local `YYYY-MM-DDTHH:MM` for a datetime-local input (the browser's clock, rounded to the minute). */
function nowLocalInput() {
  const d = new Date();
  const p = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

export function readingsCardHtml(d, can) {
  const add = can("import") && d.meter.status !== "removed";
  return `<section class="card" data-testid="readings-card">
    <div class="chart-head"><h2>${icon("file")}<span>${esc(t("rd.title"))}</span></h2>
      ${add ? `<button type="button" class="btn" data-testid="rd-add-open">${icon("edit")}<span>${esc(t("rd.add"))}</span></button>` : ""}</div>
    ${add ? `<form class="form-grid" data-testid="rd-add-form" hidden>
      <h3>${esc(t("rd.add.title"))}</h3>
      <label>${esc(t("rd.add.at"))}<input type="datetime-local" data-testid="rd-add-at" required></label>
      <label>${esc(t("rd.add.value"))} <span class="muted" data-testid="rd-add-unit"></span><input type="number" step="any" min="0" data-testid="rd-add-value" required></label>
      <label class="wide">${esc(t("rd.add.reason"))}<input type="text" maxlength="500" data-testid="rd-add-reason" placeholder="${esc(t("rd.add.reasonHint"))}"></label>
      <label class="check wide" data-testid="rd-add-confirm-row" hidden><input type="checkbox" data-testid="rd-add-confirm">${esc(t("rd.confirm"))}</label>
      <div class="wide"><button type="submit" class="btn primary" data-testid="rd-add-save">${esc(t("rd.add.save"))}</button>
        <button type="button" class="btn" data-testid="rd-add-cancel">${esc(t("rd.cancel"))}</button></div>
      ${msgHtml("rd-add-msg")}
    </form>` : ""}
    <div class="chart-controls">
      <label class="inline-field"><span>${esc(t("rd.register"))}</span><select data-testid="rd-register"></select></label>
      <label class="inline-field"><span>${esc(t("rd.from"))}</span><input type="date" data-testid="rd-from"></label>
      <label class="inline-field"><span>${esc(t("rd.to"))}</span><input type="date" data-testid="rd-to"></label>
      ${can("export") ? `<span class="rd-csv"><select data-testid="rd-csv-encoding" aria-label="${esc(t("enc.label"))}">
        ${["utf-8-bom", "utf-8", "windows-1252"].map((e) => `<option value="${e}" ${e === (getLocale() === "fr" ? "utf-8-bom" : "utf-8") ? "selected" : ""}>${esc(t("enc." + e))}</option>`).join("")}</select>
        <label class="check"><input type="checkbox" data-testid="rd-csv-french" ${getLocale() === "fr" ? "checked" : ""}><span>${esc(t("export.french"))}</span></label>
        <button type="button" class="btn" data-testid="rd-csv">${icon("file")}<span>CSV</span></button></span>` : ""}
    </div>
    <p class="small" data-testid="rd-csv-msg" aria-live="polite"></p>
    <p class="small ok-text" data-testid="rd-flash" aria-live="polite"></p>
    <p class="muted small" data-testid="rd-daily" hidden>${esc(t("rd.daily"))}</p>
    <div class="table-scroll"><table class="table compact" data-testid="readings-table"><thead><tr>
      <th>${esc(t("rd.col.date"))}</th><th class="num">${esc(t("rd.col.index"))}</th><th class="num">${esc(t("rd.col.consumption"))}</th>
      <th>${esc(t("rd.col.source"))}</th><th>${esc(t("rd.col.gateway"))}</th><th></th></tr></thead><tbody></tbody></table></div>
    <p class="muted" data-testid="rd-none" hidden>${esc(t("rd.none"))}</p>
    <div class="pager"><button type="button" class="btn" data-testid="rd-newer" disabled>${esc(t("rd.newer"))}</button>
      <span class="muted small" data-testid="rd-page"></span>
      <button type="button" class="btn" data-testid="rd-older" disabled>${esc(t("rd.older"))}</button></div>
  </section>`;
}

/** Wire the readings card; `reload()` re-reads the meter (chart marks, registers). Returns a cleanup. */
export function wireReadings(root, d, can, reload) {
  const card = root.querySelector('[data-testid="readings-card"]');
  if (!card) return () => {};
  const id = d.meter.id;
  const q = (tid) => card.querySelector(`[data-testid="${tid}"]`);
  let st = tableState.get(id);
  if (!st) { st = { register: null, from: "", to: "", cursors: [null], flash: "" }; tableState.set(id, st); }
  let alive = true;
  let seq = 0;
  let unit = "";
  const regSel = q("rd-register");
  q("rd-from").value = st.from;
  q("rd-to").value = st.to;
  if (st.flash) { q("rd-flash").textContent = st.flash; st.flash = ""; }
  const canCorrect = can("edit_meters");

  async function load() {
    const my = ++seq;
    const before = st.cursors[st.cursors.length - 1];
    const args = { id, limit: PAGE, ...(st.register ? { register: st.register } : {}), ...(st.from ? { from: st.from } : {}), ...(st.to ? { to: st.to } : {}), ...(before !== null ? { before } : {}) };
    const tbody = card.querySelector("tbody");
    try {
      const p = await call("meter_readings", args);
      if (!alive || my !== seq) return;
      st.register = p.register;
      unit = unitLabel(p.unit);
      regSel.innerHTML = p.registers.map((r) => `<option value="${esc(r.register)}" ${r.register === p.register ? "selected" : ""}>${esc(registerLabel(r.register, r.label))} (${esc(unitLabel(r.unit))})</option>`).join("");
      const u = q("rd-add-unit");
      if (u) u.textContent = unit;
      q("rd-daily").hidden = !p.daily;
      q("rd-none").hidden = p.rows.length > 0;
      tbody.innerHTML = p.rows.map((r) => `<tr data-ts="${r.ts}" data-edit="${esc(r.edit || "")}" data-source="${esc(r.source)}" class="${r.edit ? "manual-row" : ""}">
        <td class="nowrap">${esc(fmtDateTime(r.ts))}</td>
        <td class="num"><b>${esc(fmtNumber(r.value, 3))}</b> ${esc(unit)}</td>
        <td class="num">${r.consumption === null || r.consumption === undefined ? "" : `${esc(fmtNumber(r.consumption, 3))} ${esc(unit)}`}</td>
        <td>${esc(t("rd.source." + r.source))}${r.edit ? ` <span class="badge badge-manual" data-testid="rd-manual">${esc(t("rd.edit." + r.edit))}</span>` : ""}${r.source_name && r.source !== "manual" ? `<div class="small muted">${esc(r.source_name)}</div>` : ""}</td>
        <td>${esc(r.gateway || "")}</td>
        <td>${canCorrect && registerIsIndex(p, p.register) ? `<button type="button" class="btn small" data-testid="rd-correct" data-ts="${r.ts}" data-value="${r.value}">${esc(t("rd.correct"))}</button>` : ""}</td>
      </tr>`).join("");
      st.next = p.next_before;
      q("rd-older").disabled = p.next_before === null || p.next_before === undefined;
      q("rd-newer").disabled = st.cursors.length <= 1;
      q("rd-page").textContent = t("rd.page", { n: st.cursors.length });
    } catch (e) {
      if (!alive || my !== seq) return;
      tbody.innerHTML = `<tr><td colspan="6" class="error-text" data-testid="rd-error">${esc(t("common.error", { message: errorText(e) }))}</td></tr>`;
    }
  }
  const registerIsIndex = (p, reg) => (p.registers.find((r) => r.register === reg) || { index: true }).index;
  const restart = () => { st.cursors = [null]; load(); };

  regSel.addEventListener("change", () => { st.register = regSel.value; restart(); });
  q("rd-from").addEventListener("change", () => { st.from = q("rd-from").value; restart(); });
  q("rd-to").addEventListener("change", () => { st.to = q("rd-to").value; restart(); });
  q("rd-older").addEventListener("click", () => { if (st.next !== null && st.next !== undefined) { st.cursors.push(st.next); load(); } });
  q("rd-newer").addEventListener("click", () => { if (st.cursors.length > 1) { st.cursors.pop(); load(); } });

  const csv = q("rd-csv");
  if (csv) csv.addEventListener("click", async () => {
    csv.disabled = true;
    try {
      const r = await call("meter_readings_export", {
        id, ...(st.register ? { register: st.register } : {}), ...(st.from ? { from: st.from } : {}), ...(st.to ? { to: st.to } : {}),
        encoding: q("rd-csv-encoding").value, french: q("rd-csv-french").checked,
      });
      downloadFile(r.filename, base64Bytes(r.content_base64), "text/csv");
      say(q("rd-csv-msg"), t("export.done", { rows: fmtNumber(r.rows, 0), filename: r.filename }));
    } catch (e) {
      say(q("rd-csv-msg"), t("common.error", { message: errorText(e) }), true);
    } finally {
      csv.disabled = false;
    }
  });

  // A refusal that a confirmation overrides (an index going backwards).
  const confirmable = (e) => e && (e.code === "reading_below_previous" || e.code === "reading_above_next");

  const form = q("rd-add-form");
  if (form) {
    q("rd-add-open").addEventListener("click", () => {
      form.hidden = !form.hidden;
      if (!form.hidden) { q("rd-add-at").value = nowLocalInput(); q("rd-add-value").focus(); }
    });
    q("rd-add-cancel").addEventListener("click", () => { form.hidden = true; });
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const btn = q("rd-add-save");
      btn.disabled = true;
      try {
        await call("meter_reading_add", {
          id, register: st.register, at: q("rd-add-at").value, value: Number(q("rd-add-value").value),
          reason: q("rd-add-reason").value, confirm: q("rd-add-confirm").checked,
        });
        st.cursors = [null];
        st.flash = t("rd.add.done");
        reload();
      } catch (e) {
        if (confirmable(e)) q("rd-add-confirm-row").hidden = false;
        say(q("rd-add-msg"), errorText(e), true);
      } finally {
        btn.disabled = false;
      }
    });
  }

  card.querySelector("tbody").addEventListener("click", (ev) => {
    const b = ev.target.closest('[data-testid="rd-correct"]');
    if (!b) return;
    card.querySelectorAll(".rd-correct-row").forEach((r) => r.remove());
    const tr = b.closest("tr");
    const ts = Number(b.dataset.ts);
    const row = document.createElement("tr");
    row.className = "rd-correct-row";
    row.innerHTML = `<td colspan="6"><form class="form-grid" data-testid="rd-cor-form">
      <h3>${esc(t("rd.correct.title", { date: fmtDateTime(ts) }))}</h3>
      <p class="muted small wide">${esc(t("rd.correct.old", { value: `${fmtNumber(Number(b.dataset.value), 3)} ${unit}` }))}</p>
      <label>${esc(t("rd.correct.value"))} <span class="muted">${esc(unit)}</span><input type="number" step="any" min="0" data-testid="rd-cor-value" value="${esc(b.dataset.value)}"></label>
      <label class="wide">${esc(t("rd.add.reason"))}<input type="text" maxlength="500" data-testid="rd-cor-reason" placeholder="${esc(t("rd.add.reasonHint"))}"></label>
      <label class="check wide" data-testid="rd-cor-confirm-row" hidden><input type="checkbox" data-testid="rd-cor-confirm">${esc(t("rd.confirm"))}</label>
      <div class="wide"><button type="submit" class="btn primary" data-testid="rd-cor-save">${esc(t("rd.correct.save"))}</button>
        <button type="button" class="btn" data-testid="rd-cor-cancel">${esc(t("rd.cancel"))}</button></div>
      ${msgHtml("rd-cor-msg")}</form></td>`;
    tr.after(row);
    const f = row.querySelector("form");
    const rq = (tid) => row.querySelector(`[data-testid="${tid}"]`);
    rq("rd-cor-cancel").addEventListener("click", () => row.remove());
    f.addEventListener("submit", async (e2) => {
      e2.preventDefault();
      try {
        await call("meter_reading_correct", {
          id, register: st.register, ts, value: Number(rq("rd-cor-value").value), reason: rq("rd-cor-reason").value, confirm: rq("rd-cor-confirm").checked,
        });
        st.flash = t("rd.correct.done");
        reload();
      } catch (err) {
        if (confirmable(err)) rq("rd-cor-confirm-row").hidden = false;
        say(rq("rd-cor-msg"), errorText(err), true);
      }
    });
    rq("rd-cor-value").focus();
  });

  load();
  return () => { alive = false; };
}

export function meterEditHtml(d, can) {
  if (!can("edit_meters")) return "";
  const m = d.meter;
  const c = d.customer;
  const status = shownStatus(d);
  const input = (tid, label, value, extra = "") => `<label>${esc(label)}<input type="text" data-testid="${tid}" value="${esc(value ?? "")}" ${extra}></label>`;
  const coord = (v) => (v === null || v === undefined ? "" : String(Number(v).toFixed(6)));
  return `<section class="card" data-testid="meter-edit" hidden>
    <h2>${icon("edit")}<span>${esc(t("med.title"))}</span></h2>
    <form class="form-grid" data-testid="med-form">
      ${input("med-address", t("med.address"), m.address, 'maxlength="200"')}
      ${input("med-postal", t("med.postal_code"), m.postal_code, 'maxlength="16"')}
      ${input("med-city", t("med.city"), m.city, 'maxlength="100"')}
      ${input("med-lat", t("med.lat"), coord(m.lat), 'inputmode="decimal"')}
      ${input("med-lon", t("med.lon"), coord(m.lon), 'inputmode="decimal"')}
      <div class="wide"><div class="med-map" data-testid="med-map" style="height:260px"></div><p class="muted small">${esc(t("med.mapHint"))}</p></div>
      <label>${esc(t("med.customer"))}<input type="text" list="med-customers" data-testid="med-customer" value="${esc(c ? c.number : "")}" placeholder="${esc(t("med.customerHint"))}"><datalist id="med-customers"></datalist></label>
      <label>${esc(t("med.status"))}<select data-testid="med-status" ${m.status === "removed" ? "disabled" : ""}>${STATUSES.map((s) => `<option value="${s}" ${s === status ? "selected" : ""}>${esc(statusLabel(s))}</option>`).join("")}</select></label>
      <label class="wide">${esc(t("med.notes"))}<textarea data-testid="med-notes" maxlength="2000" rows="3">${esc(d.notes || "")}</textarea></label>
      <div class="wide"><button type="submit" class="btn primary" data-testid="med-save">${esc(t("med.save"))}</button></div>
      ${msgHtml("med-msg")}
    </form>
    ${c && d.customer_id ? `<form class="form-grid" data-testid="med-cust-form">
      <h3 class="wide">${esc(t("med.cust.title"))}</h3>
      ${input("med-cust-number", t("med.cust.number"), c.number, 'maxlength="32"')}
      ${input("med-cust-name", t("med.cust.name"), c.name, 'maxlength="100"')}
      ${input("med-cust-email", t("med.cust.email"), c.email, 'maxlength="200"')}
      ${input("med-cust-phone", t("med.cust.phone"), c.phone, 'maxlength="40"')}
      <div class="wide"><button type="submit" class="btn" data-testid="med-cust-save">${esc(t("med.cust.save"))}</button></div>
      ${msgHtml("med-cust-msg")}
    </form>` : ""}
  </section>`;
}

/** Wire the edit card (opened by `med-open`); `reload(flash)` re-reads the meter. Returns a cleanup. */
export function wireMeterEdit(root, d, reload) {
  const card = root.querySelector('[data-testid="meter-edit"]');
  const open = root.querySelector('[data-testid="med-open"]');
  if (!card || !open) return () => {};
  const q = (tid) => card.querySelector(`[data-testid="${tid}"]`);
  let map = null;
  let marker = null;
  const num = (s) => (s.trim() === "" ? null : Number(s.trim().replace(",", ".")));

  function placeMarker(L, lat, lon) {
    if (marker) marker.setLatLng([lat, lon]);
    else {
      marker = L.marker([lat, lon], { draggable: true, autoPan: true }).addTo(map);
      marker.getElement().setAttribute("data-testid", "med-marker");
      marker.on("dragend", () => { const p = marker.getLatLng(); q("med-lat").value = p.lat.toFixed(6); q("med-lon").value = p.lng.toFixed(6); });
    }
  }

  async function showMap() {
    if (map) { map.invalidateSize(); return; }
    const L = await loadLeaflet();
    L.Icon.Default.imagePath = "vendor/leaflet/images/";
    const el = q("med-map");
    const lat = num(q("med-lat").value);
    const lon = num(q("med-lon").value);
    const has = lat !== null && lon !== null && !Number.isNaN(lat) && !Number.isNaN(lon);
    map = L.map(el, { zoomControl: true, attributionControl: false, minZoom: 3, maxZoom: 19 });
    map.setView(has ? [lat, lon] : [45.4775, 4.5153], has ? 17 : 12);
    const s = await call("map_settings", {}).catch(() => ({}));
    if (s.tile_url || s.mbtiles_path) baseLayer(L).addTo(map);
    L.control.scale({ imperial: false, maxWidth: 120, position: "bottomright" }).addTo(map);
    placeMarker(L, has ? lat : 45.4775, has ? lon : 4.5153);
    map.on("click", (e) => { placeMarker(L, e.latlng.lat, e.latlng.lng); q("med-lat").value = e.latlng.lat.toFixed(6); q("med-lon").value = e.latlng.lng.toFixed(6); });
    el.releve = { map, marker: () => marker }; // for the browser tests
    const follow = () => { const a = num(q("med-lat").value), b = num(q("med-lon").value); if (a !== null && b !== null && !Number.isNaN(a) && !Number.isNaN(b)) placeMarker(L, a, b); };
    q("med-lat").addEventListener("change", follow);
    q("med-lon").addEventListener("change", follow);
  }

  open.addEventListener("click", () => {
    card.hidden = !card.hidden;
    if (!card.hidden) { card.scrollIntoView({ block: "start" }); showMap(); }
  });

  const list = card.querySelector("#med-customers");
  q("med-customer").addEventListener("input", debounce(async () => {
    try {
      const rows = await call("customers_search", { search: q("med-customer").value, limit: 20 });
      list.innerHTML = rows.filter((c) => !c.moved_out).map((c) => `<option value="${esc(c.number)}">${esc(c.name)}${c.city ? " — " + esc(c.city) : ""}</option>`).join("");
    } catch { /* the picker stays as it was */ }
  }, 200));

  q("med-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const lat = num(q("med-lat").value);
    const lon = num(q("med-lon").value);
    try {
      const r = await call("meter_update", {
        id: d.meter.id, address: q("med-address").value, postal_code: q("med-postal").value, city: q("med-city").value,
        lat: lat === null || Number.isNaN(lat) ? null : lat, lon: lon === null || Number.isNaN(lon) ? null : lon,
        customer_number: q("med-customer").value, status: q("med-status").value, notes: q("med-notes").value,
      });
      if (!r.changed.length) { say(q("med-msg"), t("med.unchanged")); return; }
      reload(t("med.saved", { fields: r.changed.map((f) => t("field." + (f === "customer" ? "customer" : f))).join(", ") }));
    } catch (e) {
      say(q("med-msg"), errorText(e), true);
    }
  });

  const cf = q("med-cust-form");
  if (cf) cf.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      const r = await call("customer_update", {
        id: d.customer_id, number: q("med-cust-number").value, name: q("med-cust-name").value, email: q("med-cust-email").value, phone: q("med-cust-phone").value,
      });
      if (!r.changed.length) { say(q("med-cust-msg"), t("med.unchanged")); return; }
      reload(t("med.cust.saved", { fields: r.changed.map((f) => t("field." + f)).join(", ") }));
    } catch (e) {
      say(q("med-cust-msg"), errorText(e), true);
    }
  });
  return () => { if (map) map.remove(); };
}
