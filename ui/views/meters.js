import { call } from "../api.js";
import { t, fmtInt, fmtNumber, fmtDateTime, deviceTypeLabel, codeLabel, errorText } from "../i18n.js";
import { icon, deviceIcon } from "../icons.js";
import { esc, debounce, downloadFile } from "../dom.js";

const PAGE = 50;
// Kept across navigation so that coming back from a meter shows the same page.
const state = { search: "", groupId: "", alarmsOnly: false, priorityOnly: false, keyStatus: "", notHeard: "", sort: "serial", desc: false, offset: 0 };
// The "not heard since" choices (days); `#/meters?not_heard=N` adds its own N.
const NOT_HEARD = [1, 2, 3, 7, 14, 30, 60, 90, 180, 365];
// The key statuses of meters_list's `key_status` filter (see the keys screen).
export const KEY_STATUSES = ["never_seen", "ok", "no_key", "wrong_key", "unknown_layout", "undecodable"];
let groupsCache = null;
// Meters ticked for "add to group", kept across pages.
const selected = new Set();
// "Select all N results": the filter (not ids) the actions send, with its total; null: the ticked ones.
let selAll = null;

const COLUMNS = [
  { id: "alarm", label: "meters.col.alarms", sort: null, cls: "col-alarm", shown: true },
  { id: "serial", label: "meters.col.serial", sort: "serial" },
  { id: "type", label: "meters.col.type", sort: "type" },
  { id: "customer", label: "meters.col.customer", sort: "customer" },
  { id: "address", label: "meters.col.address", sort: "address" },
  { id: "city", label: "meters.col.city", sort: "city" },
  { id: "last_seen", label: "meters.col.lastSeen", sort: "last_seen" },
  { id: "last_index", label: "meters.col.lastIndex", sort: null, cls: "num", shown: true },
];

function headerCell(c) {
  if (!c.sort) return `<th class="${c.cls || ""}"><span class="${c.shown ? "" : "sr-only"}">${esc(t(c.label))}</span></th>`;
  const active = state.sort === c.sort;
  const aria = active ? (state.desc ? "descending" : "ascending") : "none";
  const ic = active ? (state.desc ? "sortDesc" : "sortAsc") : "sortNone";
  return `<th aria-sort="${aria}"><button class="th-sort ${active ? "active" : ""}" data-sort="${c.sort}" data-testid="sort-${c.sort}">${esc(t(c.label))}${icon(ic, "sort-icon")}</button></th>`;
}

function rowHtml(m, selectable) {
  const codes = m.info_codes || [];
  // The active codes named, not only an icon.
  const alarm = codes.length
    ? `<span class="alarm" data-testid="alarm-icon" title="${esc(t("meters.activeCodes", { codes: codes.map(codeLabel).join(", ") }))}">${icon("warning")}</span> <span class="code-names" data-testid="code-names">${esc(codes.map(codeLabel).join(", "))}</span>`
    : "";
  const li = m.last_index;
  const lastIndex = li ? `<span data-testid="last-index">${esc(fmtNumber(li.value, 3))} ${esc(li.unit)}</span>` : "";
  const customer = m.customer_name || m.customer_number
    ? `<div class="cell-main">${esc(m.customer_name || "")}</div><div class="cell-sub">${esc(m.customer_number || "")}</div>`
    : `<span class="muted">${esc(t("common.none"))}</span>`;
  const status = m.status && m.status !== "active" ? `<span class="badge badge-${esc(m.status)}">${esc(t("status." + m.status))}</span>` : "";
  const pick = selectable
    ? `<td class="col-pick"><input type="checkbox" data-testid="meter-pick" aria-label="${esc(t("sel.select"))}" ${selected.has(m.id) ? "checked" : ""}></td>`
    : "";
  return `<tr data-testid="meter-row" data-id="${m.id}" data-serial="${esc(m.serial)}" data-status="${esc(m.status || "active")}" tabindex="0">
    ${pick}<td class="col-alarm">${alarm}</td>
    <td><span class="mono strong">${esc(m.serial)}</span>${m.priority ? ` <span class="badge badge-live" data-testid="priority-badge" title="${esc(t("live.priority.hint"))}">${esc(t("live.priority.badge"))}</span>` : ""}<div class="cell-sub">${esc(m.manufacturer || "")} ${status}</div></td>
    <td><span class="devtype">${deviceIcon(m.device_type)}<span>${esc(deviceTypeLabel(m.device_type))}</span></span></td>
    <td>${customer}</td>
    <td>${esc(m.address || "")}</td>
    <td>${esc([m.postal_code, m.city].filter(Boolean).join(" "))}</td>
    <td class="nowrap">${m.last_seen ? esc(fmtDateTime(m.last_seen)) : `<span class="muted">${esc(t("meters.never"))}</span>`}</td>
    <td class="num nowrap">${lastIndex}</td>
  </tr>`;
}

export function render(root, ctx) {
  if (ctx.query.get("alarms") === "1") { state.alarmsOnly = true; state.offset = 0; }
  if (ctx.query.get("priority") === "1") { state.priorityOnly = true; state.offset = 0; }
  if (ctx.query.get("group")) { state.groupId = ctx.query.get("group"); state.offset = 0; }
  if (ctx.query.has("key_status")) { state.keyStatus = KEY_STATUSES.includes(ctx.query.get("key_status")) ? ctx.query.get("key_status") : ""; state.offset = 0; }
  if (ctx.query.has("not_heard")) {
    const n = Number(ctx.query.get("not_heard"));
    state.notHeard = Number.isInteger(n) && n >= 0 && n <= 36600 ? String(n) : "";
    state.offset = 0;
  }
  const canGroup = ctx.can("edit_meters");
  const canExport = ctx.can("export");
  const selectable = canGroup || canExport;
  const notHeardChoices = [...new Set([...NOT_HEARD, ...(state.notHeard ? [Number(state.notHeard)] : [])])].sort((a, b) => a - b);
  const ncols = COLUMNS.length + (selectable ? 1 : 0);
  const pickHead = selectable ? `<th class="col-pick"><input type="checkbox" data-testid="pick-page" aria-label="${esc(t("sel.selectPage"))}" title="${esc(t("sel.selectPage"))}"></th>` : "";
  root.innerHTML = `
    <div class="page-head"><h1>${icon("meters")}<span>${esc(t("meters.title"))}</span></h1></div>
    <div class="toolbar card">
      <label class="search">${icon("search")}
        <input type="search" data-testid="meter-search" placeholder="${esc(t("meters.search"))}" aria-label="${esc(t("meters.search"))}" value="${esc(state.search)}" autocomplete="off" spellcheck="false"></label>
      <label class="inline-field"><span>${esc(t("meters.group"))}</span>
        <select data-testid="group-filter"><option value="">${esc(t("meters.group.all"))}</option></select></label>
      <label class="inline-field"><span>${esc(t("keys.status"))}</span>
        <select data-testid="key-status-filter"><option value="">${esc(t("keys.status.all"))}</option>
          ${KEY_STATUSES.map((k) => `<option value="${k}" ${state.keyStatus === k ? "selected" : ""}>${esc(t("keys.status." + k))}</option>`).join("")}</select></label>
      <label class="inline-field"><span>${esc(t("meters.notHeard"))}</span>
        <select data-testid="not-heard-filter"><option value="">${esc(t("meters.notHeard.any"))}</option>
          ${notHeardChoices.map((n) => `<option value="${n}" ${state.notHeard === String(n) ? "selected" : ""}>${esc(n === 1 ? t("meters.notHeard.day") : t("meters.notHeard.days", { n: fmtInt(n) }))}</option>`).join("")}</select></label>
      <label class="check"><input type="checkbox" data-testid="alarms-only" ${state.alarmsOnly ? "checked" : ""}><span>${esc(t("meters.alarmsOnly"))}</span></label>
      <label class="check"><input type="checkbox" data-testid="priority-only" ${state.priorityOnly ? "checked" : ""}><span>${esc(t("live.priorityOnly"))}</span></label>
    </div>
    ${selectable ? `<div class="selection-bar card" data-testid="selection-bar" hidden>
      <b data-testid="selection-count"></b>
      <button class="btn btn-ghost" data-testid="sel-all" hidden></button>
      ${canGroup ? `<select data-testid="sel-group" aria-label="${esc(t("sel.addTo"))}"></select>
      <input type="text" data-testid="sel-new-name" placeholder="${esc(t("sel.newGroupName"))}" maxlength="80" hidden>
      <button class="btn btn-primary" data-testid="sel-add">${icon("plus")}<span>${esc(t("sel.addTo"))}</span></button>
      <button class="btn" data-testid="sel-remove" hidden></button>
      <button class="btn" data-testid="sel-priority-on">${esc(t("live.priority.on"))}</button>
      <button class="btn" data-testid="sel-priority-off">${esc(t("live.priority.off"))}</button>` : ""}
      <button class="btn" data-testid="sel-compare">${esc(t("sel.compare"))}</button>
      ${canExport ? `<button class="btn" data-testid="sel-export">${esc(t("sel.exportCsv"))}</button>
      <button class="btn" data-testid="sel-route-csv">${esc(t("sel.routeCsv"))}</button>
      <button class="btn" data-testid="sel-route-gpx">${esc(t("sel.routeGpx"))}</button>` : ""}
      <button class="btn btn-ghost" data-testid="sel-clear">${esc(t("sel.clear"))}</button>
      <span class="toolbar-msg" data-testid="sel-msg" aria-live="polite"></span>
    </div>` : ""}
    <div class="card table-card">
      <div class="table-scroll">
        <table class="table meters-table">
          <thead><tr>${pickHead}${COLUMNS.map(headerCell).join("")}</tr></thead>
          <tbody id="meter-rows"><tr class="empty-row"><td colspan="${ncols}">${esc(t("common.loading"))}</td></tr></tbody>
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
  const priorityOnly = root.querySelector('[data-testid="priority-only"]');
  const bar = root.querySelector('[data-testid="selection-bar"]');
  const q = (id) => root.querySelector(`[data-testid="${id}"]`);
  let seq = 0;
  let total = 0;
  let more = false;
  let alive = true;

  function fillGroups(groups) {
    fillSelGroups(groups);
    groupSel.innerHTML = `<option value="">${esc(t("meters.group.all"))}</option>` +
      groups.map((g) => `<option value="${g.id}">${esc(g.name)} (${fmtInt(g.meter_count)})</option>`).join("");
    groupSel.value = state.groupId;
  }
  if (groupsCache) fillGroups(groupsCache);
  call("groups_list", {}).then((g) => { groupsCache = g; if (alive) fillGroups(g); }).catch(() => {});

  // The list's filters, as `meters_list` and a selection of "all results" take them.
  function filterArgs() {
    const f = {};
    if (state.search.trim()) f.search = state.search.trim();
    if (state.groupId) f.group_id = Number(state.groupId);
    if (state.alarmsOnly) f.alarms_only = true;
    if (state.priorityOnly) f.priority_only = true;
    if (state.keyStatus) f.key_status = state.keyStatus;
    if (state.notHeard !== "") f.not_heard_days = Number(state.notHeard);
    return f;
  }
  let pageIds = [];
  // A filter change ends a selection of "all results" (it was the old filter's).
  function filterChanged() { if (selAll) { selAll = null; selected.clear(); } }

  async function load() {
    const my = ++seq;
    tbody.classList.add("loading");
    const args = { sort: state.sort, desc: state.desc, offset: state.offset, limit: PAGE, ...filterArgs() };
    try {
      const res = await call("meters_list", args);
      if (!alive || my !== seq) return;
      total = res.total;
      if (res.rows.length === 0 && state.offset > 0 && total > 0) {
        state.offset = Math.max(0, Math.floor((total - 1) / PAGE) * PAGE);
        load();
        return;
      }
      pageIds = res.rows.map((m) => m.id);
      if (selAll) pageIds.forEach((id) => selected.add(id));
      tbody.innerHTML = res.rows.length
        ? res.rows.map((m) => rowHtml(m, selectable)).join("")
        : `<tr class="empty-row"><td colspan="${ncols}" data-testid="meters-empty">${esc(t("meters.empty"))}</td></tr>`;
      // A broad search is counted up to 1,000 (`more`): "1–50 of more than 1,000".
      more = !!res.more;
      rangeEl.textContent = res.rows.length
        ? t(more ? "meters.range.more" : "meters.range", { from: fmtInt(state.offset + 1), to: fmtInt(state.offset + res.rows.length), total: fmtInt(total) })
        : t("meters.range.empty", { total: fmtInt(total) });
      prev.disabled = state.offset <= 0;
      next.disabled = more ? res.rows.length < PAGE : state.offset + res.rows.length >= total;
      syncSelection();
    } catch (e) {
      if (!alive || my !== seq) return;
      tbody.innerHTML = `<tr class="empty-row"><td colspan="${ncols}" class="error-text">${esc(t("common.error", { message: errorText(e) }))}</td></tr>`;
      rangeEl.textContent = "";
    } finally {
      if (alive && my === seq) tbody.classList.remove("loading");
    }
  }

  const onSearch = debounce(() => { state.search = search.value; state.offset = 0; filterChanged(); load(); }, 250);
  search.addEventListener("input", onSearch);
  groupSel.addEventListener("change", () => { state.groupId = groupSel.value; state.offset = 0; filterChanged(); syncSelection(); load(); });
  alarms.addEventListener("change", () => { state.alarmsOnly = alarms.checked; state.offset = 0; filterChanged(); load(); });
  const keyFilter = root.querySelector('[data-testid="key-status-filter"]');
  keyFilter.addEventListener("change", () => { state.keyStatus = keyFilter.value; state.offset = 0; filterChanged(); load(); });
  priorityOnly.addEventListener("change", () => { state.priorityOnly = priorityOnly.checked; state.offset = 0; filterChanged(); load(); });
  const notHeardSel = root.querySelector('[data-testid="not-heard-filter"]');
  notHeardSel.addEventListener("change", () => { state.notHeard = notHeardSel.value; state.offset = 0; filterChanged(); load(); });
  prev.addEventListener("click", () => { state.offset = Math.max(0, state.offset - PAGE); load(); });
  next.addEventListener("click", () => { if (more || state.offset + PAGE < total) { state.offset += PAGE; load(); } });
  const thead = root.querySelector("thead");
  thead.addEventListener("click", (e) => {
    const b = e.target.closest(".th-sort");
    if (!b) return;
    const s = b.dataset.sort;
    if (state.sort === s) state.desc = !state.desc; else { state.sort = s; state.desc = s === "last_seen"; }
    state.offset = 0;
    thead.innerHTML = `<tr>${pickHead}${COLUMNS.map(headerCell).join("")}</tr>`;
    thead.querySelector(`[data-sort="${s}"]`).focus();
    load();
  });

  // Selection for "add to group" (edit_meters only).
  function fillSelGroups(groups) {
    if (!bar || !canGroup) return;
    const sel = q("sel-group");
    const keep = sel.value;
    sel.innerHTML = `<option value="">${esc(t("sel.chooseGroup"))}</option>` +
      groups.map((g) => `<option value="${g.id}">${esc(g.name)}</option>`).join("") +
      `<option value="new">${esc(t("sel.newGroup"))}</option>`;
    sel.value = keep;
  }
  function syncSelection() {
    if (!bar) return;
    bar.hidden = selected.size === 0 && !selAll;
    const n = selAll ? selAll.total : selected.size;
    q("selection-count").textContent = selAll ? t("sel.allCount", { count: fmtInt(n) }) : t("sel.count", { count: fmtInt(n) });
    bar.dataset.mode = selAll ? "all" : "ids";
    const boxes = [...tbody.querySelectorAll('[data-testid="meter-pick"]')];
    const page = q("pick-page");
    page.checked = boxes.length > 0 && boxes.every((b) => b.checked);
    page.indeterminate = !page.checked && boxes.some((b) => b.checked);
    // The whole page ticked and more results than the page: offer them all (by the filter).
    const all = q("sel-all");
    all.hidden = !!selAll || !page.checked || total <= boxes.length;
    all.textContent = t("sel.selectAll", { total: fmtInt(total) });
    const cmp = q("sel-compare");
    cmp.disabled = n < 1 || n > 8;
    cmp.title = n > 8 ? t("sel.compareMax") : "";
    if (!canGroup) return;
    q("sel-priority-on").hidden = !!selAll;
    q("sel-priority-off").hidden = !!selAll;
    const g = (groupsCache || []).find((x) => String(x.id) === String(state.groupId));
    const rm = q("sel-remove");
    rm.hidden = !g || !!selAll;
    if (g) rm.textContent = t("sel.removeFrom", { name: g.name });
    q("sel-new-name").hidden = q("sel-group").value !== "new";
  }
  async function refreshGroups() {
    groupsCache = await call("groups_list", {});
    if (alive) fillGroups(groupsCache);
  }
  async function changeGroup(remove) {
    const msg = q("sel-msg");
    const ids = [...selected];
    try {
      let id = remove ? Number(state.groupId) : q("sel-group").value;
      let name;
      let n;
      if (!remove && selAll) {
        // Every result: the filter goes to the core, not the ids.
        const target = id === "new" ? { new_name: q("sel-new-name").value.trim() } : { group_id: Number(id) };
        if (id === "new" && !target.new_name) { q("sel-new-name").focus(); return; }
        if (!id) { q("sel-group").focus(); return; }
        const r = await call("group_add_selection", { ...target, filter: selAll.filter });
        id = r.id; name = r.name; n = r.added;
        selAll = null;
      } else if (!remove && id === "new") {
        name = q("sel-new-name").value.trim();
        if (!name) { q("sel-new-name").focus(); return; }
        const r = await call("group_create", { name, meter_ids: ids });
        id = r.id; name = r.name; n = r.added;
      } else if (!remove) {
        if (!id) { q("sel-group").focus(); return; }
        id = Number(id);
        n = (await call("group_add_meters", { id, meter_ids: ids })).added;
        name = (groupsCache || []).find((g) => g.id === id)?.name || "";
      } else {
        n = (await call("group_remove_meters", { id, meter_ids: ids })).removed;
        name = (groupsCache || []).find((g) => g.id === id)?.name || "";
      }
      selected.clear();
      await refreshGroups();
      q("sel-group").value = "";
      q("sel-new-name").value = "";
      syncSelection();
      bar.hidden = false;
      msg.textContent = t(remove ? "sel.removed" : "sel.added", { count: fmtInt(n), name });
      msg.dataset.testState = "done";
      load();
    } catch (e) {
      msg.textContent = t("common.error", { message: errorText(e) });
    }
  }
  // The ticked meters followed live (priority) or no longer.
  async function setPriority(on) {
    const msg = q("sel-msg");
    try {
      const r = await call("meter_priority_set", { ids: [...selected], on });
      msg.textContent = t(on ? "live.priority.marked" : "live.priority.unmarked", { count: fmtInt(r.changed.length) });
      msg.dataset.testState = "done";
      load();
    } catch (e) {
      msg.textContent = t("common.error", { message: errorText(e) });
    }
  }
  // The selection's ids, or its filter (every result).
  function selectionArgs() {
    return selAll ? { filter: selAll.filter } : { ids: [...selected] };
  }
  async function selectionFile(kind) {
    const msg = q("sel-msg");
    msg.textContent = t("common.loading");
    delete msg.dataset.testState;
    try {
      const r = await call("meters_selection_file", { ...selectionArgs(), kind });
      downloadFile(r.filename, r.content, kind === "route_gpx" ? "application/gpx+xml" : "text/csv;charset=utf-8");
      msg.textContent = kind === "list_csv"
        ? t("sel.fileSaved", { file: r.filename, meters: fmtInt(r.meters) })
        : t(r.placed === r.meters ? "sel.routeSavedAll" : "sel.routeSaved", { file: r.filename, meters: fmtInt(r.meters), placed: fmtInt(r.placed), km: fmtNumber((r.length_m || 0) / 1000, 1) });
      msg.dataset.testState = "done";
    } catch (e) {
      msg.textContent = t("common.error", { message: errorText(e) });
    }
  }
  if (bar) {
    q("sel-all").addEventListener("click", () => {
      selAll = { filter: filterArgs(), total };
      pageIds.forEach((id) => selected.add(id));
      q("sel-msg").textContent = "";
      syncSelection();
    });
    q("sel-compare").addEventListener("click", () => {
      const ids = selAll ? pageIds : [...selected];
      if (ids.length >= 1 && ids.length <= 8) ctx.navigate("#/compare?ids=" + ids.join(","));
    });
    if (canExport) {
      q("sel-export").addEventListener("click", () => selectionFile("list_csv"));
      q("sel-route-csv").addEventListener("click", () => selectionFile("route_csv"));
      q("sel-route-gpx").addEventListener("click", () => selectionFile("route_gpx"));
    }
  }
  if (bar && canGroup) {
    q("sel-priority-on").addEventListener("click", () => setPriority(true));
    q("sel-priority-off").addEventListener("click", () => setPriority(false));
  }
  if (bar) {
    q("pick-page").addEventListener("change", (e) => {
      tbody.querySelectorAll('tr[data-testid="meter-row"]').forEach((tr) => {
        const box = tr.querySelector('[data-testid="meter-pick"]');
        box.checked = e.target.checked;
        if (box.checked) selected.add(Number(tr.dataset.id)); else selected.delete(Number(tr.dataset.id));
      });
      if (!e.target.checked) selAll = null;
      q("sel-msg").textContent = "";
      syncSelection();
    });
  }
  if (bar && canGroup) {
    q("sel-group").addEventListener("change", () => { syncSelection(); if (q("sel-group").value === "new") q("sel-new-name").focus(); });
    q("sel-add").addEventListener("click", () => changeGroup(false));
    q("sel-remove").addEventListener("click", () => changeGroup(true));
  }
  if (bar) {
    q("sel-clear").addEventListener("click", () => {
      selAll = null;
      selected.clear();
      tbody.querySelectorAll('[data-testid="meter-pick"]').forEach((b) => { b.checked = false; });
      syncSelection();
    });
    tbody.addEventListener("change", (e) => {
      if (!e.target.matches('[data-testid="meter-pick"]')) return;
      const id = Number(e.target.closest("tr").dataset.id);
      // Unticking one of "all results" keeps the page's ticked meters only.
      if (!e.target.checked && selAll) { selAll = null; selected.clear(); pageIds.forEach((x) => selected.add(x)); }
      if (e.target.checked) selected.add(id); else selected.delete(id);
      q("sel-msg").textContent = "";
      syncSelection();
    });
  }

  tbody.addEventListener("click", (e) => {
    if (e.target.closest(".col-pick")) return;
    const tr = e.target.closest('tr[data-testid="meter-row"]');
    if (tr) ctx.navigate("#/meters/" + tr.dataset.id);
  });
  tbody.addEventListener("keydown", (e) => {
    if (e.target.closest(".col-pick")) return;
    const tr = e.target.closest('tr[data-testid="meter-row"]');
    if (tr && (e.key === "Enter" || e.key === " ")) { e.preventDefault(); ctx.navigate("#/meters/" + tr.dataset.id); }
  });

  load();
  if (!state.search) search.focus();
  return () => { alive = false; onSearch.cancel(); };
}
