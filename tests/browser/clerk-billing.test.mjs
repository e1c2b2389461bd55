// Browser test of issue 15's billing and clerk items, on the demo park (harness.mjs), in French
// and English, screenshots in tests/artifacts/clerk-billing-*.png:
// - a billing layout's dry run and run take the edits on screen without saving them, the
//   result says so; saving asks "save changes?"; leaving with unsaved edits asks;
// - the layout's encoding (UTF-8 with BOM / Windows-1252) is saved with it; the quick export
//   writes UTF-8 with BOM, French titles and dates, target dates as dates;
// - a meter exchange asks for confirmation and says it was recorded;
// - lines dated in the future are flagged in the import report (count and lines).
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { ARTIFACTS, api, baseUrl, login, newPage } from "./harness.mjs";

const shot = (page, name) => page.screenshot({ path: path.join(ARTIFACTS, `clerk-billing-${name}.png`), fullPage: true });
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "releve-clerk-billing-"));
const CSV = "Facturation eau (CSV)";

async function download(page, click) {
  const [dl] = await Promise.all([page.waitForEvent("download"), click()]);
  const file = path.join(tmp, dl.suggestedFilename());
  await dl.saveAs(file);
  return { name: dl.suggestedFilename(), bytes: fs.readFileSync(file) };
}

async function openLayout(page, name) {
  await page.goto(`${baseUrl}/#/export`);
  await page.getByTestId("export-tab-layouts").click();
  await page.locator(`[data-testid="lay-row"][data-name="${name}"]`).getByTestId("lay-open").click();
  await page.waitForFunction((n) => document.querySelector('[data-testid="lay-title"]')?.textContent.includes(n), name);
}

for (const locale of ["fr", "en"]) {
  const fr = locale === "fr";
  test(`${locale}: a billing layout runs as on screen, saving asks, leaving asks`, async () => {
    const { ctx, page, errors } = await newPage({ locale });
    try {
      const token = await login(page, "manager", "manager");
      const before = await api("export_layout_get", { name: CSV }, token);
      await openLayout(page, CSV);
      // Narrow the layout for a test: one field less, a point as decimal mark.
      const decimal = before.csv.decimal === "," ? "." : ",";
      await page.getByTestId("lay-decimal").selectOption(decimal);
      await page.getByTestId("lay-dirty").waitFor();

      await page.getByTestId("lay-dry-run").click();
      await page.getByTestId("lay-dry").waitFor();
      const note = page.getByTestId("lay-ran-unsaved");
      assert.match(await note.innerText(), fr ? /vos modifications ne sont pas enregistrées/ : /your changes are not saved/);
      assert.deepEqual(await api("export_layout_get", { name: CSV }, token), before, "a dry run saves nothing");

      const file = await download(page, () => page.getByTestId("lay-run").click());
      await page.getByTestId("lay-ran").waitFor();
      assert.deepEqual(await api("export_layout_get", { name: CSV }, token), before, "a run saves nothing");
      const text = file.bytes.toString("utf8");
      assert.ok(text.split(/\r?\n/).slice(1).some((l) => new RegExp(`\\d\\${decimal}\\d{3}`).test(l)), "the file has the edit on screen");
      await shot(page, `run-unsaved-${locale}`);

      // Leaving with unsaved edits asks; staying keeps them.
      let asked = null;
      page.once("dialog", (d) => { asked = d.message(); d.dismiss(); });
      await page.evaluate(() => { location.hash = "#/meters"; });
      await page.waitForFunction(() => location.hash === "#/export" || location.hash.startsWith("#/export"));
      await page.getByTestId("lay-dirty").waitFor();
      assert.match(asked || "", fr ? /modifications non enregistrées\. Quitter sans les enregistrer/ : /unsaved changes\. Leave without saving/);

      // Saving asks "save changes?"; cancel keeps the saved layout; confirm saves.
      await page.getByTestId("lay-encoding").selectOption("windows-1252");
      await page.getByTestId("lay-save").click();
      const confirm = page.getByTestId("lay-confirm");
      await confirm.waitFor();
      assert.match(await confirm.innerText(), fr ? new RegExp(`Enregistrer les modifications du format « ${CSV.replace(/[()]/g, "\\$&")} »`) : /Save the changes to layout/);
      await shot(page, `save-asks-${locale}`);
      await page.getByTestId("lay-confirm-cancel").click();
      assert.deepEqual(await api("export_layout_get", { name: CSV }, token), before, "cancelled: nothing saved");
      await page.getByTestId("lay-save").click();
      await page.getByTestId("lay-confirm-save").click();
      await page.locator('[data-testid="lay-msg"].ok-text').waitFor();
      const saved = await api("export_layout_get", { name: CSV }, token);
      assert.equal(saved.csv.decimal, decimal);
      assert.equal(saved.encoding, "windows-1252", "the encoding is saved with the layout");
      // Put it back as it was (for the other language's run).
      await api("export_layout_save", { layout: before }, token);
      assert.deepEqual(errors.map(String), []);
    } finally {
      await ctx.close();
    }
  });

  test(`${locale}: quick export ready for Excel, target dates as dates`, async () => {
    const { ctx, page, errors } = await newPage({ locale });
    try {
      await login(page, "manager", "manager");
      await page.goto(`${baseUrl}/#/export`);
      await page.getByTestId("export-tab-quick").click();
      await page.getByTestId("export-encoding").waitFor();
      await page.getByTestId("export-encoding").selectOption("utf-8-bom");
      await page.getByTestId("export-french").setChecked(true);
      await page.getByTestId("export-granularity").selectOption("days");
      await shot(page, `quick-${locale}`);
      const file = await download(page, () => page.getByTestId("export-button").click());
      assert.deepEqual([...file.bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf], "UTF-8 with BOM");
      const lines = file.bytes.subarray(3).toString("utf8").split(/\r?\n/).filter(Boolean);
      // The separator follows the language (";" in French, "," in English); the titles are French.
      assert.match(lines[0], /^N° client[;,]Nom du client[;,]N° de compteur[;,]/);
      assert.match(lines[1], /[;,]\d\d\/\d\d\/\d{4}[;,]/, "French dates: " + lines[1]);
      const target = lines.find((l) => /[;,]target_date[;,]/.test(l));
      assert.ok(target, "the demo's meters send target dates");
      assert.match(target, /[;,]target_date[;,]\d\d\/\d\d\/\d{4}[;,]/, "a date, not a day number: " + target);
      await page.getByTestId("export-rows").waitFor();
      assert.deepEqual(errors.map(String), []);
    } finally {
      await ctx.close();
    }
  });

  test(`${locale}: a meter exchange asks first and says it is recorded`, async () => {
    const { ctx, page, errors } = await newPage({ locale });
    try {
      const token = await login(page, "manager", "manager");
      const rows = (await api("meters_list", { limit: 200 }, token)).rows;
      const row = rows.filter((r) => r.device_type === "water" && r.status === "active" && r.last_seen)[fr ? 3 : 4];
      const d = await api("meter_get", { id: row.id }, token);
      const volume = d.registers.find((r) => r.register === "volume");
      const serial = fr ? "77665501" : "77665502";
      await page.goto(`${baseUrl}/#/meters/${row.id}`);
      await page.getByTestId("exchange-open").click();
      await page.getByTestId("exchange-new-serial").fill(serial);
      await page.getByTestId("exchange-final").fill(String(Math.round((volume.last_value + 1) * 1000) / 1000));
      await page.getByTestId("exchange-submit").click();
      const box = page.getByTestId("exchange-confirm");
      await box.waitFor();
      assert.match(await box.innerText(), fr ? new RegExp(`Remplacer le compteur ${d.meter.serial} par ${serial} \\?[\\s\\S]*ne peut pas être annulé`) : new RegExp(`Replace meter ${d.meter.serial} by ${serial}\\?[\\s\\S]*cannot be undone`));
      assert.doesNotMatch(await box.innerText(), /[{}]|\d{4}-\d\d-\d\d/, "filled in, local date");
      await shot(page, `exchange-confirm-${locale}`);
      // Back: nothing recorded.
      await page.getByTestId("exchange-confirm-back").click();
      assert.equal((await api("meter_get", { id: row.id }, token)).meter.status, "active");
      await page.getByTestId("exchange-submit").click();
      await page.getByTestId("exchange-confirm-ok").click();
      const done = page.getByTestId("exchange-done");
      await done.waitFor();
      assert.match(await done.innerText(), fr ? new RegExp(`Échange enregistré : le compteur ${d.meter.serial} est remplacé par ${serial}`) : new RegExp(`Exchange recorded: meter ${d.meter.serial} is replaced by ${serial}`));
      assert.doesNotMatch(await done.innerText(), /[{}]/, "every value filled in");
      assert.doesNotMatch(await done.innerText(), /\d{4}-\d\d-\d\d/, "a local date");
      await shot(page, `exchange-done-${locale}`);
      assert.equal((await api("meter_get", { id: row.id }, token)).meter.status, "removed");
      assert.deepEqual(errors.map(String), []);
    } finally {
      await ctx.close();
    }
  });

  test(`${locale}: lines dated in the future are flagged in the import report`, async () => {
    const { ctx, page, errors } = await newPage({ locale });
    try {
      await login(page, "manager", "manager");
      const paris = (ms) => new Date(ms).toLocaleString("sv-SE", { timeZone: "Europe/Paris" });
      const now = Date.now();
      const serial = fr ? "12345678" : "12345679";
      const lines = [
        `T1;1;1;${paris(now - 3600_000)}.000;80;;;0x${plainTelegram(serial, 1, 1000)}`,
        `T1;1;1;${paris(now + 86400_000)}.000;80;;;0x${plainTelegram(serial, 2, 2000)}`,
        `T1;1;1;${paris(now + 2 * 86400_000)}.000;80;;;0x${plainTelegram(serial, 3, 3000)}`,
      ].join("\n");
      await page.goto(`${baseUrl}/#/import`);
      await page.getByTestId("import-files-input").setInputFiles({ name: "horloge.txt", mimeType: "text/plain", buffer: Buffer.from(lines) });
      await page.getByTestId("import-start").click();
      const note = page.getByTestId("import-future-note");
      await note.waitFor({ timeout: 30_000 });
      assert.equal(await note.getAttribute("data-count"), "2");
      assert.match(await note.innerText(), fr ? /2 lignes sont datées dans le futur .*: lignes 2, 3\./ : /2 lines are dated in the future .*: lines 2, 3\./);
      await shot(page, `import-future-${locale}`);
      assert.deepEqual(errors.map(String), []);
    } finally {
      await ctx.close();
    }
  });
}

/** A plaintext Kamstrup water telegram of meter `serial` (volume `litres`), as hex. */
function plainTelegram(serial, access, litres) {
  const vol = Buffer.alloc(4);
  vol.writeUInt32LE(litres);
  const id = serial.match(/../g).reverse().join("");
  const body = `442d2c${id}1b077a${access.toString(16).padStart(2, "0")}0000000413${vol.toString("hex")}`;
  return (body.length / 2).toString(16).padStart(2, "0") + body;
}
