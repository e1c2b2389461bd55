// Issue 15: handling alarms in the info-code overview (acknowledge, comment, assign, the
// handling filter; the row shows who has it and the last comment) and the start page's
// "to do today" (each count links to its filtered list, whose total is the count). French
// and English, as the clerk (role user: view and export), on the 300-meter demo.
import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";

import { ARTIFACTS, api, baseUrl, login, newPage } from "./harness.mjs";

const rowSel = (r) => `[data-testid="ic-row"][data-meter="${r.meter_id}"][data-code="${r.code}"][data-started="${r.started_at}"]`;

/** Wait until the overview shows exactly the rows of `args` (as the command answers). */
async function overviewShows(page, token, args) {
  const expected = await api("info_codes_overview", { sort: "severity", limit: 200, ...args }, token);
  await page.waitForFunction((keys) => {
    const rows = [...document.querySelectorAll('[data-testid="ic-row"]')].map((r) => `${r.dataset.meter}/${r.dataset.code}/${r.dataset.started}`);
    return !document.querySelector("#ic-rows.loading") && rows.length === keys.length && keys.every((k) => rows.includes(k));
  }, expected.rows.map((r) => `${r.meter_id}/${r.code}/${r.started_at}`));
  return expected;
}

const TEXT = {
  fr: { comment: "Client appelé le 6/12, absent, rappeler jeudi", ack: "Acquittée par clerk", assigned: "Attribuée à clerk", today: "À traiter aujourd’hui" },
  en: { comment: "Customer called on 6 Dec, out, call back Thursday", ack: "Acknowledged by clerk", assigned: "Assigned to clerk", today: "To do today" },
};

for (const locale of ["fr", "en"]) {
  test(`${locale}: a clerk acknowledges, comments and assigns an alarm; the overview filters on it`, async () => {
    const { ctx, page, errors } = await newPage({ locale });
    try {
      const token = await login(page, "clerk", "clerk");
      await page.goto(baseUrl + "/#/infocodes");
      await page.getByTestId("ic-handling").waitFor();
      await page.getByTestId("ic-handling").selectOption("not_acknowledged");
      const open = await overviewShows(page, token, { handling: "not_acknowledged" });
      assert.ok(open.rows.length > 0, "the demo has alarms not acknowledged");
      const r = open.rows[0];
      const row = page.locator(rowSel(r));
      await row.getByTestId("ic-handle").click();
      const detail = page.getByTestId("ic-detail");
      await detail.getByTestId("ic-ack").click();
      await page.waitForFunction((sel) => document.querySelector(sel)?.dataset.acked === "1", rowSel(r));
      assert.ok((await row.getByTestId("ic-acked").innerText()).includes(TEXT[locale].ack));
      // Two comments: each with its author and time; the row shows the last one.
      await detail.getByTestId("ic-comment-text").fill("Premier appel");
      await detail.getByTestId("ic-comment-add").click();
      await detail.locator('[data-testid="ic-comment"]').first().waitFor();
      await detail.getByTestId("ic-comment-text").fill(TEXT[locale].comment);
      await detail.getByTestId("ic-comment-add").click();
      await page.waitForFunction(() => document.querySelectorAll('[data-testid="ic-comment"]').length === 2);
      assert.ok((await row.getByTestId("ic-last-comment").innerText()).includes(TEXT[locale].comment));
      assert.ok((await row.getByTestId("ic-last-comment").innerText()).startsWith("clerk"));
      // Assign it to oneself.
      await detail.getByTestId("ic-assign-to").selectOption("clerk");
      await detail.getByTestId("ic-assign").click();
      await page.waitForFunction((sel) => document.querySelector(sel)?.dataset.assigned === "clerk", rowSel(r));
      assert.ok((await row.getByTestId("ic-assigned").innerText()).includes(TEXT[locale].assigned));
      const alarm = await api("alarm_get", { meter_id: r.meter_id, code: r.code, started_at: r.started_at }, token);
      assert.equal(alarm.ack_by, "clerk");
      assert.equal(alarm.assigned_to, "clerk");
      assert.deepEqual(alarm.comments.map((c) => [c.author, c.body]), [["clerk", "Premier appel"], ["clerk", TEXT[locale].comment]]);
      await page.screenshot({ path: path.join(ARTIFACTS, `alarms-handle-${locale}.png`) });

      // The handling filter: acknowledged, mine, assigned to a named colleague, not acknowledged.
      await page.getByTestId("ic-handling").selectOption("acknowledged");
      const acked = await overviewShows(page, token, { handling: "acknowledged" });
      assert.ok(acked.rows.some((x) => x.meter_id === r.meter_id && x.code === r.code));
      await page.getByTestId("ic-handling").selectOption("mine");
      const mine = await overviewShows(page, token, { handling: "mine" });
      assert.ok(mine.rows.every((x) => x.assigned_to === "clerk") && mine.rows.length >= 1);
      await page.getByTestId("ic-handling").selectOption("user:clerk");
      await overviewShows(page, token, { assigned_to: "clerk" });
      await page.getByTestId("ic-handling").selectOption("not_acknowledged");
      const left = await overviewShows(page, token, { handling: "not_acknowledged" });
      assert.ok(!left.rows.some((x) => x.meter_id === r.meter_id && x.code === r.code && x.started_at === r.started_at));
      assert.equal(left.active, open.active - 1);
      await page.getByTestId("ic-handling").selectOption("mine");
      await overviewShows(page, token, { handling: "mine" });
      await page.screenshot({ path: path.join(ARTIFACTS, `alarms-mine-${locale}.png`) });
      await page.getByTestId("ic-handling").selectOption("");
      assert.deepEqual(errors, []);
    } finally { await ctx.close(); }
  });

  test(`${locale}: the start page lists what to do today, each a link to its filtered list`, async () => {
    const { ctx, page, errors } = await newPage({ locale });
    try {
      const token = await login(page, "clerk", "clerk");
      await page.goto(baseUrl + "/#/");
      const d = await api("today", {}, token);
      await page.getByTestId("today-not-heard").waitFor();
      assert.equal(await page.getByTestId("today").locator("h2").innerText(), TEXT[locale].today);
      for (const [id, n] of [["not-heard", d.not_heard], ["alarms-today", d.alarms_today], ["alarms-mine", d.alarms_mine],
        ["failed-exports", d.failed_exports], ["failed-webhooks", d.failed_webhooks], ["failed-imports", d.failed_imports]]) {
        assert.equal(Number(await page.getByTestId(`today-${id}`).getAttribute("data-count")), n, id);
      }
      assert.ok(d.alarms_mine >= 1, "the alarm assigned in the other test");
      const last = await page.getByTestId("today-last-import").innerText();
      assert.ok(d.last_import ? last.includes(d.last_import.user) : last.length > 0, last);
      // The clerk cannot open the webhooks screen (settings): that count has no link.
      assert.equal(await page.getByTestId("today-failed-webhooks-link").count(), 0, "webhooks are the manager's");
      await page.screenshot({ path: path.join(ARTIFACTS, `today-${locale}.png`) });

      // Not heard for N days: the meter list with that filter, whose total is the count.
      await page.getByTestId("today-not-heard-link").click();
      await page.waitForURL(`**/#/meters?not_heard=${d.not_heard_days}`);
      assert.equal(await page.getByTestId("not-heard-filter").inputValue(), String(d.not_heard_days));
      const list = await api("meters_list", { not_heard_days: d.not_heard_days, limit: 50 }, token);
      assert.equal(list.total, d.not_heard);
      await page.waitForFunction((n) => document.querySelectorAll('[data-testid="meter-row"]').length === n
        && !document.querySelector("#meter-rows.loading"), Math.min(50, d.not_heard));
      const cutoff = Date.now() / 1000 - d.not_heard_days * 86400;
      assert.ok(list.rows.every((m) => (m.last_seen == null || m.last_seen < cutoff + 60) && m.status !== "removed"));
      await page.screenshot({ path: path.join(ARTIFACTS, `today-not-heard-${locale}.png`) });
      // The filter's "—" takes it away.
      await page.getByTestId("not-heard-filter").selectOption("");

      // Alarms assigned to me, and alarms started today: the overview with that filter.
      await page.goto(baseUrl + "/#/");
      await page.getByTestId("today-alarms-mine-link").click();
      await page.waitForURL("**/#/infocodes?handling=mine");
      assert.equal(await page.getByTestId("ic-handling").inputValue(), "mine");
      const mine = await overviewShows(page, token, { handling: "mine" });
      assert.equal(mine.active, d.alarms_mine);
      await page.goto(baseUrl + "/#/");
      await page.getByTestId("today-alarms-today-link").click();
      await page.waitForURL("**/#/infocodes?today=1");
      await page.getByTestId("ic-today-chip").waitFor({ state: "visible" });
      assert.equal(await page.getByTestId("ic-handling").inputValue(), "", "the link sets both filters");
      const todays = await overviewShows(page, token, { today: true });
      assert.equal(todays.active, d.alarms_today);
      await page.getByTestId("ic-today-clear").click();
      await page.getByTestId("ic-today-chip").waitFor({ state: "hidden" });
      assert.deepEqual(errors, []);
    } finally { await ctx.close(); }
  });
}
