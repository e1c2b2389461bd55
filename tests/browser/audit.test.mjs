// The audit log screen (Settings > Audit log) on a real `releve serve` (harness.mjs): the
// manager filters by event type and user, opens an entry's details, pages, and downloads the
// CSV export, parsed here; the export is itself one audit entry. A clerk (role user) has no
// permission `audit`: no link, and the server refuses the commands.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";

import { ARTIFACTS, api, baseUrl, login, newPage } from "./harness.mjs";

const shot = (page, name) => page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });

/** `;`-separated CSV with quoted fields (as the csv crate writes it) -> rows of cells. */
function parseCsv(text) {
  const rows = [];
  let row = [], cell = "", quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { cell += '"'; i++; } else if (c === '"') quoted = false; else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ";") { row.push(cell); cell = ""; } else if (c === "\n") { row.push(cell); rows.push(row); row = []; cell = ""; } else if (c !== "\r") cell += c;
  }
  if (cell || row.length) { row.push(cell); rows.push(row); }
  return rows;
}

test("manager: audit log filtered, details, pages, CSV export downloaded and audited", async () => {
  const { ctx, page, errors } = await newPage({ locale: "fr" });
  try {
    const token = await login(page, "manager", "manager");
    // Something to find: groups made by the manager (one entry each), with a quote in a name.
    for (let i = 1; i <= 55; i++) await api("group_create", { name: `Audit ${i}` }, token);
    await api("group_create", { name: 'Tournée "A"; nord' }, token);

    await page.goto(`${baseUrl}/#/settings`);
    await page.getByTestId("nav-audit").click();
    await page.getByTestId("audit-row").first().waitFor();
    // The event types offered, in French words.
    const options = await page.getByTestId("audit-event").locator("option").allInnerTexts();
    assert.ok(options.includes("Groupe créé"), options.join(" | "));
    await page.getByTestId("audit-event").selectOption({ label: "Groupe créé" });
    await page.getByTestId("audit-user").selectOption("manager");
    await page.getByTestId("audit-apply").click();
    await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="audit-row"]')].every((r) => r.dataset.event === "group_created"));
    assert.equal(await page.getByTestId("audit-row").count(), 50, "a page of 50");
    const first = await page.getByTestId("audit-row").first().innerText();
    assert.match(first, /Groupe créé/);
    assert.match(first, /\d\d\/\d\d\/\d{4} \d\d:\d\d/);
    assert.match(first, /Tournée "A"; nord/);

    // Details of the newest entry.
    await page.getByTestId("audit-row").first().click();
    await page.getByTestId("audit-detail").waitFor();
    assert.match(await page.getByTestId("audit-detail-text").innerText(), /Tournée "A"; nord \(#\d+\), 0 meters/);
    await shot(page, "audit-fr");

    // The next page holds the remaining 6, the first page comes back.
    await page.getByTestId("audit-older").click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="audit-row"]').length === 6);
    assert.equal(await page.getByTestId("audit-older").isDisabled(), true);
    assert.equal(await page.getByTestId("audit-page").innerText(), "Page 2");
    await page.getByTestId("audit-newer").click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="audit-row"]').length === 50);

    // The CSV export, downloaded and read.
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("audit-export").click()]);
    const file = path.join(ARTIFACTS, "audit-export.csv");
    await download.saveAs(file);
    assert.match(download.suggestedFilename(), /^audit-log-\d{4}-\d\d-\d\d\.csv$/);
    const text = fs.readFileSync(file, "utf8").replace(/^\uFEFF/, "");
    const rows = parseCsv(text);
    assert.deepEqual(rows[0], ["time", "event", "user", "computer", "details"]);
    assert.equal(rows.length - 1, 56, "every group_created entry of the manager");
    assert.ok(rows.slice(1).every((r) => r.length === 5 && r[1] === "group_created" && r[2] === "manager" && /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/.test(r[0])));
    assert.match(rows[1][4], /^Tournée "A"; nord \(#\d+\), 0 meters$/);
    await page.getByTestId("audit-msg").filter({ hasText: "56 entrée(s) exportée(s)" }).waitFor();

    // The export is one audit entry naming its filters.
    const own = await api("audit_log", { event: "audit_log_exported" }, token);
    assert.equal(own.entries.length, 1);
    assert.match(own.entries[0].details, /^56 entries: event group_created, user manager$/);

    // English labels.
    await page.getByTestId("lang-select").selectOption("en");
    await page.getByTestId("audit-row").first().waitFor();
    assert.ok((await page.getByTestId("audit-event").locator("option").allInnerTexts()).includes("Group created"));
    await shot(page, "audit-en");
    assert.deepEqual(errors.map(String), []);
  } finally {
    await ctx.close();
  }
});

test("clerk: no audit log, and the server refuses it", async () => {
  const { ctx, page } = await newPage({ locale: "fr" });
  try {
    const token = await login(page, "clerk", "clerk");
    await assert.rejects(api("audit_log", {}, token), /HTTP 403 .*forbidden/);
    await assert.rejects(api("audit_log_export", {}, token), /HTTP 403 .*forbidden/);
    await page.goto(`${baseUrl}/#/audit`);
    await page.getByTestId("audit-denied").waitFor();
  } finally {
    await ctx.close();
  }
});
