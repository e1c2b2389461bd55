// Browser test of the reception-time window (issue 9) on the Settings screen: the manager
// reads the defaults (2000, 10 minutes), is refused 1900 in words, saves 2010 and 120 minutes
// (French and English, screenshots); a clerk sees no section and the core refuses the change.
import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";

import { ARTIFACTS, api, login, newPage } from "./harness.mjs";

test("manager: the plausible reception times are a setting, worded in French and English", async () => {
  const { ctx, page, errors } = await newPage();
  try {
    const token = await login(page, "manager", "manager");
    const before = await api("import_time_settings", {}, token);
    await page.goto(page.url().replace(/#.*$/, "") + "#/notifications");
    const form = page.getByTestId("it-form");
    await form.waitFor();
    await page.waitForFunction(() => document.querySelector('[data-testid="it-year"]').value !== "");
    assert.equal(await page.getByTestId("it-year").inputValue(), String(before.earliest_year));
    assert.equal(await page.getByTestId("it-future").inputValue(), String(before.max_future_minutes));
    await form.getByText("Heures de réception", { exact: true }).waitFor();

    // The browser's own check stops 1900 (min 1970); the core refuses it too.
    await assert.rejects(api("import_time_settings_set", { earliest_year: 1900, max_future_minutes: 10 }, token), /HTTP 400 .*bad_input/);
    await page.getByTestId("it-year").fill("2010");
    await page.getByTestId("it-future").fill("120");
    await page.getByTestId("it-save").click();
    await page.getByTestId("it-msg").filter({ hasText: "enregistrées" }).waitFor();
    assert.deepEqual(await api("import_time_settings", {}, token), { earliest_year: 2010, max_future_minutes: 120 });
    await form.screenshot({ path: path.join(ARTIFACTS, "import-times-fr.png") });

    await page.getByTestId("lang-select").selectOption("en");
    await form.getByText("Reception times", { exact: true }).waitFor();
    await page.getByTestId("it-future").fill("10");
    await page.getByTestId("it-year").fill("2000");
    await page.getByTestId("it-save").click();
    await page.getByTestId("it-msg").filter({ hasText: "Reception times saved." }).waitFor();
    await form.screenshot({ path: path.join(ARTIFACTS, "import-times-en.png") });
    assert.deepEqual(await api("import_time_settings", {}, token), { earliest_year: 2000, max_future_minutes: 10 });
    await page.getByTestId("lang-select").selectOption("fr");
    assert.deepEqual(errors.map(String), []);
  } finally {
    await ctx.close();
  }
});

test("clerk: no reception-times section, and the core refuses the change", async () => {
  const { ctx, page } = await newPage();
  try {
    const token = await login(page, "clerk", "clerk");
    await page.goto(page.url().replace(/#.*$/, "") + "#/notifications");
    await page.getByTestId("it-section").waitFor({ state: "attached" });
    assert.equal(await page.getByTestId("it-form").count(), 0);
    await assert.rejects(api("import_time_settings_set", { earliest_year: 2000, max_future_minutes: 10 }, token), /HTTP 403 .*forbidden/);
  } finally {
    await ctx.close();
  }
});

/** A plaintext Kamstrup water telegram of meter 12345678 (volume `litres`), as hex. */
function plainTelegram(access, litres) {
  const vol = Buffer.alloc(4);
  vol.writeUInt32LE(litres);
  const body = `442d2c785634121b077a${access.toString(16).padStart(2, "0")}0000000413${vol.toString("hex")}`;
  return (body.length / 2).toString(16).padStart(2, "0") + body;
}

test("a UTF-16 drive-by file is read with its mark and refused in words without it", async () => {
  const { ctx, page } = await newPage({ locale: "fr" });
  try {
    await login(page, "superuser", "superuser");
    await page.goto(page.url().replace(/#.*$/, "") + "#/import");
    const text = [1, 2, 3].map((i) => `T1;1;1;2026-11-1${i} 10:00:00.000;80;;;0x${plainTelegram(i, 1000 * i)}`).join("\r");
    const withMark = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, "utf16le")]);
    await page.getByTestId("import-files-input").setInputFiles({ name: "utf16.txt", mimeType: "text/plain", buffer: withMark });
    await page.getByTestId("import-start").click();
    await page.getByTestId("import-report").waitFor({ timeout: 30_000 });
    const cells = (await page.getByTestId("import-file-row").locator("td").allInnerTexts()).map((c) => c.trim());
    assert.equal(cells[1], "3", `three lines ended by a lone CR, read from UTF-16: ${cells}`);

    const noMark = Buffer.from(text.replaceAll("2026-11-1", "2026-11-0"), "utf16le");
    await page.getByTestId("import-files-input").setInputFiles({ name: "sans-marque.txt", mimeType: "text/plain", buffer: noMark });
    await page.getByTestId("import-start").click();
    const error = page.getByTestId("import-error");
    await error.filter({ hasText: "UTF-16" }).waitFor({ timeout: 30_000 });
    assert.match(await error.innerText(), /Le fichier sans-marque\.txt semble être en UTF-16 sans marque d’ordre des octets : enregistrez-le en UTF-8/);
    await page.screenshot({ path: path.join(ARTIFACTS, "import-utf16-refused-fr.png") });
  } finally {
    await ctx.close();
  }
});
