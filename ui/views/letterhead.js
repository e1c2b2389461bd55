// The utility's letterhead on the consumer reports (Settings, permission `settings`): name,
// postal address, contact line, legal text and logo (PNG or JPEG, at most 512 KB), read with
// consumer_report_letterhead and saved with consumer_report_letterhead_set.
import { call } from "../api.js";
import { t, errorText } from "../i18n.js";
import { icon } from "../icons.js";
import { esc } from "../dom.js";

const MAX_LOGO = 512 * 1024;

export function render(root, ctx) {
  if (!ctx.can("settings")) { ctx.navigate("#/"); return undefined; }
  let logo = "";
  root.innerHTML = `
    <div class="page-head"><div><a class="back" href="#/notifications">${icon("chevronLeft")}<span>${esc(t("nav.settings"))}</span></a>
      <h1>${icon("file")}<span>${esc(t("lh.title"))}</span></h1>
      <p class="muted">${esc(t("lh.intro"))}</p></div></div>
    <form class="card nt-form" data-testid="lh-form">
      <div class="form-grid">
        <label class="field"><span>${esc(t("lh.name"))}</span><input type="text" name="name" maxlength="120" data-testid="lh-name"></label>
        <label class="field"><span>${esc(t("lh.contact"))}</span><input type="text" name="contact" maxlength="200" data-testid="lh-contact"></label>
        <label class="field"><span>${esc(t("lh.address"))}</span><textarea name="address" rows="3" maxlength="300" data-testid="lh-address"></textarea></label>
        <label class="field"><span>${esc(t("lh.legal"))}</span><textarea name="legal" rows="3" maxlength="600" data-testid="lh-legal"></textarea></label>
      </div>
      <div class="field"><span>${esc(t("lh.logo"))}</span>
        <div class="lh-logo-row">
          <img alt="" data-testid="lh-logo-preview" hidden style="max-height:64px;max-width:200px">
          <input type="file" accept="image/png,image/jpeg" data-testid="lh-logo-file">
          <button class="btn" type="button" data-testid="lh-logo-remove">${esc(t("lh.logoRemove"))}</button>
        </div>
        <p class="muted small">${esc(t("lh.logoHint"))}</p>
      </div>
      <div class="export-actions">
        <button class="btn btn-primary" type="submit" data-testid="lh-save">${icon("check")}<span>${esc(t("lh.save"))}</span></button>
        <span class="toolbar-msg" data-testid="lh-msg" aria-live="polite"></span>
      </div>
    </form>`;
  const form = root.querySelector('[data-testid="lh-form"]');
  const msg = root.querySelector('[data-testid="lh-msg"]');
  const preview = root.querySelector('[data-testid="lh-logo-preview"]');
  const file = root.querySelector('[data-testid="lh-logo-file"]');
  const say = (text, error) => { msg.textContent = text; msg.classList.toggle("error-text", !!error); };
  const showLogo = () => {
    preview.hidden = !logo;
    if (logo) preview.src = `data:${logo.startsWith("/9j/") ? "image/jpeg" : "image/png"};base64,${logo}`;
  };
  const fill = (l) => {
    for (const k of ["name", "address", "contact", "legal"]) form[k].value = l[k] || "";
    logo = l.logo_base64 || "";
    showLogo();
  };
  call("consumer_report_letterhead", {}).then(fill).catch((e) => say(t("common.error", { message: errorText(e) }), true));
  file.addEventListener("change", () => {
    const f = file.files && file.files[0];
    if (!f) return;
    if (f.size > MAX_LOGO) { say(t("lh.logoTooLarge", { max: MAX_LOGO / 1024 }), true); file.value = ""; return; }
    const reader = new FileReader();
    reader.onload = () => {
      const s = String(reader.result || "");
      logo = s.slice(s.indexOf(",") + 1);
      showLogo();
      say("");
    };
    reader.readAsDataURL(f);
  });
  root.querySelector('[data-testid="lh-logo-remove"]').addEventListener("click", () => { logo = ""; file.value = ""; showLogo(); });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      const saved = await call("consumer_report_letterhead_set", {
        name: form.name.value, address: form.address.value, contact: form.contact.value, legal: form.legal.value, logo_base64: logo,
      });
      fill(saved);
      say(t("lh.saved"));
    } catch (err) {
      say(t("common.error", { message: errorText(err) }), true);
    }
  });
  return undefined;
}
