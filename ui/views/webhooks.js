// Webhooks (Settings, the manager: `settings`): the endpoints with their events and state —
// add one (its secret shown once, with a copy button), pause/resume, remove, send a test —
// and the delivery log (time, webhook, event, status, attempts, next try, HTTP code), newest
// first, paged by a cursor; how many days the log keeps.
import { call } from "../api.js";
import { t, fmtDateTime, fmtInt, errorText, untilText } from "../i18n.js";
import { icon } from "../icons.js";
import { esc } from "../dom.js";

const eventLabel = (e) => t("wh.event." + e);

export function render(root, ctx) {
  if (!ctx.can("settings")) { ctx.navigate("#/"); return undefined; }
  let alive = true;
  let overview = { endpoints: [], events: [], log_days: 30 };
  let log = [];
  let next = null;
  root.innerHTML = `
    <div class="page-head"><div><h1>${icon("upload")}<span>${esc(t("wh.title"))}</span></h1>
      <p class="muted">${esc(t("wh.intro"))}</p></div>
      <div class="settings-head-actions"><a class="btn" href="#/notifications" data-testid="wh-back">${esc(t("nav.settings"))}</a></div></div>
    <div class="toolbar-msg" data-testid="wh-msg" aria-live="polite"></div>
    <div class="card table-card"><div class="table-scroll"><table class="table" data-testid="wh-table">
      <thead><tr><th>${esc(t("wh.col.name"))}</th><th>${esc(t("wh.col.url"))}</th><th>${esc(t("wh.col.events"))}</th>
        <th>${esc(t("wh.col.state"))}</th><th></th></tr></thead>
      <tbody id="wh-rows"><tr class="empty-row"><td colspan="5">${esc(t("common.loading"))}</td></tr></tbody>
    </table></div></div>
    <form class="card nt-form" data-testid="wh-form" novalidate>
      <h2>${icon("plus")}<span>${esc(t("wh.new"))}</span></h2>
      <div class="form-grid">
        <label class="field"><span>${esc(t("wh.name"))}</span><input name="wname" data-testid="wh-name" maxlength="64" required autocomplete="off"></label>
        <label class="field"><span>${esc(t("wh.url"))}</span><input name="url" type="text" inputmode="url" data-testid="wh-url" maxlength="2000" placeholder="https://facturation.example.org/releve" required spellcheck="false"></label>
      </div>
      <div class="field"><span>${esc(t("wh.events"))}</span><div class="watch-codes wh-events" id="wh-events"></div></div>
      <div class="export-actions"><button class="btn btn-primary" type="submit" data-testid="wh-add">${esc(t("wh.add"))}</button></div>
      <div data-testid="wh-secret" hidden></div>
      <p class="muted small">${esc(t("wh.doc"))}</p>
    </form>
    <div class="card table-card"><div class="wh-log-head"><div><h2 class="nt-log-title">${esc(t("wh.log"))}</h2>
      <p class="muted small">${esc(t("wh.log.intro"))}</p></div>
      <form class="wh-days" data-testid="wh-days-form"><label class="field"><span>${esc(t("wh.log.days"))}</span>
        <input name="days" type="number" min="1" max="3650" step="1" data-testid="wh-days"></label>
        <button class="btn" type="submit" data-testid="wh-days-save">${esc(t("wh.log.save"))}</button>
        <button class="btn" type="button" data-testid="wh-refresh">${icon("clock")}<span>${esc(t("wh.log.refresh"))}</span></button></form></div>
      <div class="table-scroll"><table class="table" data-testid="wh-log">
      <thead><tr><th>${esc(t("wh.col.time"))}</th><th>${esc(t("wh.col.endpoint"))}</th><th>${esc(t("wh.col.event"))}</th><th>${esc(t("wh.col.status"))}</th>
        <th class="num">${esc(t("wh.col.attempts"))}</th><th>${esc(t("wh.col.next"))}</th><th class="num">${esc(t("wh.col.http"))}</th></tr></thead>
      <tbody id="wh-log-rows"></tbody></table></div>
      <div class="export-actions"><button class="btn" data-testid="wh-more" hidden>${esc(t("wh.log.more"))}</button></div></div>`;
  const msg = root.querySelector('[data-testid="wh-msg"]');
  const say = (text, ok = true) => { msg.textContent = text; msg.className = "toolbar-msg " + (ok ? "ok-text" : "error-text"); };
  const act = async (fn, done) => {
    try {
      const r = await fn();
      const words = typeof done === "function" ? done(r) : { text: done, ok: true };
      say(words.text, words.ok);
    } catch (e) { say(errorText(e), false); }
    await load().catch((e) => say(errorText(e), false));
  };

  const statusBadge = (s) => {
    const cls = s === "delivered" ? "badge-active" : s === "failed" ? "badge-error" : "badge-warn";
    return `<span class="badge ${cls}">${esc(t("wh.status." + s))}</span>`;
  };

  const rowHtml = (w) => {
    const state = [
      w.active ? `<span class="badge badge-active">${esc(t("wh.active"))}</span>` : `<span class="badge badge-removed">${esc(t("wh.inactive"))}</span>`,
      w.pending ? `<span class="badge badge-warn">${esc(t("wh.pending", { n: fmtInt(w.pending) }))}</span>` : "",
      w.failed ? `<span class="badge badge-error">${esc(t("wh.failed", { n: fmtInt(w.failed) }))}</span>` : "",
    ].join(" ");
    return `<tr data-testid="wh-row-${esc(w.name)}" data-id="${w.id}">
      <td>${esc(w.name)}</td><td class="mono small wh-url">${esc(w.url)}</td>
      <td>${w.events.map((e) => `<div>${esc(eventLabel(e))}</div>`).join("")}</td><td>${state}</td>
      <td class="row-actions">
        <button class="btn btn-sm" data-action="test" data-testid="wh-test-${esc(w.name)}">${esc(t("wh.test"))}</button>
        <button class="btn btn-sm" data-action="toggle" data-testid="wh-toggle-${esc(w.name)}">${esc(t(w.active ? "wh.pause" : "wh.resume"))}</button>
        <button class="btn btn-sm btn-danger" data-action="remove" data-testid="wh-remove-${esc(w.name)}">${esc(t("wh.remove"))}</button>
      </td></tr>`;
  };

  const logHtml = (d) => `<tr data-testid="wh-log-row" title="${esc(d.error || d.response || "")}">
    <td>${esc(fmtDateTime(d.created_at))}</td><td>${esc(d.endpoint)}</td><td>${esc(eventLabel(d.event))}</td>
    <td>${statusBadge(d.status)}</td><td class="num">${fmtInt(d.attempts)}</td>
    <td>${d.status === "pending" && d.next_try ? esc(untilText(d.next_try)) : ""}</td>
    <td class="num mono">${d.http_status ?? (d.error ? `<span class="muted" title="${esc(d.error)}">${esc(t("wh.noAnswer.short"))}</span>` : "")}</td></tr>`;

  function drawLog() {
    const rows = root.querySelector("#wh-log-rows");
    rows.innerHTML = log.length ? log.map(logHtml).join("") : `<tr class="empty-row"><td colspan="7">${esc(t("wh.log.none"))}</td></tr>`;
    root.querySelector('[data-testid="wh-more"]').hidden = next == null;
  }

  async function load() {
    const [o, page] = await Promise.all([call("webhooks_list", {}), call("webhook_deliveries", { limit: 50 })]);
    if (!alive) return;
    overview = o;
    log = page.rows;
    next = page.next;
    const rows = root.querySelector("#wh-rows");
    rows.innerHTML = o.endpoints.length ? o.endpoints.map(rowHtml).join("") : `<tr class="empty-row"><td colspan="5">${esc(t("wh.none"))}</td></tr>`;
    rows.querySelectorAll("tr[data-id]").forEach((tr) => {
      const w = o.endpoints.find((x) => String(x.id) === tr.dataset.id);
      tr.querySelector('[data-action="test"]').addEventListener("click", () => act(() => call("webhook_test", { id: w.id }), (d) =>
        d.status === "delivered"
          ? { text: t("wh.testOk", { name: w.name, status: d.http_status }), ok: true }
          : { text: t("wh.testFailed", { name: w.name, why: d.http_status ? "HTTP " + d.http_status : t("wh.noAnswer"), when: d.next_try ? untilText(d.next_try) : "—" }), ok: false }));
      tr.querySelector('[data-action="toggle"]').addEventListener("click", () =>
        act(() => call("webhook_set_active", { id: w.id, active: !w.active }), t(w.active ? "wh.paused" : "wh.resumed", { name: w.name })));
      tr.querySelector('[data-action="remove"]').addEventListener("click", () => {
        if (window.confirm(t("wh.confirmRemove", { name: w.name }))) act(() => call("webhook_remove", { id: w.id }), t("wh.removed", { name: w.name }));
      });
    });
    const boxes = root.querySelector("#wh-events");
    if (!boxes.children.length) {
      boxes.innerHTML = o.events.map((e) => `<label class="check"><input type="checkbox" value="${esc(e)}" data-testid="wh-event-${esc(e)}"><span>${esc(eventLabel(e))}</span></label>`).join("");
    }
    const days = root.querySelector('[data-testid="wh-days"]');
    if (document.activeElement !== days) days.value = o.log_days;
    drawLog();
  }

  const form = root.querySelector('[data-testid="wh-form"]');
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const events = [...form.querySelectorAll("#wh-events input:checked")].map((i) => i.value);
    const args = { name: form.wname.value.trim(), url: form.url.value.trim(), events };
    const box = form.querySelector('[data-testid="wh-secret"]');
    try {
      const added = await call("webhook_add", args);
      if (!alive) return;
      box.hidden = false;
      box.innerHTML = `<p class="ok-text">${esc(t("wh.added", { name: args.name }))}</p><p>${esc(t("wh.secretOnce"))}</p>
        <div class="wh-secret-line"><pre class="mono token-box" data-testid="wh-secret-text">${esc(added.secret)}</pre>
        <button class="btn" type="button" data-testid="wh-copy">${icon("file")}<span>${esc(t("wh.copy"))}</span></button></div>`;
      box.querySelector('[data-testid="wh-copy"]').addEventListener("click", async (e) => {
        const button = e.currentTarget;
        try { await navigator.clipboard.writeText(added.secret); } catch {
          const range = document.createRange(); range.selectNodeContents(box.querySelector("pre"));
          const sel = window.getSelection(); sel.removeAllRanges(); sel.addRange(range); document.execCommand("copy");
        }
        button.querySelector("span").textContent = t("wh.copied");
      });
      form.wname.value = ""; form.url.value = "";
      form.querySelectorAll("#wh-events input").forEach((i) => { i.checked = false; });
      say("");
      await load();
    } catch (e) { say(errorText(e), false); }
  });
  root.querySelector('[data-testid="wh-days-form"]').addEventListener("submit", (ev) => {
    ev.preventDefault();
    const days = Number(root.querySelector('[data-testid="wh-days"]').value);
    act(() => call("webhook_settings", { log_days: days }), t("wh.log.saved", { days }));
  });
  root.querySelector('[data-testid="wh-refresh"]').addEventListener("click", () => load().catch((e) => say(errorText(e), false)));
  root.querySelector('[data-testid="wh-more"]').addEventListener("click", async () => {
    try {
      const page = await call("webhook_deliveries", { limit: 50, before: next });
      if (!alive) return;
      log = log.concat(page.rows); next = page.next; drawLog();
    } catch (e) { say(errorText(e), false); }
  });
  load().catch((e) => say(errorText(e), false));
  // The log moves by itself (retries, new events): refreshed every 5 s while shown.
  const timer = setInterval(() => { if (next == null) load().catch(() => {}); }, 5000);
  return () => { alive = false; clearInterval(timer); };
}
