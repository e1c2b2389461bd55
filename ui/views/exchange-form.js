// The meter exchange form of the meter page (command `meter_exchange`, needs edit_meters).
// An exchange cannot be undone: the form asks for a confirmation that repeats what will be
// recorded, and the new meter's page then says the exchange was recorded.
import { call } from "../api.js";
import { t, fmtNumber, fmtDateTime, unitLabel, errorText, getTimezone, isoDateText } from "../i18n.js";
import { esc } from "../dom.js";

/** The register an exchange reads, by device type (as the core decides). */
const EXCHANGE_REGISTER = { heat: "energy", heat_cooling: "energy", heat_inlet: "energy", cooling_inlet: "energy",
  cooling_outlet: "energy", electricity: "a_plus", heat_cost_allocator: "hca" };
const UNITS = { volume: "m3", energy: "kWh", a_plus: "kWh", hca: "hca" };

// The exchange just recorded, shown once on the new meter's page.
let flash = null;

/** The success message of an exchange that made meter `id`, once (HTML), or "". */
export function exchangeDoneHtml(id) {
  if (!flash || flash.id !== id) return "";
  const f = flash;
  flash = null;
  return `<div class="card ok-line exchange-done" data-testid="exchange-done" role="status">${esc(t("meter.exchange.done", { old: f.old, new: f.new }))}
    <span class="muted small">${esc(t("meter.exchange.doneDetail", f))}</span></div>`;
}

/** "YYYY-MM-DDTHH:MM" of now in the utility's time zone. */
function localNow() {
  const parts = Object.fromEntries(new Intl.DateTimeFormat("en-GB", {
    timeZone: getTimezone(), year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23",
  }).formatToParts(new Date()).map((p) => [p.type, p.value]));
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}`;
}

export function exchangeFormHtml(d) {
  const reg = EXCHANGE_REGISTER[d.meter.device_type] || "volume";
  const unit = unitLabel(UNITS[reg]);
  const last = (d.registers || []).find((r) => r.register === reg);
  return `<section class="card exchange-form" data-testid="exchange-form" hidden>
    <h2><span>${esc(t("meter.exchange.title"))}</span></h2>
    <form novalidate>
      <div class="form-grid">
        <label>${esc(t("meter.exchange.newSerial"))}<input name="new_serial" data-testid="exchange-new-serial" required maxlength="32" autocomplete="off"></label>
        <label>${esc(t("meter.exchange.newManufacturer"))}<input name="new_manufacturer" data-testid="exchange-new-manufacturer" maxlength="8" placeholder="${esc(d.meter.manufacturer)}"></label>
        <label>${esc(t("meter.exchange.at"))}<input type="datetime-local" name="at" data-testid="exchange-at" value="${localNow()}" required></label>
        <label>${esc(t("meter.exchange.final", { unit }))}<input type="number" step="any" min="0" name="final_value" data-testid="exchange-final" value="${last ? last.last_value : ""}" required></label>
        <label>${esc(t("meter.exchange.initial", { unit }))}<input type="number" step="any" min="0" name="initial_value" data-testid="exchange-initial" value="0" required></label>
      </div>
      ${last ? `<p class="small muted" data-testid="exchange-last">${esc(t("meter.exchange.last", { value: fmtNumber(last.last_value, 3), unit, date: fmtDateTime(last.last_ts) }))}</p>` : ""}
      <div class="form-actions">
        <button type="submit" class="btn btn-primary" data-testid="exchange-submit">${esc(t("meter.exchange.submit"))}</button>
        <button type="button" class="btn" data-testid="exchange-cancel">${esc(t("meter.exchange.cancel"))}</button>
        <span class="error-text" data-testid="exchange-error" hidden></span>
      </div>
      <div class="exchange-confirm warn-box" data-testid="exchange-confirm" role="alertdialog" hidden></div>
    </form>
  </section>`;
}

/** Wire the toggle button and the form; `done(result)` after a successful exchange. */
export function wireExchangeForm(root, d, done) {
  const card = root.querySelector('[data-testid="exchange-form"]');
  const btn = root.querySelector('[data-testid="exchange-open"]');
  if (!card || !btn) return;
  const form = card.querySelector("form");
  const err = card.querySelector('[data-testid="exchange-error"]');
  btn.addEventListener("click", () => {
    card.hidden = !card.hidden;
    if (!card.hidden) card.querySelector('[data-testid="exchange-new-serial"]').focus();
  });
  card.querySelector('[data-testid="exchange-cancel"]').addEventListener("click", () => { card.hidden = true; });
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = new FormData(form);
    const num = (k) => (String(f.get(k)).trim() === "" ? NaN : Number(f.get(k)));
    const args = {
      old_id: d.meter.id,
      new_serial: String(f.get("new_serial") || "").trim(),
      at: String(f.get("at") || "").slice(0, 16),
      final_value: num("final_value"),
      initial_value: num("initial_value"),
    };
    const manu = String(f.get("new_manufacturer") || "").trim();
    if (manu) args.new_manufacturer = manu;
    err.hidden = true;
    if (!args.new_serial || !args.at || Number.isNaN(args.final_value) || Number.isNaN(args.initial_value)) {
      err.textContent = t("common.error", { message: t("meter.exchange.newSerial") + ", " + t("meter.exchange.at") + "…" });
      err.hidden = false;
      return;
    }
    // Irreversible: say what will be recorded and ask.
    const reg = EXCHANGE_REGISTER[d.meter.device_type] || "volume";
    const unit = unitLabel(UNITS[reg]);
    const when = `${isoDateText(args.at.slice(0, 10))} ${args.at.slice(11, 16)}`;
    const words = { old: d.meter.serial, new: args.new_serial, at: when, final: fmtNumber(args.final_value, 3), initial: fmtNumber(args.initial_value, 3), unit };
    const box = card.querySelector('[data-testid="exchange-confirm"]');
    const submit = card.querySelector('[data-testid="exchange-submit"]');
    box.innerHTML = `<p><b>${esc(t("meter.exchange.confirm", words))}</b></p>
      <p class="small">${esc(t("meter.exchange.doneDetail", words))}</p>
      <p class="small warn-text">${esc(t("meter.exchange.irreversible"))}</p>
      <div class="form-actions"><button type="button" class="btn btn-danger" data-testid="exchange-confirm-ok">${esc(t("meter.exchange.confirmOk"))}</button>
        <button type="button" class="btn" data-testid="exchange-confirm-back">${esc(t("meter.exchange.confirmBack"))}</button></div>`;
    box.hidden = false;
    submit.disabled = true;
    box.querySelector('[data-testid="exchange-confirm-back"]').addEventListener("click", () => { box.hidden = true; submit.disabled = false; submit.focus(); });
    const ok = box.querySelector('[data-testid="exchange-confirm-ok"]');
    ok.focus();
    ok.addEventListener("click", async () => {
      ok.disabled = true;
      try {
        const r = await call("meter_exchange", args);
        flash = { id: r.new_meter_id, ...words };
        box.hidden = true;
        done(r, args);
      } catch (e) {
        box.hidden = true;
        err.textContent = t("common.error", { message: errorText(e) });
        err.hidden = false;
      } finally {
        submit.disabled = false;
      }
    });
  });
}
