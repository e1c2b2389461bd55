// The audit log (Settings > Audit log): who did what, when, from which computer. Filters by
// period, event type, user and computer; pages of 50, newest first (`audit_log`, `next`
// cursor); an entry's details on click; the CSV export (`audit_log_export`, itself audited).
// Needs the permission `audit`.
import { call } from "../api.js";
import { t, tOr, fmtInt, fmtDateTime, errorText } from "../i18n.js";
import { icon } from "../icons.js";
import { esc, downloadFile } from "../dom.js";

const PAGE = 50;

/** An event type in words (`park_import` -> "Import du parc"), its code when unknown. */
export function eventLabel(event) { return tOr("audit.event." + event, event); }

export function render(root, ctx) {
  let alive = true;
  if (!ctx.can("audit")) {
    root.innerHTML = `<div class="page-head"><h1>${icon("settings")}<span>${esc(t("audit.title"))}</span></h1></div>
      <p class="notice" data-testid="audit-denied">${esc(t("audit.denied"))}</p>`;
    return () => {};
  }
  // Pages seen so far: the cursor each one started at (null for the first).
  let starts = [null];
  let page = 0;
  let next = null;
  let entries = [];
  let open = null; // id of the entry whose details are shown
  let choices = null;
  root.innerHTML = `
    <div class="page-head"><div><h1>${icon("settings")}<span>${esc(t("audit.title"))}</span></h1>
      <p class="muted">${esc(t("audit.intro"))}</p></div>
      <a class="btn btn-ghost" href="#/settings">${esc(t("audit.back"))}</a></div>
    <form class="card toolbar audit-filters" data-testid="audit-filters">
      <label class="inline-field"><span>${esc(t("audit.from"))}</span><input type="date" name="from" data-testid="audit-from"></label>
      <label class="inline-field"><span>${esc(t("audit.to"))}</span><input type="date" name="to" data-testid="audit-to"></label>
      <label class="inline-field"><span>${esc(t("audit.event"))}</span><select name="event" data-testid="audit-event"><option value="">${esc(t("audit.all"))}</option></select></label>
      <label class="inline-field"><span>${esc(t("audit.user"))}</span><select name="user" data-testid="audit-user"><option value="">${esc(t("audit.all"))}</option></select></label>
      <label class="inline-field"><span>${esc(t("audit.computer"))}</span><select name="computer" data-testid="audit-computer"><option value="">${esc(t("audit.all"))}</option></select></label>
      <button class="btn btn-primary" type="submit" data-testid="audit-apply">${esc(t("audit.apply"))}</button>
      <button class="btn" type="button" data-testid="audit-export">${icon("export")}<span>${esc(t("audit.export"))}</span></button>
    </form>
    <p class="toolbar-msg" data-testid="audit-msg" aria-live="polite"></p>
    <div class="card table-card"><div class="table-scroll"><table class="table audit-table" data-testid="audit-table">
      <thead><tr><th>${esc(t("audit.col.at"))}</th><th>${esc(t("audit.col.event"))}</th><th>${esc(t("audit.col.user"))}</th>
        <th>${esc(t("audit.col.computer"))}</th><th>${esc(t("audit.col.details"))}</th></tr></thead>
      <tbody id="audit-rows"><tr class="empty-row"><td colspan="5">${esc(t("common.loading"))}</td></tr></tbody>
    </table></div>
    <div class="pager toolbar" data-testid="audit-pager">
      <button class="btn btn-ghost" type="button" data-testid="audit-newer">${esc(t("audit.newer"))}</button>
      <span class="muted" data-testid="audit-page"></span>
      <button class="btn btn-ghost" type="button" data-testid="audit-older">${esc(t("audit.older"))}</button>
    </div></div>`;
  const form = root.querySelector('[data-testid="audit-filters"]');
  const tbody = root.querySelector("#audit-rows");
  const msg = root.querySelector('[data-testid="audit-msg"]');
  const say = (text, error) => { msg.textContent = text; msg.classList.toggle("error-text", !!error); };

  // `#/audit?event=retention_failed` (a link of the start page): that event's entries first.
  let wantedEvent = (ctx.query && ctx.query.get("event")) || "";
  function filters() {
    const f = {};
    for (const k of ["from", "to", "event", "user", "computer"]) if (form[k].value) f[k] = form[k].value;
    if (!f.event && wantedEvent) f.event = wantedEvent;
    return f;
  }

  function fillSelect(sel, values, label) {
    const keep = sel.value;
    sel.innerHTML = `<option value="">${esc(t("audit.all"))}</option>` +
      values.map((v) => `<option value="${esc(v)}">${esc(label(v))}</option>`).join("");
    sel.value = values.includes(keep) ? keep : "";
  }

  function rowHtml(e) {
    const row = `<tr data-testid="audit-row" data-id="${e.id}" data-event="${esc(e.event)}" class="clickable${open === e.id ? " selected" : ""}" tabindex="0">
      <td class="nowrap">${esc(fmtDateTime(e.at))}</td><td>${esc(eventLabel(e.event))}</td><td>${esc(e.user)}</td>
      <td>${esc(e.computer)}</td><td class="audit-details-cell">${esc(e.details)}</td></tr>`;
    if (open !== e.id) return row;
    return row + `<tr class="audit-detail-row"><td colspan="5"><dl class="audit-detail" data-testid="audit-detail">
      <dt>${esc(t("audit.col.at"))}</dt><dd>${esc(fmtDateTime(e.at))}</dd>
      <dt>${esc(t("audit.col.event"))}</dt><dd>${esc(eventLabel(e.event))} <span class="mono muted">${esc(e.event)}</span></dd>
      <dt>${esc(t("audit.col.user"))}</dt><dd>${esc(e.user)}</dd>
      <dt>${esc(t("audit.col.computer"))}</dt><dd>${esc(e.computer)}</dd>
      <dt>${esc(t("audit.col.details"))}</dt><dd><pre class="audit-detail-text" data-testid="audit-detail-text">${esc(e.details)}</pre></dd>
      <dt>${esc(t("audit.entry"))}</dt><dd class="mono">#${e.id}</dd></dl></td></tr>`;
  }

  function draw() {
    tbody.innerHTML = entries.length ? entries.map(rowHtml).join("")
      : `<tr class="empty-row"><td colspan="5" data-testid="audit-empty">${esc(t("audit.empty"))}</td></tr>`;
    root.querySelector('[data-testid="audit-newer"]').disabled = page === 0;
    root.querySelector('[data-testid="audit-older"]').disabled = !next;
    root.querySelector('[data-testid="audit-page"]').textContent = t("audit.page", { n: fmtInt(page + 1) });
  }

  async function load() {
    say("");
    try {
      const args = { ...filters(), limit: PAGE };
      if (starts[page]) args.before = starts[page];
      const r = await call("audit_log", args);
      if (!alive) return;
      entries = r.entries;
      next = r.next;
      if (r.choices && !choices) {
        choices = r.choices;
        fillSelect(form.event, choices.events, eventLabel);
        if (wantedEvent && choices.events.includes(wantedEvent)) form.event.value = wantedEvent;
        wantedEvent = "";
        fillSelect(form.user, choices.users, (u) => u);
        fillSelect(form.computer, choices.computers, (c) => c);
      }
      draw();
    } catch (e) {
      if (alive) { entries = []; next = null; draw(); say(t("common.error", { message: errorText(e) }), true); }
    }
  }

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    starts = [null]; page = 0; open = null;
    load();
  });
  root.querySelector('[data-testid="audit-older"]').addEventListener("click", () => {
    if (!next) return;
    starts[page + 1] = next; page += 1; open = null;
    load();
  });
  root.querySelector('[data-testid="audit-newer"]').addEventListener("click", () => {
    if (page === 0) return;
    page -= 1; open = null;
    load();
  });
  const toggle = (tr) => {
    const id = Number(tr.dataset.id);
    open = open === id ? null : id;
    draw();
  };
  tbody.addEventListener("click", (e) => { const tr = e.target.closest('tr[data-testid="audit-row"]'); if (tr) toggle(tr); });
  tbody.addEventListener("keydown", (e) => {
    const tr = e.target.closest('tr[data-testid="audit-row"]');
    if (tr && (e.key === "Enter" || e.key === " ")) { e.preventDefault(); toggle(tr); }
  });
  root.querySelector('[data-testid="audit-export"]').addEventListener("click", async (e) => {
    const btn = e.currentTarget;
    btn.disabled = true;
    say(t("audit.exporting"));
    try {
      const r = await call("audit_log_export", filters());
      if (!alive) return;
      downloadFile(r.file_name, r.content, "text/csv;charset=utf-8");
      say(t(r.truncated ? "audit.exportedTruncated" : "audit.exported", { n: fmtInt(r.rows), file: r.file_name }));
    } catch (err) {
      if (alive) say(t("common.error", { message: errorText(err) }), true);
    } finally { btn.disabled = false; }
  });
  load();
  return () => { alive = false; };
}
