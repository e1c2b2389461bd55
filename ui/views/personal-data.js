// The customer's personal data on the meter page (permission `personal_data`): "Personal
// data export" downloads the ZIP of everything held about the customer
// (`customer_subject_access`); "Move-out" replaces the customer by a pseudonym from a date,
// with an optional new occupant, after a confirmation step (`customer_move_out`). The
// customer card also lists the premises' successive occupants, former ones by pseudonym.
import { call } from "../api.js";
import { t, errorText, fmtInt, fmtDate, isoDateInTz } from "../i18n.js";
import { icon } from "../icons.js";
import { esc, isIsoDate, downloadFile, base64Bytes } from "../dom.js";

export const PERM_PERSONAL = "personal_data";

/** How a customer is named: its name, or its pseudonym worded ("Ancien occupant #12"). */
export function customerName(c) {
  if (!c) return "";
  return c.pseudonym ? t("pd.former", { id: c.customer_id ?? c.id }) : c.name;
}

/** The occupants' history (only after a move-out), for the customer card. */
export function occupantsHtml(d) {
  const occ = d.occupants || [];
  if (!occ.length) return "";
  const when = (o) => {
    if (o.from && o.to) return t("pd.occupants.range", { from: fmtDate(o.from), to: fmtDate(o.to) });
    if (o.to) return t("pd.occupants.until", { date: fmtDate(o.to) });
    if (o.from) return t("pd.occupants.since", { date: fmtDate(o.from) });
    return "";
  };
  return `<div class="occupants" data-testid="pd-occupants"><h3 class="small muted">${esc(t("pd.occupants"))}</h3><ul>
    ${occ.map((o) => `<li><b>${esc(customerName(o))}</b> <span class="muted">${esc(t("pd.no"))} ${esc(o.number)} · ${esc(when(o))}</span></li>`).join("")}
  </ul></div>`;
}

/** The buttons under the customer card, for who may handle personal data. */
export function personalButtonsHtml(d, can) {
  if (!d.customer_id || !can(PERM_PERSONAL)) return "";
  return `<div class="form-actions pd-actions">
    <button type="button" class="btn" data-testid="pd-export">${icon("download")}<span>${esc(t("pd.export"))}</span></button>
    <button type="button" class="btn" data-testid="pd-moveout-open">${icon("user")}<span>${esc(t("pd.moveOut"))}</span></button>
  </div><p class="toolbar-msg small" data-testid="pd-msg" aria-live="polite"></p>`;
}

/** The move-out form (hidden until asked), with its confirmation step. */
export function moveOutHtml(d, can) {
  if (!d.customer_id || !can(PERM_PERSONAL)) return "";
  const today = isoDateInTz(Math.floor(Date.now() / 1000));
  const f = (name, type = "text") => `<label class="field"><span>${esc(t("pd.moveOut." + name))}</span><input type="${type}" data-testid="pd-new-${name}" maxlength="200"></label>`;
  return `<section class="card pd-form" data-testid="pd-moveout-form" hidden>
    <h2>${icon("user")}<span>${esc(t("pd.moveOut.title"))}</span></h2>
    <p class="muted small">${esc(t("pd.moveOut.intro"))}</p>
    <div class="pd-step" data-testid="pd-step-edit">
      <div class="form-grid">
        <label class="field"><span>${esc(t("pd.moveOut.date"))}</span><input type="date" data-testid="pd-date" value="${today}" max="${today}"></label>
      </div>
      <label class="check"><input type="checkbox" data-testid="pd-new"><span>${esc(t("pd.moveOut.newOccupant"))}</span></label>
      <div class="form-grid" data-testid="pd-new-fields" hidden>
        ${f("name")}${f("number")}${f("address")}${f("postalCode")}${f("city")}${f("email", "email")}${f("phone", "tel")}
      </div>
      <div class="form-actions">
        <button type="button" class="btn btn-primary" data-testid="pd-next">${esc(t("pd.moveOut.next"))}</button>
        <button type="button" class="btn btn-ghost" data-testid="pd-cancel">${esc(t("meter.exchange.cancel"))}</button>
      </div>
    </div>
    <div class="pd-step notice" data-testid="pd-step-confirm" hidden>
      <p data-testid="pd-confirm-text"></p>
      <div class="form-actions">
        <button type="button" class="btn btn-danger" data-testid="pd-confirm">${esc(t("pd.moveOut.confirm"))}</button>
        <button type="button" class="btn btn-ghost" data-testid="pd-back">${esc(t("pd.moveOut.back"))}</button>
      </div>
    </div>
    <p class="toolbar-msg" data-testid="pd-moveout-msg" aria-live="polite"></p>
  </section>`;
}

/** Wire the buttons and the form of the meter `d`; `onMoved()` reloads the page. */
export function wirePersonalData(root, d, onMoved) {
  const $ = (id) => root.querySelector(`[data-testid="${id}"]`);
  const exportBtn = $("pd-export");
  if (!exportBtn) return;
  const msg = $("pd-msg");
  const say = (el, text, kind) => { el.textContent = text; el.classList.toggle("error-text", kind === "error"); el.classList.toggle("ok-text", kind === "ok"); };
  exportBtn.addEventListener("click", async () => {
    exportBtn.disabled = true;
    say(msg, t("pd.export.busy"));
    try {
      const r = await call("customer_subject_access", { customer_id: d.customer_id });
      downloadFile(r.file_name, base64Bytes(r.content_base64), r.content_type || "application/zip");
      say(msg, t("pd.export.done", { file: r.file_name, readings: fmtInt(r.summary.readings), meters: fmtInt(r.summary.meters) }), "ok");
      msg.dataset.file = r.file_name;
    } catch (e) { say(msg, t("common.error", { message: errorText(e) }), "error"); } finally { exportBtn.disabled = false; }
  });

  const form = $("pd-moveout-form");
  const out = $("pd-moveout-msg");
  const edit = $("pd-step-edit"), confirm = $("pd-step-confirm");
  const newBox = $("pd-new"), newFields = $("pd-new-fields");
  const field = (name) => $("pd-new-" + name).value.trim();
  $("pd-moveout-open").addEventListener("click", () => {
    form.hidden = !form.hidden;
    if (!form.hidden) { form.scrollIntoView({ behavior: "smooth", block: "nearest" }); $("pd-date").focus(); }
  });
  $("pd-cancel").addEventListener("click", () => { form.hidden = true; });
  newBox.addEventListener("change", () => { newFields.hidden = !newBox.checked; });
  let request = null;
  $("pd-next").addEventListener("click", () => {
    const date = $("pd-date").value;
    if (!isIsoDate(date)) { say(out, t("pd.err.date"), "error"); return; }
    request = { customer_id: d.customer_id, date };
    if (newBox.checked) {
      if (!field("name")) { say(out, t("pd.err.name"), "error"); return; }
      request.new_occupant = {
        name: field("name"), number: field("number") || null, address: field("address"), postal_code: field("postalCode"),
        city: field("city"), email: field("email") || null, phone: field("phone") || null,
      };
    }
    const c = d.customer || {};
    const day = fmtDate(Date.parse(date + "T12:00:00Z") / 1000);
    const text = t("pd.moveOut.confirmText", { name: c.name || c.number || "", number: c.number || "", date: day }) + " "
      + (request.new_occupant ? t("pd.moveOut.confirmNew", { newName: request.new_occupant.name }) : t("pd.moveOut.confirmVacant"));
    $("pd-confirm-text").textContent = text;
    say(out, "");
    edit.hidden = true;
    confirm.hidden = false;
    $("pd-confirm").focus();
  });
  $("pd-back").addEventListener("click", () => { confirm.hidden = true; edit.hidden = false; });
  $("pd-confirm").addEventListener("click", async () => {
    const btn = $("pd-confirm");
    btn.disabled = true;
    try {
      const r = await call("customer_move_out", request);
      say(out, t("pd.moveOut.done", { pseudonym: t("pd.former", { id: r.customer_id }) }), "ok");
      confirm.hidden = true;
      setTimeout(onMoved, 900);
    } catch (e) {
      say(out, t("common.error", { message: errorText(e) }), "error");
      confirm.hidden = true; edit.hidden = false;
    } finally { btn.disabled = false; }
  });
}
