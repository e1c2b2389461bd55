// Data retention (Settings, the manager: permission `settings`): how long readings are kept
// in full and at all, raw telegrams and the open API's feeds (retention_settings,
// retention_settings_set); what the next run removes (retention_preview: rows per table,
// meters, bytes, oldest reading kept) and "Run now" (retention_run, a background task
// followed with import_status: a progress bar of meters done).
import { call } from "../api.js";
import { t, fmtInt, fmtNumber, fmtDate, errorText } from "../i18n.js";
import { icon } from "../icons.js";
import { esc } from "../dom.js";

const NUMBERS = [
  ["readings_full_months", 1, 120],
  ["readings_years", 1, 100],
  ["telegrams_months", 1, 1200],
  ["feed_days", 1, 3650],
];
const COUNTS = ["readings_compacted", "readings_purged", "telegrams", "info_code_events", "reading_conflicts", "reading_feed", "info_code_feed", "meters"];

/** Bytes as MB (or kB / GB) in the screen's language. */
export function fmtBytes(n) {
  if (n >= 1e9) return t("ret.gb", { n: fmtNumber(n / 1e9, 2) });
  if (n >= 1e6) return t("ret.mb", { n: fmtNumber(n / 1e6, 1) });
  return t("ret.kb", { n: fmtNumber(n / 1e3, 0) });
}

export function render(root, ctx) {
  if (!ctx.can("settings")) { ctx.navigate("#/"); return undefined; }
  let alive = true;
  let timer = null;
  root.innerHTML = `
    <div class="page-head"><div><a class="back" href="#/notifications">${icon("chevronLeft")}<span>${esc(t("nav.settings"))}</span></a>
      <h1>${icon("settings")}<span>${esc(t("ret.title"))}</span></h1>
      <p class="muted">${esc(t("ret.intro"))}</p></div></div>
    <form class="card nt-form" data-testid="ret-form">
      <h2>${esc(t("ret.periods"))}</h2>
      <div class="form-grid">
        ${NUMBERS.map(([k, min, max]) => `<label class="field"><span>${esc(t("ret.f." + k))}</span>
          <input type="number" name="${k}" min="${min}" max="${max}" step="1" required data-testid="ret-${k}"></label>`).join("")}
      </div>
      <p class="muted small">${esc(t("ret.kept"))}</p>
      <div class="export-actions">
        <button class="btn btn-primary" type="submit" data-testid="ret-save">${icon("check")}<span>${esc(t("ret.save"))}</span></button>
        <span class="toolbar-msg" data-testid="ret-msg" aria-live="polite"></span>
      </div>
    </form>
    <section class="card ret-card" data-testid="ret-preview">
      <h2>${esc(t("ret.preview"))}</h2>
      <p class="muted" data-testid="ret-cutoffs"></p>
      <table class="table ret-table"><tbody data-testid="ret-counts"><tr class="empty-row"><td colspan="2">${esc(t("common.loading"))}</td></tr></tbody></table>
      <div class="export-actions">
        <button class="btn" type="button" data-testid="ret-refresh">${icon("chart")}<span>${esc(t("ret.refresh"))}</span></button>
        <button class="btn btn-primary" type="button" data-testid="ret-run">${icon("check")}<span>${esc(t("ret.run"))}</span></button>
      </div>
      <div data-testid="ret-progress-area"></div>
      <p class="toolbar-msg" data-testid="ret-result" aria-live="polite"></p>
    </section>`;
  const form = root.querySelector('[data-testid="ret-form"]');
  const msg = root.querySelector('[data-testid="ret-msg"]');
  const counts = root.querySelector('[data-testid="ret-counts"]');
  const cutoffs = root.querySelector('[data-testid="ret-cutoffs"]');
  const progress = root.querySelector('[data-testid="ret-progress-area"]');
  const result = root.querySelector('[data-testid="ret-result"]');
  const runBtn = root.querySelector('[data-testid="ret-run"]');
  const say = (el, text, error) => { el.textContent = text; el.classList.toggle("error-text", !!error); };
  const fill = (s) => { for (const [k] of NUMBERS) form[k].value = s[k]; };

  const showPreview = (p) => {
    const c = p.counts;
    counts.dataset.fullMonths = String(p.settings.readings_full_months);
    const kv = (key, value, testid) => `<tr><th scope="row">${esc(t("ret.c." + key))}</th><td class="num" data-testid="${testid}">${esc(value)}</td></tr>`;
    counts.innerHTML = COUNTS.map((k) => kv(k, fmtInt(c[k]), "ret-c-" + k)).join("")
      + kv("bytes", fmtBytes(c.bytes_estimate), "ret-c-bytes")
      + kv("oldest", p.oldest_kept == null ? "—" : fmtDate(p.oldest_kept), "ret-c-oldest")
      + kv("file", fmtBytes(p.file_bytes), "ret-c-file");
    cutoffs.textContent = t("ret.cutoffs", { full: fmtDate(p.cutoffs.full_from), purge: fmtDate(p.cutoffs.purge_before), telegrams: fmtDate(p.cutoffs.telegrams_before) })
      + (p.incremental_vacuum ? "" : " " + t("ret.fullVacuum"));
  };
  const preview = async () => {
    try {
      const p = await call("retention_preview", {});
      if (alive) showPreview(p);
    } catch (e) {
      if (alive) counts.innerHTML = `<tr><td colspan="2" class="error-text">${esc(t("common.error", { message: errorText(e) }))}</td></tr>`;
    }
  };
  const bar = (done, total, finished) => {
    const ratio = total > 0 ? Math.min(1, done / total) : 0;
    progress.innerHTML = `<div class="progress-block">
      <div class="progress-title">${esc(t(finished ? "ret.done" : "ret.running"))}</div>
      <div class="progress" role="progressbar" data-testid="ret-progress" aria-valuemin="0" aria-valuemax="100" aria-valuenow="${Math.round(ratio * 100)}">
        <div class="progress-fill ${finished ? "done" : ""}" style="width:${(ratio * 100).toFixed(1)}%"></div></div>
      <div class="progress-text muted">${esc(t("ret.progress", { done: fmtInt(done), total: fmtInt(total) }))}</div></div>`;
  };
  const follow = (task) => {
    timer = setTimeout(async () => {
      if (!alive) return;
      try {
        const st = await call("import_status", { task });
        if (!alive) return;
        if (st.state === "running") { bar(st.processed_lines, st.total_lines, false); follow(task); return; }
        runBtn.disabled = false;
        if (st.state === "failed") { progress.innerHTML = ""; say(result, t("common.error", { message: errorText(st.error) }), true); return; }
        const r = st.report;
        bar(st.total_lines, st.total_lines, true);
        const rows = COUNTS.filter((k) => k !== "meters").reduce((s, k) => s + r.counts[k], 0);
        say(result, t("ret.result", { rows: fmtInt(rows), meters: fmtInt(r.counts.meters), before: fmtBytes(r.file_bytes_before), after: fmtBytes(r.file_bytes_after) }));
        result.dataset.rows = String(rows);
        preview();
      } catch (e) {
        runBtn.disabled = false;
        if (alive) say(result, t("common.error", { message: errorText(e) }), true);
      }
    }, 400);
  };

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      const args = {};
      for (const [k] of NUMBERS) args[k] = Number(form[k].value);
      const s = await call("retention_settings_set", args);
      if (!alive) return;
      fill(s);
      say(msg, t("ret.saved"));
      preview();
    } catch (err) {
      if (alive) say(msg, t("common.error", { message: errorText(err) }), true);
    }
  });
  root.querySelector('[data-testid="ret-refresh"]').addEventListener("click", preview);
  runBtn.addEventListener("click", async () => {
    runBtn.disabled = true;
    say(result, "");
    delete result.dataset.rows;
    bar(0, 1, false);
    try {
      const { task } = await call("retention_run", {});
      if (alive) follow(task);
    } catch (e) {
      runBtn.disabled = false;
      progress.innerHTML = "";
      if (alive) say(result, t("common.error", { message: errorText(e) }), true);
    }
  });
  call("retention_settings", {}).then((s) => { if (alive) fill(s); })
    .catch((e) => { if (alive) say(msg, t("common.error", { message: errorText(e) }), true); });
  preview();
  return () => { alive = false; if (timer) clearTimeout(timer); };
}
