// Info-code overview: ongoing codes and, apart, those ended in the last 30 days; filters,
// sorting, the codes the user watches, CSV export for calling customers.
import { call } from "../api.js";
import { t, fmtInt, fmtDateTime, codeLabel, errorText } from "../i18n.js";
import { icon } from "../icons.js";
import { esc, downloadFile } from "../dom.js";

const PAGE = 200;
// `silent`: a meter not heard for its class's period (the network check).
export const SEVERITY = ["burst", "leak", "reverse", "tamper", "dry", "silent", "low_battery", "permanent_error", "temporary_error"];
const state = { tab: "active", code: "", groupId: "", period: "", sort: "severity", offset: 0, handling: "", today: false };
const HANDLING = ["not_acknowledged", "acknowledged", "mine", "assigned"];

function duration(sec) {
  const days = Math.floor(sec / 86400);
  if (days >= 1) return t("ic.days", { n: fmtInt(days) });
  return t("ic.hours", { n: fmtInt(Math.max(1, Math.round(sec / 3600))) });
}

function sevClass(code) {
  const i = SEVERITY.indexOf(code);
  return i < 2 ? "sev-high" : i < 5 ? "sev-mid" : "sev-low";
}

function sortHead(label, sort) {
  const active = state.sort === sort;
  return `<th aria-sort="${active ? "descending" : "none"}"><button class="th-sort ${active ? "active" : ""}" data-sort="${sort}" data-testid="ic-sort-${sort}">${esc(t(label))}${icon(active ? "sortDesc" : "sortNone", "sort-icon")}</button></th>`;
}

function rowHtml(r) {
  const who = r.customer_name
    ? `<div class="cell-main">${esc(r.customer_name)}</div><div class="cell-sub">${esc(r.phone || "")}</div>`
    : `<span class="muted">${esc(t("common.none"))}</span>`;
  const last = state.tab === "active" ? r.last_seen_at : r.ended_at;
  return `<tr data-testid="ic-row" data-code="${esc(r.code)}" data-meter="${r.meter_id}" data-duration="${r.duration}" data-started="${r.started_at}"
      data-acked="${r.ack_at ? 1 : 0}" data-assigned="${esc(r.assigned_to || "")}">
    <td><span class="sev ${sevClass(r.code)}">${icon("warning")}<span>${esc(codeLabel(r.code))}</span></span></td>
    <td><a class="mono strong" href="#/meters/${r.meter_id}">${esc(r.serial)}</a><div class="cell-sub">${esc(r.manufacturer)}</div></td>
    <td>${who}</td>
    <td>${esc(r.address)}<div class="cell-sub">${esc([r.postal_code, r.city].filter(Boolean).join(" "))}</div></td>
    <td class="nowrap">${esc(fmtDateTime(r.started_at))}</td>
    <td class="nowrap num">${esc(duration(r.duration))}</td>
    <td class="nowrap">${esc(fmtDateTime(last))}</td>
    <td class="ic-handling">${handlingHtml(r)}</td>
  </tr>`;
}

function handlingHtml(r) {
  const ack = r.ack_at
    ? `<span class="badge badge-active" data-testid="ic-acked">${esc(t("al.acked", { who: r.ack_by || "", at: fmtDateTime(r.ack_at) }))}</span>`
    : `<span class="badge badge-warn" data-testid="ic-not-acked">${esc(t("al.notAcked"))}</span>`;
  const who = r.assigned_to ? `<div class="cell-sub" data-testid="ic-assigned">${esc(t("al.assignedTo", { who: r.assigned_to }))}</div>` : "";
  const c = r.last_comment
    ? `<div class="cell-sub ic-last-comment" data-testid="ic-last-comment" title="${esc(t("al.comments", { n: fmtInt(r.comments) }))}">${esc(t("al.lastComment", { who: c0(r.last_comment.author), at: fmtDateTime(r.last_comment.at), body: r.last_comment.body }))}</div>`
    : "";
  return `<div class="ic-handling-head">${ack}<button class="btn btn-sm" data-testid="ic-handle">${esc(t("al.open"))}</button></div>${who}${c}`;
}

const c0 = (s) => s || "";

/** The detail row of one alarm: acknowledge, assign, comments. */
function detailHtml(a, assignees, canEdit) {
  const comments = a.comments.length
    ? `<ul class="ic-comments" data-testid="ic-comments">${a.comments.map((c) => `<li data-testid="ic-comment"><span class="muted small">${esc(c.author)} · ${esc(fmtDateTime(c.at))}</span><div>${esc(c.body)}</div></li>`).join("")}</ul>`
    : `<p class="muted" data-testid="ic-comments-none">${esc(t("al.comment.none"))}</p>`;
  const ended = a.ended_at ? `<p class="muted small">${esc(t("al.ended", { at: fmtDateTime(a.ended_at) }))}</p>` : "";
  const options = [`<option value="">${esc(t("al.assign.nobody"))}</option>`]
    .concat(assignees.map((u) => `<option value="${esc(u.login)}" ${u.login === a.assigned_to ? "selected" : ""}>${esc(u.name)} (${esc(u.login)})</option>`)).join("");
  const actions = canEdit ? `
      <div class="ic-detail-actions">
        <button class="btn ${a.ack_at ? "" : "btn-primary"}" data-testid="ic-ack" data-ack="${a.ack_at ? 0 : 1}">${esc(t(a.ack_at ? "al.unack" : "al.ack"))}</button>
        <label class="inline-field"><span>${esc(t("al.assign"))}</span><select data-testid="ic-assign-to">${options}</select></label>
        <button class="btn" data-testid="ic-assign">${esc(t("al.assign.save"))}</button>
      </div>
      <div class="ic-comment-form">
        <textarea rows="2" maxlength="2000" data-testid="ic-comment-text" placeholder="${esc(t("al.comment.placeholder"))}"></textarea>
        <button class="btn" data-testid="ic-comment-add">${esc(t("al.comment.add"))}</button>
      </div>` : "";
  return `${ended}${comments}${actions}<p class="toolbar-msg" data-testid="ic-detail-msg" aria-live="polite"></p>`;
}

export function render(root, ctx) {
  let alive = true;
  let seq = 0;
  let watched = null;
  root.innerHTML = `
    <div class="page-head"><h1>${icon("infocodes")}<span>${esc(t("ic.title"))}</span></h1>
      ${ctx.can("export") ? `<button class="btn" data-testid="ic-export">${icon("download")}<span>${esc(t("ic.export"))}</span></button>` : ""}</div>
    <div class="segmented tabs" role="tablist">
      <button role="tab" data-tab="active" data-testid="tab-active"></button>
      <button role="tab" data-tab="recent" data-testid="tab-recent"></button>
    </div>
    <div class="toolbar card">
      <label class="inline-field"><span>${esc(t("ic.codes.label"))}</span>
        <select data-testid="ic-code"><option value="">${esc(t("ic.codes.watched"))}</option>
        ${SEVERITY.map((c) => `<option value="${c}">${esc(codeLabel(c))}</option>`).join("")}</select></label>
      <label class="inline-field"><span>${esc(t("meters.group"))}</span>
        <select data-testid="ic-group"><option value="">${esc(t("meters.group.all"))}</option></select></label>
      <label class="inline-field"><span>${esc(t("ic.period"))}</span>
        <select data-testid="ic-period">${["", "7", "30", "90"].map((p) => `<option value="${p}">${esc(t("ic.period." + (p || "any")))}</option>`).join("")}</select></label>
      <label class="inline-field"><span>${esc(t("al.filter"))}</span>
        <select data-testid="ic-handling"><option value="">${esc(t("al.filter.any"))}</option>
        ${HANDLING.map((h) => `<option value="${h}">${esc(t("al.filter." + h))}</option>`).join("")}</select></label>
      <span class="chip" data-testid="ic-today-chip" hidden>${esc(t("al.today"))} <button class="chip-clear" data-testid="ic-today-clear" title="${esc(t("al.clear"))}" aria-label="${esc(t("al.clear"))}">×</button></span>
      <span class="toolbar-msg" data-testid="ic-message" aria-live="polite"></span>
    </div>
    <div class="card table-card">
      <div class="table-scroll"><table class="table ic-table">
        <thead></thead>
        <tbody id="ic-rows"><tr class="empty-row"><td colspan="8">${esc(t("common.loading"))}</td></tr></tbody>
      </table></div>
      <div class="pager"><span class="pager-range" data-testid="ic-range"></span>
        <div class="pager-buttons">
          <button class="btn" data-testid="ic-prev">${icon("chevronLeft")}<span>${esc(t("meters.prev"))}</span></button>
          <button class="btn" data-testid="ic-next"><span>${esc(t("meters.next"))}</span>${icon("chevronRight")}</button>
        </div></div>
    </div>
    <details class="card watch-card" data-testid="ic-watch">
      <summary><b>${esc(t("ic.watch.title"))}</b> <span class="muted small" data-testid="ic-watch-scope"></span></summary>
      <p class="muted small">${esc(t("ic.watch.hint"))}</p>
      <div class="watch-codes">${SEVERITY.map((c) => `<label class="check"><input type="checkbox" value="${c}" data-testid="watch-${c}"><span>${esc(codeLabel(c))}</span></label>`).join("")}</div>
      <div class="export-actions">
        <button class="btn btn-primary" data-testid="watch-save">${esc(t("ic.watch.saveMine"))}</button>
        ${ctx.can("settings") ? `<button class="btn" data-testid="watch-save-all">${esc(t("ic.watch.saveAll"))}</button>` : ""}
        <span class="muted" data-testid="watch-msg"></span>
      </div>
    </details>`;

  const $ = (id) => root.querySelector(`[data-testid="${id}"]`);
  const tbody = root.querySelector("#ic-rows");
  const thead = root.querySelector("thead");
  const msg = $("ic-message");
  // The start page's links (#/infocodes?today=1, ?handling=mine) set both filters.
  if (ctx.query && (ctx.query.has("today") || ctx.query.has("handling"))) {
    const h = ctx.query.get("handling");
    state.today = ctx.query.get("today") === "1";
    state.handling = HANDLING.includes(h) ? h : "";
    state.offset = 0; state.tab = "active";
  }
  let assignees = [];
  $("ic-code").value = state.code;
  $("ic-period").value = state.period;
  $("ic-handling").value = state.handling;

  function drawHead() {
    const lastLabel = state.tab === "active" ? "ic.col.lastSeen" : "ic.col.ended";
    thead.innerHTML = `<tr>${sortHead("ic.col.code", "severity")}<th>${esc(t("ic.col.meter"))}</th><th>${esc(t("ic.col.customer"))}</th>
      <th>${esc(t("ic.col.address"))}</th>${sortHead("ic.col.since", "newest")}${sortHead("ic.col.duration", "duration")}<th>${esc(t(lastLabel))}</th><th>${esc(t("al.col.handling"))}</th></tr>`;
    root.querySelectorAll("[data-tab]").forEach((b) => b.classList.toggle("active", b.dataset.tab === state.tab));
  }

  function args() {
    const a = { state: state.tab, sort: state.sort };
    if (state.code) a.codes = [state.code];
    if (state.groupId) a.group_id = Number(state.groupId);
    if (state.period) a.period_days = Number(state.period);
    if (state.today) a.today = true;
    if (state.handling.startsWith("user:")) a.assigned_to = state.handling.slice(5);
    else if (state.handling) a.handling = state.handling;
    return a;
  }

  async function load() {
    const my = ++seq;
    drawHead();
    tbody.classList.add("loading");
    try {
      const res = await call("info_codes_overview", { ...args(), offset: state.offset, limit: PAGE });
      if (!alive || my !== seq) return;
      showAssignees(res.assignees || []);
      $("ic-today-chip").hidden = !state.today;
      $("tab-active").innerHTML = `${esc(t("ic.tab.active"))} <span class="count" data-testid="count-active">${fmtInt(res.active)}</span>`;
      $("tab-recent").innerHTML = `${esc(t("ic.tab.recent"))} <span class="count" data-testid="count-recent">${fmtInt(res.recent)}</span>`;
      const total = state.tab === "active" ? res.active : res.recent;
      const empty = res.codes.length === 0 ? t("ic.noWatched") : t("ic.empty." + state.tab);
      tbody.innerHTML = res.rows.length ? res.rows.map(rowHtml).join("")
        : `<tr class="empty-row"><td colspan="8" data-testid="ic-empty">${esc(empty)}</td></tr>`;
      $("ic-range").textContent = res.rows.length
        ? t("ic.range", { from: fmtInt(state.offset + 1), to: fmtInt(state.offset + res.rows.length), total: fmtInt(total) }) : "";
      $("ic-prev").disabled = state.offset <= 0;
      $("ic-next").disabled = state.offset + res.rows.length >= total;
    } catch (e) {
      if (!alive || my !== seq) return;
      tbody.innerHTML = `<tr class="empty-row"><td colspan="8" class="error-text">${esc(t("common.error", { message: errorText(e) }))}</td></tr>`;
    } finally {
      if (alive && my === seq) tbody.classList.remove("loading");
    }
  }

  function showAssignees(list) {
    const key = list.map((u) => u.login).join(",");
    if (key === assignees.map((u) => u.login).join(",")) return;
    assignees = list;
    const sel = $("ic-handling");
    sel.querySelectorAll("option[data-user]").forEach((o) => o.remove());
    for (const u of list) {
      const o = document.createElement("option");
      o.value = "user:" + u.login; o.dataset.user = u.login; o.textContent = t("al.filter.user", { name: u.name });
      sel.appendChild(o);
    }
    sel.value = state.handling;
  }

  const keyOf = (tr) => ({ meter_id: Number(tr.dataset.meter), code: tr.dataset.code, started_at: Number(tr.dataset.started) });

  async function openDetail(tr) {
    const next = tr.nextElementSibling;
    if (next && next.classList.contains("ic-detail")) { next.remove(); return; }
    const row = document.createElement("tr");
    row.className = "ic-detail";
    row.dataset.testid = "ic-detail";
    row.setAttribute("data-testid", "ic-detail");
    row.innerHTML = `<td colspan="8">${esc(t("common.loading"))}</td>`;
    tr.after(row);
    try {
      const a = await call("alarm_get", keyOf(tr));
      if (!alive) return;
      drawDetail(tr, row, a);
    } catch (e) {
      row.firstElementChild.innerHTML = `<span class="error-text">${esc(t("common.error", { message: errorText(e) }))}</span>`;
    }
  }

  function drawDetail(tr, row, a, done) {
    row.firstElementChild.innerHTML = `<div class="ic-detail-body">${detailHtml(a, assignees, ctx.can("view"))}</div>`;
    const q = (id) => row.querySelector(`[data-testid="${id}"]`);
    if (done) q("ic-detail-msg").textContent = done;
    // The row above follows what changed.
    const r = { ack_at: a.ack_at, ack_by: a.ack_by, assigned_to: a.assigned_to, comments: a.comments.length, last_comment: a.comments[a.comments.length - 1] || null };
    tr.querySelector(".ic-handling").innerHTML = handlingHtml(r);
    tr.dataset.acked = a.ack_at ? "1" : "0";
    tr.dataset.assigned = a.assigned_to || "";
    const act = async (name, extra, message) => {
      row.querySelectorAll("button").forEach((b) => { b.disabled = true; });
      try {
        const next = await call(name, { ...keyOf(tr), ...extra });
        if (alive) drawDetail(tr, row, next, message(next));
      } catch (e) {
        row.querySelectorAll("button").forEach((b) => { b.disabled = false; });
        q("ic-detail-msg").innerHTML = `<span class="error-text">${esc(t("common.error", { message: errorText(e) }))}</span>`;
      }
    };
    if (!q("ic-ack")) return;
    q("ic-ack").addEventListener("click", () => {
      const ack = q("ic-ack").dataset.ack === "1";
      act("alarm_acknowledge", { ack }, () => t(ack ? "al.done.ack" : "al.done.unack"));
    });
    q("ic-assign").addEventListener("click", () => {
      const login = q("ic-assign-to").value;
      act("alarm_assign", login ? { login } : {}, (n) => (n.assigned_to ? t("al.done.assign", { who: n.assigned_to }) : t("al.done.unassign")));
    });
    q("ic-comment-add").addEventListener("click", () => {
      const comment = q("ic-comment-text").value;
      act("alarm_comment", { comment }, () => t("al.done.comment"));
    });
  }

  tbody.addEventListener("click", (e) => {
    const b = e.target.closest('[data-testid="ic-handle"]');
    if (b) openDetail(b.closest("tr"));
  });

  function showWatched(w) {
    watched = w;
    root.querySelectorAll(".watch-codes input").forEach((i) => { i.checked = w.codes.includes(i.value); });
    $("ic-watch-scope").textContent = t("ic.watch.scope." + w.scope);
  }
  call("info_codes_watched", {}).then((w) => { if (alive) showWatched(w); }).catch(() => {});
  call("groups_list", {}).then((gs) => {
    if (!alive) return;
    $("ic-group").innerHTML = `<option value="">${esc(t("meters.group.all"))}</option>` +
      gs.map((g) => `<option value="${g.id}">${esc(g.name)} (${fmtInt(g.meter_count)})</option>`).join("");
    $("ic-group").value = state.groupId;
  }).catch(() => {});

  async function saveWatched(global) {
    const codes = [...root.querySelectorAll(".watch-codes input:checked")].map((i) => i.value);
    try {
      showWatched(await call("info_codes_set_watched", { codes, global }));
      $("watch-msg").textContent = t("ic.watch.saved");
      state.offset = 0;
      load();
    } catch (e) { $("watch-msg").textContent = t("common.error", { message: errorText(e) }); }
  }
  $("watch-save").addEventListener("click", () => saveWatched(false));
  if ($("watch-save-all")) $("watch-save-all").addEventListener("click", () => saveWatched(true));

  root.querySelectorAll("[data-tab]").forEach((b) => b.addEventListener("click", () => { state.tab = b.dataset.tab; state.offset = 0; load(); }));
  $("ic-code").addEventListener("change", (e) => { state.code = e.target.value; state.offset = 0; load(); });
  $("ic-group").addEventListener("change", (e) => { state.groupId = e.target.value; state.offset = 0; load(); });
  $("ic-period").addEventListener("change", (e) => { state.period = e.target.value; state.offset = 0; load(); });
  $("ic-handling").addEventListener("change", (e) => { state.handling = e.target.value; state.offset = 0; load(); });
  $("ic-today-clear").addEventListener("click", () => { state.today = false; state.offset = 0; load(); });
  $("ic-prev").addEventListener("click", () => { state.offset = Math.max(0, state.offset - PAGE); load(); });
  $("ic-next").addEventListener("click", () => { state.offset += PAGE; load(); });
  thead.addEventListener("click", (e) => {
    const b = e.target.closest(".th-sort");
    if (b) { state.sort = b.dataset.sort; state.offset = 0; load(); }
  });
  if ($("ic-export")) {
    $("ic-export").addEventListener("click", async () => {
      const btn = $("ic-export");
      btn.disabled = true;
      try {
        const res = await call("info_codes_export", args());
        downloadFile(res.filename, "\ufeff" + res.content, "text/csv;charset=utf-8");
        msg.innerHTML = `<span data-testid="ic-exported" data-rows="${res.rows}">${esc(t("ic.exported", { rows: fmtInt(res.rows), filename: res.filename }))}</span>`;
      } catch (e) {
        msg.textContent = t("common.error", { message: errorText(e) });
      } finally { btn.disabled = false; }
    });
  }
  load();
  return () => { alive = false; void watched; };
}
