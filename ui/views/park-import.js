// Import view, tab "Customers and meters": a billing CSV read through a saved column
// mapping (profile): choose or build the profile from the file's header, preview, import.
import { call } from "../api.js";
import { getLocale, fmtInt, errorText, lineReasonText } from "../i18n.js";
import { icon } from "../icons.js";
import { esc } from "../dom.js";

const FIELDS = ["customer_number", "customer_name", "address", "postal_code", "city", "email", "phone",
  "meter_serial", "manufacturer", "device_type", "installation_address", "latitude", "longitude", "groups"];

const TEXT = {
  fr: {
    tab: "Clients et compteurs", filesTab: "Fichiers de relève", intro: "Importez le fichier CSV des clients et compteurs du système de facturation. Choisissez un profil ou associez les colonnes du fichier aux champs, enregistrez le profil, puis importez.",
    profile: "Profil", newProfile: "Nouveau profil…", file: "Fichier CSV", choose: "Choisir un fichier", separator: "Séparateur",
    tabSep: "tabulation", header: "Première ligne = en-têtes", mapping: "Colonnes", none: "—", column: "Colonne {n}",
    name: "Nom du profil", save: "Enregistrer le profil", del: "Supprimer le profil", saved: "Profil « {name} » enregistré.",
    preview: "Aperçu (5 premières lignes)", start: "Importer", running: "Import en cours…", noFile: "Aucun fichier choisi.",
    needProfile: "Enregistrez ou choisissez un profil pour importer.", report: "Rapport d’import",
    added: "Ajoutés", changed: "Modifiés", unchanged: "Inchangés", customers: "Clients", meters: "Compteurs",
    adopted: "{n} compteur(s) non affecté(s) rattaché(s) à leur client.", rejected: "Lignes rejetées ({n})", line: "Ligne", col: "Colonne", reason: "Motif",
    denied: "Votre rôle ne permet pas de modifier le parc de compteurs.", failed: "Échec : {message}",
    folder: "Dossier surveillé (facultatif, dans un dossier autorisé)", interval: "Toutes les (minutes)",
    f: { customer_number: "N° client", customer_name: "Nom du client", address: "Adresse", postal_code: "Code postal", city: "Ville", email: "E-mail", phone: "Téléphone", meter_serial: "N° de série compteur", manufacturer: "Fabricant", device_type: "Type de compteur", installation_address: "Adresse d’installation", latitude: "Latitude", longitude: "Longitude", groups: "Groupes (séparés par |)" },
  },
  en: {
    tab: "Customers and meters", filesTab: "Reading files", intro: "Import the customers-and-meters CSV of the billing system. Choose a profile or map the file's columns to the fields, save the profile, then import.",
    profile: "Profile", newProfile: "New profile…", file: "CSV file", choose: "Choose a file", separator: "Separator",
    tabSep: "tab", header: "First line = headers", mapping: "Columns", none: "—", column: "Column {n}",
    name: "Profile name", save: "Save profile", del: "Delete profile", saved: "Profile '{name}' saved.",
    preview: "Preview (first 5 rows)", start: "Import", running: "Importing…", noFile: "No file chosen.",
    needProfile: "Save or choose a profile to import.", report: "Import report",
    added: "Added", changed: "Changed", unchanged: "Unchanged", customers: "Customers", meters: "Meters",
    adopted: "{n} unassigned meter(s) attached to their customer.", rejected: "Rejected lines ({n})", line: "Line", col: "Column", reason: "Reason",
    denied: "Your role may not change the meter park.", failed: "Failed: {message}",
    folder: "Watched folder (optional, inside an allowed folder)", interval: "Every (minutes)",
    f: { customer_number: "Customer number", customer_name: "Customer name", address: "Address", postal_code: "Postal code", city: "City", email: "Email", phone: "Phone", meter_serial: "Meter serial", manufacturer: "Manufacturer", device_type: "Device type", installation_address: "Installation address", latitude: "Latitude", longitude: "Longitude", groups: "Groups (separated by |)" },
  },
};

export function pt(key, params) {
  const d = TEXT[getLocale()] || TEXT.en;
  let s = key.startsWith("f.") ? d.f[key.slice(2)] : d[key];
  for (const [k, v] of Object.entries(params || {})) s = s.replace("{" + k + "}", v);
  return s;
}

// Kept while the clerk looks elsewhere.
const st = { profiles: [], profile: "", fileName: "", text: "", separator: ";", hasHeader: true, mapping: {}, name: "", folder: "", interval: "", report: null, busy: false, msg: "", error: "", folderError: false };

function decode(buf) {
  try { return new TextDecoder("utf-8", { fatal: true }).decode(buf).replace(/^\uFEFF/, ""); }
  catch { return new TextDecoder("windows-1252").decode(buf); }
}

// Small CSV reader (quotes, doubled quotes) for the header and the preview.
function parseRows(text, sep, max) {
  const rows = [];
  let row = [], cell = "", quoted = false;
  for (let i = 0; i < text.length && rows.length < max; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { cell += '"'; i++; } else if (c === '"') quoted = false; else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === sep) { row.push(cell); cell = ""; }
    else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      row.push(cell); cell = "";
      if (row.some((x) => x.trim())) rows.push(row);
      row = [];
    } else cell += c;
  }
  if (rows.length < max && (cell || row.length)) { row.push(cell); if (row.some((x) => x.trim())) rows.push(row); }
  return rows;
}

function reportHtml(r) {
  const line = (what, a, c, u) => `<tr><td><b>${esc(pt(what))}</b></td><td class="num" data-testid="park-${what}-added">${fmtInt(a)}</td><td class="num" data-testid="park-${what}-changed">${fmtInt(c)}</td><td class="num" data-testid="park-${what}-unchanged">${fmtInt(u)}</td></tr>`;
  return `<section class="card" data-testid="park-report" style="margin-top:14px">
    <h2>${icon("check")}<span>${esc(pt("report"))}</span> <span class="muted small">${esc(r.name || "")}</span></h2>
    <div class="table-scroll"><table class="table compact" style="max-width:520px">
      <thead><tr><th></th><th class="num">${esc(pt("added"))}</th><th class="num">${esc(pt("changed"))}</th><th class="num">${esc(pt("unchanged"))}</th></tr></thead>
      <tbody>${line("customers", r.customers_added, r.customers_changed, r.customers_unchanged)}${line("meters", r.meters_added, r.meters_changed, r.meters_unchanged)}</tbody>
    </table></div>
    ${r.meters_adopted ? `<p class="muted" data-testid="park-adopted">${esc(pt("adopted", { n: fmtInt(r.meters_adopted) }))}</p>` : ""}
    ${r.rejected.length ? `<h3>${esc(pt("rejected", { n: fmtInt(r.rejected.length) }))}</h3>
      <div class="table-scroll rejected-scroll"><table class="table compact" data-testid="park-rejected-table">
        <thead><tr><th class="num">${esc(pt("line"))}</th><th>${esc(pt("col"))}</th><th>${esc(pt("reason"))}</th></tr></thead>
        <tbody>${r.rejected.map((x) => `<tr data-testid="park-rejected-row" data-line="${x.line}"><td class="num mono">${fmtInt(x.line)}</td><td>${esc(x.column)}</td><td title="${esc(x.reason)}">${esc(lineReasonText(x))}</td></tr>`).join("")}</tbody>
      </table></div>` : ""}
  </section>`;
}

export function renderPark(root, ctx) {
  if (!ctx.can("edit_meters")) {
    root.innerHTML = `<div class="card placeholder-card" data-testid="park-denied"><p>${esc(pt("denied"))}</p></div>`;
    return () => {};
  }
  root.innerHTML = `<section class="card park-import">
      <p class="muted">${esc(pt("intro"))}</p>
      <div class="form-grid">
        <label class="field"><span>${esc(pt("profile"))}</span><select data-testid="park-profile-select"></select></label>
        <div class="field"><span>${esc(pt("file"))}</span>
          <div><label class="btn btn-file">${icon("upload")}<span>${esc(pt("choose"))}</span>
            <input type="file" accept=".csv,.txt,text/csv,text/plain" data-testid="park-file-input"></label>
            <span class="muted small" data-testid="park-file-name"></span></div></div>
        <label class="field"><span>${esc(pt("separator"))}</span><select data-testid="park-separator">
          <option value=";">;</option><option value=",">,</option><option value="\t">${esc(pt("tabSep"))}</option></select></label>
        <label class="check" style="align-self:center"><input type="checkbox" data-testid="park-has-header"><span>${esc(pt("header"))}</span></label>
      </div>
      <h3>${esc(pt("mapping"))}</h3>
      <div class="form-grid park-mapping" data-testid="park-mapping" style="grid-template-columns:repeat(auto-fill,minmax(210px,1fr))"></div>
      <div class="park-preview-area"></div>
      <div class="form-grid" style="margin-top:12px">
        <label class="field" style="grid-column:span 2"><span>${esc(pt("folder"))}</span><input type="text" class="mono" data-testid="park-profile-folder"></label>
        <label class="field"><span>${esc(pt("interval"))}</span><input type="number" min="1" step="1" placeholder="60" data-testid="park-profile-interval"></label>
      </div>
      <div class="import-pick" style="margin-top:12px">
        <label class="field" style="margin:0"><span>${esc(pt("name"))}</span><input type="text" data-testid="park-profile-name" maxlength="80"></label>
        <button class="btn" data-testid="park-profile-save">${icon("check")}<span>${esc(pt("save"))}</span></button>
        <button class="btn" data-testid="park-profile-delete">${esc(pt("del"))}</button>
        <button class="btn btn-primary" data-testid="park-import-start">${icon("import")}<span>${esc(pt("start"))}</span></button>
      </div>
      <p class="muted small" data-testid="park-status"></p>
      <p class="error-text" data-testid="park-error" hidden></p>
    </section>
    <div class="park-report-area"></div>`;
  const $ = (id) => root.querySelector(`[data-testid="${id}"]`);
  const sel = $("park-profile-select"), input = $("park-file-input"), sepSel = $("park-separator"), headerBox = $("park-has-header");
  const mapArea = $("park-mapping"), previewArea = root.querySelector(".park-preview-area"), reportArea = root.querySelector(".park-report-area");
  const nameInput = $("park-profile-name"), saveBtn = $("park-profile-save"), delBtn = $("park-profile-delete"), startBtn = $("park-import-start");
  const statusEl = $("park-status"), errEl = $("park-error"), folderInput = $("park-profile-folder"), intervalInput = $("park-profile-interval");
  let alive = true;

  const rows = () => (st.text ? parseRows(st.text, st.separator, 6) : []);
  const columns = () => {
    const r = rows();
    const width = Math.max(0, ...r.map((x) => x.length));
    const head = st.hasHeader && r.length ? r[0] : [];
    return Array.from({ length: width }, (_, i) => (head[i] || "").trim() || pt("column", { n: i + 1 }));
  };

  const paintMapping = () => {
    const cols = columns();
    mapArea.innerHTML = FIELDS.map((f) => {
      const cur = st.mapping[f];
      const known = cols.map((c, i) => `<option value="${i}" ${cur === i ? "selected" : ""}>${esc(c)}</option>`).join("");
      const extra = cur !== undefined && cur >= cols.length ? `<option value="${cur}" selected>${esc(pt("column", { n: cur + 1 }))}</option>` : "";
      return `<label class="field"><span>${esc(pt("f." + f))}${f === "customer_number" ? " *" : ""}</span>
        <select data-testid="park-map-${f}" data-field="${f}"><option value="">${esc(pt("none"))}</option>${known}${extra}</select></label>`;
    }).join("");
    mapArea.querySelectorAll("select").forEach((s) => s.addEventListener("change", () => {
      if (s.value === "") delete st.mapping[s.dataset.field]; else st.mapping[s.dataset.field] = Number(s.value);
      paintPreview();
    }));
  };

  const paintPreview = () => {
    const r = rows();
    const data = (st.hasHeader ? r.slice(1) : r).slice(0, 5);
    const mapped = FIELDS.filter((f) => st.mapping[f] !== undefined);
    previewArea.innerHTML = data.length && mapped.length ? `<h3>${esc(pt("preview"))}</h3>
      <div class="table-scroll"><table class="table compact" data-testid="park-preview">
        <thead><tr>${mapped.map((f) => `<th>${esc(pt("f." + f))}</th>`).join("")}</tr></thead>
        <tbody>${data.map((row) => `<tr data-testid="park-preview-row">${mapped.map((f) => `<td style="white-space:nowrap">${esc((row[st.mapping[f]] || "").trim())}</td>`).join("")}</tr>`).join("")}</tbody>
      </table></div>` : "";
  };

  const paint = () => {
    sel.innerHTML = `<option value="">${esc(pt("newProfile"))}</option>` +
      st.profiles.map((p) => `<option value="${esc(p.name)}" ${p.name === st.profile ? "selected" : ""}>${esc(p.name)}</option>`).join("");
    sepSel.value = st.separator;
    headerBox.checked = st.hasHeader;
    nameInput.value = st.name;
    folderInput.value = st.folder;
    intervalInput.value = st.interval;
    folderInput.setAttribute("aria-invalid", st.folderError ? "true" : "false");
    $("park-file-name").textContent = st.fileName || pt("noFile");
    paintMapping();
    paintPreview();
    delBtn.disabled = st.busy || !st.profile;
    saveBtn.disabled = st.busy;
    startBtn.disabled = st.busy || !st.profile || !st.text;
    statusEl.textContent = st.busy ? pt("running") : st.msg || (!st.profile && st.text ? pt("needProfile") : "");
    errEl.hidden = !st.error;
    errEl.textContent = st.error ? pt("failed", { message: st.error }) : "";
    reportArea.innerHTML = st.report ? reportHtml(st.report) : "";
  };

  const useProfile = (name) => {
    st.profile = name;
    const p = st.profiles.find((x) => x.name === name);
    if (p) {
      st.separator = p.separator; st.hasHeader = p.has_header; st.mapping = { ...p.mapping }; st.name = p.name;
      st.folder = p.folder || ""; st.interval = p.interval_minutes ? String(p.interval_minutes) : "";
    }
  };

  const load = async () => {
    try { st.profiles = await call("park_profiles_list", {}); } catch (e) { st.error = errorText(e); }
    if (st.profile && !st.profiles.some((p) => p.name === st.profile)) st.profile = "";
    if (alive) paint();
  };

  sel.addEventListener("change", () => { st.msg = ""; st.error = ""; if (sel.value) useProfile(sel.value); else { st.profile = ""; } paint(); });
  sepSel.addEventListener("change", () => { st.separator = sepSel.value; paint(); });
  headerBox.addEventListener("change", () => { st.hasHeader = headerBox.checked; paint(); });
  nameInput.addEventListener("input", () => { st.name = nameInput.value; });
  folderInput.addEventListener("input", () => { st.folder = folderInput.value; });
  intervalInput.addEventListener("input", () => { st.interval = intervalInput.value; });
  input.addEventListener("change", async () => {
    const f = input.files[0];
    if (!f) return;
    st.fileName = f.name; st.text = decode(await f.arrayBuffer()); st.report = null; st.msg = ""; st.error = "";
    if (!st.profile) {
      const first = st.text.split(/\r?\n/, 1)[0] || "";
      st.separator = [";", "\t", ","].map((s) => [s, first.split(s).length]).sort((a, b) => b[1] - a[1])[0][0];
    }
    paint();
  });
  saveBtn.addEventListener("click", async () => {
    st.busy = true; st.error = ""; st.msg = ""; st.folderError = false; paint();
    try {
      const p = await call("park_profile_save", { name: st.name, separator: st.separator, has_header: st.hasHeader, mapping: st.mapping,
        folder: st.folder.trim() || null, interval_minutes: Number(st.interval) || null });
      st.profile = p.name; st.name = p.name; st.msg = pt("saved", { name: p.name });
      await load();
    } catch (e) {
      // A refused folder (not allowed, the database's) is worded and its field marked.
      st.error = errorText(e);
      st.folderError = String((e.details && e.details.code) || "").startsWith("folder_");
    }
    st.busy = false; if (alive) paint();
  });
  delBtn.addEventListener("click", async () => {
    if (!st.profile) return;
    st.busy = true; paint();
    try { await call("park_profile_delete", { name: st.profile }); st.profile = ""; await load(); } catch (e) { st.error = errorText(e); }
    st.busy = false; if (alive) paint();
  });
  startBtn.addEventListener("click", async () => {
    st.busy = true; st.error = ""; st.msg = ""; st.report = null; paint();
    try { st.report = await call("park_import", { profile: st.profile, name: st.fileName, content: st.text }); }
    catch (e) { st.error = errorText(e); }
    st.busy = false; if (alive) paint();
  });
  paint();
  load();
  return () => { alive = false; };
}
