// Browser test of the fixed network's supervision (issue 10): a concentrator pushes frames
// heard by three gateways; the Gateways screen lists them with their figures, one silent
// after `releve network check`; a manager places two on the map; the map's gateways layer
// shows their markers (the silent one in the warning colour) with a popup; a meter's page
// shows who heard it and the RSSI trend per gateway; the silence settings in Settings.
// Screenshots in French and English.
import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { spawnSync } from "node:child_process";

import { ARTIFACTS, api, baseUrl, login, newPage, useDatabase } from "./harness.mjs";

let bin = null;
let dbPath = null;
useDatabase((b, db) => {
  bin = b;
  dbPath = db;
  return spawnSync(b, ["demo", "--db", db, "--meters", "300", "--seed", "7"], { encoding: "utf8", timeout: 600_000 });
});

/** A plaintext Kamstrup water telegram of meter 6600000i, as hex. */
function telegram(i, access, litres) {
  const vol = Buffer.alloc(4);
  vol.writeUInt32LE(litres);
  const id = `0${i}000066`; // BCD, least significant byte first: meter 6600000i
  const body = `442d2c${id}1b077a${access.toString(16).padStart(2, "0")}0000000413${vol.toString("hex")}`;
  return (body.length / 2).toString(16).padStart(2, "0") + body;
}

const line = (i, access, time, gateway, rssi) =>
  JSON.stringify({ telegram: telegram(i, access, 1000 + access), time, rssi, gateway }) + "\n";

async function setUp() {
  const { token } = await api("login", { login: "manager", password: "manager" });
  const { token: push } = await api("source_add", { name: "reseau-fixe", kind: "http", format: "jsonl" }, token);
  const now = Math.floor(Date.now() / 1000);
  let body = "";
  // Ten days, two frames a day: GW-NORD hears 66000001 well; GW-SUD hears it ever worse
  // (a failing antenna); 66000002 only GW-NORD hears; GW-EST delivered once, 8 hours ago.
  for (let d = 10; d >= 0; d--) {
    for (const h of [2, 14]) {
      const at = now - d * 86400 - h * 3600 + 3600;
      if (at > now) continue;
      const access = (10 - d) * 2 + (h === 14 ? 0 : 1);
      body += line(1, access, at, "GW-NORD", -72 - (d % 3));
      body += line(1, access, at + 1, "GW-SUD", -112 + d * 2);
      body += line(2, access, at + 2, "GW-NORD", -80);
    }
  }
  body += line(3, 1, now - 8 * 3600, "GW-EST", -95);
  const r = await fetch(`${baseUrl}/ingest/reseau-fixe`, { method: "POST", headers: { Authorization: "Bearer " + push }, body });
  assert.equal(r.status, 200, await r.text());
  // The check the app's scheduler runs every minute, from cron's command.
  const check = spawnSync(bin, ["network", "check", "--db", dbPath], { encoding: "utf8" });
  assert.equal(check.status, 0, check.stderr);
  assert.match(check.stdout, /^1 gateway\(s\)/, check.stdout);
  const meters = await api("meters_list", { search: "66000001" }, token);
  return { token, meterId: meters.rows[0].id };
}

test("gateways: the screen, the map layer, a meter's receptions, in French and English", async () => {
  const { meterId } = await setUp();
  const { ctx, page, errors } = await newPage({ locale: "fr" });
  try {
    const token = await login(page, "manager", "manager");
    const base = page.url().replace(/#.*$/, "");
    await page.getByTestId("nav-gateways").click();
    await page.getByRole("heading", { name: "Passerelles" }).waitFor();
    const row = (name) => page.locator(`[data-testid="gw-row"][data-name="${name}"]`);
    await row("GW-NORD").waitFor();
    assert.equal(await page.getByTestId("gw-row").count(), 3);
    assert.equal(await row("GW-NORD").getByTestId("gw-heard").innerText(), "2");
    assert.equal(await row("GW-NORD").getByTestId("gw-alone").innerText(), "1", "66000002 is heard by GW-NORD alone");
    assert.equal(await row("GW-SUD").getByTestId("gw-alone").innerText(), "0");
    assert.equal(await row("GW-EST").getByTestId("gw-silent").count(), 1, "GW-EST is silent");
    assert.equal(await row("GW-NORD").getByTestId("gw-ok").count(), 1);
    // Frames since local midnight: the core's count (the fixture's newest frame is an hour old,
    // so just after midnight it is 0), shown as it is.
    const nord = (await api("gateways", {}, token)).gateways.find((g) => g.name === "GW-NORD");
    assert.equal(await row("GW-NORD").getByTestId("gw-today").innerText(), String(nord.frames_today));

    // The manager places GW-NORD and GW-EST.
    for (const [name, label, lat, lon, hours] of [["GW-NORD", "Château d’eau du Pilat", 45.4795, 4.5133, "12"], ["GW-EST", "Mairie annexe", 45.4725, 4.5353, ""]]) {
      await row(name).getByTestId("gw-edit-open").click();
      const form = page.getByTestId("gw-edit");
      await form.getByTestId("gw-label").fill(label);
      await form.getByTestId("gw-lat").fill(String(lat));
      await form.getByTestId("gw-lon").fill(String(lon));
      await form.getByTestId("gw-hours").fill(hours);
      await form.getByTestId("gw-save").click();
      await page.getByTestId("gw-msg").getByText(name).waitFor();
      await row(name).getByText(label).waitFor();
    }
    assert.match(await row("GW-NORD").innerText(), /12 h/);
    await page.screenshot({ path: path.join(ARTIFACTS, "gateways-fr.png") });

    // The map: the gateways layer is off until ticked; then two markers, GW-EST silent.
    await page.goto(base + "#/map");
    await page.getByTestId("map-gateways").waitFor();
    await page.waitForFunction(() => document.querySelector('[data-testid="map"]').dataset.points);
    assert.equal(await page.getByTestId("gw-marker").count(), 0);
    await page.getByTestId("map-gateways").check();
    await page.getByTestId("gw-marker").first().waitFor();
    assert.equal(await page.getByTestId("gw-marker").count(), 2);
    assert.match(await page.getByTestId("map-gateways-count").innerText(), /2 placées sur 3/);
    assert.equal(await page.locator('[data-testid="gw-marker"][data-silent="1"]').getAttribute("data-name"), "GW-EST");
    const color = await page.locator('[data-testid="gw-marker"][data-name="GW-EST"]').evaluate((e) => getComputedStyle(e).backgroundColor);
    assert.equal(color, "rgb(217, 119, 6)", "the silent one in the warning colour");
    await page.locator('[data-testid="gw-marker"][data-name="GW-EST"]').click();
    const popup = page.getByTestId("gw-popup");
    await popup.waitFor();
    assert.match(await popup.innerText(), /GW-EST[\s\S]*Mairie annexe[\s\S]*Muette/);
    await page.waitForTimeout(400); // the popup's fade-in
    await page.screenshot({ path: path.join(ARTIFACTS, "gateways-map-fr.png") });
    await page.getByTestId("map-gateways").uncheck();
    await page.getByTestId("gw-marker").first().waitFor({ state: "detached" });

    // The meter's receptions: two gateways, the RSSI trend with a line each.
    await page.goto(base + `#/meters/${meterId}`);
    const rcp = page.getByTestId("receptions");
    await rcp.getByTestId("rcp-row").first().waitFor();
    assert.equal(await rcp.getByTestId("rcp-row").count(), 2);
    assert.match(await rcp.locator('[data-testid="rcp-row"][data-gateway="GW-SUD"]').innerText(), /-92 dBm/, "GW-SUD's best RSSI");
    const chart = rcp.getByTestId("rssi-chart");
    await chart.waitFor();
    assert.equal(await chart.getAttribute("data-lines"), "2");
    const points = await chart.getByTestId("rssi-point").count();
    assert.ok(points >= 20 && points <= 24, `one point per gateway and day: ${points}`);
    await rcp.scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(ARTIFACTS, "gateways-meter-fr.png") });

    // English.
    await page.getByTestId("lang-select").selectOption("en");
    await rcp.getByRole("heading", { name: "Receptions" }).waitFor();
    await rcp.getByText("Daily mean RSSI per gateway (30 days)").waitFor();
    await rcp.scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(ARTIFACTS, "gateways-meter-en.png") });
    await page.goto(base + "#/gateways");
    await page.getByRole("heading", { name: "Gateways" }).waitFor();
    await row("GW-EST").getByText("Silent").first().waitFor();
    await page.screenshot({ path: path.join(ARTIFACTS, "gateways-en.png") });
    await page.goto(base + "#/map?gateways=1");
    await page.getByTestId("gw-marker").first().waitFor();
    await page.locator('[data-testid="gw-marker"][data-name="GW-NORD"]').click();
    await page.getByTestId("gw-popup").getByText("Meters heard (7 d)").waitFor();
    await page.waitForTimeout(400);
    await page.screenshot({ path: path.join(ARTIFACTS, "gateways-map-en.png") });

    // Settings: the silent periods, saved.
    await page.goto(base + "#/notifications");
    const sil = page.getByTestId("sil-form");
    await sil.getByText("Network supervision").waitFor();
    await page.waitForFunction(() => document.querySelector('[data-testid="sil-class-water"]').value !== "");
    assert.equal(await sil.getByTestId("sil-class-water").inputValue(), "48");
    await sil.getByTestId("sil-class-water").fill("36");
    // N of the start page's "not heard for N days", 3 until set.
    assert.equal(await sil.getByTestId("sil-not-heard").inputValue(), "3");
    await sil.getByTestId("sil-not-heard").fill("5");
    await sil.getByTestId("sil-save").click();
    await sil.getByText("Silent periods saved.").waitFor();
    await sil.scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(ARTIFACTS, "gateways-settings-en.png") });
    await page.getByTestId("lang-select").selectOption("fr");
    await sil.getByText("Supervision du réseau").waitFor();
    await page.waitForFunction(() => document.querySelector('[data-testid="sil-class-water"]').value === "36");
    await sil.scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(ARTIFACTS, "gateways-settings-fr.png") });
    // The start page counts with the new N, and its link filters the meter list with it.
    await page.goto(base + "#/");
    await page.getByTestId("today-not-heard").getByText(/depuis 5 jours/).waitFor();
    assert.match(await page.getByTestId("today-not-heard-link").getAttribute("href"), /not_heard=5$/);
    assert.deepEqual(errors.map(String), []);
  } finally {
    await ctx.close();
  }
});

test("clerk: the gateways listed without edition; the core refuses gateway_set", async () => {
  const { ctx, page } = await newPage({ locale: "fr" });
  try {
    const token = await login(page, "clerk", "clerk");
    await page.goto(page.url().replace(/#.*$/, "") + "#/gateways");
    await page.getByTestId("gw-row").first().waitFor();
    assert.equal(await page.getByTestId("gw-edit-open").count(), 0);
    const r = await fetch(`${baseUrl}/api/gateway_set`, {
      method: "POST", headers: { "Content-Type": "application/json", Authorization: "Bearer " + token },
      body: JSON.stringify({ id: 1, label: "x" }),
    });
    assert.equal(r.status, 403);
  } finally {
    await ctx.close();
  }
});
