// The data retention screen (Settings > Data retention) on a real `releve serve` whose demo
// was built two months ago (`--now`); the server leaves its nightly run off (the harness sets
// RELEVE_NIGHTLY_RETENTION=off; the nightly run has its own test in crates/api/src/jobs.rs),
// so the screen is the same at any hour. The
// manager saves the periods (a refused value worded in French; 1 month in full), sees what
// the next purge removes, runs it with a progress bar, and the preview then shows nothing
// left; the counts removed equal the preview's. English screen too. A clerk has no link and
// the server refuses the commands.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import path from "node:path";

import { ARTIFACTS, api, baseUrl, login, newPage, useDatabase } from "./harness.mjs";

const shot = (page, name) => page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
const ago = new Date(Date.now() - 60 * 86_400_000).toISOString().slice(0, 10);
useDatabase((bin, db) => spawnSync(bin, ["demo", "--db", db, "--meters", "60", "--seed", "3", "--now", ago], { encoding: "utf8", timeout: 600_000 }));

const number = (s) => Number(s.replace(/[\s\u202f\u00a0,]/g, ""));
const ROWS = ["readings_compacted", "readings_purged", "telegrams", "info_code_events", "reading_conflicts", "reading_feed", "info_code_feed"];

test("manager: preview, periods, run now with progress, nothing left after", async () => {
  const { ctx, page, errors } = await newPage({ locale: "fr" });
  try {
    const token = await login(page, "manager", "manager");
    // Nothing was purged before the manager runs it (the night's run is off for tests).
    assert.equal((await api("audit_log", { event: "retention_run" }, token)).entries.length, 0);
    await page.goto(`${baseUrl}/#/notifications`);
    await page.getByTestId("nav-retention").click();
    await page.getByTestId("ret-c-readings_compacted").waitFor();
    assert.equal(await page.getByTestId("ret-readings_full_months").inputValue(), "13");
    assert.equal(await page.getByTestId("ret-readings_years").inputValue(), "10");

    // A period too short for the full one: refused, worded in French; then a valid save
    // (one month in full), and the preview follows.
    await page.getByTestId("ret-readings_full_months").fill("24");
    await page.getByTestId("ret-readings_years").fill("1");
    await page.getByTestId("ret-save").click();
    await page.getByTestId("ret-msg").filter({ hasText: /\S/ }).waitFor();
    assert.ok(await page.getByTestId("ret-msg").evaluate((e) => e.classList.contains("error-text")));
    const refusal = await page.getByTestId("ret-msg").innerText();
    await page.getByTestId("ret-readings_full_months").fill("1");
    await page.getByTestId("ret-readings_years").fill("10");
    await page.getByTestId("ret-save").click();
    await page.getByTestId("ret-msg").filter({ hasText: "Durées enregistrées." }).waitFor();
    await page.waitForFunction(() => document.querySelector('[data-testid="ret-counts"]').dataset.fullMonths === "1");
    const compacted = number(await page.getByTestId("ret-c-readings_compacted").innerText());
    assert.ok(compacted > 10_000, `readings to compact: ${compacted}`);
    const meters = number(await page.getByTestId("ret-c-meters").innerText());
    assert.ok(meters > 0 && meters <= 60, `meters concerned: ${meters} (the hourly ones: daily meters have one a day already)`);
    assert.match(await page.getByTestId("ret-c-bytes").innerText(), /\d+([,.]\d)? (Mo|ko)/);
    assert.match(await page.getByTestId("ret-cutoffs").innerText(), /Relevés complets depuis le \d/);
    let expected = 0;
    for (const k of ROWS) expected += number(await page.getByTestId("ret-c-" + k).innerText());
    await shot(page, "retention-fr");
    console.log("refusal worded: " + refusal);

    // Run now: a progress bar, then the result; the preview then shows nothing left.
    await page.getByTestId("ret-run").click();
    await page.getByTestId("ret-progress").waitFor();
    await page.waitForFunction(() => document.querySelector('[data-testid="ret-result"]').dataset.rows !== undefined, null, { timeout: 120_000 });
    const removed = Number(await page.getByTestId("ret-result").evaluate((e) => e.dataset.rows));
    assert.equal(removed, expected, "the run removed what the preview said");
    assert.match(await page.getByTestId("ret-result").innerText(), new RegExp(`lignes supprimées sur ${meters} compteurs ; fichier .* → `));
    assert.equal(await page.getByTestId("ret-progress").getAttribute("aria-valuenow"), "100");
    await page.waitForFunction(() => document.querySelector('[data-testid="ret-c-readings_compacted"]')?.innerText.trim() === "0");
    await shot(page, "retention-run-fr");
    assert.deepEqual(errors, []);
  } finally {
    await ctx.close();
  }
});

test("English screen; a clerk has no link and is refused", async () => {
  const { ctx, page, errors } = await newPage({ locale: "en" });
  try {
    await login(page, "manager", "manager");
    await page.goto(`${baseUrl}/#/retention`);
    await page.getByTestId("ret-c-readings_compacted").waitFor();
    assert.match(await page.getByRole("heading", { level: 1 }).innerText(), /Data retention/);
    assert.match(await page.getByTestId("ret-cutoffs").innerText(), /Readings in full since/);
    await shot(page, "retention-en");
    assert.deepEqual(errors, []);
  } finally {
    await ctx.close();
  }
  const clerk = await newPage({ locale: "fr" });
  try {
    const token = await login(clerk.page, "clerk", "clerk");
    await clerk.page.goto(`${baseUrl}/#/notifications`);
    await clerk.page.waitForTimeout(500);
    assert.equal(await clerk.page.getByTestId("nav-retention").count(), 0);
    await assert.rejects(api("retention_preview", {}, token), /HTTP 403/);
    await assert.rejects(api("retention_run", {}, token), /HTTP 403/);
  } finally {
    await clerk.ctx.close();
  }
});
