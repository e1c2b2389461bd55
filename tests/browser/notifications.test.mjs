// Browser test of the alarm notifications (Settings -> #/notifications): as manager, create a
// rule, preview it over 12 months and see a count; as clerk there is no Settings entry.
// Same set-up as screens.test.mjs (harness.mjs: demo database, 300 meters, seed 7).
import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";

import { ARTIFACTS, api, login, newPage } from "./harness.mjs";

test("manager: create a notification rule and preview it over 12 months", async () => {
  const { ctx, page, errors } = await newPage();
  try {
    const token = await login(page, "manager", "manager");
    await page.getByTestId("nav-settings").click();
    await page.waitForURL(/#\/notifications$/);
    assert.equal(await page.getByTestId("placeholder").count(), 0, "no placeholder any more");
    await page.getByTestId("nt-empty").waitFor();

    await page.getByTestId("nt-name").fill("Fuites et ruptures");
    await page.getByTestId("nt-min").fill("60");
    await page.getByTestId("nt-quiet-from").fill("22:00");
    await page.getByTestId("nt-quiet-to").fill("07:00");
    await page.getByTestId("nt-email").fill("astreinte@example.com");
    await page.getByTestId("nt-sms").fill("+33612345678");
    await page.getByTestId("nt-enabled").uncheck(); // no real channel in this test: nothing to send
    await page.getByTestId("nt-save").click();
    await page.getByTestId("nt-rule").first().waitFor();
    const rules = await api("notify_rules_list", {}, token);
    assert.equal(rules.length, 1);
    assert.deepEqual(rules[0].codes.sort(), ["burst", "leak"]);
    assert.equal(rules[0].quiet_from, "22:00");
    assert.deepEqual(rules[0].email_to, ["astreinte@example.com"]);

    await page.getByTestId("nt-preview").click();
    await page.getByTestId("nt-preview-count").waitFor();
    const shown = Number(await page.getByTestId("nt-preview-count").getAttribute("data-count"));
    const want = await api("notify_preview", { rule: rules[0] }, token);
    assert.equal(shown, want.count, "the UI shows the core's count");
    assert.ok(want.count > 0, "the demo park has leaks and bursts over 12 months");
    assert.equal(await page.getByTestId("nt-preview-row").count(), Math.min(10, want.count));
    assert.equal((await api("notify_log", {}, token)).length, 0, "the preview sends nothing");
    await page.screenshot({ path: path.join(ARTIFACTS, "notifications.png"), fullPage: true });
    assert.deepEqual(errors, []);
  } finally {
    await ctx.close();
  }
});

test("clerk: no Settings entry, and the core refuses rule changes", async () => {
  const { ctx, page } = await newPage();
  try {
    const token = await login(page, "clerk", "clerk");
    assert.equal(await page.getByTestId("nav-settings").count(), 0);
    await assert.rejects(api("notify_rule_save", { name: "x", codes: ["leak"], min_duration_minutes: 0, email_to: ["a@b.c"], sms_to: [], enabled: true }, token), /forbidden/);
  } finally {
    await ctx.close();
  }
});
