// The import journal (Import > Journal des imports): who imported what and when, paged
// newest first (`import_journal`), filtered by period, user, source and "with rejected
// lines"; each import's rejected lines as a CSV file (`import_rejects_csv`, worded in the
// clerk's language). Needs `import`.
import { call } from "../api.js";
import { t, fmtInt, fmtDateTime, errorText, rejectLabels } from "../i18n.js";
import { icon } from "../icons.js";
import { esc, downloadFile } from "../dom.js";

const PAGE = 25;

export function render(root, ctx) {
  let alive = true;
  if (!ctx.can("import")) {
    root.innerHTML = `<div class="page-head"><h1>${icon("import")}<span>${esc(t("ij.title"))}</span></h1></div>
      <p class="notice" data-testid="ij-denied">${esc(t("import.denied"))}</p>`;
    return () => {};
  }
  let page = 0;
  let data = null;
  root.innerHTML = `
    <div class="page-head"><div><h1>${icon("import")}<span>${esc(t("ij.title"))}</span></h1>
      <p class="muted">${esc(t("ij.intro"))}</p></div>
      <a class="btn btn-ghost" href="#/import" data-testid="ij-back">${esc(t("ij.back"))}</a></div>
    <form class="card toolbar" data-testid="ij-filters">
      <label class="inline-field"><span>${esc(t("ij.from"))}</span><input type="date" name="from" data-testid="ij-from"></label>
      <label class="inline-field"><span>${esc(t("ij.to"))}</span><input type="date" name="to" data-testid="ij-to"></label>
      <label class="inline-field"><span>${esc(t("ij.user"))}</span><select name="user" data-testid="ij-user"><option value="">${esc(t("ij.all"))}</option></select></label>
      <label class="inline-field"><span>${esc(t("ij.source"))}</span><select name="source" data-testid="ij-source"><option value="">${esc(t("ij.all"))}</option></select></label>
      <label class="inline-field"><input type="checkbox" name="with_rejects" data-testid="ij-with-rejects"><span>${esc(t("ij.withRejects"))}</span></label>
      <button class="btn btn-primary" type="submit" data-testid="ij-apply">${esc(t("ij.apply"))}</button>
    </form>
    <p class="toolbar-msg" data-testid="ij-msg" aria-live="polite"></p>
    <div class="card table-card"><div class="table-scroll"><table class="table" data-testid="ij-table">
      <thead><tr><th>${esc(t("ij.col.started"))}</th><th>${esc(t("ij.col.ended"))}</th><th>${esc(t("ij.col.file"))}</th>
        <th>${esc(t("ij.col.source"))}</th><th>${esc(t("ij.col.user"))}</th><th class="num">${esc(t("ij.col.lines"))}</th>
        <th class="num">${esc(t("ij.col.readings"))}</th><th class="num">${esc(t("ij.col.duplicates"))}</th>
        <th class="num">${esc(t("ij.col.rejected"))}</th><th class="num">${esc(t("ij.col.future"))}</th><th>${esc(t("ij.col.state"))}</th><th></th></tr></thead>
      <tbody id="ij-rows"><tr class="empty-row"><td colspan="12">${esc(t("common.loading"))}</td></tr></tbody>
    </table></div>
    <div class="pager" data-testid="ij-pager">
      <span class="pager-range" data-testid="ij-page"></span>
      <span class="pager-buttons"><button class="btn btn-ghost" type="button" data-testid="ij-prev">${esc(t("ij.prev"))}</button>
      <button class="btn btn-ghost" type="button" data-testid="ij-next">${esc(t("ij.next"))}</button></span>
    </div></div>
    <p class="muted small" data-testid="ij-kept"></p>`;
  const form = root.querySelector('[data-testid="ij-filters"]');
  const tbody = root.querySelector("#ij-rows");
  const msg = root.querySelector('[data-testid="ij-msg"]');
  const say = (text, error) => { msg.textContent = text; msg.classList.toggle("error-text", !!error); };

  function filters() {
    const f = {};
    for (const k of ["from", "to", "user", "source"]) if (form[k].value) f[k] = form[k].value;
    if (form.with_rejects.checked) f.with_rejects = true;
    return f;
  }
  function fillSelect(sel, values) {
    const keep = sel.value;
    sel.innerHTML = `<option value="">${esc(t("ij.all"))}</option>` + values.map((v) => `<option value="${esc(v)}">${esc(v)}</option>`).join("");
    sel.value = values.includes(keep) ? keep : "";
  }
  function rowHtml(r) {
    const state = `<span class="badge ${r.state === "failed" ? "badge-warn" : r.state === "running" ? "" : "badge-active"}" title="${esc(r.error || "")}">${esc(t("ij.state." + r.state))}</span>`;
    const download = r.rejects_kept > 0
      ? `<button class="btn btn-sm" type="button" data-testid="ij-download" data-id="${r.id}">${icon("export")}<span>${esc(t("ij.download"))}</span></button>` : "";
    return `<tr data-testid="ij-row" data-id="${r.id}" data-rejected="${r.rejected}">
      <td class="nowrap">${esc(fmtDateTime(r.started_at))}</td><td class="nowrap">${r.finished_at ? esc(fmtDateTime(r.finished_at)) : ""}</td>
      <td>${icon("file")} ${esc(r.name)}</td><td>${r.source ? esc(r.source) : `<span class="muted">${esc(t("ij.screen"))}</span>`}</td>
      <td>${r.source ? "" : esc(r.user)}</td><td class="num">${fmtInt(r.lines)}</td><td class="num">${fmtInt(r.readings)}</td>
      <td class="num">${fmtInt(r.duplicates)}</td><td class="num ${r.rejected ? "warn-text" : ""}">${fmtInt(r.rejected)}</td>
      <td class="num ${r.future ? "warn-text" : ""}">${fmtInt(r.future)}</td><td>${state}</td><td>${download}</td></tr>`;
  }
  async function load() {
    say("");
    try {
      data = await call("import_journal", { ...filters(), page, limit: PAGE });
    } catch (e) {
      if (alive) say(errorText(e), true);
      return;
    }
    if (!alive) return;
    fillSelect(form.user, data.users);
    fillSelect(form.source, data.sources);
    tbody.innerHTML = data.rows.length ? data.rows.map(rowHtml).join("")
      : `<tr class="empty-row"><td colspan="12" data-testid="ij-empty">${esc(t("ij.none"))}</td></tr>`;
    const pages = Math.max(1, Math.ceil(data.total / data.limit));
    root.querySelector('[data-testid="ij-page"]').textContent = t("ij.page", { page: fmtInt(page + 1), pages: fmtInt(pages), total: fmtInt(data.total) });
    root.querySelector('[data-testid="ij-prev"]').disabled = page === 0;
    root.querySelector('[data-testid="ij-next"]').disabled = page + 1 >= pages;
    root.querySelector('[data-testid="ij-kept"]').textContent = t("ij.kept", { max: fmtInt(data.rejects_kept_max) });
  }
  form.addEventListener("submit", (e) => { e.preventDefault(); page = 0; load(); });
  root.querySelector('[data-testid="ij-prev"]').addEventListener("click", () => { page = Math.max(0, page - 1); load(); });
  root.querySelector('[data-testid="ij-next"]').addEventListener("click", () => { page += 1; load(); });
  tbody.addEventListener("click", async (e) => {
    const b = e.target.closest('[data-testid="ij-download"]');
    if (!b) return;
    b.disabled = true;
    try {
      // The file in the clerk's language: column titles and each reason's words.
      const csv = await call("import_rejects_csv", {
        import_id: Number(b.dataset.id), titles: t("ij.csv.titles").split(";"), labels: rejectLabels(),
      });
      downloadFile(csv.file_name, csv.content, "text/csv;charset=utf-8");
      say(csv.rejected > csv.rows
        ? t("ij.downloadedCapped", { name: csv.file_name, rows: fmtInt(csv.rows), rejected: fmtInt(csv.rejected), max: fmtInt(data ? data.rejects_kept_max : 1000) })
        : t("ij.downloaded", { name: csv.file_name, rows: fmtInt(csv.rows) }));
    } catch (err) {
      say(errorText(err), true);
    } finally {
      b.disabled = false;
    }
  });
  load();
  return () => { alive = false; };
}
