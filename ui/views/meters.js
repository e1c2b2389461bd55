import { call } from "../api.js";
import { t, fmtInt, fmtDateTime, deviceTypeLabel, codeLabel, errorText } from "../i18n.js";
import { icon, deviceIcon } from "../icons.js";
import { esc, debounce } from "../dom.js";

const PAGE = 50;
// Kept across navigation so that coming back from a meter shows the same page.
const state = { search: "", groupId: "", alarmsOnly: false, sort: "serial", desc: false, offset: 0 };
let groupsCache = null;

const COLUMNS = [
  { id: "alarm", label: "meters.col.alarms", sort: null, cls: "col-alarm" },
  { id: "serial", label: "meters.col.serial", sort: "serial" },
  { id: "type", label: "meters.col.type", sort: "type" },
  { id: "customer", label: "meters.col.customer", sort: "customer" },
  { id: "address", label: "meters.col.address", sort: "address" },
  { id: "city", label: "meters.col.city", sort: "city" },
  { id: "last_seen", label: "meters.col.lastSeen", sort: "last_seen" },
];

function headerCell(c) {
  if (!c.sort) return `<th class="${c.cls || ""}"><span class="sr-only">${esc(t(c.label))}</span></th>`;
  const active = state.sort === c.sort;
  const aria = active ? (state.desc ? "descending" : "ascending") : "none";
  const ic = active ? (state.desc ? "sortDesc" : "sortAsc") : "sortNone";
  return `<th aria-sort="${aria}"><button class="th-sort ${active ? "active" : ""}" data-sort="${c.sort}" data-testid="sort-${c.sort}">${esc(t(c.label))}${icon(ic, "sort-icon")}</button></th>`;
}

function rowHtml(m) {
  const codes = m.info_codes || [];
  const alarm = codes.length
    ? `<span class="alarm" data-testid="alarm-icon" title="${esc(t("meters.activeCodes", { codes: codes.map(codeLabel).join(", ") }))}">${icon("warning")}</span>`
    : "";
  const customer = m.customer_name || m.customer_number
    ? `<div class="cell-main">${esc(m.customer_name || "")}</div><div class="cell-sub">${esc(m.customer_number || "")}</div>`
    : `<span class="muted">${esc(t("common.none"))}</span>`;
  const status = m.status && m.status !== "active" ? `<span class="badge badge-${esc(m.status)}">${esc(t("status." + m.status))}</span>` : "";
  return `<tr data-testid="meter-row" data-id="${m.id}" data-serial="${esc(m.serial)}" tabindex="0">
    <td class="col-alarm">${alarm}</td>
    <td><span class="mono strong">${esc(m.serial)}</span><div class="cell-sub">${esc(m.manufacturer || "")} ${status}</div></td>
    <td><span class="devtype">${deviceIcon(m.device_type)}<span>${esc(deviceTypeLabel(m.device_type))}</span></span></td>
    <td>${customer}</td>
    <td>${esc(m.address || "")}</td>
    <td>${esc([m.postal_code, m.city].filter(Boolean).join(" "))}</td>
    <td class="nowrap">${m.last_seen ? esc(fmtDateTime(m.last_seen)) : `<span class="muted">${esc(t("meters.never"))}</span>`}</td>
  </tr>`;
}

export function render(root, ctx) {
  if (ctx.query.get("alarms") === "1") { state.alarmsOnly = true; state.offset = 0; }
  root.innerHTML = `
    <div class="page-head"><h1>${icon("meters")}<span>${esc(t("meters.title"))}</span></h1></div>
    <div class="toolbar card">
      <label class="search">${icon("search")}
        <input type="search" data-testid="meter-search" placeholder="${esc(t("meters.search"))}" aria-label="${esc(t("meters.search"))}" value="${esc(state.search)}" autocomplete="off" spellcheck="false"></label>
      <label class="inline-field"><span>${esc(t("meters.group"))}</span>
        <select data-testid="group-filter"><option value="">${esc(t("meters.group.all"))}</option></select></label>
      <label class="check"><input type="checkbox" data-testid="alarms-only" ${state.alarmsOnly ? "checked" : ""}><span>${esc(t("meters.alarmsOnly"))}</span></label>
    </div>
    <div class="card table-card">
      <div class="table-scroll">
        <table class="table meters-table">
          <thead><tr>${COLUMNS.map(headerCell).join("")}</tr></thead>
          <tbody id="meter-rows"><tr class="empty-row"><td colspan="${COLUMNS.length}">${esc(t("common.loading"))}</td></tr></tbody>
        </table>
      </div>
      <div class="pager">
        <span class="pager-range" data-testid="pager-range"></span>
        <div class="pager-buttons">
          <button class="btn" data-testid="page-prev">${icon("chevronLeft")}<span>${esc(t("meters.prev"))}</span></button>
          <button class="btn" data-testid="page-next"><span>${esc(t("meters.next"))}</span>${icon("chevronRight")}</button>
        </div>
      </div>
    </div>`;

  const tbody = root.querySelector("#meter-rows");
  const rangeEl = root.querySelector('[data-testid="pager-range"]');
  const prev = root.querySelector('[data-testid="page-prev"]');
  const next = root.querySelector('[data-testid="page-next"]');
  const search = root.querySelector('[data-testid="meter-search"]');
  const groupSel = root.querySelector('[data-testid="group-filter"]');
  const alarms = root.querySelector('[data-testid="alarms-only"]');
  let seq = 0;
  let total = 0;
  let alive = true;

  function fillGroups(groups) {
    groupSel.innerHTML = `<option value="">${esc(t("meters.group.all"))}</option>` +
      groups.map((g) => `<option value="${g.id}">${esc(g.name)} (${fmtInt(g.meter_count)})</option>`).join("");
    groupSel.value = state.groupId;
  }
  if (groupsCache) fillGroups(groupsCache);
  call("groups_list", {}).then((g) => { groupsCache = g; if (alive) fillGroups(g); }).catch(() => {});

  async function load() {
    const my = ++seq;
    tbody.classList.add("loading");
    const args = { sort: state.sort, desc: state.desc, offset: state.offset, limit: PAGE };
    if (state.search.trim()) args.search = state.search.trim();
    if (state.groupId) args.group_id = Number(state.groupId);
    if (state.alarmsOnly) args.alarms_only = true;
    try {
      const res = await call("meters_list", args);
      if (!alive || my !== seq) return;
      total = res.total;
      if (res.rows.length === 0 && state.offset > 0 && total > 0) {
        state.offset = Math.max(0, Math.floor((total - 1) / PAGE) * PAGE);
        load();
        return;
      }
      tbody.innerHTML = res.rows.length
        ? res.rows.map(rowHtml).join("")
        : `<tr class="empty-row"><td colspan="${COLUMNS.length}" data-testid="meters-empty">${esc(t("meters.empty"))}</td></tr>`;
      rangeEl.textContent = res.rows.length
        ? t("meters.range", { from: fmtInt(state.offset + 1), to: fmtInt(state.offset + res.rows.length), total: fmtInt(total) })
        : t("meters.range.empty", { total: fmtInt(total) });
      prev.disabled = state.offset <= 0;
      next.disabled = state.offset + res.rows.length >= total;
    } catch (e) {
      if (!alive || my !== seq) return;
      tbody.innerHTML = `<tr class="empty-row"><td colspan="${COLUMNS.length}" class="error-text">${esc(t("common.error", { message: errorText(e) }))}</td></tr>`;
      rangeEl.textContent = "";
    } finally {
      if (alive && my === seq) tbody.classList.remove("loading");
    }
  }

  const onSearch = debounce(() => { state.search = search.value; state.offset = 0; load(); }, 250);
  search.addEventListener("input", onSearch);
  groupSel.addEventListener("change", () => { state.groupId = groupSel.value; state.offset = 0; load(); });
  alarms.addEventListener("change", () => { state.alarmsOnly = alarms.checked; state.offset = 0; load(); });
  prev.addEventListener("click", () => { state.offset = Math.max(0, state.offset - PAGE); load(); });
  next.addEventListener("click", () => { if (state.offset + PAGE < total) { state.offset += PAGE; load(); } });
  const thead = root.querySelector("thead");
  thead.addEventListener("click", (e) => {
    const b = e.target.closest(".th-sort");
    if (!b) return;
    const s = b.dataset.sort;
    if (state.sort === s) state.desc = !state.desc; else { state.sort = s; state.desc = s === "last_seen"; }
    state.offset = 0;
    thead.innerHTML = `<tr>${COLUMNS.map(headerCell).join("")}</tr>`;
    thead.querySelector(`[data-sort="${s}"]`).focus();
    load();
  });

  tbody.addEventListener("click", (e) => {
    const tr = e.target.closest('tr[data-testid="meter-row"]');
    if (tr) ctx.navigate("#/meters/" + tr.dataset.id);
  });
  tbody.addEventListener("keydown", (e) => {
    const tr = e.target.closest('tr[data-testid="meter-row"]');
    if (tr && (e.key === "Enter" || e.key === " ")) { e.preventDefault(); ctx.navigate("#/meters/" + tr.dataset.id); }
  });

  load();
  if (!state.search) search.focus();
  return () => { alive = false; onSearch.cancel(); };
}
