// Heard devices: devices not in the park whose telegrams did not decode (commands
// heard_devices_list, heard_device_adopt, heard_device_dismiss). Adopting and dismissing need
// edit_meters; the buttons are hidden without it, and the server is what refuses.
import { call } from "../api.js";
import { t, fmtInt, fmtDateTime, deviceTypeLabel, errorText, tOr } from "../i18n.js";
import { icon, deviceIcon } from "../icons.js";
import { esc } from "../dom.js";

const PAGE = 50;
let offset = 0; // kept while the clerk looks elsewhere

export function render(root, ctx) {
  const edit = ctx.can("edit_meters");
  const COLS = edit ? 10 : 9;
  let alive = true;
  let devices = [];
  let total = 0;
  let dismissing = null; // id asking for confirmation
  let busy = false;
  root.innerHTML = `
    <div class="page-head"><div><h1>${icon("antenna")}<span>${esc(t("heard.title"))}</span></h1>
      <p class="muted" data-testid="heard-intro">${esc(t("heard.intro"))}</p></div></div>
    ${edit ? "" : `<p class="notice" data-testid="heard-denied">${esc(t("heard.denied"))}</p>`}
    <p class="toolbar-msg" data-testid="heard-msg" aria-live="polite"></p>
    <div class="card table-card"><div class="table-scroll"><table class="table compact heard-table" data-testid="heard-table">
      <thead><tr><th>${esc(t("heard.col.serial"))}</th><th>${esc(t("heard.col.manufacturer"))}</th><th>${esc(t("heard.col.type"))}</th>
        <th class="num">${esc(t("heard.col.times"))}</th><th>${esc(t("heard.col.first"))}</th><th>${esc(t("heard.col.last"))}</th>
        <th class="num">${esc(t("heard.col.rssi"))}</th><th>${esc(t("heard.col.encrypted"))}</th><th>${esc(t("heard.col.why"))}</th>
        ${edit ? `<th>${esc(t("heard.col.actions"))}</th>` : ""}</tr></thead>
      <tbody id="heard-rows"><tr class="empty-row"><td colspan="${COLS}">${esc(t("common.loading"))}</td></tr></tbody>
    </table></div>
    <div class="pager" data-testid="heard-pager" hidden>
      <span class="pager-range" data-testid="heard-range"></span>
      <div class="pager-buttons">
        <button class="btn" data-testid="heard-prev">${icon("chevronLeft")}<span>${esc(t("meters.prev"))}</span></button>
        <button class="btn" data-testid="heard-next"><span>${esc(t("meters.next"))}</span>${icon("chevronRight")}</button>
      </div>
    </div></div>`;
  const tbody = root.querySelector("#heard-rows");
  const msg = root.querySelector('[data-testid="heard-msg"]');
  const pagerEl = root.querySelector('[data-testid="heard-pager"]');
  const rangeEl = root.querySelector('[data-testid="heard-range"]');
  const prev = root.querySelector('[data-testid="heard-prev"]');
  const next = root.querySelector('[data-testid="heard-next"]');
  const say = (html, error) => { msg.innerHTML = html; msg.classList.toggle("error-text", !!error); msg.classList.toggle("ok-text", !!html && !error); };

  function rowHtml(d) {
    const asking = edit && dismissing === d.id;
    const actions = edit
      ? `<div class="row-actions"><button class="btn btn-primary" data-act="adopt" data-testid="heard-adopt">${icon("plus")}<span>${esc(t("heard.adopt"))}</span></button>
        <button class="btn btn-ghost danger" data-act="dismiss" data-testid="heard-dismiss" ${asking ? 'aria-pressed="true"' : ""}><span>${esc(t("heard.dismiss"))}</span></button></div>`
      : "";
    const confirmRow = asking
      ? `<tr class="confirm-row" data-testid="heard-confirm" data-id="${d.id}" data-serial="${esc(d.serial)}"><td colspan="${COLS}"><div class="row-actions">
        <span class="warn-text">${esc(t("heard.confirmDismiss", { serial: d.serial }))}</span>
        <button class="btn btn-danger" data-act="confirm-dismiss" data-testid="heard-confirm-dismiss">${esc(t("heard.dismiss"))}</button>
        <button class="btn btn-ghost" data-act="cancel">${esc(t("heard.cancel"))}</button></div></td></tr>`
      : "";
    const type = d.device_type || "other";
    return `<tr data-testid="heard-row" data-id="${d.id}" data-serial="${esc(d.serial)}">
      <td class="mono strong">${esc(d.serial)}</td>
      <td title="${esc(t("heard.col.manufacturer"))} ${esc(d.manufacturer || "")}, version ${esc(d.version ?? "")}">${esc(d.manufacturer || t("common.none"))}</td>
      <td><span class="devtype">${deviceIcon(type)}<span>${esc(deviceTypeLabel(d.device_type))}</span></span></td>
      <td class="num">${fmtInt(d.times_heard)}</td>
      <td class="nowrap">${esc(fmtDateTime(d.first_heard))}</td>
      <td class="nowrap">${esc(fmtDateTime(d.last_heard))}</td>
      <td class="num nowrap">${d.last_rssi === null || d.last_rssi === undefined ? esc(t("common.none")) : esc(t("heard.rssi", { value: fmtInt(d.last_rssi) }))}</td>
      <td>${esc(t(d.encrypted ? "common.yes" : "common.no"))}</td>
      <td data-testid="heard-why">${esc(tOr("heard.status." + d.last_status, d.last_status || t("common.none")))}</td>
      ${edit ? `<td class="nowrap">${actions}</td>` : ""}</tr>${confirmRow}`;
  }

  function draw() {
    tbody.innerHTML = devices.length ? devices.map(rowHtml).join("")
      : `<tr class="empty-row"><td colspan="${COLS}" data-testid="heard-empty">${esc(t("heard.empty"))}</td></tr>`;
    pagerEl.hidden = total <= PAGE;
    rangeEl.textContent = devices.length
      ? t("meters.range", { from: fmtInt(offset + 1), to: fmtInt(offset + devices.length), total: fmtInt(total) })
      : t("meters.range.empty", { total: fmtInt(total) });
    prev.disabled = busy || offset === 0;
    next.disabled = busy || offset + devices.length >= total;
    tbody.querySelectorAll("button").forEach((b) => { b.disabled = busy; });
  }

  async function load() {
    try {
      const res = await call("heard_devices_list", { offset, limit: PAGE });
      if (!alive) return;
      if (res.devices.length === 0 && offset > 0 && res.total > 0) {
        offset = Math.max(0, Math.floor((res.total - 1) / PAGE) * PAGE);
        return load();
      }
      devices = res.devices;
      total = res.total;
      draw();
    } catch (e) {
      if (alive) tbody.innerHTML = `<tr class="empty-row"><td colspan="${COLS}" class="error-text">${esc(t("common.error", { message: errorText(e) }))}</td></tr>`;
    }
  }

  async function act(fn, okHtml) {
    busy = true;
    draw();
    try {
      const res = await fn();
      dismissing = null;
      if (alive) say(okHtml(res));
    } catch (e) {
      if (alive) say(esc(t("common.error", { message: errorText(e) })), true);
    }
    busy = false;
    if (alive) await load();
  }

  tbody.addEventListener("click", (e) => {
    const b = e.target.closest("[data-act]");
    if (!b || busy) return;
    const tr = b.closest("tr");
    const id = Number(tr.dataset.id);
    const serial = tr.dataset.serial;
    switch (b.dataset.act) {
      case "dismiss": dismissing = id; draw(); break;
      case "cancel": dismissing = null; draw(); break;
      case "confirm-dismiss":
        act(() => call("heard_device_dismiss", { id }), () => `<span data-testid="heard-dismissed">${esc(t("heard.dismissed", { serial }))}</span>`);
        break;
      case "adopt":
        act(() => call("heard_device_adopt", { id }), (r) => {
          const p = { serial: r.serial, telegrams: fmtInt(r.telegrams), decoded: fmtInt(r.decoded), readings: fmtInt(r.readings) };
          const text = r.decoded > 0 ? t("heard.adopted", p) : t("heard.adopted.nokey", p);
          return `<span data-testid="heard-adopted">${esc(text)}</span>
            <a class="btn btn-ghost" href="#/meters/${Number(r.meter_id)}" data-testid="heard-open-meter">${icon("meters")}<span>${esc(t("heard.openMeter"))}</span></a>`;
        });
        break;
      default: break;
    }
  });
  prev.addEventListener("click", () => { offset = Math.max(0, offset - PAGE); load(); });
  next.addEventListener("click", () => { offset += PAGE; load(); });
  load();
  return () => { alive = false; };
}
