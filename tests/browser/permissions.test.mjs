// A clerk (role "user": view and export) drives every screen of the demo: no screen asks the
// server for what the role may not read (no 403 in the page's traffic), no button offers what
// the role may not do, and the same actions called directly on the API are refused (403,
// nothing changed). Screenshots of the clerk's home in French and English.
import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { ARTIFACTS, api, baseUrl, login, newPage } from "./harness.mjs";

const SCREENS = ["#/", "#/meters", "#/compare", "#/groups", "#/map", "#/live", "#/infocodes", "#/reports/consumption",
  "#/reports/performance", "#/heard", "#/sources", "#/lorawan", "#/gateways", "#/mbus", "#/c806", "#/export",
  "#/export/layouts", "#/jobs"];

/** Nothing a clerk may not do is on the page. */
const FORBIDDEN = ["nav-import", "nav-optical", "nav-settings", "nav-keys", "tile-import", "tile-settings", "tile-keys", "job-new", "job-run",
  "job-delete", "job-save", "lay-new", "lay-copy", "lay-delete", "lay-save", "crep-email", "exchange-open",
  "meter-priority-toggle", "group-create", "src-form"];

async function post(name, args, token) {
  const r = await fetch(`${baseUrl}/api/${name}`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: "Bearer " + token },
    body: JSON.stringify(args),
  });
  return { status: r.status, body: await r.json() };
}

test("clerk: every screen, no refused request, no forbidden action shown", async () => {
  const { ctx, page } = await newPage({ locale: "fr" });
  const refused = [];
  const errors = [];
  page.on("pageerror", (e) => errors.push(`${e.message} on ${page.url()}`));
  page.on("response", (r) => {
    if (r.url().includes("/api/") && r.status() === 403) refused.push(`${new URL(r.url()).pathname} on ${page.url()}`);
  });
  try {
    const token = await login(page, "clerk", "clerk");
    await page.screenshot({ path: path.join(ARTIFACTS, "permissions-clerk-home-fr.png"), fullPage: true });
    const meters = await api("meters_list", { limit: 1 }, token);
    const screens = [...SCREENS, `#/meters/${meters.rows[0].id}`];
    for (const hash of screens) {
      await page.evaluate((h) => { location.hash = h; }, hash);
      await page.waitForLoadState("networkidle");
      await page.waitForTimeout(300);
      for (const id of FORBIDDEN) {
        assert.equal(await page.getByTestId(id).count(), 0, `${hash}: a clerk sees '${id}'`);
      }
    }
    // The billing layouts open read-only: a layout shows, without save.
    await page.evaluate(() => { location.hash = "#/export/layouts"; });
    await page.waitForLoadState("networkidle");
    if (await page.getByTestId("lay-open").count()) {
      await page.getByTestId("lay-open").first().click();
      await page.waitForTimeout(300);
      assert.equal(await page.getByTestId("lay-save").count(), 0, "no save button on a layout for a clerk");
    }
    assert.deepEqual(refused, [], "screens asked the server for what the clerk may not read");
    assert.deepEqual(errors, [], "no script error on any screen");

    // English too.
    await page.getByTestId("lang-select").selectOption("en");
    await page.evaluate(() => { location.hash = "#/"; });
    await page.waitForLoadState("networkidle");
    await page.screenshot({ path: path.join(ARTIFACTS, "permissions-clerk-home-en.png"), fullPage: true });
    assert.match(await page.locator("body").innerText(), /Meters/);

    // Direct calls: refused with 403 `forbidden`, naming the permission, and nothing written.
    const layouts = await api("export_layouts_list", {}, token);
    const jobs = await api("export_jobs_list", {}, token);
    const attempts = [
      ["export_layout_save", { layout: { name: "Clerk layout", format: "csv", fields: [{ var: "meter_serial" }] } }, "manage_exports"],
      ["export_layout_save", { layout: { ...(await api("export_layout_get", { name: layouts[0].name }, token)), name: "Renamed" }, previous_name: layouts[0].name }, "manage_exports"],
      ["export_layout_delete", { name: layouts[0].name }, "manage_exports"],
      ["export_job_save", { name: "Clerk job", layout: layouts[0].name, every: "daily", hour: 1, minute: 0, period: "previous_day", destination: "folder", folder: "/tmp", email_to: [], report_to: [], enabled: true }, "manage_exports"],
      ["export_job_run_now", { id: jobs[0].id }, "manage_exports"],
      ["consumer_report_email", { meter_id: meters.rows[0].id, from: "2026-01-01", to: "2026-01-31", email_to: "x@example.org" }, "send_mail"],
      ["import_start", { files: [{ name: "a.txt", content: "" }] }, "import"],
      ["keys_import", { name: "k.csv", content: "12345678;000102030405060708090A0B0C0D0E0F" }, "manage_keys"],
      ["source_add", { name: "clerk", kind: "http", format: "lines" }, "settings"],
      ["folders_allowed_set", { folders: ["/"] }, "settings"],
      ["group_create", { name: "Clerk group" }, "edit_meters"],
    ];
    for (const [name, args, permission] of attempts) {
      const r = await post(name, args, token);
      assert.equal(r.status, 403, `${name}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error.code, "forbidden");
      assert.ok(r.body.error.message.includes(permission), `${name} names '${permission}': ${r.body.error.message}`);
    }
    assert.deepEqual((await api("export_layouts_list", {}, token)).map((l) => l.name), layouts.map((l) => l.name), "layouts unchanged");
    assert.equal((await api("export_jobs_list", {}, token)).length, jobs.length, "jobs unchanged");
  } finally {
    await ctx.close();
  }
});
