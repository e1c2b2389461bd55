import { t } from "../i18n.js";
import { icon } from "../icons.js";
import { esc } from "../dom.js";

export function render(root, ctx) {
  const sec = ctx.params.section;
  const name = t(sec.label);
  root.innerHTML = `
    <div class="page-head"><h1>${icon(sec.icon)}<span>${esc(name)}</span></h1></div>
    <div class="card placeholder-card" data-testid="placeholder">
      <div class="placeholder-icon">${icon(sec.icon)}</div>
      <h2>${esc(t("placeholder.title"))}</h2>
      <p class="muted">${esc(t("placeholder.text", { name }))}</p>
      <p class="muted small">${esc(t(sec.desc))}</p>
      <a class="btn" href="#/">${esc(t("placeholder.back"))}</a>
    </div>`;
}
