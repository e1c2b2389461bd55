// Browser test of personal data (issue 12) on the demo park (set-up: harness.mjs): the
// manager downloads a customer's personal data from the meter page (the ZIP opened and
// checked: CSV files with the customer's readings, a PDF summary naming them), moves the
// customer out with a new occupant after a confirmation (billing totals unchanged), and
// reads the register of processing in French and English; a clerk without
// `view_intervals` is offered no hourly chart and is refused hourly data by the server.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

import { ARTIFACTS, api, baseUrl, login, newPage } from "./harness.mjs";

async function download(page, click) {
  const [dl] = await Promise.all([page.waitForEvent("download"), click()]);
  const file = path.join(ARTIFACTS, dl.suggestedFilename());
  await dl.saveAs(file);
  return file;
}

/** A file of a ZIP, read with the system's unzip (not our own reader). */
function unzipped(zip, name) {
  const r = spawnSync("unzip", ["-p", zip, name], { maxBuffer: 256 * 1024 * 1024 });
  assert.equal(r.status, 0, `unzip ${name}: ${r.stderr}`);
  return r.stdout;
}

/** An active water meter with a customer and readings. */
async function pick(token) {
  const page = await api("meters_list", { limit: 300 }, token);
  const row = page.rows.find((r) => r.device_type === "water" && r.status === "active" && r.last_seen && r.customer_name);
  assert.ok(row, "a water meter with a customer");
  return api("meter_get", { id: row.id }, token);
}

function isoDaysAgo(n) {
  const d = new Date(Date.now() - n * 86400000);
  return d.toISOString().slice(0, 10);
}

async function consumptionTotals(token) {
  const r = await api("report_consumption", { from: isoDaysAgo(90), to: isoDaysAgo(1), limit: 5000 }, token);
  return { totals: r.totals, rows: r.rows.map((x) => [x.serial, x.consumption]).sort() };
}

test("manager: personal data export from the meter page, then a move-out with confirmation", async () => {
  const { ctx, page, errors } = await newPage({ locale: "fr" });
  try {
    const token = await login(page, "manager", "manager");
    const d = await pick(token);
    const name = d.customer.name;
    await page.goto(`${baseUrl}/#/meters/${d.meter.id}`);
    await page.getByTestId("customer-card").waitFor();
    assert.equal((await page.getByTestId("pd-export").textContent()).trim(), "Export des données personnelles");

    // The ZIP, opened with unzip: the customer, their readings, the PDF summary naming them.
    const zip = await download(page, () => page.getByTestId("pd-export").click());
    assert.match(path.basename(zip), /^donnees-personnelles-.*\.zip$/);
    const list = spawnSync("unzip", ["-l", zip], { encoding: "utf8" }).stdout;
    for (const f of ["customer.csv", "meters.csv", "readings.csv", "alarms.csv", "notices.csv", "exports.csv", "summary.pdf"]) {
      assert.match(list, new RegExp(f.replace(".", "\\.")), `${f} in the archive`);
    }
    assert.ok(unzipped(zip, "customer.csv").toString("utf8").includes(name), "customer.csv names the customer");
    const readings = unzipped(zip, "readings.csv").toString("utf8").trim().split("\n");
    assert.equal(readings[0], "meter_serial;timestamp;register;value;unit");
    assert.ok(readings.length > 10, `readings (${readings.length - 1})`);
    assert.ok(readings.slice(1).every((l) => l.startsWith(d.meter.serial + ";") || !l.includes(";")), "only this customer's meters");
    const pdf = unzipped(zip, "summary.pdf");
    assert.equal(pdf.subarray(0, 5).toString("latin1"), "%PDF-");
    // The PDF's text as poppler reads it (the font is embedded and subset: no plain strings).
    const pdfText = spawnSync("pdftotext", ["-enc", "UTF-8", "-", "-"], { input: pdf }).stdout.toString("utf8");
    assert.ok(pdfText.includes(name), "the summary names the customer");
    await page.waitForFunction(() => document.querySelector('[data-testid="pd-msg"]')?.dataset.file);
    await page.getByTestId("customer-card").screenshot({ path: path.join(ARTIFACTS, "gdpr-customer-fr.png") });

    // Move-out 30 days ago with a new occupant, confirmed; billing totals do not move.
    const before = await consumptionTotals(token);
    await page.getByTestId("pd-moveout-open").click();
    await page.getByTestId("pd-moveout-form").waitFor();
    await page.getByTestId("pd-date").fill(isoDaysAgo(30));
    await page.getByTestId("pd-new").check();
    await page.getByTestId("pd-new-name").fill("Luc Bernard");
    await page.getByTestId("pd-new-email").fill("luc.bernard@example.org");
    await page.getByTestId("pd-next").click();
    await page.getByTestId("pd-step-confirm").waitFor();
    const confirmText = await page.getByTestId("pd-confirm-text").textContent();
    assert.match(confirmText, new RegExp(`Confirmez-vous le départ de ${name}`));
    assert.match(confirmText, /Luc Bernard deviendra le client/);
    await page.getByTestId("pd-moveout-form").screenshot({ path: path.join(ARTIFACTS, "gdpr-moveout-confirm-fr.png") });
    // Back, then confirm: nothing changed before the confirmation.
    assert.equal((await api("meter_get", { id: d.meter.id }, token)).customer.name, name);
    await page.getByTestId("pd-confirm").click();
    await page.waitForFunction(() => document.querySelector('[data-testid="customer-card"]')?.textContent.includes("Luc Bernard"));
    const occupants = await page.getByTestId("pd-occupants").textContent();
    assert.match(occupants, new RegExp(`Ancien occupant #${d.customer_id}`));
    await page.getByTestId("customer-card").screenshot({ path: path.join(ARTIFACTS, "gdpr-after-moveout-fr.png") });
    const after = await api("meter_get", { id: d.meter.id }, token);
    assert.equal(after.customer.name, "Luc Bernard");
    assert.notEqual(after.customer_id, d.customer_id);
    assert.deepEqual(await consumptionTotals(token), before, "consumption over the last 90 days unchanged");
    // The former customer's own export still holds their readings, under the pseudonym.
    const former = await api("customer_subject_access", { customer_id: d.customer_id }, token);
    assert.ok(former.summary.readings > 0);
    const fresh = await api("customer_subject_access", { customer_id: after.customer_id }, token);
    assert.ok(fresh.summary.readings < former.summary.readings, "the new occupant starts clean");
    assert.deepEqual(errors, []);
  } finally {
    await ctx.close();
  }
});

for (const locale of ["fr", "en"]) {
  test(`register of processing in ${locale}: screen and PDF`, async () => {
    const { ctx, page, errors } = await newPage({ locale });
    try {
      await login(page, "manager", "manager");
      await page.goto(`${baseUrl}/#/notifications`);
      await page.getByTestId("gr-link").click();
      await page.locator('[data-testid="gr-entry"]').first().waitFor();
      const retention = await page.getByTestId("gr-readings-retention").textContent();
      assert.equal(retention, locale === "fr"
        ? "Complets 13 mois, puis un relevé par jour, supprimés après 10 ans"
        : "In full for 13 months, then one a day, deleted after 10 years");
      assert.ok(await page.locator('[data-testid="gr-entry"]').count() >= 8);
      await page.screenshot({ path: path.join(ARTIFACTS, `gdpr-register-${locale}.png`), fullPage: true });
      const pdf = await download(page, () => page.getByTestId("gr-pdf").click());
      assert.equal(fs.readFileSync(pdf).subarray(0, 5).toString("latin1"), "%PDF-");
      assert.match(path.basename(pdf), locale === "fr" ? /^registre-traitements-/ : /^register-of-processing-/);
      // The meter page's personal data actions, in this language.
      const token = await page.evaluate(() => sessionStorage.getItem("releve.token"));
      const d = await pick(token);
      await page.goto(`${baseUrl}/#/meters/${d.meter.id}`);
      await page.getByTestId("pd-export").waitFor();
      assert.equal((await page.getByTestId("pd-export").textContent()).trim(), locale === "fr" ? "Export des données personnelles" : "Personal data export");
      await page.getByTestId("pd-moveout-open").click();
      await page.getByTestId("pd-moveout-form").waitFor();
      await page.screenshot({ path: path.join(ARTIFACTS, `gdpr-meter-${locale}.png`) });
      assert.deepEqual(errors, []);
    } finally {
      await ctx.close();
    }
  });
}

test("clerk without view_intervals: daily charts only, hourly data refused by the server", async () => {
  const { ctx, page, errors } = await newPage({ locale: "en" });
  try {
    const token = await login(page, "clerk", "clerk");
    const d = await pick(token);
    await page.goto(`${baseUrl}/#/meters/${d.meter.id}`);
    await page.getByTestId("res-day").waitFor();
    assert.equal(await page.getByTestId("res-hour").count(), 0, "no hourly choice");
    assert.equal(await page.getByTestId("pd-export").count(), 0, "no personal data export");
    await page.locator('[data-testid="histogram"] .bar').first().waitFor();
    await page.screenshot({ path: path.join(ARTIFACTS, "gdpr-clerk-meter-en.png") });
    const r = await fetch(`${baseUrl}/api/meter_histogram`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: "Bearer " + token },
      body: JSON.stringify({ id: d.meter.id, resolution: "hour", from: isoDaysAgo(2), to: isoDaysAgo(1) }),
    });
    assert.equal(r.status, 403);
    assert.equal((await r.json()).error.code, "intervals_not_allowed");
    const refused = await fetch(`${baseUrl}/api/customer_subject_access`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: "Bearer " + token },
      body: JSON.stringify({ customer_id: d.customer_id || 1 }),
    });
    assert.equal(refused.status, 403);
    // The export offers one reading a day, and says why.
    await page.goto(`${baseUrl}/#/export/quick`);
    await page.getByTestId("export-granularity").waitFor();
    assert.deepEqual(await page.getByTestId("export-granularity").locator("option").evaluateAll((o) => o.map((x) => x.value)), ["days"]);
    await page.getByTestId("export-daily-note").waitFor();
    await page.screenshot({ path: path.join(ARTIFACTS, "gdpr-clerk-export-en.png") });
    assert.deepEqual(errors, []);
  } finally {
    await ctx.close();
  }
});
