// Browser test of the Relevé web UI (playwright-core + Debian chromium).
// Server: $RELEVE_URL if set; otherwise builds a demo database with $RELEVE_BIN
// (default ../../target/debug/releve) and runs `releve serve` on a free port.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import net from "node:net";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

import { ARTIFACTS, api, baseUrl, login, newPage } from "./harness.mjs";


const bucketsOf = (page) => page.getByTestId("histogram").getAttribute("data-buckets").then(Number);
const barHeights = (page) => page.locator('[data-testid="histogram"] .bar').evaluateAll((els) => els.map((e) => Number(e.getAttribute("height"))));

test("clerk: login, meters, meter histogram, language, export", async () => {
  const { ctx, page, errors } = await newPage({ locale: null });
  try {
    // Login screen: wrong password gives an error in words, then a real login.
    await page.goto(baseUrl + "/");
    await page.getByTestId("login-user").waitFor();
    assert.match(await page.locator(".demo-accounts").innerText(), /clerk/);
    await page.getByTestId("login-lang").selectOption("fr");
    await page.getByTestId("login-user").fill("clerk");
    await page.getByTestId("login-password").fill("wrong");
    await page.getByTestId("login-submit").click();
    await page.getByTestId("login-error").waitFor({ state: "visible" });
    assert.match(await page.getByTestId("login-error").innerText(), /incorrect/i);
    await page.screenshot({ path: path.join(ARTIFACTS, "login.png") });
    await login(page, "clerk", "clerk");
    assert.match(await page.getByTestId("user-chip").innerText(), /Utilisateur/);

    // Permissions: role user cannot import, can export.
    assert.equal(await page.getByTestId("nav-import").count(), 0, "Import is not shown to a clerk");
    assert.equal(await page.getByTestId("nav-export").getAttribute("href"), "#/export");

    // Pick a water meter with readings through the API, with the UI's own token.
    const token = await page.evaluate(() => sessionStorage.getItem("releve.token"));
    assert.ok(token, "token kept in sessionStorage");
    const list = await api("meters_list", { limit: 500 }, token);
    assert.ok(list.total >= 100, `demo has meters (${list.total})`);
    const meter = list.rows.find((m) => m.device_type === "water" && m.last_seen !== null && m.status === "active")
      || list.rows.find((m) => m.device_type === "water" && m.last_seen !== null);
    assert.ok(meter, "a water meter with readings");

    // Meter list: paging text, then search narrows to exactly that meter.
    await page.getByTestId("nav-meters").click();
    await page.getByTestId("meter-row").first().waitFor();
    assert.equal(await page.getByTestId("meter-row").count(), Math.min(50, list.total));
    const range = await page.getByTestId("pager-range").innerText();
    assert.match(range.replace(/\s/g, " "), /^1–50 sur /, range);
    await page.screenshot({ path: path.join(ARTIFACTS, "meters.png") });
    await page.getByTestId("meter-search").fill(meter.serial);
    await page.waitForFunction((serial) => {
      const rows = document.querySelectorAll('[data-testid="meter-row"]');
      return rows.length === 1 && rows[0].dataset.serial === serial;
    }, meter.serial, { timeout: 10_000 });
    assert.match(await page.getByTestId("pager-range").innerText(), /^1–1 sur 1$/);

    // Meter page: day histogram by default with a positive bar.
    await page.getByTestId("meter-row").click();
    await page.waitForURL(new RegExp(`#/meters/${meter.id}$`));
    assert.match(await page.getByTestId("meter-serial").innerText(), new RegExp(meter.serial));
    await page.locator('[data-testid="histogram"] .bar').first().waitFor();
    assert.equal(await page.getByTestId("histogram").getAttribute("data-resolution"), "day");
    const dayBuckets = await bucketsOf(page);
    const dayHeights = await barHeights(page);
    assert.ok(dayBuckets >= 59 && dayBuckets <= 61, `day buckets ${dayBuckets}`);
    assert.ok(dayHeights.some((h) => h > 0), "at least one bar of positive height");
    assert.match(await page.getByTestId("hist-total").innerText(), /\d/);
    await page.getByTestId("histogram").hover({ position: { x: 400, y: 150 } });
    await page.getByTestId("chart-tooltip").waitFor({ state: "visible" });
    await page.screenshot({ path: path.join(ARTIFACTS, "meter-day.png"), fullPage: true });

    // Month resolution: 13-14 buckets, bars change.
    await page.getByTestId("res-month").click();
    await page.waitForFunction(() => document.querySelector('[data-testid="histogram"]')?.getAttribute("data-resolution") === "month");
    const monthBuckets = await bucketsOf(page);
    const monthHeights = await barHeights(page);
    assert.ok(monthBuckets >= 13 && monthBuckets <= 14, `month buckets ${monthBuckets}`);
    assert.ok(monthHeights.length <= monthBuckets && monthHeights.length !== dayHeights.length, "bars changed");
    assert.ok(monthHeights.some((h) => h > 0), "a positive month bar");
    await page.screenshot({ path: path.join(ARTIFACTS, "meter-month.png"), fullPage: true });

    // Language switch: labels change both ways, the choice is kept in localStorage.
    assert.equal((await page.getByTestId("res-month").innerText()).trim(), "Mois");
    await page.getByTestId("lang-select").selectOption("en");
    await page.waitForFunction(() => document.querySelector('[data-testid="res-month"]')?.textContent.trim() === "Month");
    assert.equal((await page.getByTestId("nav-meters").innerText()).trim(), "Meters");
    assert.equal(await page.evaluate(() => localStorage.getItem("releve.locale")), "en");
    assert.equal((await api("session_info", {}, token)).settings.locale, "en", "locale sent with settings_set_locale");
    await page.getByTestId("lang-select").selectOption("fr");
    await page.waitForFunction(() => document.querySelector('[data-testid="res-month"]')?.textContent.trim() === "Mois");
    assert.equal((await page.getByTestId("nav-meters").innerText()).trim(), "Compteurs");

    // Export: the quick export tab (billing layouts come first), a CSV download with the row count shown.
    await page.getByTestId("nav-export").click();
    await page.getByTestId("export-tab-quick").click();
    await page.waitForURL(/#\/export\/quick$/);
    await page.getByTestId("export-button").waitFor();
    await page.locator('[data-testid="col-meter_serial"]').waitFor();
    assert.equal(await page.getByTestId("export-separator").inputValue(), ";", "fr default separator");
    assert.equal(await page.getByTestId("export-decimal").inputValue(), ",", "fr default decimal");
    const lastDay = new Date(meter.last_seen * 1000).toISOString().slice(0, 10);
    const firstDay = new Date((meter.last_seen - 30 * 86400) * 1000).toISOString().slice(0, 10);
    await page.getByTestId("export-from").fill(firstDay);
    await page.getByTestId("export-to").fill(lastDay);
    await page.getByTestId("col-info_codes").uncheck();
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("export-button").click()]);
    assert.match(download.suggestedFilename(), /\.csv$/i);
    const csvPath = path.join(os.tmpdir(), `releve-ui-export-${process.pid}.csv`);
    await download.saveAs(csvPath);
    const csv = fs.readFileSync(csvPath, "utf8").split(/\r?\n/).filter(Boolean);
    fs.rmSync(csvPath, { force: true });
    await page.getByTestId("export-rows").waitFor();
    const rows = Number(await page.getByTestId("export-rows").getAttribute("data-rows"));
    assert.ok(rows > 0, "exported rows");
    assert.equal(csv.length, rows + 1, "header + rows");
    assert.ok(!csv[0].includes("info"), "unticked column left out: " + csv[0]);
    assert.ok(csv[0].split(";").length >= 10, "semicolon separated: " + csv[0]);
    await page.screenshot({ path: path.join(ARTIFACTS, "export.png") });

    assert.deepEqual(errors.map(String), []);
  } finally {
    await ctx.close();
  }
});

/** A plaintext wireless M-Bus telegram: KAM water meter `serial`, volume in litres. */
function plainTelegram(serial, accessNumber, litres) {
  const id = serial.match(/../g).reverse().join("");
  const vol = Buffer.alloc(4);
  vol.writeUInt32LE(litres);
  const acc = accessNumber.toString(16).padStart(2, "0");
  const body = `442d2c${id}1b077a${acc}0000000413${vol.toString("hex")}`;
  return (body.length / 2).toString(16).padStart(2, "0") + body;
}

test("superuser: import stores good lines, lists rejected ones, creates unknown meters", async () => {
  const { ctx, page, errors } = await newPage({ locale: null });
  try {
    await login(page, "superuser", "superuser");
    assert.equal(await page.getByTestId("nav-import").isDisabled(), false);
    await page.getByTestId("nav-import").click();
    const serial = "91827364";
    const file = [plainTelegram(serial, 1, 1500), "DEADBEEF", "0badc0ffee", "ABCDEF0123", plainTelegram(serial, 2, 1750)].join("\n") + "\n";
    await page.getByTestId("import-files-input").setInputFiles({ name: "drive-by.txt", mimeType: "text/plain", buffer: Buffer.from(file) });
    await page.getByTestId("import-file-list").getByText("drive-by.txt").waitFor();
    await page.getByTestId("import-start").click();
    await page.getByTestId("import-progress").waitFor();
    await page.getByTestId("import-report").waitFor({ timeout: 30_000 });
    assert.equal(await page.getByTestId("import-progress").getAttribute("aria-valuenow"), "100");
    const rej = page.getByTestId("rejected-row");
    assert.equal(await rej.count(), 3);
    assert.deepEqual(await rej.evaluateAll((els) => els.map((e) => e.dataset.line)), ["2", "3", "4"]);
    for (let i = 0; i < 3; i++) assert.ok((await rej.nth(i).innerText()).trim().length > 2, "reason shown");
    // file, lines, telegrams, stored, duplicates, readings, new meters, rejected
    const cells = await page.getByTestId("import-file-row").locator("td").allInnerTexts();
    assert.match(cells[0], /drive-by\.txt/);
    assert.deepEqual([cells[1], cells[3], cells[4], cells.at(-2), cells.at(-1)].map((c) => c.trim()), ["5", "2", "0", "1", "3"]);
    await page.screenshot({ path: path.join(ARTIFACTS, "import-report.png"), fullPage: true });
    // The unknown meter was created, unassigned, with its readings.
    await page.evaluate(() => { location.hash = "#/meters"; });
    await page.getByTestId("meter-search").fill(serial);
    await page.waitForFunction((s) => {
      const rows = document.querySelectorAll('[data-testid="meter-row"]');
      return rows.length === 1 && rows[0].innerText.includes(s);
    }, serial, { timeout: 10_000 });
    assert.match(await page.getByTestId("meter-row").innerText(), /Non affecté/);
    assert.deepEqual(errors.map(String), []);
  } finally {
    await ctx.close();
  }
});
