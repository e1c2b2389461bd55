// Meter groups: list with counts, create, rename, delete; links to the meters and the map.
import { call } from "../api.js";
import { t, fmtInt, errorText } from "../i18n.js";
import { icon } from "../icons.js";
import { esc } from "../dom.js";

export function render(root, ctx) {
  const edit = ctx.can("edit_meters");
  let alive = true;
  let groups = [];
  let editing = null; // id being renamed
  let deleting = null; // id asking for confirmation
  root.innerHTML = `
    <div class="page-head"><div><h1>${icon("groups")}<span>${esc(t("groups.title"))}</span></h1>
      <p class="muted">${esc(t("groups.intro"))}</p></div></div>
    ${edit ? `<form class="toolbar card" data-testid="group-new-form">
      <label class="inline-field"><span>${esc(t("groups.new"))}</span>
        <input type="text" data-testid="group-new-name" placeholder="${esc(t("groups.name"))}" maxlength="80" required></label>
      <button class="btn btn-primary" data-testid="group-create">${icon("plus")}<span>${esc(t("groups.create"))}</span></button>
    </form>` : `<p class="notice" data-testid="groups-denied">${esc(t("groups.denied"))}</p>`}
    <p class="toolbar-msg" data-testid="groups-msg" aria-live="polite"></p>
    <div class="card table-card"><div class="table-scroll"><table class="table groups-table">
      <thead><tr><th>${esc(t("groups.col.name"))}</th><th class="num">${esc(t("groups.col.count"))}</th><th>${esc(t("groups.col.actions"))}</th></tr></thead>
      <tbody id="group-rows"><tr class="empty-row"><td colspan="3">${esc(t("common.loading"))}</td></tr></tbody>
    </table></div></div>`;
  const tbody = root.querySelector("#group-rows");
  const msg = root.querySelector('[data-testid="groups-msg"]');
  const say = (text, error) => { msg.textContent = text; msg.classList.toggle("error-text", !!error); };

  function rowHtml(g) {
    const name = editing === g.id
      ? `<input type="text" data-testid="group-rename-input" value="${esc(g.name)}" maxlength="80">
         <button class="btn btn-primary" data-act="save">${esc(t("groups.save"))}</button>
         <button class="btn btn-ghost" data-act="cancel">${esc(t("groups.cancel"))}</button>`
      : `<span class="strong">${esc(g.name)}</span>`;
    let actions = `<a class="btn btn-ghost" href="#/meters?group=${g.id}" data-testid="group-show">${icon("meters")}<span>${esc(t("groups.showMeters"))}</span></a>
      <a class="btn btn-ghost" href="#/map?group=${g.id}">${icon("map")}<span>${esc(t("groups.showMap"))}</span></a>`;
    if (edit && deleting === g.id) {
      actions = `<span class="warn-text">${esc(t("groups.confirmDelete", { name: g.name }))}</span>
        <button class="btn btn-danger" data-act="confirm-delete" data-testid="group-confirm-delete">${esc(t("groups.delete"))}</button>
        <button class="btn btn-ghost" data-act="cancel">${esc(t("groups.cancel"))}</button>`;
    } else if (edit && editing !== g.id) {
      actions += `<button class="btn btn-ghost" data-act="rename" data-testid="group-rename">${icon("edit")}<span>${esc(t("groups.rename"))}</span></button>
        <button class="btn btn-ghost danger" data-act="delete" data-testid="group-delete">${icon("trash")}<span>${esc(t("groups.delete"))}</span></button>`;
    }
    return `<tr data-testid="group-row" data-id="${g.id}" data-name="${esc(g.name)}" data-count="${g.meter_count}">
      <td class="group-name">${name}</td><td class="num">${fmtInt(g.meter_count)}</td><td class="row-actions">${actions}</td></tr>`;
  }

  function draw() {
    tbody.innerHTML = groups.length ? groups.map(rowHtml).join("")
      : `<tr class="empty-row"><td colspan="3" data-testid="groups-empty">${esc(t("groups.empty"))}</td></tr>`;
    const input = tbody.querySelector('[data-testid="group-rename-input"]');
    if (input) { input.focus(); input.select(); }
  }

  async function load() {
    try {
      groups = await call("groups_list", {});
      if (alive) draw();
    } catch (e) {
      if (alive) tbody.innerHTML = `<tr class="empty-row"><td colspan="3" class="error-text">${esc(t("common.error", { message: errorText(e) }))}</td></tr>`;
    }
  }

  async function act(fn, okText) {
    try {
      await fn();
      editing = null;
      deleting = null;
      say(okText);
      await load();
    } catch (e) { say(t("common.error", { message: errorText(e) }), true); }
  }

  const form = root.querySelector('[data-testid="group-new-form"]');
  if (form) {
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const input = form.querySelector("input");
      const name = input.value.trim();
      if (!name) return;
      act(async () => { await call("group_create", { name }); input.value = ""; }, t("groups.created", { name, count: 0 }));
    });
  }
  tbody.addEventListener("click", (e) => {
    const b = e.target.closest("[data-act]");
    if (!b) return;
    const tr = b.closest("tr");
    const id = Number(tr.dataset.id);
    const name = tr.dataset.name;
    switch (b.dataset.act) {
      case "rename": editing = id; deleting = null; draw(); break;
      case "delete": deleting = id; editing = null; draw(); break;
      case "cancel": editing = null; deleting = null; draw(); break;
      case "save": {
        const v = tr.querySelector("input").value.trim();
        act(() => call("group_rename", { id, name: v }), t("groups.renamed"));
        break;
      }
      case "confirm-delete": act(() => call("group_delete", { id }), t("groups.deleted", { name })); break;
      default: break;
    }
  });
  tbody.addEventListener("keydown", (e) => {
    if (e.target.matches('[data-testid="group-rename-input"]')) {
      if (e.key === "Enter") tbody.querySelector('[data-act="save"]').click();
      if (e.key === "Escape") { editing = null; draw(); }
    }
  });
  load();
  return () => { alive = false; };
}
