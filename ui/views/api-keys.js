// API keys (Settings, the manager: `manage_users`): the keys of billing systems and customer
// portals calling the open API (/api/v1/) with their scopes, reach, expiry, last call and
// state; create one (name, scopes each explained, all meters / some groups / one customer
// by number, expiry, rate) and see its secret this once, to copy; revoke after confirming.
// Commands api_keys_list, api_key_create, api_key_revoke, groups_list.
import { call } from "../api.js";
import { t, fmtDate, fmtDateTime, fmtInt, errorText } from "../i18n.js";
import { icon } from "../icons.js";
import { esc } from "../dom.js";
import { settingsLinks } from "./users.js";

/** The scopes a key may hold (access::Scope), in the order of the core. */
export const SCOPES = [
  "meters:read", "customers:read", "readings:read", "intervals:read",
  "info_codes:read", "exchanges:read", "exchanges:write", "exports:run",
];

const STATE_BADGE = { active: "badge-active", revoked: "badge-removed", expired: "badge-warn" };

function reachText(k) {
  if (k.customer_number) return t("apikeys.reach.customer", { number: k.customer_number });
  if (k.group_names.length) return t("apikeys.reach.groups", { names: k.group_names.join(", ") });
  return t("apikeys.reach.all");
}

/** Tomorrow as `YYYY-MM-DD` (the earliest expiry the form offers). */
function tomorrow() {
  const d = new Date(Date.now() + 86_400_000);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}

export function render(root, ctx) {
  if (!ctx.can("manage_users")) { ctx.navigate("#/"); return undefined; }
  let alive = true;
  root.innerHTML = `
    <div class="page-head"><div><h1>${icon("settings")}<span>${esc(t("apikeys.title"))}</span></h1>
      <p class="muted">${esc(t("apikeys.intro"))}</p></div>${settingsLinks("api-keys")}</div>
    <div class="toolbar-msg" data-testid="apikeys-msg" aria-live="polite"></div>
    <div id="apikeys-secret"></div>
    <div class="card table-card"><div class="table-scroll"><table class="table apikeys-table" data-testid="apikeys-table">
      <thead><tr><th>${esc(t("apikeys.col.name"))}</th><th>${esc(t("apikeys.col.prefix"))}</th><th>${esc(t("apikeys.col.scopes"))}</th>
        <th>${esc(t("apikeys.col.reach"))}</th><th>${esc(t("apikeys.col.expires"))}</th><th>${esc(t("apikeys.col.lastUsed"))}</th>
        <th>${esc(t("apikeys.col.state"))}</th><th></th></tr></thead>
      <tbody id="apikeys-rows"><tr class="empty-row"><td colspan="8">${esc(t("common.loading"))}</td></tr></tbody>
    </table></div></div>
    <form class="card nt-form" data-testid="apikey-create-form" novalidate>
      <h2>${icon("plus")}<span>${esc(t("apikeys.new"))}</span></h2>
      <div class="form-grid">
        <label class="field"><span>${esc(t("apikeys.name"))}</span><input name="name" data-testid="apikey-new-name" maxlength="80" autocomplete="off" required></label>
        <label class="field"><span>${esc(t("apikeys.rate"))}</span><input name="rate" type="number" min="1" max="100000" step="1" value="600" data-testid="apikey-new-rate"></label>
      </div>
      <fieldset class="apikeys-fieldset"><legend>${esc(t("apikeys.scopes"))}</legend>
        <ul class="apikeys-scopes">${SCOPES.map((s) => `<li><label class="check"><input type="checkbox" name="scope" value="${s}" data-testid="apikey-scope-${s.replace(":", "-")}">
          <span><code>${esc(s)}</code> <span class="muted">${esc(t("apikeys.scope." + s))}</span></span></label></li>`).join("")}</ul>
      </fieldset>
      <fieldset class="apikeys-fieldset"><legend>${esc(t("apikeys.reach"))}</legend>
        <div class="apikeys-reach">
          ${["all", "groups", "customer"].map((r) => `<label class="check"><input type="radio" name="reach" value="${r}" ${r === "all" ? "checked" : ""} data-testid="apikey-reach-${r}"><span>${esc(t("apikeys.reach.opt." + r))}</span></label>`).join("")}
        </div>
        <div class="apikeys-groups" data-testid="apikey-groups" hidden></div>
        <label class="field apikeys-customer" hidden><span>${esc(t("apikeys.customer"))}</span><input name="customer" data-testid="apikey-new-customer" maxlength="100" autocomplete="off" spellcheck="false"></label>
      </fieldset>
      <div class="form-grid">
        <label class="field"><span>${esc(t("apikeys.expires"))}</span><input name="expires" type="date" min="${tomorrow()}" data-testid="apikey-new-expires">
          <span class="muted small">${esc(t("apikeys.expires.hint"))}</span></label>
      </div>
      <div class="export-actions"><button class="btn btn-primary" type="submit" data-testid="apikey-create">${esc(t("apikeys.create"))}</button></div>
    </form>`;
  const msg = root.querySelector('[data-testid="apikeys-msg"]');
  const say = (text, ok = true) => { msg.textContent = text; msg.className = "toolbar-msg " + (ok ? "ok-text" : "error-text"); };
  const form = root.querySelector('[data-testid="apikey-create-form"]');
  const groupsBox = root.querySelector(".apikeys-groups");
  const customerBox = root.querySelector(".apikeys-customer");

  const rowHtml = (k) => `<tr data-testid="apikey-row-${esc(k.name)}" data-id="${k.id}">
      <td>${esc(k.name)}</td>
      <td class="mono" data-testid="apikey-prefix">${esc(k.prefix)}…</td>
      <td>${k.scopes.map((s) => `<code class="apikeys-scope" title="${esc(t("apikeys.scope." + s))}">${esc(s)}</code>`).join(" ")}</td>
      <td>${esc(reachText(k))}<div class="muted small">${esc(t("apikeys.perMinute", { rate: fmtInt(k.rate_per_minute) }))}</div></td>
      <td>${k.expires_at ? esc(fmtDate(k.expires_at)) : `<span class="muted">${esc(t("apikeys.noExpiry"))}</span>`}</td>
      <td>${k.last_used_at ? esc(fmtDateTime(k.last_used_at)) : `<span class="muted">${esc(t("apikeys.never"))}</span>`}</td>
      <td><span class="badge ${STATE_BADGE[k.state] || ""}" data-testid="apikey-state">${esc(t("apikeys.state." + k.state))}</span></td>
      <td class="row-actions">${k.state === "revoked" ? "" : `<button class="btn btn-sm" type="button" data-action="revoke" data-testid="apikey-revoke-${esc(k.name)}">${esc(t("apikeys.revoke"))}</button>`}</td>
    </tr>`;

  async function load() {
    const keys = await call("api_keys_list", {});
    if (!alive) return;
    const rows = root.querySelector("#apikeys-rows");
    rows.innerHTML = keys.length ? keys.map(rowHtml).join("") : `<tr class="empty-row"><td colspan="8">${esc(t("apikeys.none"))}</td></tr>`;
    rows.querySelectorAll('[data-action="revoke"]').forEach((b) => b.addEventListener("click", async () => {
      const k = keys.find((x) => String(x.id) === b.closest("tr").dataset.id);
      if (!window.confirm(t("apikeys.confirmRevoke", { name: k.name }))) return;
      try { await call("api_key_revoke", { id: k.id }); say(t("apikeys.revoked", { name: k.name })); } catch (e) { say(errorText(e), false); }
      await load().catch((e) => say(errorText(e), false));
    }));
  }

  async function loadGroups() {
    const groups = await call("groups_list", {});
    if (!alive) return;
    groupsBox.innerHTML = groups.length
      ? `<span class="field-label">${esc(t("apikeys.groups"))}</span><div class="apikeys-group-list">${groups.map((g) => `<label class="check"><input type="checkbox" name="group" value="${g.id}" data-testid="apikey-group-${g.id}"><span>${esc(g.name)}</span></label>`).join("")}</div>`
      : `<p class="muted small">${esc(t("apikeys.groups.none"))}</p>`;
  }

  form.querySelectorAll('input[name="reach"]').forEach((r) => r.addEventListener("change", () => {
    groupsBox.hidden = form.reach.value !== "groups";
    customerBox.hidden = form.reach.value !== "customer";
  }));

  /** The secret of a key just created, this once: copy it, then it is gone from the screen. */
  function showSecret(name, secret) {
    const box = root.querySelector("#apikeys-secret");
    box.innerHTML = `<section class="card apikeys-secret" data-testid="apikey-secret-box" role="alert">
      <h2>${icon("warning")}<span>${esc(t("apikeys.secret.title", { name }))}</span></h2>
      <p class="apikeys-secret-warning">${esc(t("apikeys.secret.warning"))}</p>
      <div class="apikeys-secret-row"><input class="mono" readonly value="${esc(secret)}" data-testid="apikey-secret" aria-label="${esc(t("apikeys.secret.title", { name }))}">
        <button class="btn btn-primary" type="button" data-testid="apikey-secret-copy">${esc(t("apikeys.secret.copy"))}</button></div>
      <div class="export-actions"><button class="btn" type="button" data-testid="apikey-secret-done">${esc(t("apikeys.secret.done"))}</button>
        <span class="toolbar-msg" data-testid="apikey-secret-msg" aria-live="polite"></span></div>
    </section>`;
    const input = box.querySelector('[data-testid="apikey-secret"]');
    const note = box.querySelector('[data-testid="apikey-secret-msg"]');
    input.addEventListener("focus", () => input.select());
    box.querySelector('[data-testid="apikey-secret-copy"]').addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(secret);
        note.textContent = t("apikeys.secret.copied"); note.className = "toolbar-msg ok-text";
      } catch {
        input.select();
        const copied = document.execCommand && document.execCommand("copy");
        note.textContent = t(copied ? "apikeys.secret.copied" : "apikeys.secret.copyFailed");
        note.className = "toolbar-msg " + (copied ? "ok-text" : "error-text");
      }
    });
    box.querySelector('[data-testid="apikey-secret-done"]').addEventListener("click", () => { box.innerHTML = ""; });
    box.scrollIntoView({ block: "nearest" });
  }

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const reach = form.reach.value;
    const rate = form.rate.value.trim();
    const args = {
      name: form.name.value.trim(),
      scopes: [...form.querySelectorAll('input[name="scope"]:checked')].map((c) => c.value),
      groups: reach === "groups" ? [...form.querySelectorAll('input[name="group"]:checked')].map((c) => Number(c.value)) : [],
      customer: reach === "customer" ? form.customer.value.trim() : null,
      expires_at: form.expires.value || null,
      rate_per_minute: rate === "" ? null : Number(rate),
    };
    // A reach of some groups with none ticked would be every meter: asked instead.
    if (reach === "groups" && !args.groups.length) { say(t("apikeys.groups.pick"), false); return; }
    try {
      const created = await call("api_key_create", args);
      form.reset();
      groupsBox.hidden = true; customerBox.hidden = true;
      say(t("apikeys.created", { name: created.key.name }));
      showSecret(created.key.name, created.secret);
    } catch (e) { say(errorText(e), false); }
    await load().catch((e) => say(errorText(e), false));
  });

  load().catch((e) => say(errorText(e), false));
  loadGroups().catch((e) => say(errorText(e), false));
  return () => { alive = false; };
}
