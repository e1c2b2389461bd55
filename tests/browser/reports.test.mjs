// Browser test of the reports: consumption per consumer (limits, the result as a group) and
// reading performance (average, saved with a comment). Same set-up as screens.test.mjs:
// $RELEVE_URL, or a demo database (300 meters, seed 7) built with $RELEVE_BIN (default
// ../../target/debug/releve) and `releve serve` on a free port.
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



/** Wait until a report result shows its table (or an error). */
async function settled(page, prefix) {
  await page.waitForFunction((p) => {
    const out = document.querySelector(`[data-testid="${p}-result"]`);
    return out && !out.classList.contains("loading") && out.querySelector(".report-table, [data-testid='rep-error']");
  }, prefix);
  const err = page.getByTestId("rep-error");
  if (await err.count()) throw new Error(await err.innerText());
}

const consumptions = (page) => page.getByTestId("rc-row").evaluateAll((els) => els.map((e) => e.dataset.consumption));

test("superuser: consumption over 3 months, a limit, the result as a new group", async () => {
  const { ctx, page, errors } = await newPage();
  try {
    const token = await login(page, "superuser", "superuser");
    await page.getByTestId("nav-reports").click();
    await page.waitForURL(/#\/reports$/);
    assert.equal(await page.getByTestId("placeholder").count(), 0, "no placeholder any more");
    assert.equal(await page.getByTestId("rc-preset").inputValue(), "3months");
    const from = await page.getByTestId("rc-from").inputValue();
    const to = await page.getByTestId("rc-to").inputValue();
    assert.match(from, /^\d{4}-\d{2}-01$/);
    await page.getByTestId("rc-run").click();
    await settled(page, "rc");

    const all = await api("report_consumption", { from, to, limit: 5000 }, token);
    // 300 meters, one replaced before the period (it leaves the report): 299 in service.
    assert.equal(all.meters, 299);
    assert.ok(all.count === 299 && all.totals.length > 0, "every meter in service listed, with totals");
    assert.equal(await page.getByTestId("rc-row").count(), 200, "first page");
    assert.equal(await page.getByTestId("rc-count").getAttribute("data-count"), "299");
    const total = await page.getByTestId("rc-total").innerText();
    assert.match(total, /m³/, `total shown per unit: ${total}`);
    const shown = (await consumptions(page)).slice(0, 20);
    assert.deepEqual(shown, all.rows.slice(0, 20).map((r) => (r.consumption === null ? "" : String(r.consumption))), "largest first, as the command");
    const href = await page.getByTestId("rc-chart").first().getAttribute("href");
    assert.equal(href, `#/meters/${all.rows[0].meter_id}`);
    await page.screenshot({ path: path.join(ARTIFACTS, "report-consumption.png"), fullPage: false });

    // Above a limit: the 25th largest consumption.
    const limit = all.rows[24].consumption;
    await page.getByTestId("rc-limit-kind").selectOption("above");
    await page.getByTestId("rc-limit").fill(String(limit));
    await page.getByTestId("rc-run").click();
    const above = await api("report_consumption", { from, to, above: limit }, token);
    await page.waitForFunction((n) => document.querySelector('[data-testid="rc-count"]')?.dataset.count === String(n), above.count);
    await settled(page, "rc");
    const values = (await consumptions(page)).map(Number);
    assert.equal(values.length, above.count);
    assert.ok(above.count > 0 && above.count < 25, `a few meters above ${limit}: ${above.count}`);
    assert.ok(values.every((v) => v > limit), "every listed consumption is above the limit");

    // The listed meters into a new group, in one click.
    const name = "Gros consommateurs (test)";
    await page.getByTestId("rc-target").selectOption("new");
    await page.getByTestId("rc-group-name").fill(name);
    await page.getByTestId("rc-add-group").click();
    await page.getByTestId("rc-group-done").waitFor();
    assert.equal(await page.getByTestId("rc-group-done").getAttribute("data-added"), String(above.count));
    const groups = await api("groups_list", {}, token);
    const g = groups.find((x) => x.name === name);
    assert.ok(g, "the group exists");
    assert.equal(g.meter_count, above.count);
    const members = await api("meters_list", { group_id: g.id, limit: 500 }, token);
    assert.deepEqual(members.rows.map((r) => r.id).sort(), [...above.meter_ids].sort());
    assert.deepEqual(errors, []);
  } finally { await ctx.close(); }
});

test("clerk: reading performance over 30 days, saved with a comment", async () => {
  const { ctx, page, errors } = await newPage();
  try {
    const token = await login(page, "clerk", "clerk");
    await page.goto(baseUrl + "/#/reports");
    await page.getByTestId("tab-performance").click();
    assert.equal(await page.getByTestId("rp-preset").inputValue(), "30days");
    assert.equal(await page.getByTestId("rp-expected").inputValue(), "1");
    await page.getByTestId("rp-run").click();
    await settled(page, "rp");
    const from = await page.getByTestId("rp-from").inputValue();
    const to = await page.getByTestId("rp-to").inputValue();
    const r = await api("report_performance", { from, to, expected_per_day: 1 }, token);
    assert.equal(r.days, 30);
    assert.equal(r.meters, 299, "the meter replaced before the period is no 0 % row");
    assert.ok(r.average > 0 && r.average <= 100, `average ${r.average}`);
    assert.equal(Number(await page.getByTestId("rp-average").getAttribute("data-value")), r.average);
    assert.match(await page.getByTestId("rp-average").innerText(), /\d+(,\d)? %/);
    assert.equal(await page.getByTestId("rp-missing").innerText(), String(r.missing));
    const perfs = (await page.getByTestId("rp-row").evaluateAll((els) => els.map((e) => Number(e.dataset.performance))));
    assert.deepEqual(perfs, [...perfs].sort((a, b) => a - b), "worst first");
    assert.equal(perfs.length, Math.min(200, r.meters));

    // Save with a comment, then change the comment.
    await page.getByTestId("rp-comment").fill("Concentrateur nord en panne");
    await page.getByTestId("rp-save").click();
    await page.getByTestId("rp-saved-msg").waitFor();
    const row = page.getByTestId("saved-row").first();
    await row.waitFor();
    assert.equal(await row.getByTestId("saved-comment").innerText(), "Concentrateur nord en panne");
    await row.getByTestId("saved-edit").click();
    await row.getByTestId("saved-comment-input").fill("Réparé");
    await row.getByTestId("saved-comment-save").click();
    await page.waitForFunction(() => document.querySelector('[data-testid="saved-comment"]')?.textContent === "Réparé");
    const saved = await api("report_performance_list", {}, token);
    assert.equal(saved[0].comment, "Réparé");
    assert.equal(saved[0].average, r.average);
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: path.join(ARTIFACTS, "report-performance.png"), fullPage: false });
    assert.deepEqual(errors, []);
  } finally { await ctx.close(); }
});
