// Settings, "Supervision du réseau" (manager: permission `settings`): after how many hours
// without a frame a gateway (without its own hours) and a meter of each class are silent
// (commands silence_settings, silence_settings_set); 0 turns the supervision off. Also N of
// the start page's "not heard for N days" (1 to 366 days).
import { call } from "../api.js";
import { t, errorText } from "../i18n.js";
import { icon } from "../icons.js";
import { esc } from "../dom.js";

export const CLASSES = ["water", "heat", "electricity", "gas", "heat_cost_allocator", "other"];

/** Fill `el` with the section; returns a cleanup function. */
export function renderSilenceSettings(el, ctx) {
  if (!ctx.can("settings")) { el.innerHTML = ""; return () => {}; }
  let alive = true;
  const hours = (name, label, testid) => `<label class="field"><span>${esc(label)}</span>
    <input type="number" name="${name}" min="0" max="8760" step="1" required data-testid="${testid}"></label>`;
  el.innerHTML = `<form class="card nt-form" data-testid="sil-form">
      <h2>${icon("antenna")}<span>${esc(t("sil.title"))}</span></h2>
      <p class="muted">${esc(t("sil.intro"))}</p>
      <div class="form-grid">
        ${hours("gateway", t("sil.gateway"), "sil-gateway")}
        ${CLASSES.map((c) => hours("class_" + c, t("sil.class." + c), "sil-class-" + c)).join("")}
      </div>
      <div class="form-grid">
        <label class="field"><span>${esc(t("sil.notHeard"))}</span>
          <input type="number" name="not_heard" min="1" max="366" step="1" required data-testid="sil-not-heard"></label>
      </div>
      <div class="export-actions">
        <button class="btn btn-primary" type="submit" data-testid="sil-save">${icon("check")}<span>${esc(t("sil.save"))}</span></button>
        <span class="toolbar-msg" data-testid="sil-msg" aria-live="polite"></span>
      </div>
    </form>`;
  const form = el.querySelector("form");
  const msg = el.querySelector('[data-testid="sil-msg"]');
  const say = (text, error) => { msg.textContent = text; msg.classList.toggle("error-text", !!error); };
  const fill = (s) => {
    form.gateway.value = s.gateway_hours;
    for (const c of CLASSES) form["class_" + c].value = s.meter_hours[c] ?? 0;
    form.not_heard.value = s.today_not_heard_days ?? 3;
  };
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      const meter_hours = {};
      for (const c of CLASSES) meter_hours[c] = Number(form["class_" + c].value);
      const s = await call("silence_settings_set", {
        gateway_hours: Number(form.gateway.value), meter_hours, today_not_heard_days: Number(form.not_heard.value),
      });
      if (!alive) return;
      fill(s);
      say(t("sil.saved"));
    } catch (err) {
      if (alive) say(t("common.error", { message: errorText(err) }), true);
    }
  });
  call("silence_settings", {}).then((s) => { if (alive) fill(s); })
    .catch((e) => { if (alive) say(t("common.error", { message: errorText(e) }), true); });
  return () => { alive = false; };
}
