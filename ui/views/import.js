import { call, importFile } from "../api.js";
import { t, getLocale, fmtInt, fmtPercent, errorText, rejectLabel } from "../i18n.js";
import { icon } from "../icons.js";
import { esc } from "../dom.js";
import { renderPark, pt } from "./park-import.js";
import { reportNotesHtml, conflictsHtml, rejectReasonHtml } from "./import-report.js";

const POLL_MS = 300;
// Module state: an import keeps running (and its report stays) while the clerk looks elsewhere.
const st = { files: [], phase: "idle", task: null, processed: 0, total: 0, report: null, error: null };
let repaint = null;
// Which tab: drive-by files or customers and meters.
let tab = "files";
let tabCleanup = null;

function fmtSize(bytes) {
  const [b, k, m] = getLocale() === "fr" ? ["o", "Ko", "Mo"] : ["B", "KB", "MB"];
  if (bytes < 1024) return fmtInt(bytes) + " " + b;
  if (bytes < 1024 * 1024) return fmtInt(Math.round(bytes / 1024)) + " " + k;
  return fmtInt(Math.round(bytes / 1024 / 1024)) + " " + m;
}

async function poll() {
  while (st.phase === "running" && st.task) {
    await new Promise((r) => setTimeout(r, POLL_MS));
    try {
      const s = await call("import_status", { task: st.task });
      st.processed = s.processed_lines || 0;
      st.total = s.total_lines || 0;
      if (s.state === "done") { st.phase = "done"; st.report = s.report; }
      else if (s.state === "failed") { st.phase = "failed"; st.error = s.error ? errorText(s.error) : "?"; }
    } catch (e) {
      st.phase = "failed"; st.error = errorText(e);
    }
    if (repaint) repaint();
  }
}

async function start() {
  if (!st.files.length) return;
  st.phase = "reading"; st.report = null; st.error = null; st.processed = 0; st.total = 0;
  if (repaint) repaint();
  try {
    const files = [];
    for (const f of st.files) files.push(await importFile(f));
    st.total = files.reduce((n, f) => n + (f.content ? f.content.split(/\r?\n/).filter((l) => l.length).length : 0), 0);
    const res = await call("import_start", { files });
    st.task = res.task;
    st.phase = "running";
    if (repaint) repaint();
    poll();
  } catch (e) {
    st.phase = "failed"; st.error = errorText(e);
    if (repaint) repaint();
  }
}

/** The files the import can read (text reading files: .txt, .csv, .log or a text type, not
 * empty, not a folder), and a message naming each one it cannot. */
export function checkFiles(files, folders = new Set()) {
  const ok = [];
  const refused = [];
  for (const f of files) {
    if (folders.has(f.name)) refused.push(t("import.refusedFolder", { name: f.name }));
    else if (!/\.(txt|csv|log)$/i.test(f.name) && !(f.type || "").startsWith("text/")) refused.push(t("import.refused", { name: f.name }));
    else if (f.size === 0) refused.push(t("import.refusedEmpty", { name: f.name }));
    else ok.push(f);
  }
  return { ok, refused };
}

function progressHtml() {
  const ratio = st.total > 0 ? Math.min(1, st.processed / st.total) : (st.phase === "done" ? 1 : 0);
  const label = st.phase === "reading" ? t("import.reading")
    : t("import.progress", { processed: fmtInt(st.processed), total: fmtInt(st.total), pct: fmtPercent(ratio) });
  return `<div class="progress-block">
    <div class="progress-title">${esc(st.phase === "done" ? t("import.done") : t("import.running"))}</div>
    <div class="progress" role="progressbar" data-testid="import-progress" aria-valuemin="0" aria-valuemax="100" aria-valuenow="${Math.round(ratio * 100)}">
      <div class="progress-fill ${st.phase === "done" ? "done" : ""}" style="width:${(ratio * 100).toFixed(1)}%"></div></div>
    <div class="progress-text muted" data-testid="import-progress-text">${esc(label)}</div></div>`;
}

function reportHtml(r) {
  const files = r.files || [];
  const tot = (k) => files.reduce((n, f) => n + (f[k] || 0), 0);
  const rejectedOf = (f) => (typeof f.rejected_count === "number" ? f.rejected_count : (f.rejected || []).length);
  const capped = files.some((f) => rejectedOf(f) > (f.rejected || []).length || (f.rejected || []).length >= 1000);
  const showUndecoded = files.some((f) => typeof f.kept_undecoded === "number");
  const undecTh = showUndecoded ? `<th class="num" title="${esc(t("import.col.undecoded.hint"))}">${esc(t("import.col.undecoded"))}</th>` : "";
  const rows = [];
  for (const f of files) for (const rj of f.rejected || []) rows.push({ file: f.name, ...rj });
  return `<section class="card" data-testid="import-report">
    <h2>${icon("check")}<span>${esc(t("import.report"))}</span></h2>
    <p class="summary">${esc(t("import.summary", { stored: fmtInt(r.stored), duplicates: fmtInt(r.duplicates), rejected: fmtInt(r.rejected_count) }))}</p>
    ${reportNotesHtml(files)}
    <div class="table-scroll"><table class="table" data-testid="import-files">
      <thead><tr><th>${esc(t("import.col.file"))}</th><th class="num">${esc(t("import.col.lines"))}</th><th class="num">${esc(t("import.col.telegrams"))}</th><th class="num">${esc(t("import.col.stored"))}</th><th class="num">${esc(t("import.col.duplicates"))}</th>${undecTh}<th class="num">${esc(t("import.col.readings"))}</th><th class="num">${esc(t("import.col.newMeters"))}</th><th class="num">${esc(t("import.col.rejected"))}</th></tr></thead>
      <tbody>${files.map((f) => `<tr data-testid="import-file-row"><td>${icon("file")} ${esc(f.name)}</td><td class="num">${fmtInt(f.lines)}</td><td class="num">${fmtInt(f.telegrams)}</td><td class="num">${fmtInt(f.stored)}</td><td class="num">${fmtInt(f.duplicates)}</td>${showUndecoded ? `<td class="num">${fmtInt(f.kept_undecoded || 0)}</td>` : ""}<td class="num">${fmtInt(f.readings)}</td><td class="num">${fmtInt(f.new_meters)}</td><td class="num ${rejectedOf(f) ? "warn-text" : ""}">${fmtInt(rejectedOf(f))}</td></tr>`).join("")}</tbody>
      ${files.length > 1 ? `<tfoot><tr><th>${esc(t("import.total"))}</th><th class="num">${fmtInt(tot("lines"))}</th><th class="num">${fmtInt(tot("telegrams"))}</th><th class="num">${fmtInt(r.stored)}</th><th class="num">${fmtInt(r.duplicates)}</th>${showUndecoded ? `<th class="num">${fmtInt(tot("kept_undecoded"))}</th>` : ""}<th class="num">${fmtInt(tot("readings"))}</th><th class="num">${fmtInt(tot("new_meters"))}</th><th class="num">${fmtInt(r.rejected_count)}</th></tr></tfoot>` : ""}
    </table></div>
    ${rows.length ? `<h3>${esc(t("import.rejected"))} <span class="muted">(${fmtInt(r.rejected_count)})</span></h3>
      ${capped ? `<p class="muted small">${esc(t("import.rejected.capped"))}</p>` : ""}
      <div class="table-scroll rejected-scroll"><table class="table compact" data-testid="rejected-table">
        <thead><tr>${files.length > 1 ? `<th>${esc(t("import.rejected.file"))}</th>` : ""}<th class="num">${esc(t("import.rejected.line"))}</th><th>${esc(t("import.rejected.reason"))}</th></tr></thead>
        <tbody>${rows.map((x) => `<tr data-testid="rejected-row" data-line="${x.line}">${files.length > 1 ? `<td>${esc(x.file)}</td>` : ""}<td class="num mono">${fmtInt(x.line)}</td><td>${rejectReasonHtml(x)} ${x.code ? `<span class="code-id mono">${esc(x.code)}</span>` : ""}</td></tr>`).join("")}</tbody>
      </table></div>` : ""}
    ${conflictsHtml(files)}
  </section>`;
}

export function render(root, ctx) {
  if (!ctx.can("import")) {
    root.innerHTML = `<div class="page-head"><h1>${icon("import")}<span>${esc(t("import.title"))}</span></h1></div>
      <div class="card placeholder-card" data-testid="import-denied"><div class="placeholder-icon">${icon("import")}</div><p>${esc(t("import.denied"))}</p></div>`;
    return;
  }
  root.innerHTML = `<div class="page-head"><h1>${icon("import")}<span>${esc(t("import.title"))}</span></h1>
      <a class="btn btn-ghost" href="#/import/journal" data-testid="import-journal-link">${icon("clock")}<span>${esc(t("ij.link"))}</span></a></div>
    <div class="segmented tabs" role="tablist">
      <button role="tab" data-tab="files" data-testid="import-tab-files">${esc(pt("filesTab"))}</button>
      <button role="tab" data-tab="park" data-testid="import-tab-park">${esc(pt("tab"))}</button>
    </div>
    <div class="import-tab-body"></div>`;
  root.querySelectorAll("[data-tab]").forEach((b) => {
    b.classList.toggle("active", b.dataset.tab === tab);
    b.setAttribute("aria-selected", String(b.dataset.tab === tab));
    b.addEventListener("click", () => { if (tab !== b.dataset.tab) { tab = b.dataset.tab; render(root, ctx); } });
  });
  const body = root.querySelector(".import-tab-body");
  if (tabCleanup) tabCleanup();
  tabCleanup = tab === "park" ? renderPark(body, ctx) : renderFiles(body);
  return () => { if (tabCleanup) { tabCleanup(); tabCleanup = null; } };
}

function renderFiles(root) {
  root.innerHTML = `<section class="card">
      <p class="muted">${esc(t("import.intro"))}</p>
      <div class="drop-zone" data-testid="import-drop-zone">
        <div class="drop-hint">${icon("upload")}<span data-testid="import-drop-hint">${esc(t("import.drop"))}</span></div>
        <div class="import-pick">
          <label class="btn btn-file">${icon("upload")}<span>${esc(t("import.choose"))}</span>
            <input type="file" multiple accept=".txt,.csv,.log,text/plain,text/csv" data-testid="import-files-input"></label>
          <button class="btn btn-primary" data-testid="import-start">${icon("import")}<span>${esc(t("import.start"))}</span></button>
        </div>
      </div>
      <ul class="error-text import-refused" data-testid="import-refused" hidden></ul>
      <div class="file-list" data-testid="import-file-list"></div>
      <div class="import-progress-area"></div>
      <p class="error-text" data-testid="import-error" hidden></p>
    </section>
    <div class="import-report-area"></div>`;
  const input = root.querySelector('[data-testid="import-files-input"]');
  const startBtn = root.querySelector('[data-testid="import-start"]');
  const list = root.querySelector(".file-list");
  const progressArea = root.querySelector(".import-progress-area");
  const reportArea = root.querySelector(".import-report-area");
  const errEl = root.querySelector('[data-testid="import-error"]');
  let shownReport = null;

  const paint = () => {
    list.innerHTML = st.files.length
      ? `<div class="muted small">${esc(t("import.selected", { count: st.files.length }))}</div><ul>${st.files.map((f) => `<li>${icon("file")}<span>${esc(f.name)}</span><span class="muted">${esc(fmtSize(f.size))}</span></li>`).join("")}</ul>`
      : `<div class="muted small">${esc(t("import.none"))}</div>`;
    const busy = st.phase === "reading" || st.phase === "running";
    startBtn.disabled = busy || !st.files.length;
    input.disabled = busy;
    zone.classList.toggle("disabled", busy);
    progressArea.innerHTML = st.phase === "idle" || st.phase === "failed" ? "" : progressHtml();
    errEl.hidden = st.phase !== "failed";
    errEl.textContent = st.phase === "failed" ? t("import.failed", { message: st.error }) : "";
    if (st.phase === "done" && st.report) {
      if (shownReport !== st.report) { reportArea.innerHTML = reportHtml(st.report); shownReport = st.report; }
    } else { reportArea.innerHTML = ""; shownReport = null; }
  };
  repaint = paint;
  const refusedEl = root.querySelector('[data-testid="import-refused"]');
  const zone = root.querySelector('[data-testid="import-drop-zone"]');
  const hint = root.querySelector('[data-testid="import-drop-hint"]');
  // Chosen or dropped, the same check: text reading files only, each refusal naming its file.
  const take = (files, add, folders = new Set()) => {
    const { ok, refused } = checkFiles(files, folders);
    refusedEl.innerHTML = refused.map((m) => `<li data-testid="import-refused-item">${esc(m)}</li>`).join("");
    refusedEl.hidden = !refused.length;
    if (!ok.length && add) return;
    const known = new Set(add ? st.files.map((f) => f.name + "/" + f.size) : []);
    st.files = (add ? st.files : []).concat(ok.filter((f) => !known.has(f.name + "/" + f.size)));
    if (st.phase === "done" || st.phase === "failed") { st.phase = "idle"; st.task = null; st.report = null; }
    paint();
  };
  input.addEventListener("change", () => take([...input.files], false));
  const busy = () => st.phase === "reading" || st.phase === "running";
  let depth = 0;
  const over = (on) => { zone.classList.toggle("drag-over", on); hint.textContent = t(on ? "import.dropHere" : "import.drop"); };
  zone.addEventListener("dragenter", (e) => { e.preventDefault(); if (busy()) return; depth += 1; over(true); });
  zone.addEventListener("dragover", (e) => { e.preventDefault(); if (e.dataTransfer) e.dataTransfer.dropEffect = busy() ? "none" : "copy"; });
  zone.addEventListener("dragleave", () => { depth = Math.max(0, depth - 1); if (!depth) over(false); });
  zone.addEventListener("drop", (e) => {
    e.preventDefault();
    depth = 0; over(false);
    if (busy() || !e.dataTransfer) return;
    const folders = new Set();
    for (const item of e.dataTransfer.items || []) {
      const entry = item.webkitGetAsEntry ? item.webkitGetAsEntry() : null;
      if (entry && entry.isDirectory) folders.add(entry.name);
    }
    take([...e.dataTransfer.files], true, folders);
  });
  startBtn.addEventListener("click", start);
  paint();
  return () => { if (repaint === paint) repaint = null; };
}
