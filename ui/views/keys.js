// Settings / AES keys: meters per key status (each a link to the filtered meter list), the
// import of a key file (CSV, or Kamstrup KEM / KEM2 with its password) and, for the manager,
// the export. Commands keys_status, keys_import, keys_export. Keys are never shown.
import { call } from "../api.js";
import { t, tOr, fmtInt, errorText } from "../i18n.js";
import { icon } from "../icons.js";
import { esc, downloadFile } from "../dom.js";
import { KEY_STATUSES } from "./meters.js";

function base64Of(buffer) {
  const bytes = new Uint8Array(buffer);
  let bin = "";
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}

/** A refused line in the clerk's language: where (file and line, or rank in a KEM) and why. */
function rejectedText(file, format, x) {
  const where = t(format === "csv" ? "keys.rej.line" : "keys.rej.meter", { file, line: fmtInt(x.line) });
  const serial = (x.reason.match(/meter (\w+)/) || [])[1];
  const why = tOr("keys.rej." + x.code, x.reason.replace(/^.*?: /, ""));
  return serial ? `${where} ${t("keys.rej.serial", { serial })} ${why}` : `${where} ${why}`;
}

export function render(root, ctx) {
  let alive = true;
  const canImport = ctx.can("manage_keys");
  const canExport = ctx.can("export_keys");
  root.innerHTML = `
    <div class="page-head"><div><h1>${icon("settings")}<span>${esc(t("keys.title"))}</span></h1>
      <p class="muted">${esc(t("keys.intro"))}</p></div></div>
    <section class="card"><h2><span>${esc(t("keys.counts"))}</span></h2>
      <p class="muted" data-testid="keys-stored"></p>
      <div class="table-scroll"><table class="table compact" data-testid="keys-counts"><tbody>
        <tr><td colspan="3">${esc(t("common.loading"))}</td></tr></tbody></table></div>
    </section>
    <section class="card"><h2><span>${esc(t("keys.import"))}</span></h2>
      <form data-testid="keys-import-form" novalidate>
        <div class="form-grid">
          <label>${esc(t("keys.import.file"))}<input type="file" data-testid="keys-file" accept=".csv,.txt,.kem,.kem2,.zip,.xml" ${canImport ? "" : "disabled"}></label>
          <label>${esc(t("keys.import.password"))}<input type="password" data-testid="keys-password" autocomplete="off" maxlength="64" ${canImport ? "" : "disabled"}></label>
        </div>
        <p class="muted small">${esc(t("keys.import.passwordHint"))}</p>
        <div class="export-actions">
          <button class="btn btn-primary" type="submit" data-testid="keys-import" ${canImport ? "" : `disabled title="${esc(t("perm.denied", { perm: "manage_keys" }))}"`}>${esc(t("keys.import.button"))}</button>
          <span class="toolbar-msg" data-testid="keys-import-msg" aria-live="polite"></span>
        </div>
        <ul class="error-list" data-testid="keys-rejected"></ul>
      </form>
    </section>
    ${canExport ? `<section class="card"><h2><span>${esc(t("keys.export"))}</span></h2>
      <p class="muted small">${esc(t("keys.export.hint"))}</p>
      <div class="export-actions"><button class="btn" type="button" data-testid="keys-export">${icon("file")}<span>${esc(t("keys.export.button"))}</span></button>
        <span class="toolbar-msg" data-testid="keys-export-msg" aria-live="polite"></span></div>
    </section>` : ""}`;

  const countsBody = root.querySelector('[data-testid="keys-counts"] tbody');
  async function loadCounts() {
    try {
      const s = await call("keys_status", {});
      if (!alive) return;
      root.querySelector('[data-testid="keys-stored"]').textContent = t("keys.stored", { n: fmtInt(s.keys) });
      const by = Object.fromEntries(s.counts.map((c) => [c.status, c.meters]));
      countsBody.innerHTML = KEY_STATUSES.map((k) => `<tr data-testid="keys-count" data-status="${k}">
        <td>${esc(t("keys.status." + k))}</td><td class="num"><b>${esc(fmtInt(by[k] || 0))}</b></td>
        <td>${by[k] ? `<a href="#/meters?key_status=${k}" data-testid="keys-list-${k}">${esc(t("keys.list"))}</a>` : ""}</td></tr>`).join("");
    } catch (e) {
      if (alive) countsBody.innerHTML = `<tr><td class="error-text">${esc(errorText(e))}</td></tr>`;
    }
  }
  loadCounts();

  const form = root.querySelector('[data-testid="keys-import-form"]');
  const msg = root.querySelector('[data-testid="keys-import-msg"]');
  const rejected = root.querySelector('[data-testid="keys-rejected"]');
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const file = root.querySelector('[data-testid="keys-file"]').files[0];
    rejected.innerHTML = "";
    if (!file) { msg.className = "toolbar-msg error-text"; msg.textContent = t("keys.import.noFile"); return; }
    msg.className = "toolbar-msg"; msg.textContent = t("keys.import.running");
    const password = root.querySelector('[data-testid="keys-password"]').value;
    try {
      const args = { name: file.name, content_base64: base64Of(await file.arrayBuffer()) };
      if (password) args.password = password;
      const r = await call("keys_import", args);
      if (!alive) return;
      msg.className = "toolbar-msg";
      msg.textContent = t("keys.import.done", {
        file: file.name, imported: fmtInt(r.imported), replaced: fmtInt(r.replaced), rejected: fmtInt(r.rejected.length),
        meters: fmtInt(r.meters), telegrams: fmtInt(r.redecoded), readings: fmtInt(r.readings), failing: fmtInt(r.still_failing), adopted: fmtInt(r.adopted),
      });
      rejected.innerHTML = r.rejected.map((x) => `<li data-testid="keys-rejected-line">${esc(rejectedText(file.name, r.format, x))}</li>`).join("");
      root.querySelector('[data-testid="keys-password"]').value = "";
      loadCounts();
    } catch (e) {
      msg.className = "toolbar-msg error-text"; msg.textContent = errorText(e);
    }
  });

  const exp = root.querySelector('[data-testid="keys-export"]');
  if (exp) exp.addEventListener("click", async () => {
    const emsg = root.querySelector('[data-testid="keys-export-msg"]');
    try {
      const r = await call("keys_export", {});
      downloadFile(r.name, r.content, "text/csv");
      emsg.className = "toolbar-msg"; emsg.textContent = t("keys.export.done", { n: fmtInt(r.content.trim().split("\n").length - 1) });
    } catch (e) {
      emsg.className = "toolbar-msg error-text"; emsg.textContent = errorText(e);
    }
  });
  return () => { alive = false; };
}
