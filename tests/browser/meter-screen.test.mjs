// Browser test of the meter screen on the demo park (set-up: harness.mjs), in French and in
// English: the readings table, a reading entered by hand (a lower index warned first), seen
// in the table and on the chart as manual; a reading corrected with a reason; the meter's
// address edited and its marker dragged on the small map; its status changed to "à déposer".
import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import fs from "node:fs";

import { ARTIFACTS, api, baseUrl, login, newPage } from "./harness.mjs";

/** Active meters of `type` with readings. */
async function meters(token, type) {
  const page = await api("meters_list", { limit: 300 }, token);
  return page.rows.filter((r) => r.device_type === type && r.status === "active" && r.last_seen);
}

/** Unix seconds as the local `YYYY-MM-DDTHH:MM` of Europe/Paris (the demo's time zone). */
function localInput(ts) {
  const s = new Intl.DateTimeFormat("sv-SE", { timeZone: "Europe/Paris", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hour12: false }).format(new Date(ts * 1000));
  return s.replace(" ", "T").slice(0, 16);
}

const rowAttr = (page, i, attr) => page.locator('[data-testid="readings-table"] tbody tr').nth(i).getAttribute(attr);

/** Enter an index a minute after the last reading: first below it (warned), then above it. */
async function enterReading(page, volume, words) {
  await page.getByTestId("rd-add-open").click();
  await page.getByTestId("rd-add-form").waitFor();
  await page.getByTestId("rd-add-at").fill(localInput(volume.last_ts + 60));
  await page.getByTestId("rd-add-value").fill(String(Math.max(0, volume.last_value - 1)));
  await page.getByTestId("rd-add-save").click();
  // No reason: refused, naming the field.
  await page.waitForFunction(() => document.querySelector('[data-testid="rd-add-msg"]')?.textContent);
  assert.match(await page.getByTestId("rd-add-msg").textContent(), words.reasonRequired);
  await page.getByTestId("rd-add-reason").fill(words.reason);
  await page.getByTestId("rd-add-save").click();
  await page.waitForFunction((re) => new RegExp(re).test(document.querySelector('[data-testid="rd-add-msg"]')?.textContent || ""), words.below.source);
  assert.ok(await page.getByTestId("rd-add-confirm-row").isVisible(), "a lower index may be confirmed (reset, exchange)");
  const value = Math.round((volume.last_value + 0.5) * 1000) / 1000;
  await page.getByTestId("rd-add-value").fill(String(value));
  await page.getByTestId("rd-add-save").click();
  await page.waitForFunction(() => document.querySelector('[data-testid="rd-flash"]')?.textContent);
  await page.waitForFunction(() => document.querySelector('[data-testid="readings-table"] tbody tr')?.dataset.edit === "manual");
  return value;
}

test("fr: readings table, manual reading and correction, edit the address, drag the marker, status à déposer", async () => {
  const { ctx, page, errors } = await newPage();
  try {
    const token = await login(page, "superuser", "superuser");
    const [row] = await meters(token, "water");
    assert.ok(row, "an active water meter");
    const d = await api("meter_get", { id: row.id }, token);
    const volume = d.registers.find((r) => r.register === "volume");
    await page.goto(`${baseUrl}/#/meters/${row.id}`);
    await page.locator('[data-testid="readings-table"] tbody tr').first().waitFor();
    assert.equal(await rowAttr(page, 0, "data-ts"), String(volume.last_ts), "newest first");
    const before = await page.locator('[data-testid="readings-table"] tbody tr').count();
    assert.ok(before > 1, `a page of readings (${before})`);
    assert.match(await page.getByTestId("readings-table").textContent(), /Fichier de relève|Passerelle|MQTT/);

    const value = await enterReading(page, volume, {
      reasonRequired: /motif : une valeur est nécessaire/,
      reason: "Relevé visuel, radio muette",
      below: /inférieur au relevé précédent/,
    });
    const top = page.locator('[data-testid="readings-table"] tbody tr').first();
    assert.match(await top.textContent(), /Saisie manuelle/);
    assert.match(await top.textContent(), /manuel/);
    assert.ok((await top.textContent()).replace(/\s/g, "").includes(String(value).replace(".", ",")), "the entered index, French digits");
    // The chart marks the bucket of the manual reading.
    await page.locator('[data-testid="histogram"] [data-testid="manual-mark"]').first().waitFor();
    await page.getByTestId("legend-manual").waitFor();

    // Correct the reading received before it, with a reason.
    const second = page.locator('[data-testid="readings-table"] tbody tr').nth(1);
    const ts = await second.getAttribute("data-ts");
    await second.getByTestId("rd-correct").click();
    await page.getByTestId("rd-cor-form").waitFor();
    const old = Number(await second.getByTestId("rd-correct").getAttribute("data-value"));
    await page.getByTestId("rd-cor-value").fill(String(Math.round((old + 0.001) * 1000) / 1000));
    await page.getByTestId("rd-cor-save").click();
    await page.waitForFunction(() => document.querySelector('[data-testid="rd-cor-msg"]')?.textContent);
    assert.match(await page.getByTestId("rd-cor-msg").textContent(), /motif : une valeur est nécessaire/);
    await page.getByTestId("rd-cor-reason").fill("Valeur aberrante, contrôlée sur place");
    await page.getByTestId("rd-cor-save").click();
    await page.waitForFunction((t) => document.querySelector(`[data-testid="readings-table"] tbody tr[data-ts="${t}"]`)?.dataset.edit === "correction", ts);
    assert.match(await page.getByTestId("rd-flash").textContent(), /trame brute/);
    await page.screenshot({ path: path.join(ARTIFACTS, "meter-screen-readings-fr.png"), fullPage: true });

    // The table as CSV for a French Excel: BOM, French titles and dates, the manual reading.
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("rd-csv").click()]);
    const bytes = fs.readFileSync(await download.path());
    assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf], "UTF-8 with BOM");
    const lines = bytes.subarray(3).toString("utf8").split(/\r?\n/);
    assert.equal(lines[0], "Date;Registre;Index;Unité;Consommation;Source;Passerelle;Saisie");
    assert.match(lines[1], /^\d\d\/\d\d\/\d{4} \d\d:\d\d:\d\d;volume;[\d,]+;m3;[\d,]*;saisie manuelle;;manual$/);

    // Edit the meter: address, marker dragged, status "à déposer", notes.
    await page.getByTestId("med-open").click();
    await page.getByTestId("med-marker").waitFor();
    await page.getByTestId("med-address").fill("12 rue Jean Jaurès");
    const latBefore = await page.getByTestId("med-lat").inputValue();
    const box = await page.getByTestId("med-marker").boundingBox();
    await page.mouse.move(box.x + box.width / 2, box.y + box.height - 4);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width / 2 + 60, box.y + box.height + 36, { steps: 8 });
    await page.mouse.up();
    await page.waitForFunction((v) => document.querySelector('[data-testid="med-lat"]').value !== v, latBefore);
    const lat = Number(await page.getByTestId("med-lat").inputValue());
    const lon = Number(await page.getByTestId("med-lon").inputValue());
    await page.getByTestId("med-status").selectOption("to_remove");
    await page.getByTestId("med-notes").fill("Accès par la cour, clé chez la gardienne");
    await page.screenshot({ path: path.join(ARTIFACTS, "meter-screen-edit-fr.png"), fullPage: true });
    await page.getByTestId("med-save").click();
    await page.getByTestId("meter-flash").waitFor();
    assert.match(await page.getByTestId("meter-flash").textContent(), /Compteur enregistré \(adresse, GPS, statut, notes\)/);
    assert.equal(await page.getByTestId("meter-status").getAttribute("data-status"), "to_remove");
    assert.equal((await page.getByTestId("meter-status").textContent()).trim(), "À déposer");
    assert.match(await page.getByTestId("meter-notes").textContent(), /clé chez la gardienne/);
    const after = await api("meter_get", { id: row.id }, token);
    assert.equal(after.meter.address, "12 rue Jean Jaurès");
    assert.ok(Math.abs(after.meter.lat - lat) < 1e-6 && Math.abs(after.meter.lon - lon) < 1e-6, "the dragged position is saved");
    assert.ok(after.to_remove);
    // A wrong latitude is refused naming the field.
    await page.getByTestId("med-open").click();
    await page.getByTestId("med-lat").fill("95");
    await page.getByTestId("med-save").click();
    await page.waitForFunction(() => document.querySelector('[data-testid="med-msg"]')?.textContent);
    assert.match(await page.getByTestId("med-msg").textContent(), /latitude : 95 n’est pas entre .?90 et 90/);
    assert.deepEqual(errors, []);
  } finally {
    await ctx.close();
  }
});

test("en: enter a reading, correct one, change the status", async () => {
  const { ctx, page, errors } = await newPage({ locale: "en" });
  try {
    const token = await login(page, "manager", "manager");
    const rows = await meters(token, "water");
    const row = rows[1];
    assert.ok(row, "a second water meter");
    const d = await api("meter_get", { id: row.id }, token);
    const volume = d.registers.find((r) => r.register === "volume");
    await page.goto(`${baseUrl}/#/meters/${row.id}`);
    await page.locator('[data-testid="readings-table"] tbody tr').first().waitFor();
    await enterReading(page, volume, { reasonRequired: /reason: a value is needed/, reason: "Read on site", below: /is below the previous reading/ });
    const top = page.locator('[data-testid="readings-table"] tbody tr').first();
    assert.match(await top.textContent(), /Manual entry/);
    await page.locator('[data-testid="histogram"] [data-testid="manual-mark"]').first().waitFor();

    const second = page.locator('[data-testid="readings-table"] tbody tr').nth(1);
    const ts = await second.getAttribute("data-ts");
    await second.getByTestId("rd-correct").click();
    await page.getByTestId("rd-cor-reason").fill("Typing error at the import");
    await page.getByTestId("rd-cor-save").click();
    await page.waitForFunction((t) => document.querySelector(`[data-testid="readings-table"] tbody tr[data-ts="${t}"]`)?.dataset.edit === "correction", ts);
    assert.match(await page.getByTestId("rd-flash").textContent(), /raw telegram are kept/);

    await page.getByTestId("med-open").click();
    await page.getByTestId("med-marker").waitFor();
    await page.getByTestId("med-address").fill("4 Church Lane");
    await page.getByTestId("med-status").selectOption("to_remove");
    await page.getByTestId("med-save").click();
    await page.getByTestId("meter-flash").waitFor();
    assert.match(await page.getByTestId("meter-flash").textContent(), /Meter saved \(address, status\)/);
    assert.equal((await page.getByTestId("meter-status").textContent()).trim(), "To remove");
    await page.screenshot({ path: path.join(ARTIFACTS, "meter-screen-en.png"), fullPage: true });
    assert.deepEqual(errors, []);
  } finally {
    await ctx.close();
  }
});
