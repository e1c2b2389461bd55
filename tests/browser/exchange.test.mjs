// Browser test of the meter exchange and the comparison chart, on the demo park
// (set-up: harness.mjs): a superuser exchanges a meter through the form, sees it in the
// history and a month histogram without negative bars; then compares two meters and a
// group's sum in one chart.
import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";

import { ARTIFACTS, api, baseUrl, login, newPage } from "./harness.mjs";

const NEW_SERIAL = "99887766";

/** The first active meter of `type` with readings, and its detail. */
async function pick(token, type, skip = []) {
  const page = await api("meters_list", { limit: 200 }, token);
  const row = page.rows.find((r) => r.device_type === type && r.status === "active" && r.last_seen && !skip.includes(r.id));
  assert.ok(row, `an active ${type} meter with readings`);
  return api("meter_get", { id: row.id }, token);
}

test("superuser: exchange a meter through the form, then compare meters and a group sum", async () => {
  const { ctx, page, errors } = await newPage();
  try {
    const token = await login(page, "superuser", "superuser");
    const old = await pick(token, "water");
    const volume = old.registers.find((r) => r.register === "volume");
    assert.ok(volume, "the water meter has a volume");

    await page.goto(`${baseUrl}/#/meters/${old.meter.id}`);
    await page.getByTestId("exchange-open").click();
    await page.getByTestId("exchange-form").waitFor();
    // Below the last reading: refused in French words from the core's code and values, nothing changes.
    await page.getByTestId("exchange-new-serial").fill(NEW_SERIAL);
    await page.getByTestId("exchange-final").fill(String(Math.max(0, volume.last_value - 1)));
    await page.getByTestId("exchange-initial").fill("0.5");
    await page.getByTestId("exchange-submit").click();
    await page.getByTestId("exchange-confirm-ok").click(); // irreversible: asked first
    await page.waitForFunction(() => !document.querySelector('[data-testid="exchange-error"]').hidden);
    const refusal = await page.getByTestId("exchange-error").textContent();
    assert.match(refusal, new RegExp(`Compteur ${old.meter.serial} : le relevé final \\(.* m³\\) est inférieur à son dernier relevé \\(.* m³, le \\d\\d/\\d\\d/\\d{4} \\d\\d:\\d\\d\\)`));

    await page.getByTestId("exchange-final").fill(String(Math.round((volume.last_value + 1.5) * 1000) / 1000));
    await page.getByTestId("exchange-submit").click();
    await page.getByTestId("exchange-confirm-ok").click(); // irreversible: asked first
    await page.waitForFunction((s) => document.querySelector('[data-testid="meter-serial"]')?.textContent.includes(s), NEW_SERIAL);
    const history = page.getByTestId("exchanges");
    await history.waitFor();
    assert.match(await history.textContent(), new RegExp(old.meter.serial));
    assert.match(await history.textContent(), new RegExp(NEW_SERIAL));
    assert.match(await page.getByTestId("meter-status").getAttribute("class"), /badge-active/);

    // Month histogram: the old meter's months, the exchange marked, no negative bar.
    await page.getByTestId("res-month").click();
    await page.waitForFunction(() => document.querySelector('[data-testid="histogram"]')?.getAttribute("data-resolution") === "month");
    await page.locator('[data-testid="histogram"] .bar').first().waitFor();
    const values = await page.locator('[data-testid="histogram"] .bar').evaluateAll((els) => els.map((e) => Number(e.getAttribute("data-value"))));
    assert.ok(values.length >= 6, `the old meter's months are shown (${values.length} bars)`);
    assert.ok(values.every((v) => v >= 0), `no negative bar: ${values}`);
    assert.equal(await page.locator('[data-testid="histogram"] [data-testid="exchange-mark"]').count(), 1);
    await page.getByTestId("legend-exchange").waitFor();
    await page.screenshot({ path: path.join(ARTIFACTS, "exchange.png"), fullPage: true });

    const after = await api("meter_get", { id: old.meter.id }, token);
    assert.equal(after.meter.status, "removed");

    // Comparison: the new meter (from its page), a heat meter, and the sum of a group.
    const newId = Number(page.url().split("/").pop());
    await page.getByTestId("meter-compare").click();
    await page.getByTestId("compare-view").waitFor();
    await page.waitForFunction(() => document.querySelector('[data-testid="compare-chart"]')?.getAttribute("data-series") === "1");
    const heat = await pick(token, "heat");
    await page.getByTestId("compare-search").fill(heat.meter.serial);
    await page.locator(`[data-testid="compare-result"][data-id="${heat.meter.id}"]`).click();
    await page.waitForFunction(() => document.querySelector('[data-testid="compare-chart"]')?.getAttribute("data-series") === "2");
    const groups = await api("groups_list", {}, token);
    const group = groups.find((g) => g.meter_count > 1);
    assert.ok(group, "a demo group");
    await page.getByTestId("compare-group").selectOption(String(group.id));
    await page.waitForFunction(() => document.querySelector('[data-testid="compare-chart"]')?.getAttribute("data-series") === "3");
    const kinds = await page.locator('[data-testid="compare-series"]').evaluateAll((els) => els.map((e) => e.getAttribute("data-kind")));
    assert.deepEqual(kinds, ["meter", "meter", "group_sum"]);
    assert.equal(await page.getByTestId("compare-chart").getAttribute("data-axes"), "3", "m3 and kWh, and the group sum on an axis of its own");
    assert.equal(await page.locator('[data-testid="compare-legend-item"]').count(), 3);
    assert.deepEqual(
      await page.locator('[data-testid="compare-chip"]').evaluateAll((els) => els.map((e) => Number(e.dataset.id))),
      [newId, heat.meter.id],
    );
    const paths = await page.locator('[data-testid="compare-series"] path.line').evaluateAll((els) => els.filter((e) => (e.getAttribute("d") || "").length > 10).length);
    assert.ok(paths >= 2, "at least two drawn lines");
    await page.getByTestId("compare-chart").hover({ position: { x: 500, y: 150 } });
    await page.screenshot({ path: path.join(ARTIFACTS, "compare.png"), fullPage: true });
    await page.getByTestId("mode-bars").click();
    await page.waitForFunction(() => document.querySelector('[data-testid="compare-chart"]')?.getAttribute("data-mode") === "bars");
    assert.ok(await page.locator('[data-testid="compare-chart"] .bar').count() > 0);

    assert.deepEqual(errors, []);
  } finally {
    await ctx.close();
  }
});

test("clerk: no exchange button, but the comparison link", async () => {
  const { ctx, page, errors } = await newPage();
  try {
    const token = await login(page, "clerk", "clerk");
    const m = await pick(token, "water");
    await page.goto(`${baseUrl}/#/meters/${m.meter.id}`);
    await page.getByTestId("meter-compare").waitFor();
    assert.equal(await page.getByTestId("exchange-open").count(), 0);
    assert.deepEqual(errors, []);
  } finally {
    await ctx.close();
  }
});
