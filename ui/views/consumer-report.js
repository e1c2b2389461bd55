// The consumer report form of the meter page: a period, day or month bars, PDF or HTML;
// "Save" downloads the file (`consumer_report`), "E-mail to the consumer" sends it
// (`consumer_report_email`) and says to whom, or why not. The file needs `view`, the e-mail `export`.
import { call } from "../api.js";
import { t, errorText, isoDateInTz } from "../i18n.js";
import { icon } from "../icons.js";
import { esc, addDays, firstOfMonthsAgo, isIsoDate, downloadFile, base64Bytes } from "../dom.js";

export const PERM_REPORT = "view";
export const PERM_EMAIL = "send_mail";

/** Error words for a failed e-mail: the missing SMTP settings said plainly. */
export function emailErrorText(e) {
  const m = String((e && e.message) || "");
  if (e && e.code === "not_configured") return errorText(e);
  if (e && e.code === "no_email") return t("crep.err.noEmail");
  if (e && e.code === "send") return t("crep.err.send", { message: m.replace(/^cannot send by email to [^:]*:\s*/, "") });
  return t("common.error", { message: errorText(e) });
}

export function consumerReportHtml(d, canEmail) {
  const today = isoDateInTz(Math.floor(Date.now() / 1000));
  const from = firstOfMonthsAgo(today, 12), to = addDays(firstOfMonthsAgo(today, 0), -1);
  const email = d.customer && d.customer.email ? d.customer.email : "";
  const seg = (name, values, value) => `<div class="segmented" role="group">${values.map((v) =>
    `<button type="button" data-${name}="${v}" data-testid="crep-${name}-${v}" class="${v === value ? "active" : ""}" aria-pressed="${v === value}">${esc(t(`crep.${name}.${v}`))}</button>`).join("")}</div>`;
  return `<section class="card crep-form" data-testid="crep-form" hidden>
    <h2>${icon("file")}<span>${esc(t("crep.title"))}</span></h2>
    <p class="muted small">${esc(d.customer ? t("crep.intro", { name: d.customer.name || d.customer.number || "" }) : t("crep.noCustomer"))}</p>
    <div class="crep-grid">
      <label class="field"><span>${esc(t("meter.from"))}</span><input type="date" data-testid="crep-from" value="${from}"></label>
      <label class="field"><span>${esc(t("meter.to"))}</span><input type="date" data-testid="crep-to" value="${to}"></label>
      <div class="field"><span>${esc(t("crep.resolution"))}</span>${seg("res", ["day", "month"], "month")}</div>
      <div class="field"><span>${esc(t("crep.format"))}</span>${seg("fmt", ["pdf", "html"], "pdf")}</div>
      ${canEmail ? `<label class="field crep-to"><span>${esc(t("crep.emailTo"))}</span><input type="text" data-testid="crep-email-to" value="" placeholder="${esc(email || t("crep.emailTo.none"))}"></label>` : ""}
    </div>
    <div class="form-actions">
      <button type="button" class="btn btn-primary" data-testid="crep-save">${icon("download")}<span>${esc(t("crep.save"))}</span></button>
      ${canEmail ? `<button type="button" class="btn" data-testid="crep-email">${icon("upload")}<span>${esc(t("crep.email"))}</span></button>` : ""}
      <button type="button" class="btn btn-ghost" data-testid="crep-close">${esc(t("meter.exchange.cancel"))}</button>
      <span class="toolbar-msg" data-testid="crep-msg" aria-live="polite"></span>
    </div>
  </section>`;
}

/** Wire the toggle button and the form of the meter `d`. */
export function wireConsumerReport(root, d) {
  const card = root.querySelector('[data-testid="crep-form"]');
  const btn = root.querySelector('[data-testid="crep-open"]');
  if (!card || !btn) return;
  const $ = (id) => card.querySelector(`[data-testid="crep-${id}"]`);
  const msg = $("msg");
  const st = { res: "month", fmt: "pdf" };
  const say = (text, kind) => { msg.textContent = text; msg.classList.toggle("error-text", kind === "error"); msg.classList.toggle("ok-text", kind === "ok"); };
  btn.addEventListener("click", () => {
    card.hidden = !card.hidden;
    if (!card.hidden) { card.scrollIntoView({ behavior: "smooth", block: "nearest" }); $("from").focus(); }
  });
  $("close").addEventListener("click", () => { card.hidden = true; btn.focus(); });
  card.addEventListener("click", (e) => {
    const b = e.target.closest("[data-res], [data-fmt]");
    if (!b) return;
    const key = b.dataset.res ? "res" : "fmt";
    st[key] = b.dataset[key];
    card.querySelectorAll(`[data-${key}]`).forEach((x) => { const on = x === b; x.classList.toggle("active", on); x.setAttribute("aria-pressed", String(on)); });
  });
  const args = () => {
    const from = $("from").value, to = $("to").value;
    if (!isIsoDate(from) || !isIsoDate(to)) throw new Error(t("rep.err.dates"));
    if (to < from) throw new Error(t("rep.err.order"));
    return { meter_id: d.meter.id, from, to, resolution: st.res, format: st.fmt };
  };
  const emailAllowed = !!$("email");
  const busy = (on) => { $("save").disabled = on; if (emailAllowed) $("email").disabled = on; };
  $("save").addEventListener("click", async () => {
    busy(true);
    say(t("common.loading"));
    try {
      const r = await call("consumer_report", args());
      downloadFile(r.file_name, base64Bytes(r.content_base64), r.content_type || "application/octet-stream");
      say(t("crep.saved", { file: r.file_name }), "ok");
      msg.dataset.file = r.file_name;
    } catch (e) { say(t("common.error", { message: errorText(e) }), "error"); } finally { busy(false); }
  });
  if (emailAllowed) $("email").addEventListener("click", async () => {
    busy(true);
    say(t("crep.sending"));
    try {
      const a = args();
      const to = $("email-to").value.trim();
      if (to) a.email_to = to;
      const r = await call("consumer_report_email", a);
      const sent = Array.isArray(r.sent_to) ? r.sent_to.join(", ") : r.sent_to;
      say(t("crep.sent", { to: sent }), "ok");
    } catch (e) { say(e instanceof Error && !e.code ? e.message : emailErrorText(e), "error"); } finally { busy(false); }
  });
}
