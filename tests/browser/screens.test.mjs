// Browser test of the clerk's daily screens: info codes, meter groups, the meter map.
// Same set-up as ui.test.mjs: $RELEVE_URL, or a demo database (300 meters, seed 7) built
// with $RELEVE_BIN (default ../../target/debug/releve) and `releve serve` on a free port.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import net from "node:net";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

import { ARTIFACTS, api, baseUrl, drawnMapPixels, login, newPage } from "./harness.mjs";
const SEVERITY = ["burst", "leak", "reverse", "tamper", "dry", "silent", "low_battery", "permanent_error", "temporary_error"];


const attrs = (loc, name) => loc.evaluateAll((els, n) => els.map((e) => e.getAttribute(n)), name);

/** Wait until the info-code table shows rows or its empty message, not "loading". */
async function icSettled(page) {
  await page.waitForFunction(() => {
    const body = document.querySelector("#ic-rows");
    return body && !body.classList.contains("loading") && body.querySelector('[data-testid="ic-row"], [data-testid="ic-empty"]');
  });
}

test("clerk: info codes, ongoing and recent apart, sorted, filtered, exported", async () => {
  const { ctx, page, errors } = await newPage();
  try {
    const token = await login(page, "clerk", "clerk");
    const active = await api("info_codes_overview", { state: "active", sort: "severity", limit: 1000 }, token);
    const recent = await api("info_codes_overview", { state: "recent", limit: 1000 }, token);
    assert.ok(active.active > 0, `the demo has ongoing info codes (${active.active})`);
    // (The 300-meter demo of seed 7 has no code that ended in the last 30 days: the core
    // tests check that list; here the tab must agree with the command.)

    await page.getByTestId("nav-infocodes").click();
    await page.waitForURL(/#\/infocodes$/);
    await icSettled(page);
    assert.equal(await page.getByTestId("count-active").innerText(), String(active.active));
    assert.equal(await page.getByTestId("count-recent").innerText(), String(recent.recent));
    const rows = page.getByTestId("ic-row");
    assert.equal(await rows.count(), Math.min(200, active.active));
    // Default order: severity, worst first.
    const codes = await attrs(rows, "data-code");
    const ranks = codes.map((c) => SEVERITY.indexOf(c));
    assert.deepEqual(ranks, [...ranks].sort((a, b) => a - b), "rows by severity: " + codes.join(","));
    assert.deepEqual(codes, active.rows.slice(0, codes.length).map((r) => r.code));
    await page.screenshot({ path: path.join(ARTIFACTS, "infocodes.png"), fullPage: true });

    // Longest first.
    await page.getByTestId("ic-sort-duration").click();
    await page.waitForFunction(() => document.querySelector('[data-testid="ic-sort-duration"]')?.classList.contains("active"));
    await icSettled(page);
    const durations = (await attrs(page.getByTestId("ic-row"), "data-duration")).map(Number);
    assert.deepEqual(durations, [...durations].sort((a, b) => b - a), "rows by duration");

    // Filter by the code of the first row.
    const code = codes[0];
    await page.getByTestId("ic-code").selectOption(code);
    await page.waitForFunction((c) => [...document.querySelectorAll('[data-testid="ic-row"]')].every((r) => r.dataset.code === c), code);
    const only = await api("info_codes_overview", { state: "active", codes: [code] }, token);
    assert.equal(await page.getByTestId("ic-row").count(), Math.min(200, only.active));

    // Recent tab: ended events only, shown apart.
    await page.getByTestId("ic-code").selectOption("");
    await page.getByTestId("tab-recent").click();
    await page.waitForFunction(() => document.querySelector('[data-testid="tab-recent"]').classList.contains("active"));
    await icSettled(page);
    assert.equal(await page.getByTestId("ic-row").count(), Math.min(200, recent.recent));
    if (recent.recent === 0) assert.match(await page.getByTestId("ic-empty").innerText(), /30 derniers jours/);

    // CSV for calling customers.
    await page.getByTestId("tab-active").click();
    await icSettled(page);
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("ic-export").click()]);
    assert.match(download.suggestedFilename(), /^info-codes-active\.csv$/);
    const file = path.join(os.tmpdir(), `releve-ic-${process.pid}.csv`);
    await download.saveAs(file);
    const lines = fs.readFileSync(file, "utf8").replace(/^\ufeff/, "").split(/\r?\n/).filter(Boolean);
    fs.rmSync(file, { force: true });
    assert.equal(lines[0], "customer_number;customer_name;address;postal_code;city;phone;meter_serial;code;since;ended;duration_days");
    assert.equal(lines.length, active.active + 1);
    const key = (serial, code) => serial + "/" + code;
    assert.deepEqual(lines.slice(1).map((l) => key(l.split(";")[6], l.split(";")[7])).sort(),
      active.rows.map((r) => key(r.serial, r.code)).sort(), "the CSV lists the same meters and codes");
    assert.equal(await page.getByTestId("ic-exported").getAttribute("data-rows"), String(active.active));

    // Watched codes: the clerk keeps only leaks; the list follows; then all again.
    await page.locator('[data-testid="ic-watch"] summary').click();
    for (const c of SEVERITY) await page.getByTestId("watch-" + c).setChecked(c === "leak");
    await page.getByTestId("watch-save").click();
    await page.waitForFunction(() => document.querySelector('[data-testid="watch-msg"]').textContent.length > 0);
    await icSettled(page);
    const leaks = await api("info_codes_overview", { state: "active", codes: ["leak"] }, token);
    assert.equal(await page.getByTestId("count-active").innerText(), String(leaks.active));
    assert.ok((await attrs(page.getByTestId("ic-row"), "data-code")).every((c) => c === "leak"));
    assert.equal((await api("info_codes_watched", {}, token)).scope, "user");
    assert.equal(await page.getByTestId("watch-save-all").count(), 0, "a clerk may not choose for everyone");
    for (const c of SEVERITY) await page.getByTestId("watch-" + c).setChecked(true);
    await page.getByTestId("watch-save").click();
    await page.waitForFunction((n) => document.querySelector('[data-testid="count-active"]')?.textContent === n, String(active.active));

    // A clerk sees groups but may not change them.
    await page.getByTestId("nav-groups").click();
    await page.getByTestId("groups-denied").waitFor();
    assert.equal(await page.getByTestId("group-new-form").count(), 0);
    assert.deepEqual(errors.map(String), []);
  } finally {
    await ctx.close();
  }
});

test("superuser: groups from the meter list, rename, remove, delete", async () => {
  const { ctx, page, errors } = await newPage();
  try {
    const token = await login(page, "superuser", "superuser");
    await page.getByTestId("nav-meters").click();
    await page.getByTestId("meter-row").first().waitFor();
    // Active meters only: a group's size leaves removed (exchanged) meters out.
    const active = page.locator('[data-testid="meter-row"][data-status="active"]');
    const ids = [];
    for (let i = 0; i < 3; i++) {
      await active.nth(i).getByTestId("meter-pick").check();
      ids.push(Number(await active.nth(i).getAttribute("data-id")));
    }
    assert.match(await page.getByTestId("selection-count").innerText(), /^3 compteur/);
    await page.getByTestId("sel-group").selectOption("new");
    await page.getByTestId("sel-new-name").fill("Tournée test");
    await page.getByTestId("sel-add").click();
    await page.waitForFunction(() => /ajouté/.test(document.querySelector('[data-testid="sel-msg"]').textContent));
    let group = (await api("groups_list", {}, token)).find((g) => g.name === "Tournée test");
    assert.ok(group, "group created");
    assert.equal(group.meter_count, 3);
    const meter = await api("meter_get", { id: ids[0] }, token);
    assert.ok(meter.groups.some((g) => g.id === group.id) && meter.groups.length >= 2, "a meter in many groups");

    // Add one more meter to the existing group.
    await active.nth(3).getByTestId("meter-pick").check();
    await page.getByTestId("sel-group").selectOption(String(group.id));
    await page.getByTestId("sel-add").click();
    await page.waitForFunction(() => /^1 compteur/.test(document.querySelector('[data-testid="sel-msg"]').textContent));

    // Groups screen: count, rename.
    await page.getByTestId("nav-groups").click();
    const row = () => page.locator(`[data-testid="group-row"][data-id="${group.id}"]`);
    await row().waitFor();
    assert.equal(await row().getAttribute("data-count"), "4");
    await row().getByTestId("group-rename").click();
    await page.getByTestId("group-rename-input").fill("Tournée du lundi");
    await page.getByTestId("group-rename-input").press("Enter");
    await page.waitForFunction((id) => document.querySelector(`[data-testid="group-row"][data-id="${id}"]`)?.dataset.name === "Tournée du lundi", group.id);
    await page.getByTestId("group-new-name").fill("Secteur vide");
    await page.getByTestId("group-create").click();
    await page.locator('[data-testid="group-row"][data-name="Secteur vide"]').waitFor();
    await page.screenshot({ path: path.join(ARTIFACTS, "groups.png"), fullPage: true });

    // Its meters, filtered; remove one of them.
    await row().getByTestId("group-show").click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="meter-row"]').length === 4);
    await page.getByTestId("meter-pick").first().check();
    await page.getByTestId("sel-remove").click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="meter-row"]').length === 3);
    group = (await api("groups_list", {}, token)).find((g) => g.id === group.id);
    assert.equal(group.meter_count, 3);

    // Delete with confirmation.
    await page.getByTestId("nav-groups").click();
    await row().getByTestId("group-delete").click();
    await row().getByTestId("group-confirm-delete").click();
    await row().waitFor({ state: "detached" });
    assert.ok(!(await api("groups_list", {}, token)).some((g) => g.id === group.id));
    assert.deepEqual(errors.map(String), []);
  } finally {
    await ctx.close();
  }
});

test("superuser: the map shows every meter by status, popups, not-heard filter, area to group", async () => {
  const { ctx, page, errors } = await newPage();
  try {
    const token = await login(page, "superuser", "superuser");
    const all = await api("map_points", {}, token);
    assert.ok(all.count >= 290, `meters on the map (${all.count})`);
    await page.getByTestId("nav-map").click();
    await page.waitForFunction((n) => document.querySelector('[data-testid="map"]')?.dataset.points === String(n), all.count);
    const renderMs = Number(await page.getByTestId("map").getAttribute("data-render-ms"));
    console.log(`# map: ${all.count} meters, first render ${renderMs} ms after opening the screen`);
    // Legend counts are the statuses of the points.
    for (const [i, s] of ["ok", "alarm", "stale"].entries()) {
      const n = all.status.filter((x) => x === i).length;
      assert.equal(await page.getByTestId("legend-count-" + s).innerText(), String(n), s);
    }
    // The canvas has coloured pixels (points drawn).
    const drawn = await drawnMapPixels(page);
    assert.ok(drawn > 500, `pixels drawn: ${drawn}`);
    await page.screenshot({ path: path.join(ARTIFACTS, "map.png") });

    // Click an alarm meter: popup with its serial and a link to its page.
    const i = all.status.indexOf(1) >= 0 ? all.status.indexOf(1) : 0;
    const id = all.ids[i];
    const pt = await page.evaluate(([lat, lon]) => {
      const { map } = document.querySelector('[data-testid="map"]').releve;
      map.setView([lat, lon], 17, { animate: false });
      const p = map.latLngToContainerPoint([lat, lon]);
      return { x: p.x, y: p.y };
    }, [all.lat[i], all.lon[i]]);
    await page.waitForTimeout(200);
    await page.getByTestId("map").click({ position: pt });
    await page.locator(`[data-testid="map-popup"][data-id="${id}"]`).waitFor();
    const detail = await api("meter_get", { id }, token);
    assert.match(await page.getByTestId("map-popup").innerText(), new RegExp(detail.meter.serial));
    assert.equal(await page.getByTestId("map-popup-open").getAttribute("href"), `#/meters/${id}`);
    await page.screenshot({ path: path.join(ARTIFACTS, "map-popup.png") });

    // Not heard since a date: the same meters as the command (the demo hears every placed
    // meter on its last day: none before 2000, all of them before the day after).
    const lastSeen = (await api("meters_list", { sort: "last_seen", desc: true, limit: 1 }, token)).rows[0].last_seen;
    for (const since of ["2000-01-01", new Date((lastSeen + 2 * 86400) * 1000).toISOString().slice(0, 10)]) {
      const late = await api("map_points", { not_heard_since: since }, token);
      await page.getByTestId("map-since").fill(since);
      await page.getByTestId("map-since").dispatchEvent("change");
      await page.waitForFunction((n) => document.querySelector('[data-testid="map"]')?.dataset.points === String(n), late.count);
      if (late.count === 0) assert.match(await page.getByTestId("map-status").innerText(), /Aucun compteur/);
    }
    assert.equal((await api("map_points", { not_heard_since: "2000-01-01" }, token)).count, 0);
    await page.getByTestId("map-since").fill("");
    await page.getByTestId("map-since").dispatchEvent("change");
    await page.waitForFunction((n) => document.querySelector('[data-testid="map"]')?.dataset.points === String(n), all.count);

    // Draw a rectangle over the middle of the map: its meters become a group.
    await page.evaluate(() => {
      const { map, layer } = document.querySelector('[data-testid="map"]').releve;
      map.fitBounds(layer.bounds(), { animate: false });
    });
    await page.waitForTimeout(200);
    const box = await page.getByTestId("map").boundingBox();
    const [sw, ne] = await page.evaluate(([w, h]) => {
      const { map } = document.querySelector('[data-testid="map"]').releve;
      const a = map.containerPointToLatLng([w * 0.3, h * 0.6]);
      const b = map.containerPointToLatLng([w * 0.6, h * 0.3]);
      return [[a.lat, a.lng], [b.lat, b.lng]];
    }, [box.width, box.height]);
    const inside = all.ids.filter((_, k) => all.lat[k] >= sw[0] && all.lat[k] <= ne[0] && all.lon[k] >= sw[1] && all.lon[k] <= ne[1]);
    await page.getByTestId("map-select").click();
    await page.mouse.move(box.x + box.width * 0.3, box.y + box.height * 0.3);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.6, box.y + box.height * 0.6, { steps: 6 });
    await page.mouse.up();
    await page.getByTestId("map-selection").waitFor({ state: "visible" });
    const selected = Number(await page.getByTestId("map-selected-count").getAttribute("data-count"));
    assert.ok(selected > 0 && selected < all.count, `meters in the rectangle: ${selected}`);
    assert.ok(Math.abs(selected - inside.length) <= 2, `selected ${selected}, inside the drawn rectangle ${inside.length}`);
    await page.getByTestId("map-group-name").fill("Relève à pied");
    await page.getByTestId("map-make-group").click();
    await page.getByTestId("map-group-created").waitFor();
    const g = (await api("groups_list", {}, token)).find((x) => x.name === "Relève à pied");
    assert.equal(g.meter_count, selected);
    await page.screenshot({ path: path.join(ARTIFACTS, "map-selection.png") });

    // The group filter shows just those meters; colour by manufacturer shows a legend of brands.
    await page.getByTestId("map-group").selectOption(String(g.id));
    await page.waitForFunction((n) => document.querySelector('[data-testid="map"]')?.dataset.points === String(n), selected);
    await page.getByTestId("color-brand").click();
    assert.match(await page.getByTestId("map-legend").innerText(), /KAM/);
    assert.deepEqual(errors.map(String), []);
  } finally {
    await ctx.close();
  }
});
