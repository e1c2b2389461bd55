// Browser test of an electricity meter's page on the demo park (set-up: harness.mjs): a
// solar prosumer read every hour shows its import (A+) bars up and export (A-) bars down
// in one kWh histogram with a legend, the period's import and export totals, and its power
// curve (P+ and P-, mean and max per bucket, kW) for hours and days; months say the curve
// is read per hour or day. French then English, screenshots in tests/artifacts/.
// Then the comparison screen offers A- as the export register and refuses nothing silently.
import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";

import { ARTIFACTS, api, baseUrl, login, newPage } from "./harness.mjs";

/** An electricity meter with A-, P+ and P-, read every hour (the demo's hourly prosumers). */
async function prosumer(token) {
  const list = await api("meters_list", { limit: 500 }, token);
  const elec = list.rows.filter((r) => r.device_type === "electricity" && r.last_seen);
  assert.ok(elec.length > 5, `the demo has electricity meters (${elec.length})`);
  let daily = null;
  for (const row of elec) {
    const d = await api("meter_get", { id: row.id }, token);
    const ids = d.registers.map((r) => r.register);
    if (!ids.includes("a_minus") || !ids.includes("p_minus")) continue;
    const day = new Date((row.last_seen - 86400) * 1000).toISOString().slice(0, 10);
    const h = await api("meter_histogram", { id: row.id, register: "p_plus", resolution: "hour", from: day, to: day }, token);
    if (h.buckets.filter((b) => b.value !== null).length >= 20) return { detail: d, daily };
    daily = daily || d;
  }
  assert.fail("no hourly prosumer in the demo park");
}

const LANG = {
  fr: { import: "Importée (A+)", export: "Exportée (A−)", power: "Courbe de puissance", mean: "moyenne", max: "maximum", coarse: /par heure ou par jour/, totalImport: "Importée sur la période" },
  en: { import: "Imported (A+)", export: "Exported (A−)", power: "Power curve", mean: "mean", max: "maximum", coarse: /per hour or per day/, totalImport: "Imported over the period" },
};

for (const locale of ["fr", "en"]) {
  test(`electricity meter page (${locale}): import/export histogram in kWh and the power curve in kW`, async () => {
    const w = LANG[locale];
    const { ctx, page, errors } = await newPage({ locale });
    try {
      const token = await login(page, "superuser", "superuser");
      const { detail } = await prosumer(token);
      const m = detail.meter;
      const pPlus = detail.registers.find((r) => r.register === "p_plus");
      assert.equal(pPlus.unit, "kW", "the last power is given in kW");
      await page.goto(`${baseUrl}/#/meters/${m.id}`);

      // Day resolution (the default): one chart, import up, export down, a legend, kWh.
      const hist = page.locator('[data-testid="histogram"].flows');
      await hist.waitFor();
      await page.locator('[data-testid="histogram"] .bar.export').first().waitFor();
      const imp = await page.locator('[data-testid="histogram"] .bar[data-flow="import"]').evaluateAll((els) => els.map((e) => Number(e.getAttribute("data-value"))));
      const exp = await page.locator('[data-testid="histogram"] .bar[data-flow="export"]').evaluateAll((els) => els.map((e) => Number(e.getAttribute("data-value"))));
      assert.ok(imp.length >= 50 && exp.length >= 50, `60 days of import and export bars (${imp.length}, ${exp.length})`);
      assert.ok(imp.every((v) => v >= 0) && exp.every((v) => v >= 0), "energies, not signed values");
      // Export bars hang below the zero line, import bars stand on it.
      const geometry = await page.evaluate(() => {
        const zero = document.querySelector('[data-testid="histogram"] line.zero');
        const y0 = Number(zero.getAttribute("y1"));
        const below = [...document.querySelectorAll('[data-testid="histogram"] .bar.export')].every((r) => Number(r.getAttribute("y")) >= y0 - 1);
        const above = [...document.querySelectorAll('[data-testid="histogram"] .bar.import')].every((r) => Number(r.getAttribute("y")) + Number(r.getAttribute("height")) <= y0 + 1);
        return { below, above };
      });
      assert.deepEqual(geometry, { below: true, above: true });
      // The bars are the core's figures: the A- histogram of the same period.
      const from = await page.getByTestId("hist-from").inputValue();
      const to = await page.getByTestId("hist-to").inputValue();
      const coreExport = await api("meter_histogram", { id: m.id, register: "a_minus", resolution: "day", from, to }, token);
      assert.equal(coreExport.unit, "kWh");
      assert.deepEqual(exp, coreExport.buckets.map((b) => b.value).filter((v) => v !== null));
      assert.equal(await page.locator('[data-testid="histogram"] .axis-unit').textContent(), "kWh");
      assert.equal(await page.getByTestId("legend-import").textContent(), `${w.import} (kWh)`);
      assert.equal(await page.getByTestId("legend-export").textContent(), `${w.export} (kWh)`);
      const total = await page.getByTestId("hist-total").textContent();
      assert.ok(total.includes(w.totalImport) && total.includes("kWh"), total);
      const shownExport = await page.getByTestId("hist-total-export").textContent();
      assert.ok(Number(shownExport.replace(/[\s\u202f\u00a0,]/g, (c) => (c === "," && locale === "fr" ? "." : ""))) > 0, shownExport);

      // The power curve: P+ and P-, a mean line and a max line each, kW.
      const card = page.getByTestId("power-card");
      assert.ok((await card.textContent()).includes(w.power));
      const curve = page.getByTestId("power-curve");
      await curve.waitFor();
      assert.equal(await curve.getAttribute("data-resolution"), "day");
      assert.equal(await page.getByTestId("power-unit").textContent(), "kW");
      assert.deepEqual(await page.locator('[data-testid="power-series"]').evaluateAll((els) => els.map((e) => e.dataset.register)), ["p_plus", "p_minus"]);
      for (const flow of ["import", "export"]) {
        for (const stat of ["mean", "max"]) {
          const d = await page.locator(`[data-testid="power-series"][data-flow="${flow}"] path[data-stat="${stat}"]`).getAttribute("d");
          assert.ok(d && d.split("L").length > 30, `${flow} ${stat}: a line through the days`);
        }
      }
      const legend = await page.getByTestId("power-legend").textContent();
      for (const word of [w.mean, w.max, "kW", "P+", "P−"]) assert.ok(legend.includes(word), `${word} in ${legend}`);
      await page.screenshot({ path: path.join(ARTIFACTS, `electricity-day-${locale}.png`), fullPage: true });

      // Hours: the power curve follows the day (a mean per hour, P- up at noon, none at night).
      await page.getByTestId("res-hour").click();
      await page.waitForFunction(() => document.querySelector('[data-testid="power-curve"]')?.getAttribute("data-resolution") === "hour");
      await page.waitForFunction(() => document.querySelector('[data-testid="histogram"]')?.getAttribute("data-resolution") === "hour");
      const hourFrom = await page.getByTestId("hist-from").inputValue();
      const hourTo = await page.getByTestId("hist-to").inputValue();
      const pm = await api("meter_histogram", { id: m.id, register: "p_minus", resolution: "hour", from: hourFrom, to: hourTo }, token);
      assert.equal(pm.kind, "instantaneous");
      const night = pm.buckets.filter((b) => b.value !== null && new Date(b.start * 1000).getUTCHours() === 1);
      assert.ok(night.length > 0 && night.every((b) => b.value === 0), "no export power at night");
      assert.ok(pm.buckets.every((b) => b.value === null || b.max >= b.value), "max >= mean");
      // The mean line's points are the core's P+ values, in kW.
      const pp = await api("meter_histogram", { id: m.id, register: "p_plus", resolution: "hour", from: hourFrom, to: hourTo }, token);
      assert.equal(pp.unit, "kW");
      assert.ok(pp.buckets.some((b) => b.value !== null && b.value < 20), "kW, not W");
      const points = await page.locator('[data-testid="power-series"][data-flow="import"] path[data-stat="mean"]').getAttribute("d");
      assert.equal(points.split(/[ML]/).filter(Boolean).length, pp.buckets.filter((b) => b.value !== null).length);
      // Hover: the tooltip gives the mean and the max of the hour.
      await curve.scrollIntoViewIfNeeded();
      const box = await curve.boundingBox();
      await page.mouse.move(box.x + box.width * 0.6, box.y + box.height * 0.5);
      const tip = page.getByTestId("power-tooltip");
      await tip.waitFor();
      const tipText = await tip.textContent();
      assert.ok(tipText.includes(w.mean) && tipText.includes(w.max) && tipText.includes("kW"), tipText);
      await card.screenshot({ path: path.join(ARTIFACTS, `electricity-power-hour-${locale}.png`) });
      await page.mouse.move(0, 0);
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.screenshot({ path: path.join(ARTIFACTS, `electricity-hour-${locale}.png`), fullPage: true });

      // Months: the energy bars stay, the power curve says it is read per hour or day.
      await page.getByTestId("res-month").click();
      await page.waitForFunction(() => document.querySelector('[data-testid="histogram"]')?.getAttribute("data-resolution") === "month");
      await page.waitForFunction(() => !document.querySelector(".power-msg").hidden);
      assert.match(await page.locator(".power-msg").textContent(), w.coarse);
      assert.equal(await page.getByTestId("power-curve").count(), 0);
      assert.ok(await page.locator('[data-testid="histogram"] .bar.export').count() >= 12, "12 months of export");
      assert.deepEqual(errors, []);
    } finally {
      await ctx.close();
    }
  });
}

test("comparison: A- as export and P+ per meter in kW; a group's sum of power is refused in words", async () => {
  const { ctx, page, errors } = await newPage({ locale: "fr" });
  try {
    const token = await login(page, "superuser", "superuser");
    const { detail } = await prosumer(token);
    await page.goto(`${baseUrl}/#/compare?ids=${detail.meter.id}`);
    const sel = page.getByTestId("compare-register");
    await sel.waitFor();
    await page.getByTestId("compare-series").first().waitFor();
    const answered = page.waitForResponse((r) => r.url().endsWith("/api/meters_compare") && r.request().postData().includes('"a_minus"'));
    await sel.selectOption("a_minus");
    const cmp = await (await answered).json();
    assert.equal(cmp.series[0].register, "a_minus");
    assert.equal(cmp.series[0].unit, "kWh");
    await page.waitForFunction(() => document.querySelector('[data-testid="compare-axis-0"]')?.textContent === "kWh");
    assert.match(await page.getByTestId("compare-legend-item").first().textContent(), /Σ .* kWh/);
    await sel.selectOption("p_plus");
    await page.waitForFunction(() => document.querySelector('[data-testid="compare-axis-0"]')?.textContent === "kW");
    assert.match(await page.getByTestId("compare-legend-item").first().textContent(), /x̄ .* kW/);
    await page.screenshot({ path: path.join(ARTIFACTS, "electricity-compare-power-fr.png"), fullPage: true });
    // A group's sum of power: left out, and said so (the core refuses it too).
    const group = await page.locator('[data-testid="compare-group"] option').nth(1).getAttribute("value");
    await page.getByTestId("compare-group").selectOption(group);
    await page.getByTestId("compare-nosum").waitFor();
    assert.match(await page.getByTestId("compare-nosum").textContent(), /ne s’additionne pas/);
    assert.equal(await page.locator('[data-testid="compare-series"][data-kind="group_sum"]').count(), 0);
    await assert.rejects(api("meters_compare", { ids: [detail.meter.id], register: "p_plus", resolution: "day", from: "2026-11-01", to: "2026-11-30", sum_of_group: Number(group) }, token), /bad_input/);
    // Back to A+: the sum is drawn again.
    await sel.selectOption("a_plus");
    await page.locator('[data-testid="compare-series"][data-kind="group_sum"]').waitFor();
    assert.ok(await page.getByTestId("compare-nosum").isHidden());
    await page.screenshot({ path: path.join(ARTIFACTS, "electricity-compare-fr.png"), fullPage: true });
    assert.deepEqual(errors, []);
  } finally {
    await ctx.close();
  }
});

test("exports through the API: a prosumer's readings in kWh and kW, a billing layout of A+ and A-", async () => {
  const { ctx, page } = await newPage({ locale: "fr" });
  try {
    const token = await login(page, "manager", "manager");
    const { detail } = await prosumer(token);
    const day = new Date((detail.meter.last_seen - 86400) * 1000).toISOString().slice(0, 10);
    const out = await api("export_readings", { from: day, to: day, columns: ["meter_serial", "register", "value", "unit"], decimal: "." }, token);
    const mine = out.content.split(/\r?\n/).filter((l) => l.startsWith(detail.meter.serial + ";"));
    const unitOf = (reg) => [...new Set(mine.filter((l) => l.split(";")[1] === reg).map((l) => l.split(";")[3]))];
    assert.deepEqual([unitOf("a_plus"), unitOf("a_minus"), unitOf("p_plus"), unitOf("p_minus")], [["kWh"], ["kWh"], ["kW"], ["kW"]]);
    const pPlus = mine.filter((l) => l.split(";")[1] === "p_plus").map((l) => Number(l.split(";")[2]));
    assert.ok(pPlus.length >= 20 && pPlus.every((v) => v >= 0 && v < 30), `P+ in kW: ${pPlus.slice(0, 5)}`);

    const vars = await api("export_variables", {}, token);
    assert.deepEqual(vars.find((v) => v.id === "consumption").registers.filter((r) => r.startsWith("a_")), ["a_plus", "a_minus", "a_plus_t1", "a_plus_t2", "a_minus_t1", "a_minus_t2"]);
    const field = (v, register) => ({ var: v, register });
    const layout = {
      name: "Électricité import/export", format: "csv", csv: { separator: ";", quote: "necessary", decimal: ",", header: false, line_end: "lf" },
      fields: [{ var: "meter_serial" }, field("consumption", "a_plus"), field("consumption", "a_minus"), field("unit", "a_minus")],
    };
    const preview = await api("export_layout_preview", { layout, from: "2026-10-01", to: "2026-10-31", limit: 1000 }, token);
    const line = preview.lines.find((l) => l.startsWith(detail.meter.serial + ";"));
    const [, imported, exported, unit] = line.split(";");
    assert.ok(Number(imported.replace(",", ".")) > 0 && Number(exported.replace(",", ".")) > 0 && unit === "kWh", line);
    layout.fields.push(field("value_end", "p_plus"));
    await assert.rejects(api("export_layout_preview", { layout, from: "2026-10-01", to: "2026-10-31" }, token), /p_plus/);
  } finally {
    await ctx.close();
  }
});

test("tariffs: a_plus_t1/a_minus_t1 are energy by their prefix, one import/export choice per tariff", async () => {
  const { ctx, page, errors } = await newPage({ locale: "fr" });
  try {
    const token = await login(page, "superuser", "superuser");
    const { detail } = await prosumer(token);
    const words = await page.evaluate(async () => {
      const r = await import("/registers.js");
      return [r.tariffOf("a_plus_t1"), r.tariffOf("a_minus"), r.tariffOf("p_plus"), r.exportOf("a_plus_t2"), r.isCumulative("a_minus_t1"),
        r.isCumulative("p_plus"), r.isPower("p_minus"), r.registerName("a_plus_t1")];
    });
    assert.deepEqual(words, ["1", "", null, "a_minus_t2", true, false, true, "Énergie active importée, tarif 1 (A+ T1)"]);
    // The meter as it will be once tariff registers are read (the optical readout's OBIS 1.8.1,
    // 2.8.1): its detail and histograms are answered from A+/A- under the tariff's id.
    await page.route("**/api/meter_get", async (route) => {
      const res = await route.fetch();
      const d = await res.json();
      for (const id of ["a_plus", "a_minus"]) {
        const r = d.registers.find((x) => x.register === id);
        d.registers.push({ ...r, register: `${id}_t1`, label: `${r.label} T1` });
      }
      await route.fulfill({ response: res, json: d });
    });
    const asked = [];
    await page.route("**/api/meter_histogram", async (route) => {
      const args = JSON.parse(route.request().postData());
      asked.push(args.register);
      const tariff = /_t1$/.test(args.register || "");
      const res = await route.fetch({ postData: JSON.stringify({ ...args, register: (args.register || "").replace(/_t1$/, "") || undefined }) });
      const h = await res.json();
      if (tariff) { h.register = args.register; h.buckets = h.buckets.map((b) => ({ ...b, value: b.value === null ? null : b.value / 2 })); }
      await route.fulfill({ response: res, json: h });
    });
    await page.goto(`${baseUrl}/#/meters/${detail.meter.id}`);
    const sel = page.getByTestId("hist-register");
    await sel.waitFor();
    const options = await sel.locator("option").evaluateAll((os) => os.map((o) => [o.value, o.textContent]));
    assert.deepEqual(options, [["flow:a_plus", "Énergie importée / exportée"], ["flow:a_plus_t1", "Énergie importée / exportée — tarif 1"]]);
    await page.locator('[data-testid="histogram"] .bar.export').first().waitFor();
    const whole = await page.locator('[data-testid="histogram"] .bar[data-flow="export"]').evaluateAll((els) => els.map((e) => Number(e.dataset.value)));
    await sel.selectOption("flow:a_plus_t1");
    await page.waitForFunction((n) => {
      const bars = [...document.querySelectorAll('[data-testid="histogram"] .bar[data-flow="export"]')];
      return bars.length > 0 && Number(bars[0].dataset.value) !== n;
    }, whole[0]);
    assert.ok(asked.includes("a_plus_t1") && asked.includes("a_minus_t1"), `asked ${asked}`);
    const half = await page.locator('[data-testid="histogram"] .bar[data-flow="export"]').evaluateAll((els) => els.map((e) => Number(e.dataset.value)));
    assert.deepEqual(half, whole.map((v) => v / 2));
    assert.equal(await page.getByTestId("legend-export").textContent(), "Exportée (A−) (kWh)");
    const regs = await page.getByTestId("registers").textContent();
    assert.ok(regs.includes("Énergie active exportée, tarif 1 (A− T1)"), regs);
    assert.deepEqual(errors, []);
  } finally {
    await ctx.close();
  }
});
