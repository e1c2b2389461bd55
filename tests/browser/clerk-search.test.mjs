// Issue 15, the clerk's day: the meter search finds "celine", "Jaures", "Durand Céline",
// "Saint-Chamond 42400" and "kam" (accents, case, word order); a replaced meter leaves the
// start page's totals and alarms; the consumption report totals and ranks per kind with a
// meter-type filter. French and English, on the 300-meter demo (one exchange).
import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";

import { ARTIFACTS, api, baseUrl, login, newPage } from "./harness.mjs";

/** The meter list after typing `text` in its search (debounced), as the command answers. */
async function searchFor(page, token, text) {
  const expected = await api("meters_list", { search: text, limit: 50 }, token);
  await page.getByTestId("meter-search").fill(text);
  await page.waitForFunction((ids) => {
    const rows = [...document.querySelectorAll('[data-testid="meter-row"]')].map((r) => r.dataset.id);
    return rows.length === ids.length && rows.every((id, i) => id === ids[i]);
  }, expected.rows.map((r) => String(r.id)));
  return expected;
}

const norm = (s) => (s || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();

for (const locale of ["fr", "en"]) {
  test(`${locale}: the meter search ignores accents, case and word order`, async () => {
    const { ctx, page, errors } = await newPage({ locale });
    try {
      const token = await login(page, "clerk", "clerk");
      await page.goto(baseUrl + "/#/meters");
      await page.getByTestId("meter-search").waitFor();
      const celine = await searchFor(page, token, "celine");
      assert.ok(celine.total > 0, "the demo has Célines");
      assert.ok(celine.rows.every((r) => norm(r.customer_name).includes("celine")), "every row is a Céline");
      const durand = await searchFor(page, token, "Durand Céline");
      const reversed = await api("meters_list", { search: "celine durand", limit: 50 }, token);
      assert.equal(durand.total, reversed.total, "word order does not matter");
      assert.ok(durand.rows.every((r) => norm(r.customer_name).includes("durand") && norm(r.customer_name).includes("celine")));
      const jaures = await searchFor(page, token, "Jaures");
      assert.ok(jaures.total > 0 && jaures.rows.every((r) => norm(r.address).includes("jaures")), "rue Jean Jaurès without its accent");
      const town = await searchFor(page, token, "Saint-Chamond 42400");
      assert.ok(town.total > 0 && town.rows.every((r) => r.city === "Saint-Chamond" && r.postal_code === "42400"));
      const kam = await searchFor(page, token, "kam");
      assert.ok(kam.total > 0 && kam.rows.every((r) => r.manufacturer === "KAM"), "manufacturer in lower case");
      await searchFor(page, token, "celine saint-chamond");
      await page.screenshot({ path: path.join(ARTIFACTS, `clerk-search-${locale}.png`) });
      const range = await page.getByTestId("pager-range").innerText();
      assert.ok(range.length > 0, "the range is shown");
      assert.deepEqual(errors, []);
    } finally { await ctx.close(); }
  });
}

test("fr: a replaced meter leaves the start page's totals and alarms", async () => {
  const { ctx, page, errors } = await newPage({ locale: "fr" });
  try {
    const token = await login(page, "clerk", "clerk");
    const all = await api("meters_list", { limit: 500 }, token);
    const removed = all.rows.filter((r) => r.status === "removed");
    assert.ok(removed.length >= 1, "the demo replaced a meter");
    assert.ok(removed.every((r) => r.info_codes.length === 0), "a removed meter has no code in progress");
    const alarms = await api("meters_list", { limit: 500, alarms_only: true }, token);
    assert.ok(alarms.rows.every((r) => r.status !== "removed"));
    const points = await api("map_points", {}, token).catch(() => null);
    await page.goto(baseUrl + "/#/");
    await page.waitForFunction(() => /\d/.test(document.querySelector("#stat-meters")?.textContent || "") && /\d/.test(document.querySelector("#stat-alarms")?.textContent || ""));
    const digits = async (sel) => Number((await page.locator(sel).innerText()).replace(/\D/g, ""));
    assert.equal(await digits("#stat-meters"), all.total - removed.length, "start page: meters in service");
    assert.equal(await digits("#stat-alarms"), alarms.total);
    if (points && Array.isArray(points.ids)) assert.ok(!points.ids.some((id) => removed.some((r) => r.id === id)));
    // Its history still shows the code, ended at the removal.
    const detail = await api("meter_get", { id: removed[0].id }, token);
    assert.ok(detail.info_codes.every((c) => c.ended_at !== null && c.ended_at <= detail.meter.removed_at));
    await page.screenshot({ path: path.join(ARTIFACTS, "clerk-home-fr.png") });
    assert.deepEqual(errors, []);
  } finally { await ctx.close(); }
});

for (const locale of ["fr", "en"]) {
  test(`${locale}: consumption report, totals per kind, ranked within a kind, a meter-type filter`, async () => {
    const { ctx, page, errors } = await newPage({ locale });
    try {
      const token = await login(page, "clerk", "clerk");
      await page.goto(baseUrl + "/#/reports");
      await page.getByTestId("rc-run").click();
      await page.getByTestId("rc-count").waitFor();
      const from = await page.getByTestId("rc-from").inputValue();
      const to = await page.getByTestId("rc-to").inputValue();
      const all = await api("report_consumption", { from, to, limit: 5000 }, token);
      const kinds = all.totals.map((x) => x.device_type);
      assert.ok(kinds.includes("heat") && kinds.includes("electricity"), `heat and electricity apart: ${kinds}`);
      assert.equal(new Set(kinds).size, kinds.length, "one total per kind");
      assert.equal(await page.getByTestId("rc-unit-total").count(), all.totals.length);
      // Within each kind, the largest first; kinds never interleave.
      const seen = [];
      let last = null;
      for (const r of all.rows) {
        const kind = `${r.device_type}|${r.register}|${r.unit}`;
        if (kind !== seen[seen.length - 1]) { assert.ok(!seen.includes(kind), `kind ${kind} in one block`); seen.push(kind); last = null; }
        if (r.consumption !== null && last !== null) assert.ok(r.consumption <= last, "largest first within a kind");
        if (r.consumption !== null) last = r.consumption;
      }
      const heads = await page.getByTestId("rc-kind").evaluateAll((els) => els.map((e) => e.dataset.kind));
      assert.deepEqual(heads, seen.slice(0, heads.length), "a heading where a kind begins");
      await page.screenshot({ path: path.join(ARTIFACTS, `clerk-consumption-${locale}.png`) });

      await page.getByTestId("rc-type").selectOption("heat");
      await page.getByTestId("rc-run").click();
      await page.waitForFunction(() => document.querySelectorAll('[data-testid="rc-unit-total"]').length === 1);
      const heat = await api("report_consumption", { from, to, device_type: "heat", limit: 5000 }, token);
      assert.equal(Number(await page.getByTestId("rc-count").getAttribute("data-count")), heat.count);
      assert.ok(heat.rows.every((r) => r.device_type === "heat"));
      assert.equal(await page.getByTestId("rc-unit-total").getAttribute("data-type"), "heat");
      const label = await page.getByTestId("rc-total").innerText();
      assert.match(label, locale === "fr" ? /Chaleur/ : /Heat/);
      await page.screenshot({ path: path.join(ARTIFACTS, `clerk-consumption-heat-${locale}.png`) });
      assert.deepEqual(errors, []);
    } finally { await ctx.close(); }
  });
}
