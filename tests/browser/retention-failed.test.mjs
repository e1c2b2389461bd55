// Issue 15: a retention run that failed is on the start page ("to do today") for 24 hours,
// linking to its entries in the audit log. The failure is real: the database's readings
// refuse deletion (a trigger), `releve retention run` fails on them and leaves its audit
// entry, then the trigger is dropped and the server starts. French and English, as the
// manager.
import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { spawnSync } from "node:child_process";

import { ARTIFACTS, baseUrl, login, newPage, sqliteScript, useDatabase } from "./harness.mjs";

useDatabase((bin, db) => {
  // Readings of 2025, past the 13 months of full resolution: the run compacts them.
  const made = spawnSync(bin, ["demo", "--db", db, "--meters", "20", "--now", "2025-08-01"], { encoding: "utf8", timeout: 600_000 });
  if (made.status !== 0) return made;
  const trigger = sqliteScript(db, "CREATE TRIGGER no_delete BEFORE DELETE ON readings BEGIN SELECT RAISE(ABORT, 'disk says no'); END;");
  if (trigger.status !== 0) return trigger;
  const run = spawnSync(bin, ["retention", "run", "--db", db], { encoding: "utf8", env: { ...process.env, RELEVE_PASSWORD: "manager" }, timeout: 600_000 });
  if (run.status === 0) return { status: 1, stderr: "the retention run should have failed: " + run.stdout };
  return sqliteScript(db, "DROP TRIGGER no_delete;");
});

const TEXT = {
  fr: { item: /1 purge\(s\) de conservation en échec \(24 h\)/, event: "Purge de conservation en échec" },
  en: { item: /1 retention run\(s\) failed \(24 h\)/, event: "Retention purge failed" },
};

for (const locale of ["fr", "en"]) {
  test(`${locale}: a failed retention run is on the start page and leads to its audit entry`, async () => {
    const { ctx, page, errors } = await newPage({ locale });
    try {
      await login(page, "manager", "manager");
      await page.goto(baseUrl + "/#/");
      const item = page.getByTestId("today-failed-retention");
      await item.getByText(TEXT[locale].item).waitFor();
      assert.equal(await item.getAttribute("data-count"), "1");
      await page.screenshot({ path: path.join(ARTIFACTS, `today-retention-failed-${locale}.png`) });
      await page.getByTestId("today-failed-retention-link").click();
      await page.waitForFunction(() => document.querySelector('[data-testid="audit-event"]')?.value === "retention_failed");
      const rows = page.locator('[data-testid="audit-row"]');
      await rows.first().waitFor();
      assert.equal(await rows.count(), 1);
      assert.equal(await rows.first().getAttribute("data-event"), "retention_failed");
      const cells = await rows.first().locator("td").allInnerTexts();
      assert.equal(cells[1].trim(), TEXT[locale].event);
      assert.match(cells[4], /disk says no/);
      await page.screenshot({ path: path.join(ARTIFACTS, `audit-retention-failed-${locale}.png`) });
      assert.deepEqual(errors.map(String), []);
    } finally {
      await ctx.close();
    }
  });
}
