// Settings, "Allowed folders" (manager: permission `settings`): the folders that watched
// customers-and-meters folders may read and scheduled exports may write. Shown on the
// Settings screen to those who may change it; the core refuses everyone else anyway.
import { call } from "../api.js";
import { t, errorText } from "../i18n.js";
import { icon } from "../icons.js";
import { esc } from "../dom.js";

/** Fill `el` with the section; returns a cleanup function. */
export function renderAllowedFolders(el, ctx) {
  if (!ctx.can("settings")) { el.innerHTML = ""; return () => {}; }
  let alive = true;
  let folders = [];
  el.innerHTML = `<form class="card nt-form" data-testid="af-form">
      <h2>${icon("file")}<span>${esc(t("af.title"))}</span></h2>
      <p class="muted">${esc(t("af.intro"))}</p>
      <ul class="af-list" data-testid="af-list"><li class="muted">${esc(t("common.loading"))}</li></ul>
      <div class="export-actions af-actions">
        <label class="field af-new"><span>${esc(t("af.folder"))}</span>
          <input type="text" name="folder" class="mono" data-testid="af-input" placeholder="${esc(t("af.placeholder"))}"></label>
        <button class="btn btn-primary" type="submit" data-testid="af-add">${icon("plus")}<span>${esc(t("af.add"))}</span></button>
      </div>
      <p class="toolbar-msg af-msg" data-testid="af-msg" aria-live="polite"></p>
    </form>`;
  const form = el.querySelector("form");
  const list = el.querySelector('[data-testid="af-list"]');
  const msg = el.querySelector('[data-testid="af-msg"]');
  const say = (text, error) => { msg.textContent = text; msg.classList.toggle("error-text", !!error); };

  function paint() {
    list.innerHTML = folders.length
      ? folders.map((f, i) => `<li data-testid="af-folder" data-folder="${esc(f)}"><span class="mono">${esc(f)}</span>
          <button class="btn btn-ghost danger" type="button" data-i="${i}" data-testid="af-remove">${icon("trash")}<span>${esc(t("af.remove"))}</span></button></li>`).join("")
      : `<li class="muted" data-testid="af-empty">${esc(t("af.empty"))}</li>`;
  }

  async function save(next) {
    try {
      folders = await call("folders_allowed_set", { folders: next });
      if (!alive) return false;
      paint();
      say(t("af.saved"));
      return true;
    } catch (e) {
      if (alive) say(t("common.error", { message: errorText(e) }), true);
      return false;
    }
  }

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const folder = form.folder.value.trim();
    if (!folder) return;
    if (await save([...folders, folder])) form.folder.value = "";
  });
  list.addEventListener("click", (e) => {
    const b = e.target.closest("button[data-i]");
    if (b) save(folders.filter((_, i) => i !== Number(b.dataset.i)));
  });
  call("folders_allowed", {}).then((f) => { folders = f; if (alive) paint(); })
    .catch((e) => { if (alive) say(t("common.error", { message: errorText(e) }), true); });
  return () => { alive = false; };
}
