// Browser test of the import report's conflicts, implausible reception times and heard devices,
// and of the Heard devices screen (adopt, dismiss, paging, permissions), in French and English.
// Database: a 40-meter demo whose readings end today (its meters have keys).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import path from "node:path";

import { ARTIFACTS, api, baseUrl, login, newPage, useDatabase } from "./harness.mjs";

const today = new Date().toISOString().slice(0, 10);
useDatabase((bin, db) => spawnSync(bin, ["demo", "--db", db, "--meters", "40", "--now", today], { encoding: "utf8", timeout: 600_000 }));

const idOf = (serial) => serial.match(/../g).reverse().join("");
const withLength = (body) => (body.length / 2).toString(16).padStart(2, "0") + body;

/** A plaintext wireless M-Bus telegram (C=44, KAM, version 1B, water, CI 7A, no encryption), volume in litres. */
function plainTelegram(serial, accessNumber, litres) {
  const vol = Buffer.alloc(4);
  vol.writeUInt32LE(litres);
  return withLength(`442d2c${idOf(serial)}1b077a${accessNumber.toString(16).padStart(2, "0")}00000004 13${vol.toString("hex")}`.replace(/ /g, ""));
}

/** An OMS mode 5 telegram (config word 0x0510: one encrypted block) of a KAM water meter: it needs a key. */
function encryptedTelegram(serial, accessNumber) {
  const block = Buffer.alloc(16);
  for (let i = 0; i < 16; i++) block[i] = (i * 37 + accessNumber * 11 + Number(serial.slice(-2))) & 0xff;
  return withLength(`442d2c${idOf(serial)}1b077a${accessNumber.toString(16).padStart(2, "0")}001005${block.toString("hex")}`);
}

/** rtl-wmbus line with a reception time (local text as the receiver writes it). */
const rtl = (time, hex) => `T1;1;1;${time};80;;;0x${hex}`;
const rtlTime = (ms) => new Date(ms).toISOString().replace("T", " ").replace("Z", "");

async function runImport(page, name, text) {
  await page.getByTestId("import-files-input").setInputFiles({ name, mimeType: "text/plain", buffer: Buffer.from(text) });
  await page.getByTestId("import-file-list").getByText(name).waitFor();
  await page.getByTestId("import-start").click();
  await page.getByTestId("import-report").waitFor({ timeout: 30_000 });
}

const ADOPT = "55443322";
const DISMISS = "55443323";
const CONFLICT = "91827365";

test("import report: conflicts, implausible time, heard devices; heard devices screen: adopt, dismiss, paging (fr, en)", async () => {
  const { ctx, page, errors } = await newPage({ locale: "fr" });
  let clerk = null;
  try {
    const token = await login(page, "superuser", "superuser");
    const list = await api("meters_list", { limit: 500 }, token);
    const park = list.rows.find((m) => m.manufacturer === "KAM" && m.device_type === "water" && m.status === "active");
    assert.ok(park, "an active Kamstrup water meter in the demo park");
    assert.equal((await api("meter_get", { id: park.id }, token)).has_key, true, "the park meter has a key");

    const now = Date.now();
    const file = [
      rtl(rtlTime(now - 2 * 3600e3), plainTelegram(park.serial, 11, 987_000)), // 1: park meter
      rtl(rtlTime(now - 3600e3), plainTelegram(park.serial, 12, 987_100)), //     2: park meter
      encryptedTelegram(ADOPT, 3), //                                               3: heard (no key)
      encryptedTelegram(DISMISS, 4), //                                             4: heard (no key)
      plainTelegram(CONFLICT, 1, 1500), //                                          5: new meter, no time: now
      plainTelegram(CONFLICT, 2, 1750), //                                          6: same meter, register and time: conflict
      rtl("9999-01-01 10:00:00.000", plainTelegram(park.serial, 13, 987_200)), //   7: implausible_time
    ].join("\n") + "\n";

    // The import, in French.
    await page.getByTestId("nav-import").click();
    const before = Math.floor(Date.now() / 1000);
    await runImport(page, "drive-by-heard.txt", file);
    const after = Math.floor(Date.now() / 1000);
    // file, lines, telegrams, stored, duplicates, [undecoded], readings, new meters, rejected
    const cells = (await page.getByTestId("import-file-row").locator("td").allInnerTexts()).map((c) => c.trim());
    assert.equal(cells[1], "7", "lines");
    assert.deepEqual(cells.slice(-2), ["1", "1"], "one new meter (the conflict's; heard devices are not created), one rejected line");

    const conflictNote = await page.getByTestId("import-conflicts-note").innerText();
    assert.match(conflictNote, /^1 lecture en conflit : .*la première valeur est gardée/, conflictNote);
    const crow = page.getByTestId("conflict-row");
    assert.equal(await crow.count(), 1);
    assert.equal(await crow.getAttribute("data-line"), "6");
    assert.equal(await crow.getAttribute("data-serial"), CONFLICT);
    const cc = (await crow.locator("td").allInnerTexts()).map((c) => c.replace(/\s+/g, " ").trim());
    assert.deepEqual([cc[0], cc[1], cc[2]], ["6", CONFLICT, "Volume"]);
    const fr = (s) => new Intl.DateTimeFormat("fr-FR", { timeZone: "Europe/Paris", dateStyle: "short", timeStyle: "short" }).format(s * 1000);
    assert.ok([fr(before), fr(after)].includes(cc[3]), `local date-time of the conflict: ${cc[3]}`);
    assert.deepEqual([cc[4], cc[5]], ["1,5 m³", "1,75 m³"], "value kept, other value");

    const rej = page.getByTestId("rejected-row");
    assert.equal(await rej.count(), 1);
    assert.equal(await rej.getAttribute("data-line"), "7");
    const rejText = await rej.innerText();
    assert.match(rejText, /Heure de réception impossible \(avant 2000 ou dans le futur\)/);
    assert.doesNotMatch(rejText, /reception time/i, "no English reason in the French report");

    const heardNote = await page.getByTestId("import-heard-note").innerText();
    assert.match(heardNote, /^2 télégrammes de compteurs absents du parc .*: 2 compteur\(s\) entendu\(s\)/, heardNote);
    await page.screenshot({ path: path.join(ARTIFACTS, "heard-import-report-fr.png"), fullPage: true });

    // The same report in English.
    await page.getByTestId("lang-select").selectOption("en");
    await page.getByTestId("import-conflicts-note").getByText(/^1 reading in conflict/).waitFor();
    assert.match(await page.getByTestId("rejected-row").innerText(), /Impossible reception time \(before 2000 or in the future\)/);
    assert.match(await page.getByTestId("import-heard-note").innerText(), /^2 telegrams of devices not in the park/);
    assert.equal((await page.getByTestId("conflict-row").locator("td").nth(4).innerText()).trim(), "1.5 m³");
    await page.screenshot({ path: path.join(ARTIFACTS, "heard-import-report-en.png"), fullPage: true });
    await page.getByTestId("lang-select").selectOption("fr");
    await page.getByTestId("import-conflicts-note").getByText(/^1 lecture en conflit/).waitFor();

    // From the report to the heard devices (French).
    await page.getByTestId("import-heard-link").click();
    await page.waitForURL(/#\/heard$/);
    await page.getByTestId("heard-row").nth(1).waitFor();
    assert.match(await page.getByTestId("heard-intro").innerText(), /ne sont pas dans le parc ; un fichier de clés qui les nomme les ajoute automatiquement/);
    assert.equal(await page.getByTestId("nav-heard").getAttribute("aria-current"), "page");
    assert.deepEqual((await page.getByTestId("heard-row").evaluateAll((els) => els.map((e) => e.dataset.serial))).sort(), [ADOPT, DISMISS]);
    const adoptRow = page.locator(`[data-testid="heard-row"][data-serial="${ADOPT}"]`);
    const hc = (await adoptRow.locator("td").allInnerTexts()).map((c) => c.replace(/\s+/g, " ").trim());
    assert.deepEqual([hc[0], hc[1], hc[2], hc[3], hc[7], hc[8]], [ADOPT, "KAM", "Eau", "1", "Oui", "Aucune clé pour ce compteur"]);
    assert.ok([fr(before), fr(after)].includes(hc[4]), `first heard in local time: ${hc[4]}`);
    assert.equal(await page.getByTestId("heard-pager").isHidden(), true, "no paging for 2 devices");
    await page.screenshot({ path: path.join(ARTIFACTS, "heard-devices-fr.png"), fullPage: true });

    // Adopt one: said in words, with a link to the meter, which is in the meters list.
    await adoptRow.getByTestId("heard-adopt").click();
    const adopted = await page.getByTestId("heard-adopted").innerText();
    assert.match(adopted, new RegExp(`^Compteur ${ADOPT} ajouté au parc \\(non affecté\\) avec 1 télégramme\\(s\\), encore illisible\\(s\\)`), adopted);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="heard-row"]').length === 1);
    await page.screenshot({ path: path.join(ARTIFACTS, "heard-devices-adopted-fr.png"), fullPage: true });
    await page.getByTestId("heard-open-meter").click();
    await page.waitForURL(/#\/meters\/\d+$/);
    await page.getByTestId("meter-serial").getByText(ADOPT).waitFor();
    await page.getByTestId("nav-meters").click();
    await page.getByTestId("meter-search").fill(ADOPT);
    await page.waitForFunction((s) => {
      const rows = document.querySelectorAll('[data-testid="meter-row"]');
      return rows.length === 1 && rows[0].dataset.serial === s;
    }, ADOPT, { timeout: 10_000 });
    assert.match(await page.getByTestId("meter-row").innerText(), /Non affecté/);

    // A clerk sees the list without the buttons; the server refuses anyway.
    clerk = await newPage({ locale: "fr" });
    const clerkToken = await login(clerk.page, "clerk", "clerk");
    await clerk.page.getByTestId("nav-heard").click();
    await clerk.page.getByTestId("heard-row").first().waitFor();
    assert.equal(await clerk.page.getByTestId("heard-adopt").count(), 0);
    assert.equal(await clerk.page.getByTestId("heard-dismiss").count(), 0);
    assert.match(await clerk.page.getByTestId("heard-denied").innerText(), /edit_meters/);
    const dismissId = Number(await clerk.page.getByTestId("heard-row").first().getAttribute("data-id"));
    await assert.rejects(api("heard_device_dismiss", { id: dismissId }, clerkToken), /HTTP 403/);
    assert.deepEqual(clerk.errors.map(String), []);
    await clerk.ctx.close();
    clerk = null;

    // English: dismiss the other one, with a confirmation.
    await page.getByTestId("nav-heard").click();
    await page.getByTestId("lang-select").selectOption("en");
    await page.locator("h1").getByText("Heard devices").waitFor();
    const row = page.locator(`[data-testid="heard-row"][data-serial="${DISMISS}"]`);
    await row.waitFor();
    assert.match(await page.getByTestId("heard-intro").innerText(), /^Devices heard during readings whose telegrams could not be read and which are not in the park/);
    assert.equal((await row.getByTestId("heard-why").innerText()).trim(), "No key for this device");
    await row.getByTestId("heard-dismiss").click();
    const confirm = page.locator(`[data-testid="heard-confirm"][data-serial="${DISMISS}"]`);
    assert.match(await confirm.innerText(), new RegExp(`Dismiss device ${DISMISS}\\?`));
    await page.screenshot({ path: path.join(ARTIFACTS, "heard-devices-en.png"), fullPage: true });
    await confirm.getByTestId("heard-confirm-dismiss").click();
    assert.match(await page.getByTestId("heard-dismissed").innerText(), new RegExp(`Device ${DISMISS} dismissed`));
    await page.getByTestId("heard-empty").waitFor();
    assert.equal((await api("heard_devices_list", {}, token)).total, 0);
    assert.equal((await api("meters_list", { search: DISMISS }, token)).total, 0, "a dismissed device is not in the park");

    // Paging: 55 devices heard, 50 a page.
    const many = Array.from({ length: 55 }, (_, i) => encryptedTelegram(String(60000000 + i), 1)).join("\n");
    const task = (await api("import_start", { files: [{ name: "many.txt", content: many }] }, token)).task;
    for (let s = null; !s || s.state === "running"; await new Promise((r) => setTimeout(r, 200))) s = await api("import_status", { task }, token);
    await page.getByTestId("nav-meters").click();
    await page.getByTestId("nav-heard").click();
    await page.getByTestId("heard-pager").waitFor();
    assert.equal(await page.getByTestId("heard-row").count(), 50);
    assert.equal(await page.getByTestId("heard-range").innerText(), "1–50 of 55");
    await page.getByTestId("heard-next").click();
    await page.getByTestId("heard-range").getByText("51–55 of 55").waitFor();
    assert.equal(await page.getByTestId("heard-row").count(), 5);
    assert.equal(await page.getByTestId("heard-next").isDisabled(), true);

    assert.deepEqual(errors.map(String), []);
  } finally {
    if (clerk) await clerk.ctx.close();
    await ctx.close();
  }
});
