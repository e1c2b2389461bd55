// The Elia C8/06 aFRR gateway (commands c806_status, c806_gateway_get/save, c806_pfx_import,
// c806_sdp_save/delete): the connection's state in words, the key in use and its validity,
// the last heartbeat, the outgoing buffer (a bar while it is sent after a cut), the delivery
// points with what the SCADA last gave; the settings and the PFX import for `settings`.
// Refreshed every 2 seconds.
import { call } from "../api.js";
import { t, fmtInt, fmtNumber, fmtDateTime, errorText, tOr } from "../i18n.js";
import { icon } from "../icons.js";
import { esc, downloadFile } from "../dom.js";

const secs = (ms) => (ms == null ? null : Math.floor(ms / 1000));
/** Today's date in UTC (the fallback file's days are UTC days, as the platform's ticks). */
const today = () => new Date().toISOString().slice(0, 10);

export function render(root, ctx) {
  const manage = ctx.can("settings");
  let alive = true;
  let status = null;
  let peak = 0; // the largest buffer seen while it empties: the bar's 100 %
  let editing = null; // the SDP being edited (its id), or "new"
  root.innerHTML = `
    <div class="page-head"><div><h1>${icon("antenna")}<span>${esc(t("c806.title"))}</span></h1>
      <p class="muted">${esc(t("c806.intro"))}</p></div></div>
    <p class="toolbar-msg" data-testid="c806-msg" aria-live="polite"></p>
    <div class="c806-grid">
      <section class="card" data-testid="c806-state"></section>
      <section class="card" data-testid="c806-key"></section>
      <section class="card" data-testid="c806-heartbeat"></section>
      <section class="card" data-testid="c806-buffer"></section>
    </div>
    <section class="card table-card c806-sdps-card">
      <div class="card-head"><h2>${esc(t("c806.sdps"))}</h2>
        ${manage ? `<button class="btn" data-act="add-sdp" data-testid="c806-add-sdp">${icon("plus")}<span>${esc(t("c806.sdp.add"))}</span></button>` : ""}</div>
      <div class="table-scroll"><table class="table compact" data-testid="c806-sdps">
        <thead><tr><th>${esc(t("c806.sdp.ean"))}</th><th>${esc(t("c806.sdp.source"))}</th><th class="num">DPM (MW)</th>
          <th class="num">DPB (MW)</th><th>AS</th><th class="num">PS (MW)</th><th>${esc(t("c806.sdp.setpointsAt"))}</th><th>${esc(t("c806.sdp.enabled"))}</th>${manage ? "<th></th>" : ""}</tr></thead>
        <tbody data-testid="c806-sdp-rows"></tbody></table></div>
      <p class="small muted">${esc(t("c806.sdp.help"))}</p>
    </section>
    ${ctx.can("export") ? `<section class="card nt-form" data-testid="c806-fallback">
      <h2>${icon("download")}<span>${esc(t("c806.fallback"))}</span></h2>
      <p class="small muted">${esc(t("c806.fallbackHelp"))}</p>
      <div class="export-actions">
        <label class="field"><span>${esc(t("c806.fallbackFrom"))}</span><input type="date" name="fb_from" value="${today()}" data-testid="c806-fb-from"></label>
        <label class="field"><span>${esc(t("c806.fallbackTo"))}</span><input type="date" name="fb_to" value="${today()}" data-testid="c806-fb-to"></label>
        <button class="btn" type="button" data-act="fallback" data-testid="c806-fb-save">${icon("download")}<span>${esc(t("c806.fallbackSave"))}</span></button>
      </div></section>` : ""}
    ${manage ? `<form class="card nt-form" data-testid="c806-form">
      <h2>${icon("settings")}<span>${esc(t("c806.settings"))}</span></h2>
      <div class="export-actions">
        <label class="field"><span>${esc(t("c806.broker"))}</span><input type="text" name="broker_url" class="mono" required placeholder="mqtts://rtcp.example:8883" data-testid="c806-broker"></label>
        <label class="field"><span>${esc(t("c806.gid"))}</span><input type="text" name="gid" class="mono" required data-testid="c806-gid"></label>
        <label class="field"><span>${esc(t("c806.sid"))}</span><input type="text" name="sid" class="mono" required data-testid="c806-sid"></label>
      </div>
      <div class="export-actions">
        <label class="field"><span>${esc(t("c806.ca"))}</span><input type="text" name="ca_file" class="mono" placeholder="C:\\Releve\\elia-ca.pem"></label>
        <label class="field"><span>${esc(t("c806.username"))}</span><input type="text" name="username" autocomplete="off"></label>
        <label class="field check"><input type="checkbox" name="enabled" data-testid="c806-enabled"><span>${esc(t("c806.enabled"))}</span></label>
        <button class="btn btn-primary" type="submit" data-testid="c806-save">${esc(t("c806.save"))}</button>
      </div>
      <h3>${esc(t("c806.pfx"))}</h3>
      <div class="export-actions">
        <label class="field"><span>${esc(t("c806.pfxFile"))}</span><input type="file" name="pfx" accept=".pfx,.p12" data-testid="c806-pfx"></label>
        <label class="field"><span>${esc(t("c806.pfxPassword"))}</span><input type="password" name="pfx_password" autocomplete="new-password" data-testid="c806-pfx-password"></label>
        <button class="btn" type="button" data-act="pfx" data-testid="c806-pfx-import">${icon("upload")}<span>${esc(t("c806.pfxImport"))}</span></button>
      </div>
      <p class="small muted" data-testid="c806-cert"></p>
    </form>` : ""}`;
  const msg = root.querySelector('[data-testid="c806-msg"]');
  const say = (text, error) => { msg.textContent = text; msg.classList.toggle("error-text", !!error); };
  const part = (id) => root.querySelector(`[data-testid="c806-${id}"]`);

  function paint() {
    const s = status;
    const g = s.gateway;
    const cls = g.state === "connected" ? "ok-text" : g.state === "reconnecting" || g.state === "error" ? "error-text" : "muted";
    const why = g.state_code ? `<p class="error-text small" title="${esc(g.state_message || "")}">${esc(tOr("c806.reason." + g.state_code, null) || tOr("src.reason." + g.state_code, null) || g.state_code)}</p>
      <p class="small muted mono">${esc(g.state_message || "")}</p>` : "";
    part("state").innerHTML = `<h2>${esc(t("c806.connection"))}</h2>
      <p><strong class="${cls}" data-testid="c806-state-word">${esc(tOr("c806.state." + g.state, g.state))}</strong></p>${why}
      ${g.state_at ? `<p class="small muted">${esc(t("c806.since", { time: fmtDateTime(g.state_at) }))}</p>` : ""}
      ${g.config ? `<p class="small">${esc(t("c806.gid"))} <code class="mono">${esc(g.config.gid)}</code> · <code class="mono">${esc(g.config.broker_url)}</code></p>` : `<p class="notice">${esc(t("c806.unconfigured"))}</p>`}
      ${g.clock_sync_at ? `<p class="warn-text small">${esc(t("c806.clockSync", { time: fmtDateTime(g.clock_sync_at) }))}</p>` : ""}`;
    const current = s.keys.find((k) => k.current);
    const keyRows = s.keys.slice(0, 4).map((k) => `<li>${esc(t("c806.keyVersion", { v: k.version }))} — ${esc(fmtDateTime(secs(k.valid_from)))} → ${esc(fmtDateTime(secs(k.valid_to)))}${k.current ? ` <strong class="ok-text">${esc(t("c806.keyCurrent"))}</strong>` : ""}</li>`).join("");
    part("key").innerHTML = `<h2>${esc(t("c806.key"))}</h2>
      ${current ? `<p><strong data-testid="c806-key-version">${esc(t("c806.keyVersion", { v: current.version }))}</strong></p>
        <p class="small">${esc(t("c806.keyValid", { from: fmtDateTime(secs(current.valid_from)), to: fmtDateTime(secs(current.valid_to)) }))}</p>`
        : `<p class="error-text">${esc(t("c806.noKey"))}</p>`}
      ${keyRows ? `<ul class="small muted">${keyRows}</ul>` : ""}
      ${g.key_error ? `<p class="error-text small" data-testid="c806-key-error">${esc(t("c806.keyError", { time: fmtDateTime(g.key_error_at) }))}<br><span class="mono">${esc(g.key_error)}</span></p>` : ""}`;
    const hb = s.heartbeats[0];
    part("heartbeat").innerHTML = `<h2>${esc(t("c806.heartbeat"))}</h2>
      ${hb ? `<p><strong>${esc(fmtDateTime(secs(hb.received_at)))}</strong> · MID ${esc(String(hb.mid))}</p>
        <p class="small">${esc(hb.answered_at != null ? t("c806.answered", { ms: fmtInt(hb.answered_at - hb.received_at) }) : t("c806.notAnswered"))}</p>
        ${hb.ts_asked ? `<p class="small warn-text">${esc(t("c806.tsAsked"))}</p>` : ""}${hb.gwv_asked ? `<p class="small muted">${esc(t("c806.gwvAsked"))}</p>` : ""}`
        : `<p class="muted">${esc(t("c806.noHeartbeat"))}</p>`}`;
    const n = s.buffered;
    const live = s.sdps.filter((x) => x.enabled).length;
    const connected = g.state === "connected";
    peak = n > live ? Math.max(peak, n) : 0;
    const catching = peak > 0 && connected;
    const pct = catching ? Math.round(100 * (1 - n / peak)) : 100;
    part("buffer").innerHTML = `<h2>${esc(t("c806.buffer"))}</h2>
      <p><strong data-testid="c806-buffered">${esc(t("c806.buffered", { n: fmtInt(n) }))}</strong></p>
      ${s.buffered_oldest ? `<p class="small muted">${esc(t("c806.oldest", { time: fmtDateTime(secs(s.buffered_oldest)) }))}</p>` : ""}
      ${catching ? `<div class="progress" role="progressbar" aria-valuenow="${pct}" aria-valuemin="0" aria-valuemax="100"><div class="progress-fill" style="width:${pct}%"></div></div>
        <p class="small">${esc(t("c806.catchingUp", { eta: fmtInt(Math.ceil(n / 15)) }))}</p>` : ""}
      ${n > 0 && !connected ? `<p class="small warn-text" data-testid="c806-waiting">${esc(t("c806.waitConnection"))}</p>` : ""}
      ${s.last_sent_at ? `<p class="small">${esc(t("c806.lastSent", { time: fmtDateTime(secs(s.last_sent_at)) }))}</p>` : `<p class="small muted">${esc(t("c806.nothingSent"))}</p>`}`;
    const now = Date.now() / 1000;
    const rows = s.sdps.map((x) => editing === x.id ? formRow(x) : `<tr data-testid="c806-sdp" data-id="${x.id}">
      <td class="mono">${esc(x.ean)}</td>
      <td>${x.meter_id ? `<a href="#/meters/${x.meter_id}">${esc(t("c806.sdp.meter", { serial: x.meter_serial || String(x.meter_id) }))}</a>` : esc(t("c806.sdp.feed"))}</td>
      <td class="num" data-testid="c806-dpm">${x.dpm_mw == null ? `<span class="warn-text" title="${esc(t("c806.sdp.noMeasureHelp"))}">${esc(t("c806.sdp.noMeasure"))}</span>`
        : `${esc(fmtNumber(x.dpm_mw, 3))}<div class="small ${now - x.dpm_at > 60 ? "warn-text" : "muted"}">${esc(fmtDateTime(x.dpm_at))}</div>`}</td>
      <td class="num">${esc(x.dpb_mw == null ? t("c806.sdp.dpbDefault") : fmtNumber(x.dpb_mw, 3))}</td>
      <td>${esc(x.afrr_active ? "1" : "0")}</td><td class="num">${esc(fmtNumber(x.ps_mw || 0, 3))}</td>
      <td>${x.setpoints_at ? esc(fmtDateTime(x.setpoints_at)) : `<span class="muted">${esc(t("c806.sdp.never"))}</span>`}</td>
      <td>${esc(x.enabled ? t("c806.yes") : t("c806.no"))}</td>
      ${manage ? `<td><button class="btn btn-ghost small" data-act="edit" data-id="${x.id}">${esc(t("c806.sdp.edit"))}</button>
        <button class="btn btn-ghost small danger" data-act="delete" data-id="${x.id}">${icon("trash")}</button></td>` : ""}</tr>`);
    if (editing === "new") rows.push(formRow(null));
    part("sdp-rows").innerHTML = rows.join("") || `<tr class="empty-row"><td colspan="9">${esc(t("c806.sdp.empty"))}</td></tr>`;
    const cert = part("cert");
    if (cert) cert.textContent = g.cert_subject ? t("c806.certificate", { subject: g.cert_subject, time: fmtDateTime(g.cert_imported_at) }) : t("c806.noCertificate");
  }

  function formRow(x) {
    return `<tr data-testid="c806-sdp-form"><td><input type="text" name="ean" class="mono" maxlength="18" value="${esc(x ? x.ean : "")}" placeholder="541449…" data-testid="c806-sdp-ean"></td>
      <td colspan="5"><label class="small">${esc(t("c806.sdp.meterId"))} <input type="number" name="meter_id" min="1" value="${x && x.meter_id ? x.meter_id : ""}" data-testid="c806-sdp-meter"></label></td>
      <td></td><td><input type="checkbox" name="enabled" ${!x || x.enabled ? "checked" : ""}></td>
      <td><button class="btn btn-primary small" data-act="save-sdp" data-id="${x ? x.id : ""}" data-testid="c806-sdp-save">${esc(t("c806.save"))}</button>
        <button class="btn btn-ghost small" data-act="cancel">${esc(t("heard.cancel"))}</button></td></tr>`;
  }

  async function load() {
    try {
      status = await call("c806_status", {});
      if (alive) paint();
    } catch (e) {
      if (alive) say(t("common.error", { message: errorText(e) }), true);
    }
  }

  root.addEventListener("click", async (e) => {
    const b = e.target.closest("[data-act]");
    if (!b) return;
    const act = b.dataset.act;
    try {
      if (act === "add-sdp") { editing = "new"; paint(); return; }
      if (act === "edit") { editing = Number(b.dataset.id); paint(); return; }
      if (act === "cancel") { editing = null; paint(); return; }
      if (act === "save-sdp") {
        const row = b.closest("tr");
        const args = { ean: row.querySelector('[name="ean"]').value.trim(), enabled: row.querySelector('[name="enabled"]').checked };
        const meter = row.querySelector('[name="meter_id"]').value;
        if (meter) args.meter_id = Number(meter);
        if (b.dataset.id) args.id = Number(b.dataset.id);
        await call("c806_sdp_save", args);
        editing = null;
        say(t("c806.sdp.saved", { ean: args.ean }));
      }
      if (act === "delete") {
        await call("c806_sdp_delete", { id: Number(b.dataset.id) });
        say(t("c806.sdp.deleted"));
      }
      if (act === "fallback") {
        const box = part("fallback");
        const from = box.querySelector('[name="fb_from"]').value;
        const to = box.querySelector('[name="fb_to"]').value;
        const day = (iso) => Math.floor(Date.parse(iso + "T00:00:00Z") / 1000);
        const r = await call("c806_fallback", { from: day(from), to: day(to) + 86399 });
        downloadFile(`c806-fallback-${from}_${to}.csv`, r.csv, "text/csv;charset=utf-8");
        say(t("c806.fallbackDone", { n: fmtInt(Math.max(0, r.csv.split("\r\n").length - 2)) }));
        return;
      }
      if (act === "pfx") {
        const form = part("form");
        const file = form.pfx.files[0];
        if (!file) { say(t("c806.pfxChoose"), true); return; }
        const bytes = new Uint8Array(await file.arrayBuffer());
        let bin = "";
        for (const x of bytes) bin += String.fromCharCode(x);
        const g = await call("c806_pfx_import", { data: btoa(bin), password: form.pfx_password.value });
        form.pfx_password.value = "";
        say(t("c806.pfxDone", { subject: g.cert_subject || "" }));
      }
      await load();
    } catch (err) {
      say(t("common.error", { message: errorText(err) }), true);
    }
  });

  const form = part("form");
  if (form) {
    call("c806_gateway_get", {}).then((g) => {
      if (!g.config || !alive) return;
      for (const f of ["broker_url", "gid", "sid", "ca_file", "username"]) form[f].value = g.config[f] || "";
      form.enabled.checked = !!g.config.enabled;
    }).catch(() => {});
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const args = { enabled: form.enabled.checked };
      for (const f of ["broker_url", "gid", "sid", "ca_file", "username"]) if (form[f].value.trim()) args[f] = form[f].value.trim();
      try {
        await call("c806_gateway_save", args);
        say(t("c806.saved"));
        await load();
      } catch (err) {
        say(t("common.error", { message: errorText(err) }), true);
      }
    });
  }

  load();
  const timer = setInterval(load, 2000);
  return () => { alive = false; clearInterval(timer); };
}
