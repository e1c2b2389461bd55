// "Change my password": a dialog every clerk reaches from the header; shown forced (no way
// around it but logging out) after a manager reset the password (`must_change_password`).
import { call } from "../api.js";
import { t, errorText } from "../i18n.js";
import { esc } from "../dom.js";

/** Open the dialog over the page. `forced`: no cancel; `onDone` runs once the password changed. */
export function openPasswordDialog({ forced = false, onDone = () => {}, onLogout = null } = {}) {
  if (document.querySelector('[data-testid="pw-dialog"]')) return;
  const wrap = document.createElement("div");
  wrap.className = "modal-backdrop";
  wrap.innerHTML = `
    <form class="modal card" data-testid="pw-dialog" role="dialog" aria-modal="true" aria-labelledby="pw-title" novalidate>
      <h2 id="pw-title">${esc(t("pw.title"))}</h2>
      ${forced ? `<p class="notice" data-testid="pw-forced">${esc(t("pw.forced"))}</p>` : ""}
      <label class="field"><span>${esc(t("pw.old"))}</span>
        <input type="password" name="old" data-testid="pw-old" autocomplete="current-password" required></label>
      <label class="field"><span>${esc(t("pw.new"))}</span>
        <input type="password" name="new" data-testid="pw-new" autocomplete="new-password" minlength="10" required></label>
      <label class="field"><span>${esc(t("pw.confirm"))}</span>
        <input type="password" name="confirm" data-testid="pw-confirm" autocomplete="new-password" required></label>
      <div class="form-error" data-testid="pw-error" role="alert" hidden></div>
      <div class="modal-actions">
        ${forced && onLogout ? `<button type="button" class="btn btn-ghost" data-testid="pw-logout">${esc(t("header.logout"))}</button>` : ""}
        ${forced ? "" : `<button type="button" class="btn" data-testid="pw-cancel">${esc(t("pw.cancel"))}</button>`}
        <button type="submit" class="btn btn-primary" data-testid="pw-save">${esc(t("pw.save"))}</button>
      </div>
    </form>`;
  document.body.appendChild(wrap);
  const form = wrap.querySelector("form");
  const err = wrap.querySelector('[data-testid="pw-error"]');
  const close = () => wrap.remove();
  const show = (msg) => { err.textContent = msg; err.hidden = !msg; };
  wrap.querySelector('[data-testid="pw-cancel"]')?.addEventListener("click", close);
  wrap.querySelector('[data-testid="pw-logout"]')?.addEventListener("click", () => { close(); onLogout(); });
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (form.new.value !== form.confirm.value) { show(t("pw.mismatch")); return; }
    show("");
    const save = wrap.querySelector('[data-testid="pw-save"]');
    save.disabled = true;
    try {
      await call("password_change", { old_password: form.old.value, new_password: form.new.value });
      close();
      onDone();
    } catch (e) {
      show(errorText(e));
      save.disabled = false;
    }
  });
  form.old.focus();
}
