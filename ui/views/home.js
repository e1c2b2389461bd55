import { call } from "../api.js";
import { t, fmtInt } from "../i18n.js";
import { icon } from "../icons.js";
import { esc } from "../dom.js";

export function render(root, ctx) {
  const user = ctx.session.user || {};
  root.innerHTML = `
    <div class="page-head">
      <div><h1>${esc(t("home.welcome", { name: user.name || user.login || "" }))}</h1>
      <p class="muted">${esc(t("home.intro"))}</p></div>
    </div>
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
  return () => { alive = false; };
}
