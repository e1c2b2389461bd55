// Browser test of the billing exports (issue 5), as a manager on the demo park (harness.mjs:
// 300 meters, seed 7): the demo's two layouts and its disabled monthly job; a CSV layout and a
// fixed-width layout made through the editor, previewed on real data (title line, header
// record, meter rows, trailer with the record count), a value too wide named by meter and field
// in French and in English (worded from the core's structured errors), saved, copied, dry-run
// and run (the downloaded file checked); a scheduled export made on the Jobs screen, run now,
// its run in the log and its file in the folder; deleting its layout refused, naming the job,
// and renaming the layout taking the job along; a consumer report saved as HTML and e-mailed
// through a real SMTP server on loopback (aiosmtpd, as crates/core/tests/support/smtp.rs),
// after the clear error shown while no SMTP server is set.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";

import { ARTIFACTS, api, login, newPage } from "./harness.mjs";

const SHOTS = process.env.RELEVE_SHOTS || ARTIFACTS;
const shot = (page, name) => page.screenshot({ path: path.join(SHOTS, `billing-${name}.png`), fullPage: true });
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "releve-billing-"));
const GROUP_SIZE = 5;

let token = null; // a manager's token for the API checks
let group = null; // {id, meters: [MeterRow]}

/** The previous calendar month in Europe/Paris, as the editor proposes it. */
function previousMonth() {
  const [y, m] = new Intl.DateTimeFormat("en-CA", { timeZone: "Europe/Paris", year: "numeric", month: "2-digit" }).format(new Date()).split("-").map(Number);
  const first = new Date(Date.UTC(y, m - 2, 1));
  const last = new Date(Date.UTC(y, m - 1, 0));
  return { from: first.toISOString().slice(0, 10), to: last.toISOString().slice(0, 10) };
}
const PERIOD = previousMonth();

const lines = (text) => text.split(/\r?\n/).filter((l) => l.length > 0);
const uiLines = (page) => page.locator('[data-testid="lay-line"] .fv-t').allInnerTexts();
const fieldRow = (page, rec, v) => page.locator(`[data-testid="lay-record-${rec}"] [data-testid="lay-field"][data-var="${v}"]`);

async function download(page, click) {
  const [dl] = await Promise.all([page.waitForEvent("download"), click()]);
  const file = path.join(tmp, dl.suggestedFilename());
  await dl.saveAs(file);
  return { name: dl.suggestedFilename(), bytes: fs.readFileSync(file) };
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

/** A real SMTP server on loopback (python3 -m aiosmtpd) writing every message to a Maildir. */
async function startSmtp() {
  const port = await freePort();
  const maildir = path.join(tmp, "maildir");
  const child = spawn("python3", ["-m", "aiosmtpd", "-n", "-l", `127.0.0.1:${port}`, "-c", "aiosmtpd.handlers.Mailbox", maildir], { stdio: ["ignore", "ignore", "inherit"] });
  const deadline = Date.now() + 20_000;
  for (;;) {
    assert.equal(child.exitCode, null, "aiosmtpd exited (is the Python package aiosmtpd installed? scripts/install-deps)");
    const up = await new Promise((r) => { const c = net.connect(port, "127.0.0.1", () => { c.end(); r(true); }); c.on("error", () => r(false)); });
    if (up) break;
    assert.ok(Date.now() < deadline, "aiosmtpd did not listen");
    await new Promise((r) => setTimeout(r, 100));
  }
  const messages = () => { try { return fs.readdirSync(path.join(maildir, "new")).map((f) => fs.readFileSync(path.join(maildir, "new", f), "utf8")); } catch { return []; } };
  return { port, messages, stop: () => child.kill("SIGTERM") };
}

/** Once, when the server is up: a group of five water meters with customers, so that a
 * preview holds the whole file, trailer included. */
let made = null;
function setUp() {
  made ??= (async () => {
    const { page, ctx } = await newPage();
    try { token = await login(page, "manager", "manager"); } finally { await ctx.close(); }
    const list = await api("meters_list", { limit: 500 }, token);
    const meters = list.rows.filter((m) => m.device_type === "water" && m.status === "active" && m.customer_name && m.last_seen).slice(0, GROUP_SIZE);
    assert.equal(meters.length, GROUP_SIZE, "five active water meters with a customer");
    const g = await api("group_create", { name: "Facturation test", meter_ids: meters.map((m) => m.id) }, token);
    group = { id: g.id, meters };
  })();
  return made;
}

after(() => fs.rmSync(tmp, { recursive: true, force: true }));

test("CSV layout: edit, preview real lines, save, copy, run and dry run", async () => {
  await setUp();
  const { ctx, page, errors } = await newPage();
  try {
    await login(page, "manager", "manager");
    await page.getByTestId("nav-export").click();
    await page.getByTestId("lay-new").click();
    await page.getByTestId("lay-name").fill("Facturation eau CSV");
    assert.equal(await page.getByTestId("lay-format-csv").getAttribute("aria-pressed"), "true", "CSV by default");
    assert.equal(await page.getByTestId("lay-separator").inputValue(), ";", "fr: semicolon");
    assert.equal(await page.getByTestId("lay-decimal").inputValue(), ",", "fr: decimal comma");
    await page.getByTestId("lay-group").selectOption(String(group.id));

    // Fields: add the customer's name from the catalogue (labels in French), move it up to
    // second place, take the start value out, title the serial's column.
    const options = await page.locator('[data-testid="lay-add-fields"] optgroup').evaluateAll((gs) => gs.map((g) => g.label));
    assert.ok(options.includes("Client") && options.includes("Index et consommation"), "grouped catalogue: " + options);
    assert.equal(await page.locator('[data-testid="lay-add-fields"] option[value="record_count"]').count(), 0, "record_count is for header and trailer only");
    await page.getByTestId("lay-add-fields").selectOption("customer_name");
    assert.match(await fieldRow(page, "fields", "customer_name").innerText(), /Nom du client/);
    for (let i = 0; i < 4; i++) await fieldRow(page, "fields", "customer_name").locator('[data-act="move"][data-d="-1"]').click();
    await fieldRow(page, "fields", "value_start").getByTestId("lay-remove").click();
    await fieldRow(page, "fields", "meter_serial").locator('[data-k="label"]').fill("Compteur");
    const order = await page.locator('[data-testid="lay-record-fields"] [data-testid="lay-field"]').evaluateAll((rs) => rs.map((r) => r.dataset.var));
    assert.deepEqual(order, ["customer_number", "customer_name", "meter_serial", "value_end", "consumption"]);

    // Header record: a constant; trailer: the record count.
    await page.getByTestId("lay-add-header").selectOption("text");
    await fieldRow(page, "header", "text").locator('[data-k="text"]').fill("DEBUT");
    await page.getByTestId("lay-add-trailer").selectOption("text");
    await fieldRow(page, "trailer", "text").locator('[data-k="text"]').fill("FIN");
    await page.getByTestId("lay-add-trailer").selectOption("record_count");

    assert.equal(await page.getByTestId("lay-from").inputValue(), PERIOD.from, "previous month proposed");
    assert.equal(await page.getByTestId("lay-to").inputValue(), PERIOD.to);
    await page.getByTestId("lay-preview").click();
    await page.getByTestId("lay-summary").waitFor();
    assert.equal(await page.getByTestId("lay-rows").getAttribute("data-rows"), String(GROUP_SIZE));
    const shown = await uiLines(page);
    assert.equal(shown.length, 1 + 1 + GROUP_SIZE + 1, "header, titles, one line per meter, trailer: " + shown.join(" | "));
    assert.equal(shown[0], "DEBUT");
    assert.equal(shown[1], "customer_number;customer_name;Compteur;value_end;consumption");
    const m0 = group.meters.find((m) => shown[2].includes(m.serial));
    assert.ok(m0, "a meter of the group on the first data line: " + shown[2]);
    const cells = shown[2].split(";");
    assert.deepEqual(cells.slice(0, 3), [m0.customer_number, m0.customer_name, m0.serial]);
    assert.match(cells[3], /^\d+,\d{3}$/, "value at the billing date, decimal comma: " + cells[3]);
    assert.match(cells[4], /^-?\d+,\d{3}$/, "consumption: " + cells[4]);
    assert.equal(shown[shown.length - 1], `FIN;${GROUP_SIZE}`, "trailer with the record count");
    assert.deepEqual(await page.locator('[data-testid="lay-line"]').evaluateAll((ls) => ls.map((l) => l.dataset.kind)),
      ["header", "titles", ...Array(GROUP_SIZE).fill("data"), "trailer"]);
    await shot(page, "csv-preview");

    // Save, then the layout is in the list and in the store.
    await page.getByTestId("lay-save").click();
    await page.locator('[data-testid="lay-row"][data-name="Facturation eau CSV"]').waitFor();
    assert.equal(await page.getByTestId("lay-dirty").isHidden(), true, "saved: no unsaved mark");
    const saved = (await api("export_layouts_list", {}, token)).map((l) => l.name);
    assert.ok(saved.includes("Facturation eau CSV"), saved.join(", "));

    // Copy under a new name.
    await page.locator('[data-testid="lay-row"][data-name="Facturation eau CSV"]').getByTestId("lay-copy").click();
    await page.getByTestId("lay-copy-name").fill("Facturation eau CSV (copie)");
    await page.getByTestId("lay-copy-ok").click();
    await page.locator('[data-testid="lay-row"][data-name="Facturation eau CSV (copie)"]').waitFor();

    // Run: the downloaded file holds what the preview showed.
    const file = await download(page, () => page.getByTestId("lay-run").click());
    await page.getByTestId("lay-ran").waitFor();
    assert.equal(await page.getByTestId("lay-ran").getAttribute("data-rows"), String(GROUP_SIZE));
    assert.match(file.name, /\.csv$/i);
    assert.deepEqual(lines(file.bytes.toString("utf8").replace(/^\ufeff/, "")), shown, "the file is the preview");

    // Dry run against that file: nothing changed; then a decimal point changes every line.
    await page.getByTestId("lay-dry-run").click();
    await page.getByTestId("lay-dry").waitFor();
    assert.equal(await page.getByTestId("lay-dry-unchanged").getAttribute("data-n"), String(GROUP_SIZE));
    assert.equal(await page.getByTestId("lay-dry-changed").getAttribute("data-n"), "0");
    await page.getByTestId("lay-decimal").selectOption(".");
    await page.getByTestId("lay-dry-run").click();
    await page.locator('[data-testid="lay-dry-changed"][data-n="' + GROUP_SIZE + '"]').waitFor();
    const change = page.getByTestId("lay-dry-change").first();
    const changedMeter = await change.getAttribute("data-meter");
    assert.ok(group.meters.some((m) => m.serial === changedMeter), "a change names its meter: " + changedMeter);
    const oldLine = await change.getByTestId("lay-dry-old").innerText();
    const newLine = await change.getByTestId("lay-dry-new").innerText();
    assert.ok(oldLine.includes(changedMeter) && newLine.includes(changedMeter), oldLine);
    assert.match(oldLine, /;\d+,\d{3};/, "old line, decimal comma: " + oldLine);
    assert.match(newLine, /;\d+\.\d{3};/, "new line, decimal point: " + newLine);
    await shot(page, "csv-dry-run");

    // Warnings name the meter: no tolerance, a period from the 10th to the 19th (no target
    // date, no reading at midnight): interpolated values, then missing ones without interpolation.
    await page.getByTestId("lay-tolerance").fill("0");
    await page.getByTestId("lay-from").fill(PERIOD.from.slice(0, 8) + "10");
    await page.getByTestId("lay-to").fill(PERIOD.from.slice(0, 8) + "19");
    await page.getByTestId("lay-preview").click();
    await page.getByTestId("lay-warnings").waitFor();
    const w1 = page.getByTestId("lay-warning").first();
    const wMeter = await w1.getAttribute("data-meter");
    assert.ok(group.meters.some((m) => m.serial === wMeter), "a meter of the group: " + wMeter);
    const day10 = PERIOD.from.slice(0, 8).split("-").reverse().filter(Boolean).join("/");
    assert.match(await w1.innerText(), new RegExp(`^Compteur ${wMeter} — Index au début \\(Volume\\) : valeur interpolée au 10/${day10} entre les relevés du`));
    await page.getByTestId("lay-interpolate").uncheck();
    await page.getByTestId("lay-preview").click();
    await page.locator('[data-testid="lay-warning"]', { hasText: "aucune valeur" }).first().waitFor();
    assert.match(await page.getByTestId("lay-warning").first().innerText(), /aucune valeur au 10\/.*aucun relevé à moins de 0 h, l’interpolation est désactivée\./);
    assert.equal(await page.getByTestId("lay-warnings").getAttribute("data-count"), String(2 * GROUP_SIZE), "start and end of every meter");
    await shot(page, "csv-warnings");
    assert.deepEqual(errors.map(String), []);
  } finally {
    await ctx.close();
  }
});

test("fixed-width layout: ruler, a value too wide named by meter and field, then a valid file", async () => {
  await setUp();
  const { ctx, page, errors } = await newPage();
  try {
    await login(page, "manager", "manager");
    await page.goto(page.url().replace(/#.*$/, "#/export"));
    await page.getByTestId("lay-new").click();
    await page.getByTestId("lay-name").fill("Facturation largeur fixe");
    await page.getByTestId("lay-format-fixed").click();
    await page.getByTestId("lay-group").selectOption(String(group.id));
    // Default widths: customer_number 10, meter_serial 12, value_start 12, value_end 12, consumption 12.
    const widths = await page.locator('[data-testid="lay-record-fields"] [data-k="width"]').evaluateAll((is) => is.map((i) => Number(i.value)));
    assert.deepEqual(widths, [10, 12, 12, 12, 12]);
    assert.equal(await fieldRow(page, "fields", "value_end").getByTestId("lay-pos").innerText(), "35–46");

    // Too narrow: the preview lists the error with the meter and the field, the run refuses.
    await fieldRow(page, "fields", "value_end").locator('[data-k="width"]').fill("3");
    await page.getByTestId("lay-preview").click();
    await page.getByTestId("lay-errors").waitFor();
    assert.equal(await page.getByTestId("lay-errors").getAttribute("data-count"), String(GROUP_SIZE), "one error per meter");
    const first = page.getByTestId("lay-error").first();
    const err = await first.innerText();
    assert.ok(group.meters.some((m) => err.includes(`Compteur ${m.serial}`)), "names the meter: " + err);
    assert.match(err, /champ 4 « Index à la date de facturation »/, err);
    assert.match(err, /ne tient pas dans 3 caractères/, err);
    assert.deepEqual([await first.getAttribute("data-record"), await first.getAttribute("data-problem"), await first.getAttribute("data-field")], ["data", "too_wide", "4"]);
    assert.match(await first.getAttribute("title"), /^meter \d+, field 4 \(value_end\): ".*" does not fit in 3 characters$/, "the core's English sentence kept as the tooltip");
    assert.equal(await page.locator('[data-testid="lay-line"].fv-bad').count(), GROUP_SIZE, "every meter line marked, by its row");
    await shot(page, "fixed-error");
    await page.getByTestId("lay-run").click();
    await page.locator('[data-testid="lay-msg"].error-text').waitFor();
    assert.match(await page.getByTestId("lay-msg").innerText(), /Export refusé.*Compteur \d+, champ 4 « Index à la date de facturation »/s);

    // Fixed: zero-padded with implied decimals; header H + billing date, trailer T + count.
    await fieldRow(page, "fields", "value_end").locator('[data-k="width"]').fill("10");
    await fieldRow(page, "fields", "value_end").locator('[data-k="pad"]').fill("0");
    await fieldRow(page, "fields", "value_end").locator('[data-k="implied_decimals"]').check();
    await page.getByTestId("lay-add-header").selectOption("text");
    await fieldRow(page, "header", "text").locator('[data-k="text"]').fill("H");
    await page.getByTestId("lay-add-header").selectOption("period_to");
    await fieldRow(page, "header", "period_to").locator('[data-k="date_format"]').selectOption("%Y%m%d");
    await fieldRow(page, "header", "period_to").locator('[data-k="width"]').fill("8");
    await page.getByTestId("lay-add-trailer").selectOption("text");
    await fieldRow(page, "trailer", "text").locator('[data-k="text"]').fill("T");
    await page.getByTestId("lay-add-trailer").selectOption("record_count");
    await fieldRow(page, "trailer", "record_count").locator('[data-k="pad"]').fill("0");
    assert.equal(await page.getByTestId("lay-linewidth-fields").innerText(), "Longueur de ligne : 56 caractères");

    await page.getByTestId("lay-preview").click();
    await page.locator('[data-testid="lay-summary"] .badge-active').waitFor();
    assert.equal(await page.getByTestId("lay-errors").count(), 0);
    assert.match(await page.locator(".fv-ruler").innerText(), /^\s+1\s+2\s+3\s+4\s+5\s*\n1234567890/, "a ruler of column positions");
    const shown = await uiLines(page);
    assert.equal(shown.length, 1 + GROUP_SIZE + 1);
    assert.equal(shown[0], "H" + PERIOD.to.replaceAll("-", ""), "header: H and the billing date");
    for (const l of shown.slice(1, -1)) assert.equal(l.length, 56, `data line of 56 characters: "${l}"`);
    const d = shown[1];
    const m0 = group.meters.find((m) => d.slice(10, 22).trim() === m.serial);
    assert.ok(m0, "serial in columns 11-22: " + d);
    assert.equal(d.slice(0, 10), m0.customer_number.padEnd(10), "text left-aligned, space-padded");
    assert.match(d.slice(34, 44), /^\d{10}$/, "value at the billing date zero-padded without decimal mark: " + d.slice(34, 44));
    assert.equal(shown[shown.length - 1], "T" + String(GROUP_SIZE).padStart(6, "0"), "trailer: T and the record count");
    await shot(page, "fixed-preview");

    await page.getByTestId("lay-save").click();
    await page.locator('[data-testid="lay-row"][data-name="Facturation largeur fixe"]').waitFor();
    const file = await download(page, () => page.getByTestId("lay-run").click());
    await page.getByTestId("lay-ran").waitFor();
    const text = file.bytes.toString("latin1");
    assert.ok(text.includes("\r\n"), "CRLF line ends by default");
    assert.deepEqual(lines(text), shown, "the file is the preview");
    assert.deepEqual(errors.map(String), []);
  } finally {
    await ctx.close();
  }
});

test("scheduled export: made on the Jobs screen, run now, logged, file in the folder", async () => {
  await setUp();
  const { ctx, page, errors } = await newPage();
  const folder = path.join(tmp, "out");
  fs.mkdirSync(folder, { recursive: true });
  try {
    await login(page, "manager", "manager");
    await page.getByTestId("nav-jobs").click();
    await page.waitForURL(/#\/jobs$/);
    // The demo's job: monthly, its CSV layout, next to the database, disabled (no next run).
    const demoJob = page.locator('[data-testid="job-row"][data-name="Facturation eau mensuelle"]');
    await demoJob.waitFor();
    assert.match(await demoJob.innerText(), /Désactivé/);
    assert.match(await demoJob.innerText(), /Facturation eau \(CSV\)/);
    assert.match(await demoJob.getByTestId("job-schedule").innerText(), /^chaque mois le 1er à 06:00\n/);
    const [demo] = (await api("export_jobs_list", {}, token)).filter((j) => j.name === "Facturation eau mensuelle");
    assert.equal(demo.enabled, false);
    assert.equal(demo.next_run_at, null, "disabled: it does not run");
    assert.match(demo.folder, /[\/\\]exports$/, "a folder next to the database: " + demo.folder);
    await page.getByTestId("job-name").fill("Facturation mensuelle");
    await page.getByTestId("job-layout").selectOption("Facturation eau CSV (copie)");
    await page.getByTestId("job-every-monthly").click();
    await page.getByTestId("job-day").fill("1");
    await page.getByTestId("job-time").fill("06:00");
    await page.getByTestId("job-period").selectOption("previous_month");
    await page.getByTestId("job-dest-folder").click();
    await page.getByTestId("job-folder").fill(folder);
    assert.equal(await page.getByTestId("job-sched-text").innerText(), "Export chaque mois le 1er à 06:00, le mois précédent.");
    // Not an allowed folder yet: refused in words, the field marked; a manager allows it.
    await page.getByTestId("job-save").click();
    await page.getByTestId("job-folder").and(page.locator('[aria-invalid="true"]')).waitFor();
    assert.equal(await page.getByTestId("job-msg").innerText(),
      `Erreur : Le dossier ${folder} n’est dans aucun dossier autorisé. Un gestionnaire peut l’ajouter dans Paramètres, « Dossiers autorisés ».`);
    const allowed = await api("folders_allowed", {}, token);
    await api("folders_allowed_set", { folders: [...allowed, folder] }, token);
    await page.getByTestId("job-save").click();
    const row = page.locator('[data-testid="job-row"][data-name="Facturation mensuelle"]');
    await row.waitFor();
    assert.match(await row.getByTestId("job-schedule").innerText(), /^chaque mois le 1er à 06:00\n/);
    assert.match(await row.getByTestId("job-next").innerText(), /^01\/\d\d\/\d{4} 06:00$/, "next run on the 1st at 06:00");

    await row.getByTestId("job-run").click();
    const run = page.locator('[data-testid="job-run-row"]').first();
    await run.waitFor();
    assert.equal(await run.getAttribute("data-status"), "ok", await run.innerText());
    assert.equal(await run.getByTestId("job-run-rows").innerText(), String(GROUP_SIZE));
    const fr = (iso) => iso.split("-").reverse().join("/");
    assert.match(await run.innerText(), new RegExp(`${fr(PERIOD.from)} → ${fr(PERIOD.to)}`), "the previous month");
    const written = await run.getByTestId("job-run-file").getAttribute("data-path");
    assert.ok(written.startsWith(folder), `written into the folder: ${written}`);
    assert.ok(fs.existsSync(written), "the file is there");
    const body = lines(fs.readFileSync(written, "utf8").replace(/^\ufeff/, ""));
    assert.equal(body.length, 1 + 1 + GROUP_SIZE + 1, "header, titles, meters, trailer");
    assert.equal(await row.getByTestId("job-last-status").getAttribute("data-status"), "ok");
    const runs = await api("export_runs_list", {}, token);
    assert.equal(runs[0].status, "ok");
    await shot(page, "jobs");
    assert.deepEqual(errors.map(String), []);
  } finally {
    await ctx.close();
  }
});

test("a layout in use: delete refused naming its job, rename takes the job along; the demo's layouts", async () => {
  await setUp();
  const { ctx, page, errors } = await newPage();
  const used = "Facturation eau CSV (copie)"; // the job "Facturation mensuelle" exports it
  const renamed = "Facturation eau CSV mensuelle";
  try {
    await login(page, "manager", "manager");
    await page.getByTestId("nav-export").click();
    const row = (name) => page.locator(`[data-testid="lay-row"][data-name="${name}"]`);
    await row(used).getByTestId("lay-delete").click();
    await page.getByTestId("lay-delete-ok").click();
    await page.locator('[data-testid="lay-list-msg"].error-text').waitFor();
    assert.equal(await page.getByTestId("lay-list-msg").innerText(),
      `« ${used} » n’a pas été supprimée : l’export programmé « Facturation mensuelle » l’utilise. Supprimez-le ou choisissez-lui une autre mise en page d’abord (écran Exports programmés).`);
    assert.equal(await row(used).count(), 1, "still listed");
    await shot(page, "delete-in-use");

    // Renamed in the editor: one save, the job follows, the old name is gone.
    await row(used).getByTestId("lay-open").click();
    await page.getByTestId("lay-name").fill(renamed);
    await page.getByTestId("lay-save").click();
    await page.getByTestId("lay-confirm-save").click(); // "save changes?"
    await row(renamed).waitFor();
    assert.equal(await row(used).count(), 0, "no layout left under the old name");
    assert.equal(await page.getByTestId("lay-msg").innerText(),
      `Mise en page « ${renamed} » enregistrée. L’export programmé « Facturation mensuelle » utilise désormais ce nom.`);
    const job = (await api("export_jobs_list", {}, token)).find((j) => j.name === "Facturation mensuelle");
    assert.equal(job.layout, renamed);
    assert.ok(job.next_run_at, "still scheduled");

    // Renaming onto another layout's name is refused, nothing lost.
    await page.getByTestId("lay-name").fill("Facturation eau CSV");
    await page.getByTestId("lay-save").click();
    await page.getByTestId("lay-confirm-save").click(); // "save changes?"
    await page.locator('[data-testid="lay-msg"].error-text').waitFor();
    assert.equal(await page.getByTestId("lay-msg").innerText(), "Une mise en page « Facturation eau CSV » existe déjà : choisissez un autre nom.");
    const names = (await api("export_layouts_list", {}, token)).map((l) => l.name);
    assert.ok(names.includes(renamed) && names.includes("Facturation eau CSV"), names.join(", "));

    // The demo's fixed-width layout: every water meter, 84 characters, H header, T trailer.
    page.once("dialog", (d) => d.accept()); // leave the unsaved name change
    await row("Facturation eau (largeur fixe)").getByTestId("lay-open").click();
    await page.waitForFunction(() => document.querySelector('[data-testid="lay-title"]')?.textContent.includes("largeur fixe"));
    await page.getByTestId("lay-preview").click();
    await page.locator('[data-testid="lay-summary"] .badge-active').waitFor();
    const shown = await uiLines(page);
    assert.match(shown[0], /^H\d{24}$/, "H and three dates: " + shown[0]);
    for (const l of shown.slice(1)) if (!l.startsWith("T")) assert.equal(l.length, 84, `"${l}"`);
    assert.equal(await page.getByTestId("lay-errors").count(), 0);
    assert.deepEqual(errors.map(String), []);
  } finally {
    await ctx.close();
  }
});

test("consumer report: HTML saved with the customer's name, e-mail refused then sent", async () => {
  const { ctx, page, errors } = await newPage();
  let smtp = null;
  try {
    await login(page, "manager", "manager");
    const m = group.meters[0];
    await page.goto(page.url().replace(/#.*$/, `#/meters/${m.id}`));
    await page.getByTestId("crep-open").click();
    await page.getByTestId("crep-form").waitFor();
    await page.getByTestId("crep-fmt-html").click();
    const file = await download(page, () => page.getByTestId("crep-save").click());
    assert.match(file.name, /\.html?$/i);
    assert.ok(file.bytes.toString("utf8").includes(m.customer_name), "the report names the customer");
    assert.match(await page.getByTestId("crep-msg").innerText(), /Rapport enregistré/);

    // No SMTP server set: said plainly.
    await page.getByTestId("crep-email").click();
    await page.locator('[data-testid="crep-msg"].error-text').waitFor();
    assert.match(await page.getByTestId("crep-msg").innerText(), /Aucun serveur d’envoi d’e-mails n’est réglé/);
    await shot(page, "consumer-report-nosmtp");

    // A real SMTP server: the report goes to the customer's address, as an attachment.
    smtp = await startSmtp();
    await api("notify_settings", { smtp_host: "127.0.0.1", smtp_port: smtp.port, smtp_from: "releve@example.org", smtp_tls: "none", sms_url_template: "" }, token);
    await page.getByTestId("crep-fmt-pdf").click();
    await page.getByTestId("crep-email").click();
    await page.locator('[data-testid="crep-msg"].ok-text').waitFor({ timeout: 30_000 });
    const detail = await api("meter_get", { id: m.id }, token);
    assert.equal(await page.getByTestId("crep-msg").innerText(), `Rapport envoyé à ${detail.customer.email}.`);
    const mails = smtp.messages();
    assert.equal(mails.length, 1);
    assert.match(mails[0], new RegExp(`^To: .*${detail.customer.email.replace(/[.]/g, "\\.")}`, "mi"));
    assert.match(mails[0], /Content-Disposition: attachment;\s+filename\S*="?consommation-[^"\r\n]+\.pdf/i, "the PDF attached");
    await shot(page, "consumer-report");
    assert.deepEqual(errors.map(String), []);
  } finally {
    if (smtp) smtp.stop();
    await ctx.close();
  }
});

test("English: the billing editor and the jobs screen have no untranslated keys", async () => {
  await setUp();
  const { ctx, page, errors } = await newPage({ locale: "en" });
  try {
    await login(page, "manager", "manager");
    await page.getByTestId("nav-export").click();
    await page.locator('[data-testid="lay-row"][data-name="Facturation largeur fixe"]').getByTestId("lay-open").click();
    await page.getByTestId("lay-editor").waitFor();
    await page.getByTestId("lay-preview").click();
    await page.getByTestId("lay-summary").waitFor();
    const text = await page.locator("#view").innerText();
    assert.doesNotMatch(text, /\b(lay|job|crep|export)\.[a-z]+/, "no raw i18n key");
    assert.match(text, /Fixed width/);
    assert.match(text, /Value at billing date/, "variable labels in English");
    await shot(page, "fixed-en");

    // A width error, worded in English from the same structured error.
    await fieldRow(page, "fields", "value_end").locator('[data-k="width"]').fill("3");
    await page.getByTestId("lay-preview").click();
    await page.getByTestId("lay-errors").waitFor();
    const err = await page.getByTestId("lay-error").first().innerText();
    assert.match(err, /^Meter \d+, field 4 “Value at billing date”: “\d+” does not fit in 3 characters\.$/, err);
    assert.match(await page.getByTestId("lay-errors").innerText(), /5 value\(s\) cannot be written/);
    await shot(page, "fixed-error-en");
    await page.getByTestId("lay-run").click();
    await page.locator('[data-testid="lay-msg"].error-text').waitFor();
    assert.match(await page.getByTestId("lay-msg").innerText(), /^Export refused, nothing was written\. Meter \d+, field 4 “Value at billing date”: .* does not fit in 3 characters\. … and 4 more\.$/);
    await fieldRow(page, "fields", "value_end").locator('[data-k="width"]').fill("10");

    // Delete, with a confirmation in the row.
    await page.locator('[data-testid="lay-row"][data-name="Facturation largeur fixe"]').getByTestId("lay-delete").click();
    await page.getByTestId("lay-delete-ok").click();
    await page.locator('[data-testid="lay-row"][data-name="Facturation largeur fixe"]').waitFor({ state: "detached" });
    assert.equal(await page.getByTestId("lay-hint").count(), 1, "the open layout was the deleted one");
    assert.ok(!(await api("export_layouts_list", {}, token)).some((l) => l.name === "Facturation largeur fixe"));
    await page.getByTestId("nav-jobs").click();
    await page.getByTestId("job-row").first().waitFor();
    const jobs = await page.locator("#view").innerText();
    assert.match(jobs, /every month on day 1 at 06:00/);
    assert.doesNotMatch(jobs, /\b(lay|job|crep)\.[a-z]+/);
    assert.deepEqual(errors.map(String), []);
  } finally {
    await ctx.close();
  }
});
