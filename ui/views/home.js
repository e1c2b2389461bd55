import { call } from "../api.js";
import { t, fmtInt, fmtDateTime } from "../i18n.js";
import { icon } from "../icons.js";
import { esc } from "../dom.js";

export function render(root, ctx) {
  const user = ctx.session.user || {};
  root.innerHTML = `
    <div class="page-head">
      <div><h1>${esc(t("home.welcome", { name: user.name || user.login || "" }))}</h1>
      <p class="muted">${esc(t("home.intro"))}</p></div>
    </div>
    ${ctx.can("view") ? `<section class="card today-card" data-testid="today"><h2>${esc(t("today.title"))}</h2>
      <ul class="today-list" data-testid="today-list"><li class="muted">${esc(t("common.loading"))}</li></ul></section>` : ""}
    <div class="stats" data-testid="home-stats">
      <a class="stat card" href="#/meters"><div class="stat-value" id="stat-meters">…</div><div class="stat-label">${esc(t("home.stat.meters"))}</div></a>
      <a class="stat card" href="#/meters?alarms=1"><div class="stat-value warn" id="stat-alarms">…</div><div class="stat-label">${esc(t("home.stat.alarms"))}</div></a>
      <div class="stat card"><div class="stat-value" id="stat-groups">…</div><div class="stat-label">${esc(t("home.stat.groups"))}</div></div>
    </div>
    <div class="tiles">
      ${ctx.sections.filter((s) => ctx.can(s.perm)).map((s) => {
        const inner = `<div class="tile-icon">${icon(s.icon)}</div><div class="tile-text"><div class="tile-title">${esc(t(s.label))}</div><div class="tile-desc">${esc(t(s.desc))}</div></div>`;
        return `<a class="tile card" href="${s.hash}" data-testid="tile-${s.id}">${inner}</a>`;
      }).join("")}
    </div>`;
  let alive = true;
  if (ctx.can("view")) {
    call("meters_list", { limit: 1, in_service: true }).then((r) => { if (alive) root.querySelector("#stat-meters").textContent = fmtInt(r.total); }).catch(() => { if (alive) root.querySelector("#stat-meters").textContent = "—"; });
    call("meters_list", { limit: 1, alarms_only: true }).then((r) => { if (alive) root.querySelector("#stat-alarms").textContent = fmtInt(r.total); }).catch(() => { if (alive) root.querySelector("#stat-alarms").textContent = "—"; });
    call("groups_list", {}).then((g) => { if (alive) root.querySelector("#stat-groups").textContent = fmtInt(g.length); }).catch(() => { if (alive) root.querySelector("#stat-groups").textContent = "—"; });
  }
  if (ctx.can("view")) {
    call("today", {}).then((d) => { if (alive) drawToday(root.querySelector('[data-testid="today-list"]'), d, ctx); })
      .catch(() => { if (alive) root.querySelector('[data-testid="today-list"]').innerHTML = "<li>—</li>"; });
  }
  return () => { alive = false; };
}

/** The "to do today" items: each a link to the list it counts (when the user may open it). */
function drawToday(ul, d, ctx) {
  const item = (id, n, text, href, perm) => {
    const label = esc(t(text, { n: fmtInt(n), days: fmtInt(d.not_heard_days) }));
    const body = href && ctx.can(perm) ? `<a href="${href}" data-testid="today-${id}-link">${label}</a>` : `<span>${label}</span>`;
    return `<li class="${n ? "" : "zero"}" data-testid="today-${id}" data-count="${n}">${body}</li>`;
  };
  const items = [
    item("not-heard", d.not_heard, "today.notHeard", `#/meters?not_heard=${d.not_heard_days}`, "view"),
    item("alarms-today", d.alarms_today, "today.alarmsToday", "#/infocodes?today=1", "view"),
    item("alarms-mine", d.alarms_mine, "today.alarmsMine", "#/infocodes?handling=mine", "view"),
    item("failed-exports", d.failed_exports, "today.failedExports", "#/jobs", "export"),
    item("failed-webhooks", d.failed_webhooks, "today.failedWebhooks", "#/webhooks", "settings"),
    item("failed-imports", d.failed_imports, "today.failedImports", "#/import", "import"),
  ];
  // A failed retention run is rare: said only when there is one.
  if (d.failed_retention) items.push(item("failed-retention", d.failed_retention, "today.failedRetention", "#/audit?event=retention_failed", "audit"));
  const li = d.last_import;
  const last = li
    ? t(li.state === "failed" ? "today.lastImport.failed" : "today.lastImport", { at: fmtDateTime(li.started_at), who: li.user, n: fmtInt(li.readings), source: li.source })
    : t("today.noImport");
  items.push(`<li data-testid="today-last-import">${li && ctx.can("import") ? `<a href="#/import" data-testid="today-last-import-link">${esc(last)}</a>` : esc(last)}</li>`);
  ul.innerHTML = items.join("");
}
