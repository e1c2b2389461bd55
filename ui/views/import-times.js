// Settings, "Heures de réception" (manager: permission `settings`): which reception times an
// import takes (not before 1 January of a year, not more than some minutes in the future);
// lines outside are rejected as `implausible_time`. The core refuses everyone else anyway.
import { call } from "../api.js";
import { t, errorText } from "../i18n.js";
import { icon } from "../icons.js";
import { esc } from "../dom.js";

/** Fill `el` with the section; returns a cleanup function. */
export function renderImportTimes(el, ctx) {
  if (!ctx.can("settings")) { el.innerHTML = ""; return () => {}; }
  let alive = true;
  el.innerHTML = `<form class="card nt-form" data-testid="it-form">
      <h2>${icon("clock")}<span>${esc(t("it.title"))}</span></h2>
      <p class="muted">${esc(t("it.intro"))}</p>
      <div class="export-actions">
        <label class="field"><span>${esc(t("it.earliest_year"))}</span>
          <input type="number" name="earliest_year" min="1970" max="2100" required data-testid="it-year"></label>
        <label class="field"><span>${esc(t("it.max_future"))}</span>
          <input type="number" name="max_future_minutes" min="0" max="10080" required data-testid="it-future"></label>
        <button class="btn btn-primary" type="submit" data-testid="it-save">${icon("check")}<span>${esc(t("it.save"))}</span></button>
      </div>
      <p class="toolbar-msg" data-testid="it-msg" aria-live="polite"></p>
    </form>`;
  const form = el.querySelector("form");
  const msg = el.querySelector('[data-testid="it-msg"]');
  const say = (text, error) => { msg.textContent = text; msg.classList.toggle("error-text", !!error); };
  const fill = (s) => { form.earliest_year.value = s.earliest_year; form.max_future_minutes.value = s.max_future_minutes; };
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      const s = await call("import_time_settings_set", {
        earliest_year: Number(form.earliest_year.value),
        max_future_minutes: Number(form.max_future_minutes.value),
      });
      if (!alive) return;
      fill(s);
      say(t("it.saved"));
    } catch (err) {
      if (alive) say(t("common.error", { message: errorText(err) }), true);
    }
  });
  call("import_time_settings", {}).then((s) => { if (alive) fill(s); })
    .catch((e) => { if (alive) say(t("common.error", { message: errorText(e) }), true); });
  return () => { alive = false; };
}
