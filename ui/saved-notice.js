// The desktop window's notice after a file was saved where the clerk chose (api.js
// `saveFile`, `callFile`): the path, and "Open the folder" (the system's file manager).
// A save that failed is said too. The browser downloads files itself: no notice there.
import { openFolder } from "./api.js";
import { t, errorText } from "./i18n.js";
import { icon } from "./icons.js";
import { esc } from "./dom.js";

let box = null;

function show(html, testid) {
  if (!box) {
    box = document.createElement("div");
    box.className = "saved-notice";
    box.setAttribute("role", "status");
    document.body.appendChild(box);
  }
  box.dataset.testid = testid;
  box.innerHTML = html;
  box.hidden = false;
  const close = box.querySelector("[data-act=close]");
  if (close) close.addEventListener("click", () => { box.hidden = true; });
}

export function install() {
  window.addEventListener("releve:saved", (e) => {
    const path = e.detail && e.detail.path;
    if (!path) return;
    show(`${icon("check")}<span class="saved-path">${esc(t("saved.done", { path }))}</span>
      <button type="button" class="btn" data-act="open" data-testid="saved-open">${esc(t("saved.openFolder"))}</button>
      <button type="button" class="icon-btn" data-act="close" aria-label="${esc(t("saved.close"))}" title="${esc(t("saved.close"))}">×</button>`, "saved-notice");
    box.querySelector("[data-act=open]").addEventListener("click", async () => {
      try {
        await openFolder(path);
        box.hidden = true;
      } catch (err) {
        const span = box.querySelector(".saved-path");
        span.textContent = t("common.error", { message: errorText(err) });
        span.classList.add("error-text");
      }
    });
  });
  window.addEventListener("releve:save-failed", (e) => {
    show(`<span class="error-text">${esc(t("common.error", { message: errorText(e.detail) }))}</span>
      <button type="button" class="icon-btn" data-act="close" aria-label="${esc(t("saved.close"))}">×</button>`, "saved-failed");
  });
}
