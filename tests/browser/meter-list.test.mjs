// Issue 15, the meter list: the "not heard since N days" filter (also as
// #/meters?not_heard=N), the active info code named in the row, the last index column,
// customers sorted by surname, "select all N results" acting on the filter server-side,
// then export, re-read route (CSV and GPX), compare and add to group. French and English,
// on the 300-meter demo.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";

import { spawnSync } from "node:child_process";

import { ARTIFACTS, api, baseUrl, login, newPage, sqliteScript, useDatabase } from "./harness.mjs";

// The 300-meter demo hears every meter today: a third of them (id divisible by 3) are made
// silent for 10 to 59 days (their last telegram moved back), so that "not heard" picks some.
useDatabase((bin, db) => {
  const made = spawnSync(bin, ["demo", "--db", db, "--meters", "300", "--seed", "7"], { encoding: "utf8", timeout: 600_000 });
  if (made.status !== 0) return made;
  return sqliteScript(db, "UPDATE meters SET last_seen = last_seen - 86400 * (10 + id % 50) WHERE id % 3 = 0 AND last_seen IS NOT NULL;");
});

const fold = (s) => (s || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
/** The demo writes "Prénom Nom": the surname key is the last word, then the given name. */
const surnameKey = (name) => { const w = fold(name).split(/\s+/); return [w[w.length - 1], ...w.slice(0, -1)].join(" "); };

const rowIds = (page) => page.locator('[data-testid="meter-row"]').evaluateAll((rs) => rs.map((r) => Number(r.dataset.id)));

async function waitRows(page, expected) {
  await page.waitForFunction((ids) => {
    const rows = [...document.querySelectorAll('[data-testid="meter-row"]')].map((r) => Number(r.dataset.id));
    return rows.length === ids.length && rows.every((id, i) => id === ids[i]);
  }, expected.rows.map((r) => r.id));
}

async function download(page, testId) {
  const [d] = await Promise.all([page.waitForEvent("download"), page.getByTestId(testId).click()]);
  const text = fs.readFileSync(await d.path(), "utf8");
  return { name: d.suggestedFilename(), text };
}

for (const locale of ["fr", "en"]) {
  test(`${locale}: not heard since, code names, last index, surname sort`, async () => {
    const { ctx, page, errors } = await newPage({ locale });
    try {
      const token = await login(page, "superuser", "superuser");
      // A "not heard" choice with more meters than one page.
      let days = null;
      let expected = null;
      for (const n of [1, 2, 3, 7]) {
        const r = await api("meters_list", { not_heard_days: n, limit: 50 }, token);
        if (r.total > 50) { days = n; expected = r; break; }
      }
      assert.ok(days, "some meters are not heard for a day or more");
      await page.goto(baseUrl + `/#/meters?not_heard=${days}`);
      await waitRows(page, expected);
      assert.equal(await page.getByTestId("not-heard-filter").inputValue(), String(days));
      const range = await page.getByTestId("pager-range").innerText();
      assert.ok(range.replace(/\D/g, "").endsWith(String(expected.total)), `${range} ends with ${expected.total}`);
      const all = await api("meters_list", { limit: 500 }, token);
      assert.ok(expected.total < all.total, "the filter keeps fewer than every meter");
      assert.ok(expected.rows.every((r) => r.status !== "removed"), "removed meters are not to be re-read");

      // Last index: value and unit of the main register.
      const withIndex = expected.rows.filter((r) => r.last_index);
      assert.ok(withIndex.length > 0);
      const cell = page.locator(`[data-testid="meter-row"][data-id="${withIndex[0].id}"] [data-testid="last-index"]`);
      assert.match(await cell.innerText(), new RegExp(`${withIndex[0].last_index.unit}$`));
      await page.screenshot({ path: path.join(ARTIFACTS, `meter-list-not-heard-${locale}.png`) });

      // The active code named in the row.
      await page.getByTestId("not-heard-filter").selectOption("");
      await page.getByTestId("alarms-only").check();
      const alarms = await api("meters_list", { alarms_only: true, limit: 50 }, token);
      await waitRows(page, alarms);
      const names = await page.getByTestId("code-names").allInnerTexts();
      assert.equal(names.length, alarms.rows.length);
      const label = { fr: { leak: "Fuite", burst: "Rupture" }, en: { leak: "Leak", burst: "Burst" } }[locale];
      const leak = alarms.rows.findIndex((r) => r.info_codes.includes("leak"));
      if (leak >= 0) assert.ok(names[leak].includes(label.leak), `${names[leak]} names the leak`);
      assert.ok(names.every((n) => n.length > 2 && !/^[a-z_]+$/.test(n)), "worded, not ids");
      await page.screenshot({ path: path.join(ARTIFACTS, `meter-list-codes-${locale}.png`) });
      await page.getByTestId("alarms-only").uncheck();

      // Customers by surname ("Prénom Nom" in the demo): the page follows the surname.
      await page.getByTestId("sort-customer").click();
      const bySurname = await api("meters_list", { sort: "customer", limit: 50 }, token);
      await waitRows(page, bySurname);
      const keys = bySurname.rows.filter((r) => r.customer_name).map((r) => surnameKey(r.customer_name));
      assert.deepEqual(keys, [...keys].sort(), "sorted by surname");
      await page.screenshot({ path: path.join(ARTIFACTS, `meter-list-surname-${locale}.png`) });
      await page.getByTestId("sort-serial").click();
      assert.deepEqual(errors.map(String), []);
    } finally { await ctx.close(); }
  });

  test(`${locale}: select all results, export, re-read route (CSV, GPX), add to group`, async () => {
    const { ctx, page, errors } = await newPage({ locale });
    try {
      const token = await login(page, "superuser", "superuser");
      // The smallest "not heard" choice with more results than a page.
      let days = null;
      let expected = null;
      for (const n of [14, 7, 3, 2, 1]) {
        const r = await api("meters_list", { not_heard_days: n, limit: 50 }, token);
        if (r.total > 50) { days = n; expected = r; break; }
      }
      assert.ok(days, "more results than a page");
      await page.goto(baseUrl + `/#/meters?not_heard=${days}`);
      await waitRows(page, expected);
      await page.getByTestId("pick-page").check();
      const all = page.getByTestId("sel-all");
      await all.waitFor();
      assert.ok((await all.innerText()).includes(String(expected.total)), "the button names every result");
      await all.click();
      await page.waitForFunction(() => document.querySelector('[data-testid="selection-bar"]').dataset.mode === "all");
      assert.ok((await page.getByTestId("selection-count").innerText()).includes(String(expected.total)));
      assert.ok(await page.getByTestId("sel-compare").isDisabled(), "compare takes 8 meters at most");
      await page.screenshot({ path: path.join(ARTIFACTS, `meter-list-select-all-${locale}.png`) });

      // The list as CSV: every result, not only the page.
      const list = await download(page, "sel-export");
      assert.match(list.name, /^meters-\d{4}-\d{2}-\d{2}\.csv$/);
      const lines = list.text.trim().split("\n");
      assert.equal(lines.length, expected.total + 1);
      assert.ok(lines[0].startsWith("serial;manufacturer;device_type;status;customer_number;customer_name"));

      // The route as CSV (stops in order) and GPX.
      const csv = await download(page, "sel-route-csv");
      const stops = csv.text.trim().split("\n");
      assert.equal(stops.length, expected.total + 1);
      assert.ok(stops[0].startsWith("stop;serial;"));
      assert.deepEqual(stops.slice(1, 4).map((l) => l.split(";")[0]), ["1", "2", "3"]);
      await page.waitForFunction(() => document.querySelector('[data-testid="sel-msg"]').dataset.testState === "done");
      const msg = await page.getByTestId("sel-msg").innerText();
      assert.match(msg, locale === "fr" ? /ordre de passage/ : /visiting order/);
      const gpx = await download(page, "sel-route-gpx");
      assert.match(gpx.name, /\.gpx$/);
      assert.ok(gpx.text.startsWith('<?xml version="1.0" encoding="UTF-8"?>'));
      assert.match(gpx.text, /<gpx version="1\.1" creator="Releve" xmlns="http:\/\/www\.topografix\.com\/GPX\/1\/1"/);
      const wpts = gpx.text.match(/<wpt /g) || [];
      const rtepts = gpx.text.match(/<rtept /g) || [];
      assert.ok(wpts.length > 0 && wpts.length === rtepts.length, "a waypoint and a route point per placed meter");
      const firstSerial = stops[1].split(";")[1];
      assert.ok(gpx.text.includes(`<name>001 ${firstSerial}</name>`), "stop 1 of the CSV is waypoint 001");
      await page.screenshot({ path: path.join(ARTIFACTS, `meter-list-route-${locale}.png`) });

      // Add every result to a new group: the filter goes to the core.
      const name = `Relève à refaire ${locale}`;
      await page.getByTestId("sel-group").selectOption("new");
      await page.getByTestId("sel-new-name").fill(name);
      await page.getByTestId("sel-add").click();
      await page.waitForFunction(() => document.querySelector('[data-testid="sel-msg"]').dataset.testState === "done" && /«|“/.test(document.querySelector('[data-testid="sel-msg"]').textContent));
      const group = (await api("groups_list", {}, token)).find((g) => g.name === name);
      assert.ok(group, "group created");
      assert.equal(group.meter_count, expected.total);

      // The selection ends with the group made; a few ticked meters: compare.
      await page.waitForFunction(() => document.querySelector('[data-testid="selection-bar"]').dataset.mode === "ids");
      const ids = (await rowIds(page)).slice(0, 2);
      for (const id of ids) await page.locator(`[data-testid="meter-row"][data-id="${id}"] [data-testid="meter-pick"]`).check();
      await page.getByTestId("sel-compare").click();
      await page.waitForURL(new RegExp(`#/compare\\?ids=${ids.join(",")}`));
      assert.deepEqual(errors.map(String), []);
    } finally { await ctx.close(); }
  });
}
