// The meter page's AES key: its key status, and (manage_keys) entering or replacing the key
// (command `meter_key_set`; the key is never shown back, only what it decoded).
import { call } from "../api.js";
import { t, fmtInt, errorText } from "../i18n.js";
import { esc } from "../dom.js";

const BADGE = { ok: "badge-active", no_key: "badge-warn", wrong_key: "badge-warn", unknown_layout: "badge-warn", undecodable: "badge-warn", never_seen: "" };

/** The key status in the meter's header line. */
export function meterKeyHtml(d) {
  const st = d.meter.key_status || "never_seen";
  return `<span>${esc(t("meter.key"))} <b>${esc(d.has_key ? t("meter.key.yes") : t("meter.key.no"))}</b>
    <span class="badge ${BADGE[st] || ""}" data-testid="meter-key-status" data-status="${esc(st)}">${esc(t("keys.status." + st))}</span>
    ${d.has_key !== undefined ? `<button type="button" class="btn btn-ghost btn-small" data-testid="meter-key-open" hidden>${esc(t(d.has_key ? "meter.key.replace" : "meter.key.enter"))}</button>` : ""}</span>`;
}

/** The key entry form (hidden until asked for). */
export function meterKeyFormHtml(d) {
  return `<section class="card" data-testid="meter-key-form" hidden>
    <h2><span>${esc(t(d.has_key ? "meter.key.replaceTitle" : "meter.key.enterTitle", { serial: d.meter.serial }))}</span></h2>
    <form novalidate>
      <div class="form-grid">
        <label>${esc(t("meter.key.input"))}<input name="key" data-testid="meter-key-input" class="mono" maxlength="40" autocomplete="off" spellcheck="false" placeholder="00112233445566778899AABBCCDDEEFF" required></label>
      </div>
      <p class="muted small">${esc(t("meter.key.hint"))}</p>
      <div class="export-actions">
        <button class="btn btn-primary" type="submit" data-testid="meter-key-save">${esc(t("meter.key.save"))}</button>
        <button class="btn" type="button" data-testid="meter-key-cancel">${esc(t("keys.cancel"))}</button>
        <span class="toolbar-msg" data-testid="meter-key-msg" aria-live="polite"></span>
      </div>
    </form>
  </section>`;
}

export function wireMeterKey(root, d, reload) {
  const open = root.querySelector('[data-testid="meter-key-open"]');
  const form = root.querySelector('[data-testid="meter-key-form"]');
  if (!open || !form) return;
  open.hidden = false;
  const input = form.querySelector('[data-testid="meter-key-input"]');
  const msg = form.querySelector('[data-testid="meter-key-msg"]');
  open.addEventListener("click", () => { form.hidden = false; input.focus(); });
  form.querySelector('[data-testid="meter-key-cancel"]').addEventListener("click", () => { form.hidden = true; input.value = ""; });
  form.querySelector("form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const key = input.value.replace(/\s+/g, "");
    if (!/^[0-9a-fA-F]{32}$/.test(key)) { msg.className = "toolbar-msg error-text"; msg.textContent = t("meter.key.bad"); return; }
    msg.className = "toolbar-msg"; msg.textContent = t("keys.saving");
    try {
      const r = await call("meter_key_set", { meter_id: d.meter.id, key });
      input.value = "";
      await reload();
      const head = root.querySelector(".meter-head");
      if (head) head.insertAdjacentHTML("afterend", `<p class="notice" data-testid="meter-key-done">${esc(t("meter.key.done", { telegrams: fmtInt(r.redecoded), readings: fmtInt(r.readings), failing: fmtInt(r.still_failing) }))}</p>`);
    } catch (e) {
      msg.className = "toolbar-msg error-text"; msg.textContent = errorText(e);
    }
  });
}
