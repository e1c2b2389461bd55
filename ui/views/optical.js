// Optical readout ("Relevé optique"): read an electricity meter through an optical head
// (IEC 62056-21) on a serial port or a serial server (command optical_read, permission
// `import`), then show what was read: the meter, the registers filled (A+, A-, tariffs,
// P+, P-) and every data set, unknown codes included (kept in the raw readout).
import { call } from "../api.js";
import { t, tOr, fmtNumber, errorText } from "../i18n.js";
import { icon } from "../icons.js";
import { esc } from "../dom.js";

const LAST_KEY = "releve.optical.last";

export function render(root, ctx) {
  const allowed = ctx.can("import");
  let alive = true;
  let timer = null;
  let last = {};
  try { last = JSON.parse(localStorage.getItem(LAST_KEY) || "{}"); } catch { last = {}; }
  const kind = last.tcp ? "tcp" : "serial";
  root.innerHTML = `
    <div class="page-head"><div><h1>${icon("electricity")}<span>${esc(t("opt.title"))}</span></h1>
      <p class="muted">${esc(t("opt.intro"))}</p></div></div>
    <form class="card opt-form" data-testid="opt-form">
      <div class="form-grid">
        <label class="field"><span>${esc(t("opt.link"))}</span>
          <select name="kind" data-testid="opt-kind">
            <option value="serial" ${kind === "serial" ? "selected" : ""}>${esc(t("opt.link.serial"))}</option>
            <option value="tcp" ${kind === "tcp" ? "selected" : ""}>${esc(t("opt.link.tcp"))}</option>
          </select></label>
        <label class="field"><span data-testid="opt-target-label">${esc(t(kind === "tcp" ? "opt.tcp" : "opt.serial"))}</span>
          <input type="text" name="target" required maxlength="256" data-testid="opt-target" value="${esc(last.tcp || last.serial || "")}"
            placeholder="${esc(kind === "tcp" ? "192.168.1.20:4001" : "/dev/ttyUSB0")}"></label>
        <label class="field"><span>${esc(t("opt.meter"))}</span>
          <input type="text" name="meter" maxlength="64" data-testid="opt-meter" placeholder="${esc(t("opt.meter.any"))}"></label>
        <label class="field"><span>${esc(t("opt.address"))}</span>
          <input type="text" name="address" maxlength="32" pattern="[A-Za-z0-9]*" data-testid="opt-address"></label>
      </div>
      <label class="check"><input type="checkbox" name="wake" data-testid="opt-wake"> <span>${esc(t("opt.wake"))}</span></label>
      <div class="export-actions">
        <button class="btn btn-primary" type="submit" data-testid="opt-read" ${allowed ? "" : "disabled"}>${icon("electricity")}<span>${esc(t("opt.read"))}</span></button>
        <span class="toolbar-msg" data-testid="opt-msg" aria-live="polite">${allowed ? "" : esc(t("perm.denied", { perm: "import" }))}</span>
      </div>
      <div class="progress-block" data-testid="opt-progress" hidden>
        <div class="progress-title">${esc(t("opt.reading"))}</div>
        <div class="progress"><div class="progress-fill" style="width:0%"></div></div>
      </div>
    </form>
    <div data-testid="opt-result"></div>`;
  const form = root.querySelector("form");
  const msg = root.querySelector('[data-testid="opt-msg"]');
  const result = root.querySelector('[data-testid="opt-result"]');
  const progress = root.querySelector('[data-testid="opt-progress"]');
  const fill = progress.querySelector(".progress-fill");
  const say = (text, error) => { msg.textContent = text; msg.classList.toggle("error-text", !!error); };

  form.kind.addEventListener("change", () => {
    const tcp = form.kind.value === "tcp";
    root.querySelector('[data-testid="opt-target-label"]').textContent = t(tcp ? "opt.tcp" : "opt.serial");
    form.target.placeholder = tcp ? "192.168.1.20:4001" : "/dev/ttyUSB0";
  });

  // A readout takes a few seconds (the sign-on at 300 baud); a wake-up adds about 4 s.
  function startProgress(expectedMs) {
    const started = Date.now();
    progress.hidden = false;
    fill.classList.remove("done");
    clearInterval(timer);
    timer = setInterval(() => {
      const share = 1 - Math.exp(-(Date.now() - started) / expectedMs);
      fill.style.width = `${Math.min(95, Math.round(share * 100))}%`;
    }, 100);
  }
  function stopProgress() {
    clearInterval(timer);
    fill.style.width = "0%";
    progress.hidden = true;
  }

  function value(v) {
    return v.map((x) => `(${esc(x.value)}${x.unit ? `<span class="muted">*${esc(x.unit)}</span>` : ""})`).join("");
  }

  function paint(r) {
    const role = (d) => (d.role
      ? `<span class="badge badge-active">${esc(tOr("opt.role." + d.role, tOr("reg." + d.role, d.role)))}</span>`
      : `<span class="badge badge-unassigned" data-testid="opt-unknown">${esc(t("opt.unknown"))}</span>`);
    result.innerHTML = `
      <div class="card" data-testid="opt-summary">
        <h2>${icon("check")}<span>${esc(t("opt.done", { manufacturer: r.manufacturer, serial: r.serial || "?" }))}</span></h2>
        <p>${esc(t("opt.summary", { ident: r.ident, mode: r.mode, baud: r.baud, bytes: r.bytes, seconds: fmtNumber(r.took_ms / 1000, 1) }))}
          ${r.switched ? esc(t("opt.switched")) : ""} ${r.attempts > 1 ? esc(t("opt.attempts", { n: r.attempts })) : ""}</p>
        ${r.meter_time ? `<p class="muted">${esc(t("opt.clock", { time: r.meter_time }))}</p>` : ""}
        <p class="muted" data-testid="opt-stored">${esc(t("opt.stored", { readings: r.import.readings, duplicates: r.import.duplicates }))}</p>
      </div>
      <div class="card table-card"><h2 class="table-title">${esc(t("opt.registers"))}</h2><table class="table compact" data-testid="opt-registers">
        <thead><tr><th>${esc(t("opt.col.register"))}</th><th class="num">${esc(t("opt.col.value"))}</th><th>${esc(t("opt.col.unit"))}</th></tr></thead>
        <tbody>${r.registers.map((g) => `<tr data-register="${esc(g.register)}"><td>${esc(tOr("reg." + g.register, g.register))}</td>
          <td class="num">${esc(fmtNumber(g.unit === "W" ? g.value / 1000 : g.value, 3))}</td><td>${esc(g.unit === "W" ? "kW" : g.unit)}</td></tr>`).join("")
          || `<tr class="empty-row"><td colspan="3">${esc(t("opt.noRegisters"))}</td></tr>`}</tbody></table></div>
      <div class="card table-card"><h2 class="table-title">${esc(t("opt.sets", { n: r.data_sets.length, unknown: r.unknown }))}</h2>
        <div class="table-scroll"><table class="table compact" data-testid="opt-sets">
        <thead><tr><th class="num">${esc(t("opt.col.line"))}</th><th>${esc(t("opt.col.code"))}</th><th>${esc(t("opt.col.read"))}</th><th>${esc(t("opt.col.role"))}</th></tr></thead>
        <tbody>${r.data_sets.map((d) => `<tr data-testid="opt-set" class="${d.role ? "" : "row-muted"}"><td class="num">${d.line}</td>
          <td class="mono">${esc(d.address)}${d.obis && d.obis !== d.address ? ` <span class="muted small">${esc(d.obis)}</span>` : ""}</td>
          <td class="mono">${value(d.values)}</td><td>${role(d)}</td></tr>`).join("")}</tbody></table></div></div>`;
  }

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!allowed) return;
    const target = form.target.value.trim();
    const args = { wake: form.wake.checked, address: form.address.value.trim() };
    if (form.kind.value === "tcp") args.tcp = target; else args.serial = target;
    if (form.meter.value.trim()) args.meter = form.meter.value.trim();
    localStorage.setItem(LAST_KEY, JSON.stringify(form.kind.value === "tcp" ? { tcp: target } : { serial: target }));
    const button = form.querySelector('[data-testid="opt-read"]');
    button.disabled = true;
    say("");
    result.innerHTML = "";
    startProgress(args.wake ? 6000 : 2500);
    try {
      const r = await call("optical_read", args);
      if (!alive) return;
      stopProgress();
      paint(r);
    } catch (err) {
      if (!alive) return;
      stopProgress();
      say(t("common.error", { message: errorText(err) }), true);
    } finally {
      if (alive) button.disabled = false;
    }
  });
  return () => { alive = false; clearInterval(timer); };
}
