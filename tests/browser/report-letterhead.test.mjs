// Browser test of issue 15's letterhead and scheduled-export checks, in French and English:
// - the manager sets the utility's letterhead on its Settings screen (name, address, contact,
//   legal text, a PNG logo uploaded; a file that is not an image refused in words), and the
//   consumer report PDF carries it: poppler reads the customer's accented name, the letterhead,
//   the title metadata with its dash, the logo image and the same period last year; page 1 is
//   rendered to PNG (tests/artifacts/report-letterhead-pdf-{fr,en}.png) to look at;
// - a scheduled export is refused at save with a folder that does not exist, or by e-mail with
//   no mail server, naming the folder or the setting; "Test" writes the file into the demo's
//   exports folder and says so; "Send a test e-mail" without a mail server says what is missing.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { ARTIFACTS, api, login, newPage } from "./harness.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const LOGO = path.resolve(here, "../../crates/core/tests/data/logo.png");

function tool(name, args, input) {
  const r = spawnSync(name, args, { input, maxBuffer: 64 * 1024 * 1024 });
  assert.equal(r.status, 0, `${name}: ${r.stderr}`);
  return r.stdout;
}

/** A meter of the demo with a customer whose name has an accent, else the first with one. */
async function meterWithCustomer(token) {
  const all = await api("meters_list", { limit: 500 }, token);
  const rows = all.rows.filter((r) => r.customer_name);
  return rows.find((r) => /[À-ÿ]/.test(r.customer_name)) || rows[0];
}

test("manager: the letterhead set on its screen is on the consumer report PDF, with last year, FR and EN", async () => {
  const { ctx, page, errors } = await newPage({ locale: "fr" });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "releve-lh-"));
  try {
    const token = await login(page, "manager", "manager");
    await page.goto(page.url().replace(/#.*$/, "") + "#/notifications");
    await page.getByTestId("nav-letterhead").click();
    await page.waitForURL(/#\/letterhead$/);
    await page.getByRole("heading", { name: "En-tête des rapports de consommation" }).waitFor();

    // Not an image: refused in words, nothing saved.
    const fake = path.join(tmp, "logo.png");
    fs.writeFileSync(fake, "ceci n'est pas une image");
    await page.getByTestId("lh-name").fill("Régie des eaux de Saint-Chamond");
    await page.getByTestId("lh-logo-file").setInputFiles(fake);
    await page.getByTestId("lh-save").click();
    await page.getByTestId("lh-msg").filter({ hasText: "PNG" }).waitFor();
    assert.equal(await page.getByTestId("lh-msg").innerText(), "Erreur : Saisie incorrecte — logo : ce n’est pas une image PNG ou JPEG lisible");
    assert.equal((await api("consumer_report_letterhead", {}, token)).name, "", "nothing saved");

    await page.getByTestId("lh-address").fill("Hôtel de ville — 1 place de la Liberté\n42400 Saint-Chamond");
    await page.getByTestId("lh-contact").fill("04 77 31 00 00 · releve@saint-chamond.example");
    await page.getByTestId("lh-legal").fill("Régie dotée de l’autonomie financière — SIRET 214 202 079 00017.");
    await page.getByTestId("lh-logo-file").setInputFiles(LOGO);
    await page.locator('[data-testid="lh-logo-preview"]:not([hidden])').waitFor();
    await page.getByTestId("lh-save").click();
    await page.getByTestId("lh-msg").filter({ hasText: "En-tête enregistré." }).waitFor();
    const saved = await api("consumer_report_letterhead", {}, token);
    assert.equal(saved.name, "Régie des eaux de Saint-Chamond");
    assert.equal(Buffer.from(saved.logo_base64, "base64").equals(fs.readFileSync(LOGO)), true, "the logo's bytes");
    await page.screenshot({ path: path.join(ARTIFACTS, "report-letterhead-fr.png"), fullPage: true });

    const meter = await meterWithCustomer(token);
    for (const locale of ["fr", "en"]) {
      const file = await api("consumer_report", { meter_id: meter.id, from: "2026-10-01", to: "2026-11-30", resolution: "month", format: "pdf", locale }, token);
      const pdf = Buffer.from(file.content_base64, "base64");
      const text = tool("pdftotext", ["-layout", "-enc", "UTF-8", "-", "-"], pdf).toString("utf8");
      for (const want of [meter.customer_name, "Régie des eaux de Saint-Chamond", "Hôtel de ville — 1 place de la Liberté", "SIRET 214 202 079 00017",
        locale === "fr" ? "Même période l'an dernier (du 01/10/2025 au 30/11/2025)" : "Same period last year (from 1 Oct 2025 to 30 Nov 2025)"]) {
        assert.ok(text.includes(want), `${want} in the ${locale} PDF:\n${text}`);
      }
      const info = tool("pdfinfo", ["-enc", "UTF-8", "-"], pdf).toString("utf8");
      const title = locale === "fr" ? `Relevé de consommation ${meter.serial} — du 01/10/2026 au 30/11/2026` : `Consumption report ${meter.serial} — from 1 Oct 2026 to 30 Nov 2026`;
      assert.ok(info.split("\n").some((l) => l.startsWith("Title:") && l.endsWith(title)), `title with its dash: ${info}`);
      const pdfPath = path.join(tmp, `r-${locale}.pdf`);
      fs.writeFileSync(pdfPath, pdf);
      const images = tool("pdfimages", ["-list", pdfPath]).toString("utf8").trim().split("\n").slice(2);
      assert.equal(images.length, 1, "the logo");
      assert.deepEqual(images[0].trim().split(/\s+/).slice(3, 5), ["160", "64"]);
      tool("pdftoppm", ["-png", "-r", "70", "-f", "1", "-l", "1", "-singlefile", pdfPath, path.join(ARTIFACTS, `report-letterhead-pdf-${locale}`)]);
    }

    await page.getByTestId("lang-select").selectOption("en");
    await page.getByRole("heading", { name: "Consumer report letterhead" }).waitFor();
    assert.equal(await page.getByTestId("lh-name").inputValue(), "Régie des eaux de Saint-Chamond");
    await page.screenshot({ path: path.join(ARTIFACTS, "report-letterhead-en.png"), fullPage: true });
    assert.deepEqual(errors.map(String), []);
  } finally {
    await ctx.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test("manager: a scheduled export checked on save and tested; a test e-mail without a server, FR and EN", async () => {
  const { ctx, page, errors } = await newPage({ locale: "fr" });
  try {
    const token = await login(page, "manager", "manager");
    const [demo] = (await api("export_jobs_list", {}, token)).filter((j) => j.name === "Facturation eau mensuelle");
    assert.ok(fs.statSync(demo.folder).isDirectory(), "the demo's job folder exists: " + demo.folder);
    const missing = path.join(demo.folder, "pas-encore-cree");
    await page.getByTestId("nav-jobs").click();
    await page.waitForURL(/#\/jobs$/);
    await page.getByTestId("job-name").fill("Test du dossier");
    await page.getByTestId("job-layout").selectOption("Facturation eau (CSV)");
    await page.getByTestId("job-every-monthly").click();
    await page.getByTestId("job-dest-folder").click();
    await page.getByTestId("job-folder").fill(missing);
    await page.getByTestId("job-save").click();
    await page.getByTestId("job-folder").and(page.locator('[aria-invalid="true"]')).waitFor();
    assert.equal(await page.getByTestId("job-msg").innerText(), `Erreur : Le dossier ${missing} n’existe pas : créez-le ou choisissez-en un autre.`);
    assert.ok(!(await api("export_jobs_list", {}, token)).some((j) => j.name === "Test du dossier"), "not saved");

    // E-mail with no mail server: refused, naming the setting.
    await page.getByTestId("job-dest-email").click();
    await page.getByTestId("job-email").fill("compta@example.org");
    await page.getByTestId("job-save").click();
    await page.getByTestId("job-msg").filter({ hasText: "serveur" }).waitFor();
    assert.equal(await page.getByTestId("job-msg").innerText(), "Erreur : Aucun serveur d’envoi d’e-mails n’est réglé. Renseignez-le dans Paramètres (serveur SMTP et expéditeur).");

    // Test into the demo's folder: the file is written, the screen says where.
    await page.getByTestId("job-dest-folder").click();
    await page.getByTestId("job-folder").fill(demo.folder);
    await page.getByTestId("job-test").click();
    await page.getByTestId("job-msg").filter({ hasText: "Test réussi" }).waitFor();
    const said = await page.getByTestId("job-msg").innerText();
    const written = said.slice(said.indexOf("→ ") + 2, -1);
    assert.ok(written.startsWith(demo.folder) && fs.existsSync(written), `written: ${said}`);
    assert.equal((await api("export_runs_list", {}, token)).length, 0, "a test is not a run");
    await page.screenshot({ path: path.join(ARTIFACTS, "report-letterhead-job-test-fr.png") });

    await page.getByTestId("lang-select").selectOption("en");
    await page.getByTestId("job-name").fill("Folder test");
    await page.getByTestId("job-dest-folder").click();
    await page.getByTestId("job-folder").fill(missing);
    await page.getByTestId("job-save").click();
    await page.getByTestId("job-msg").filter({ hasText: "does not exist" }).waitFor();
    assert.equal(await page.getByTestId("job-msg").innerText(), `Error: The folder ${missing} does not exist: create it or choose another one.`);
    await page.screenshot({ path: path.join(ARTIFACTS, "report-letterhead-job-en.png") });

    // The mail settings' test e-mail, with no server set.
    await page.goto(page.url().replace(/#.*$/, "") + "#/notifications");
    await page.getByTestId("nt-test-to").fill("chef@example.org");
    await page.getByTestId("nt-test-send").click();
    await page.getByTestId("nt-test-msg").filter({ hasText: "server" }).waitFor();
    assert.match(await page.getByTestId("nt-test-msg").innerText(), /No e-mail server is set/);
    await page.getByTestId("nt-settings-form").screenshot({ path: path.join(ARTIFACTS, "report-letterhead-testmail-en.png") });
    assert.deepEqual(errors.map(String), []);
  } finally {
    await ctx.close();
  }
});
