// Permissions (Settings, the manager: `manage_users`): the matrix of the roles User and
// Superuser as checkboxes (the Manager's column shown, not editable; permissions that stay the
// manager's greyed), and before saving a preview of what changes: per role, the permissions
// added and removed and the commands that become allowed or refused.
import { call } from "../api.js";
import { t, roleLabel, errorText, tOr } from "../i18n.js";
import { icon } from "../icons.js";
import { esc } from "../dom.js";
import { settingsLinks } from "./users.js";

const EDITABLE = ["user", "superuser"];

export function render(root, ctx) {
  if (!ctx.can("manage_users")) { ctx.navigate("#/"); return undefined; }
  let alive = true;
  let matrix = null;
  root.innerHTML = `
    <div class="page-head"><div><h1>${icon("settings")}<span>${esc(t("perms.title"))}</span></h1>
      <p class="muted">${esc(t("perms.intro"))}</p></div>${settingsLinks("permissions")}</div>
    <div class="perms-layout">
      <div class="card table-card"><div class="table-scroll"><table class="table perms-table" data-testid="perms-table">
        <thead><tr><th>${esc(t("perms.col.permission"))}</th>${[...EDITABLE, "manager"].map((r) => `<th class="center">${esc(roleLabel(r))}</th>`).join("")}</tr></thead>
        <tbody id="perms-rows"><tr class="empty-row"><td colspan="4">${esc(t("common.loading"))}</td></tr></tbody>
      </table></div>
      <div class="export-actions perms-actions"><button class="btn btn-primary" data-testid="perms-save" disabled>${esc(t("perms.save"))}</button>
        <span class="toolbar-msg" data-testid="perms-msg" aria-live="polite"></span></div></div>
      <div class="card perms-preview" data-testid="perms-preview"><h2>${esc(t("perms.preview"))}</h2><div id="perms-preview-body" class="muted">${esc(t("perms.preview.none"))}</div></div>
    </div>`;
  const rows = root.querySelector("#perms-rows");
  const save = root.querySelector('[data-testid="perms-save"]');
  const msg = root.querySelector('[data-testid="perms-msg"]');
  const say = (text, ok = true) => { msg.textContent = text; msg.className = "toolbar-msg " + (ok ? "ok-text" : "error-text"); };
  const permName = (p) => tOr("perm.name." + p, p);

  const proposed = () => {
    const out = { user: [], superuser: [] };
    rows.querySelectorAll("input[data-role]:checked").forEach((c) => out[c.dataset.role].push(c.dataset.perm));
    return out;
  };

  function renderMatrix() {
    rows.innerHTML = matrix.permissions.map(({ permission: p, grantable }) => `<tr data-testid="perm-row-${p}">
      <td>${esc(permName(p))} <span class="muted small mono">${esc(p)}</span>${grantable ? "" : ` <span class="badge">${esc(t("perms.managerOnly"))}</span>`}</td>
      ${EDITABLE.map((r) => `<td class="center"><input type="checkbox" data-role="${r}" data-perm="${p}" data-testid="perm-${r}-${p}"
        aria-label="${esc(roleLabel(r) + " · " + permName(p))}" ${matrix[r].includes(p) ? "checked" : ""} ${grantable ? "" : "disabled"}></td>`).join("")}
      <td class="center"><input type="checkbox" disabled ${matrix.manager.includes(p) ? "checked" : ""} aria-label="${esc(roleLabel("manager") + " · " + permName(p))}"></td></tr>`).join("");
    rows.querySelectorAll("input[data-role]").forEach((c) => c.addEventListener("change", preview));
  }

  const list = (items, cls) => items.map((x) => `<span class="badge ${cls}">${esc(x)}</span>`).join(" ");

  async function preview() {
    say("");
    try {
      const changes = await call("permissions_matrix_preview", proposed());
      if (!alive) return;
      const changed = changes.filter((c) => c.added.length || c.removed.length);
      save.disabled = changed.length === 0;
      root.querySelector("#perms-preview-body").innerHTML = changed.length === 0
        ? esc(t("perms.preview.none"))
        : changed.map((c) => `<div class="perms-change" data-testid="perms-change-${c.role}"><h3>${esc(roleLabel(c.role))}</h3>
            ${c.added.length ? `<p>${esc(t("perms.preview.added"))} : ${list(c.added.map(permName), "badge-active")}</p>` : ""}
            ${c.removed.length ? `<p>${esc(t("perms.preview.removed"))} : ${list(c.removed.map(permName), "badge-error")}</p>` : ""}
            ${c.commands_allowed.length ? `<details><summary>${esc(t("perms.preview.allowed", { n: c.commands_allowed.length }))}</summary><p class="mono small">${c.commands_allowed.map(esc).join(", ")}</p></details>` : ""}
            ${c.commands_refused.length ? `<details><summary>${esc(t("perms.preview.refused", { n: c.commands_refused.length }))}</summary><p class="mono small">${c.commands_refused.map(esc).join(", ")}</p></details>` : ""}
          </div>`).join("");
      root.querySelector("#perms-preview-body").classList.toggle("muted", changed.length === 0);
    } catch (e) { say(errorText(e), false); }
  }

  save.addEventListener("click", async () => {
    save.disabled = true;
    try {
      await call("permissions_matrix_set", proposed());
      matrix = await call("permissions_matrix", {});
      if (!alive) return;
      renderMatrix();
      await preview();
      say(t("perms.saved"));
    } catch (e) { say(errorText(e), false); save.disabled = false; }
  });

  call("permissions_matrix", {}).then((m) => { if (!alive) return; matrix = m; renderMatrix(); }).catch((e) => say(errorText(e), false));
  return () => { alive = false; };
}
