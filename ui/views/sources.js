// Sources: concentrators and gateways that deliver readings by themselves (commands
// sources_list, source_add, source_remove). Each HTTP source has its push address and a token
// shown once; an MQTT source its broker, topic filter and connection state (with the reason
// while it reconnects); the table says what each one delivered and its last refusal in words. Adding
// and removing need `settings`: the form and buttons are hidden without it, and the server
// is what refuses.
import { call } from "../api.js";
import { t, fmtInt, fmtNumber, fmtDateTime, errorText, tOr } from "../i18n.js";
import { icon } from "../icons.js";
import { esc } from "../dom.js";

export function render(root, ctx) {
  const manage = ctx.can("settings");
  let alive = true;
  let sources = [];
  let removing = null;
  let logFor = null; // the source whose log of what it could not take is open
  let logEntries = [];
  root.innerHTML = `
    <div class="page-head"><div><h1>${icon("upload")}<span>${esc(t("src.title"))}</span></h1>
      <p class="muted">${esc(t("src.intro"))}</p></div></div>
    ${manage ? `<form class="card nt-form" data-testid="src-form">
      <h2>${icon("plus")}<span>${esc(t("src.add"))}</span></h2>
      <div class="export-actions">
        <label class="field"><span>${esc(t("src.kind"))}</span><select name="kind" data-testid="src-kind">
          <option value="http">${esc(t("src.kind.http"))}</option><option value="folder">${esc(t("src.kind.folder"))}</option>
          <option value="mqtt">${esc(t("src.kind.mqtt"))}</option></select></label>
        <label class="field"><span>${esc(t("src.name"))}</span><input type="text" name="name" required maxlength="64" pattern="[A-Za-z0-9._\\-]+" data-testid="src-name" placeholder="concentrateur-nord"></label>
        <label class="field"><span>${esc(t("src.format"))}</span><select name="format" data-testid="src-format">
          ${["lines", "jsonl", "elvaco", "chirpstack", "tts"].map((f) => `<option value="${f}">${esc(t("src.format." + f))}</option>`).join("")}</select></label>
        <label class="field" data-testid="src-folder-field" hidden><span>${esc(t("src.folder"))}</span>
          <input type="text" name="folder" class="mono" data-testid="src-folder" placeholder="D:\\Releve\\concentrateurs"></label>
      </div>
      <div class="export-actions" data-testid="src-mqtt-fields" hidden>
        <label class="field"><span>${esc(t("src.url"))}</span><input type="text" name="url" class="mono" data-testid="src-url" placeholder="mqtts://broker.example.fr:8883"></label>
        <label class="field"><span>${esc(t("src.topic"))}</span><input type="text" name="topic" class="mono" data-testid="src-topic" placeholder="application/+/device/+/event/up"></label>
        <label class="field"><span>${esc(t("src.username"))}</span><input type="text" name="username" autocomplete="off" data-testid="src-username"></label>
        <label class="field"><span>${esc(t("src.password"))}</span><input type="password" name="password" autocomplete="new-password" data-testid="src-password"></label>
      </div>
      <div class="export-actions" data-testid="src-tls-fields" hidden>
        ${["ca_file", "cert_file", "key_file"].map((f) => `<label class="field"><span>${esc(t("src." + f))}</span>
          <input type="text" name="${f}" class="mono" data-testid="src-${f}" placeholder="${f === "ca_file" ? "/etc/releve/ca.pem" : f === "cert_file" ? "/etc/releve/client.pem" : "/etc/releve/client.key"}"></label>`).join("")}
      </div>
      <div class="export-actions">
        <button class="btn btn-primary" type="submit" data-testid="src-submit">${icon("plus")}<span>${esc(t("src.create"))}</span></button>
      </div>
      <div data-testid="src-token" hidden></div>
    </form>` : `<p class="notice" data-testid="src-denied">${esc(t("src.denied"))}</p>`}
    <p class="toolbar-msg" data-testid="src-msg" aria-live="polite"></p>
    <div class="card table-card"><div class="table-scroll"><table class="table compact src-table" data-testid="src-table">
      <thead><tr><th>${esc(t("src.col.name"))}</th><th>${esc(t("src.col.format"))}</th><th>${esc(t("src.col.address"))}</th>
        <th>${esc(t("src.col.last"))}</th><th class="num">${esc(t("src.col.rate"))}</th><th class="num">${esc(t("src.col.total"))}</th>
        <th>${esc(t("src.col.state"))}</th><th>${esc(t("src.col.error"))}</th>${manage ? "<th></th>" : ""}</tr></thead>
      <tbody data-testid="src-rows"><tr class="empty-row"><td colspan="9">${esc(t("common.loading"))}</td></tr></tbody>
    </table></div></div>`;
  const tbody = root.querySelector('[data-testid="src-rows"]');
  const msg = root.querySelector('[data-testid="src-msg"]');
  const say = (text, error) => { msg.textContent = text; msg.classList.toggle("error-text", !!error); };
  const address = (s) => `${location.origin}/ingest/${s.name}`;

  function errorWords(s) {
    if (!s.last_error_code) return `<span class="muted">—</span>`;
    const words = (s.kind === "mqtt" && tOr("src.errorMqtt." + s.last_error_code, null))
      || tOr("src.error." + s.last_error_code, null) || errorText({ code: s.last_error_code, message: s.last_error_message });
    return `<span class="error-text" title="${esc(s.last_error_message || "")}">${esc(words)}</span> <div class="small muted">${esc(fmtDateTime(s.last_error_at))}</div>`;
  }

  // An MQTT source's connection: its state since when, and while it reconnects, why.
  function stateWords(s) {
    const logButton = `<button class="btn btn-ghost small" data-act="log" data-testid="src-log-btn" aria-expanded="${logFor === s.name}">${esc(t("src.log"))}</button>`;
    if (s.kind !== "mqtt") return `<span class="muted">—</span><div>${logButton}</div>`;
    if (!s.state) return `<span class="muted">${esc(t("src.state.none"))}</span>`;
    const cls = s.state === "running" ? "ok-text" : s.state === "reconnecting" ? "error-text" : "muted";
    const why = s.state_code ? `<div class="small error-text" title="${esc(s.state_message || "")}">${esc(tOr("src.reason." + s.state_code, null) || s.state_message || s.state_code)}</div>` : "";
    return `<strong class="${cls}">${esc(t("src.state." + s.state))}</strong>${why}<div class="small muted">${esc(t("src.state.since", { time: fmtDateTime(s.state_at) }))}</div>`
      + logButton;
  }

  // What a source could not take, newest first: an MQTT source's messages set aside
  // (acknowledged without storing them), an HTTP or folder source's refused deliveries.
  function logRow(s) {
    if (logFor !== s.name) return "";
    const items = logEntries.map((e) => `<li><span class="muted">${esc(fmtDateTime(e.at))}</span>
      <span class="error-text">${esc(tOr((s.kind === "mqtt" ? "src.errorMqtt." : "src.error.") + e.code, null) || e.code)}</span> — ${esc(e.message)}
      <div class="small mono">${esc(e.detail)}</div></li>`).join("");
    return `<tr data-testid="src-log"><td colspan="9"><p class="small"><strong>${esc(t("src.logTitle"))}</strong></p>
      ${items ? `<ul class="small">${items}</ul>` : `<p class="muted small">${esc(t("src.logEmpty"))}</p>`}</td></tr>`;
  }

  function where(s) {
    if (s.kind === "folder") return `<code class="mono">${esc(s.folder || "")}</code>`;
    if (s.kind === "mqtt") return `<code class="mono" title="${esc(s.url || "")}">${esc(s.url || "")}</code><div class="small muted">${esc(t("src.topicShort"))} <code class="mono">${esc(s.topic || "")}</code></div>`;
    return `<code class="mono" title="${esc(address(s))}">/ingest/${esc(s.name)}</code>`;
  }

  function paint() {
    if (!sources.length) {
      tbody.innerHTML = `<tr class="empty-row"><td colspan="9">${esc(t("src.empty"))}</td></tr>`;
      return;
    }
    tbody.innerHTML = sources.map((s) => `<tr data-testid="src-row" data-name="${esc(s.name)}">
      <td><strong>${esc(s.name)}</strong></td><td>${esc(t("src.formatShort." + s.format))}</td>
      <td>${where(s)}</td>
      <td>${s.last_push_at ? esc(fmtDateTime(s.last_push_at)) : `<span class="muted">${esc(t("src.never"))}</span>`}</td>
      <td class="num">${esc(fmtNumber(s.per_minute, 1))}</td><td class="num">${esc(fmtInt(s.telegrams_total))}</td>
      <td data-testid="src-state">${stateWords(s)}</td>
      <td data-testid="src-error">${errorWords(s)}</td>
      ${manage ? `<td>${removing === s.name
        ? `<div class="row-actions"><span class="warn-text">${esc(t("src.confirmRemove"))}</span>
           <button class="btn btn-danger" data-act="confirm" data-testid="src-confirm-remove">${esc(t("src.remove"))}</button>
           <button class="btn btn-ghost" data-act="cancel">${esc(t("heard.cancel"))}</button></div>`
        : `<button class="btn btn-ghost danger" data-act="remove" data-testid="src-remove">${icon("trash")}<span>${esc(t("src.remove"))}</span></button>`}</td>` : ""}
    </tr>${logRow(s)}`).join("");
  }

  async function load() {
    try {
      sources = await call("sources_list", {});
      if (logFor) logEntries = await call("source_log", { name: logFor, limit: 20 }).catch(() => []);
      if (alive) paint();
    } catch (e) {
      if (alive) say(t("common.error", { message: errorText(e) }), true);
    }
  }

  const form = root.querySelector('[data-testid="src-form"]');
  if (form) {
    const folderField = form.querySelector('[data-testid="src-folder-field"]');
    const mqttFields = form.querySelector('[data-testid="src-mqtt-fields"]');
    const tlsFields = form.querySelector('[data-testid="src-tls-fields"]');
    const shown = () => {
      folderField.hidden = form.kind.value !== "folder";
      mqttFields.hidden = form.kind.value !== "mqtt";
      tlsFields.hidden = form.kind.value !== "mqtt" || !/^mqtts:/i.test(form.url.value.trim());
    };
    form.kind.addEventListener("change", shown);
    form.url.addEventListener("input", shown);
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      try {
        const kind = form.kind.value;
        const args = { name: form.name.value.trim(), kind, format: form.format.value };
        if (kind === "folder") args.folder = form.folder.value.trim();
        if (kind === "mqtt") {
          for (const f of ["url", "topic", "username", "password", "ca_file", "cert_file", "key_file"]) {
            const v = f === "password" ? form[f].value : form[f].value.trim();
            if (v) args[f] = v;
          }
          if (!/^mqtts:/i.test(args.url || "")) { delete args.ca_file; delete args.cert_file; delete args.key_file; }
        }
        const added = await call("source_add", args);
        if (!alive) return;
        const box = form.querySelector('[data-testid="src-token"]');
        box.hidden = false;
        box.innerHTML = added.token
          ? `<p class="ok-text">${esc(t("src.made", { name: added.source.name }))}</p>
          <p>${esc(t("src.tokenOnce"))}</p>
          <pre class="mono token-box" data-testid="src-token-text">POST ${esc(address(added.source))}
Authorization: Bearer ${esc(added.token)}</pre>`
          : added.source.kind === "mqtt"
            ? `<p class="ok-text">${esc(t("src.madeMqtt", { name: added.source.name, topic: added.source.topic, url: added.source.url }))}</p>`
            : `<p class="ok-text">${esc(t("src.madeFolder", { name: added.source.name, folder: added.source.folder }))}</p>`;
        form.name.value = "";
        form.password.value = "";
        say("");
        await load();
      } catch (err) {
        if (alive) say(t("common.error", { message: errorText(err) }), true);
      }
    });
  }
  tbody.addEventListener("click", async (e) => {
    const b = e.target.closest("button[data-act]");
    const row = e.target.closest("tr[data-name]");
    if (!b || !row) return;
    const name = row.dataset.name;
    if (b.dataset.act === "remove") { removing = name; paint(); return; }
    if (b.dataset.act === "cancel") { removing = null; paint(); return; }
    if (b.dataset.act === "log") {
      if (logFor === name) { logFor = null; paint(); return; }
      try {
        logEntries = await call("source_log", { name, limit: 20 });
        logFor = name;
        if (alive) paint();
      } catch (err) {
        if (alive) say(t("common.error", { message: errorText(err) }), true);
      }
      return;
    }
    try {
      await call("source_remove", { name });
      removing = null;
      if (alive) say(t("src.removed", { name }));
      await load();
    } catch (err) {
      if (alive) say(t("common.error", { message: errorText(err) }), true);
    }
  });
  load();
  const timer = setInterval(load, 10_000);
  return () => { alive = false; clearInterval(timer); };
}
