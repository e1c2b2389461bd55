// The quick export streamed (issue 15): the CSV comes as the response body of
// `POST /api/export_readings` with `Accept: text/csv`, in bounded memory on the server; the
// screen shows a bar of the rows received of those expected (`X-Releve-Expected-Rows`) and a
// cancel that stops the server's export (audited "cancelled after N rows"). In French and
// English; the network is slowed down (Chromium's network emulation) so the bar is seen
// mid-way. Screenshots: artifacts/export-stream-{fr,en}-{progress,cancelled,done}.png.
// Main's CSV options stream too: Windows-1252 with French titles and dates, and a character
// Windows-1252 cannot hold (a customer "Łukasz") is the clear refusal on screen, naming line,
// column and meter, before any byte is downloaded (artifacts/export-stream-{fr,en}-refused.png).
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { baseUrl, newPage, login, api, ARTIFACTS } from "./harness.mjs";

const WORDS = {
  fr: { run: "Exporter", cancel: "Annuler", cancelled: "Export annulé", progress: /lignes \(/ },
  en: { run: "Export", cancel: "Cancel", cancelled: "Export cancelled", progress: /rows \(/ },
};

/** The period of the demo's last whole month (local dates, as the screen takes them). */
async function lastMonth(token) {
  const list = await api("meters_list", { limit: 1, sort: "last_seen", desc: true }, token);
  const last = new Date(list.rows[0].last_seen * 1000);
  const end = new Date(Date.UTC(last.getUTCFullYear(), last.getUTCMonth(), 0));
  const start = new Date(Date.UTC(end.getUTCFullYear(), end.getUTCMonth(), 1));
  return [start.toISOString().slice(0, 10), end.toISOString().slice(0, 10)];
}

async function openQuickExport(page, from, to) {
  await page.goto(baseUrl + "/#/export/quick");
  await page.getByTestId("export-button").waitFor();
  await page.locator('[data-testid="col-meter_serial"]').waitFor();
  await page.getByTestId("export-from").fill(from);
  await page.getByTestId("export-to").fill(to);
  await page.getByTestId("export-granularity").selectOption("readings");
}

/** Slow the page's downloads down to `bytesPerSecond`. */
async function throttle(page, bytesPerSecond) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Network.enable");
  await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 0, downloadThroughput: bytesPerSecond, uploadThroughput: -1 });
  return cdp;
}

async function exportEntries(token) {
  const r = await api("audit_log", { event: "export", limit: 20 }, token);
  return r.entries;
}

for (const locale of ["fr", "en"]) {
  test(`quick export streamed with a progress bar and a cancel (${locale})`, { timeout: 180_000 }, async () => {
    const w = WORDS[locale];
    const { ctx, page, errors } = await newPage({ locale });
    try {
      const token = await login(page, "manager", "manager");
      const [from, to] = await lastMonth(token);
      await openQuickExport(page, from, to);
      assert.equal((await page.getByTestId("export-button").innerText()).trim(), w.run);

      // The rows expected, as the server announces them (the same request the screen makes).
      const head = await fetch(`${baseUrl}/api/export_readings`, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "text/csv", Authorization: "Bearer " + token },
        body: JSON.stringify({ from, to, granularity: "readings" }),
      });
      assert.equal(head.status, 200);
      assert.match(head.headers.get("content-type"), /^text\/csv/);
      const expected = Number(head.headers.get("x-releve-expected-rows"));
      const text = await head.text();
      assert.ok(expected > 50_000, `a month of the 300-meter demo: ${expected} rows`);
      assert.equal(text.trimEnd().split("\n").length, expected + 1, "the streamed file has the rows announced");

      // Slowed to 400 kB/s (a loaded machine must not finish first): the bar is seen moving, then the clerk cancels.
      const cdp = await throttle(page, 400_000);
      const before = (await exportEntries(token)).length;
      await page.getByTestId("export-button").click();
      await page.waitForFunction((n) => Number(document.querySelector('[data-testid="export-progress"]')?.dataset.rows || 0) > n, Math.round(expected * 0.35));
      const shown = await page.getByTestId("export-progress-text").innerText();
      assert.match(shown, w.progress, shown);
      const now = Number(await page.getByTestId("export-progress").getAttribute("aria-valuenow"));
      assert.ok(now >= 0 && now < 100, `mid-export: ${now} %`);
      assert.equal((await page.getByTestId("export-cancel").innerText()).trim(), w.cancel);
      await page.screenshot({ path: path.join(ARTIFACTS, `export-stream-${locale}-progress.png`) });
      await page.getByTestId("export-cancel").click();
      await page.waitForFunction((words) => document.querySelector('[data-testid="export-result"]')?.textContent.includes(words), w.cancelled);
      assert.ok(await page.getByTestId("export-progress-area").isHidden(), "the bar is gone");
      assert.equal(await page.getByTestId("export-button").isDisabled(), false, "a new export may start");
      await page.screenshot({ path: path.join(ARTIFACTS, `export-stream-${locale}-cancelled.png`) });
      // The server stopped too: its audit entry says so, with fewer rows than the month.
      let cancelled = null;
      for (let i = 0; i < 100 && !cancelled; i++) {
        const entries = await exportEntries(token);
        if (entries.length > before) cancelled = entries.find((e) => /cancelled after \d+ rows/.test(e.details));
        if (!cancelled) await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(cancelled, "the cancelled export is in the audit log");
      const rowsAtCancel = Number(cancelled.details.match(/cancelled after (\d+) rows/)[1]);
      assert.ok(rowsAtCancel < expected, `stopped at ${rowsAtCancel} of ${expected}`);

      // Faster, to the end: the file has every row, the screen says so.
      await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 0, downloadThroughput: 8_000_000, uploadThroughput: -1 });
      const [download] = await Promise.all([page.waitForEvent("download", { timeout: 120_000 }), page.getByTestId("export-button").click()]);
      assert.equal(download.suggestedFilename(), `releve-${from}_${to}.csv`);
      const saved = path.join(os.tmpdir(), `releve-stream-${process.pid}-${locale}.csv`);
      await download.saveAs(saved);
      const lines = fs.readFileSync(saved, "utf8").trimEnd().split("\n");
      fs.rmSync(saved, { force: true });
      await page.getByTestId("export-rows").waitFor();
      assert.equal(Number(await page.getByTestId("export-rows").getAttribute("data-rows")), expected);
      assert.equal(lines.length, expected + 1);
      assert.equal(await page.getByTestId("export-progress").getAttribute("aria-valuenow"), "100");
      await page.screenshot({ path: path.join(ARTIFACTS, `export-stream-${locale}-done.png`) });
      assert.deepEqual(errors.map(String), []);
    } finally {
      await ctx.close();
    }
  });
}

test("a streamed export refused before its first byte is the usual JSON error", async () => {
  const { ctx, page } = await newPage({ locale: "en" });
  try {
    const token = await login(page, "clerk", "clerk");
    // A clerk sees daily values only: every reading is refused, as JSON, status 403.
    const r = await fetch(`${baseUrl}/api/export_readings`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "text/csv", Authorization: "Bearer " + token },
      body: JSON.stringify({ from: "2026-01-01", to: "2026-01-31", granularity: "readings" }),
    });
    assert.equal(r.status, 403);
    assert.equal((await r.json()).error.code, "intervals_not_allowed");
    const anon = await fetch(`${baseUrl}/api/export_readings`, {
      method: "POST", headers: { "Content-Type": "application/json", Accept: "text/csv" }, body: "{}",
    });
    assert.equal(anon.status, 401);
  } finally {
    await ctx.close();
  }
});

for (const locale of ["fr", "en"]) {
  test(`Windows-1252 streamed with French titles; a character it lacks refused before the first byte (${locale})`, { timeout: 180_000 }, async () => {
    const { ctx, page, errors } = await newPage({ locale });
    try {
      const token = await login(page, "manager", "manager");
      const [from, to] = await lastMonth(token);
      // Windows-1252, French titles and dates, one row a day: the file as the server streams it.
      await openQuickExport(page, from, to);
      await page.getByTestId("export-granularity").selectOption("days");
      await page.getByTestId("export-encoding").selectOption("windows-1252");
      await page.getByTestId("export-french").setChecked(true);
      // Without the customer's name (the first locale's run gives one a "Ł", see below).
      await page.getByTestId("col-customer_name").setChecked(false);
      const [download] = await Promise.all([page.waitForEvent("download", { timeout: 120_000 }), page.getByTestId("export-button").click()]);
      const saved = path.join(os.tmpdir(), `releve-stream-1252-${process.pid}-${locale}.csv`);
      await download.saveAs(saved);
      const bytes = fs.readFileSync(saved);
      fs.rmSync(saved, { force: true });
      assert.ok(bytes.includes(Buffer.from("N\xB0 de compteur", "latin1")), "° as one Windows-1252 byte");
      assert.ok(!bytes.includes(Buffer.from("\u00B0", "utf8")), "no UTF-8 in the file");
      const lines = bytes.toString("latin1").split(/\r?\n/).filter(Boolean);
      assert.match(lines[1], /\d\d\/\d\d\/\d{4}/, "French dates: " + lines[1]);
      await page.getByTestId("export-rows").waitFor();
      assert.equal(Number(await page.getByTestId("export-rows").getAttribute("data-rows")), lines.length - 1);

      // A customer whose name Windows-1252 cannot write, on a meter far into the file.
      const list = await api("meters_list", { limit: 1, sort: "last_seen", desc: true }, token);
      const meter = await api("meter_get", { id: list.rows[0].id }, token);
      // (The second locale moves the first one's occupant out, a day later.)
      const name = locale === "fr" ? "Łukasz Nowak" : "Łucja Ōno";
      const day = locale === "fr" ? from : from.slice(0, 8) + "02";
      if (meter.customer_id) {
        await api("customer_move_out", { customer_id: meter.customer_id, date: day, new_occupant: { name } }, token);
      }
      await page.getByTestId("col-customer_name").setChecked(true);
      const before = (await exportEntries(token)).length;
      let downloads = 0;
      page.on("download", () => { downloads++; });
      await page.getByTestId("export-button").click();
      await page.waitForFunction(() => document.querySelector('[data-testid="export-result"]')?.classList.contains("error-text"));
      const shown = await page.getByTestId("export-result").innerText();
      const words = locale === "fr" ? /Ligne [\d\s\u202f\u00a0]+, colonne customer_name \(compteur (\S+)\) : « Ł » ne peut pas s’écrire en windows-1252/ : /Line [\d,]+, column customer_name \(meter (\S+)\): “Ł” cannot be written in windows-1252/;
      assert.match(shown, words, shown);
      assert.equal(shown.match(words)[1], meter.meter.serial);
      assert.ok(await page.getByTestId("export-progress-area").isHidden(), "no bar left");
      await page.screenshot({ path: path.join(ARTIFACTS, `export-stream-${locale}-refused.png`) });
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(downloads, 0, "nothing downloaded");
      assert.equal((await exportEntries(token)).length, before, "a refused export writes no audit entry");
      assert.deepEqual(errors.map(String), []);
    } finally {
      await ctx.close();
    }
  });
}
