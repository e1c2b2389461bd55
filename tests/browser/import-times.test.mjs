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
