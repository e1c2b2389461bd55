// Browser test of issue 15's charts and map, in French and English, on the demo park
// (readings up to now, so the current month is not over): partial buckets hatched with a
// "partial: up to" legend in a meter's month histogram and the comparison; the group sum on
// an axis of its own; hours of a meter read once a day shown as days with a note; the map's
// base from an MBTiles file written here (PNG tiles in the MBTiles SQLite schema, by
// python3's sqlite3) inside an allowed folder, served through `map_tile`, no internet; the
// scale bar; the manufacturer legend's counts and toggles.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { spawnSync } from "node:child_process";

import { ARTIFACTS, api, baseUrl, login, newPage, drawnMapPixels } from "./harness.mjs";

/** Write an MBTiles file of 256-px PNG tiles (z 9..15) covering lat/lon bounds. */
function writeMbtiles(file, [south, west, north, east]) {
  const py = `
import sqlite3, zlib, struct, math, sys
file, s, w, n, e = sys.argv[1], *map(float, sys.argv[2:6])
def png(r, g, b, grid):
    rows = b""
    for y in range(256):
        row = bytearray()
        for x in range(256):
            edge = grid and (x < 2 or y < 2)
            row += bytes((150, 150, 160) if edge else (r, g, b))
        rows += b"\\0" + bytes(row)
    def chunk(t, d): return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
    return b"\\x89PNG\\r\\n\\x1a\\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 256, 256, 8, 2, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b"")
tiles = [png(236, 232, 218, True), png(214, 232, 206, True)]
def tx(lon, z): return int((lon + 180) / 360 * 2**z)
def ty(lat, z): r = math.radians(lat); return int((1 - math.log(math.tan(r) + 1 / math.cos(r)) / math.pi) / 2 * 2**z)
db = sqlite3.connect(file)
db.executescript("CREATE TABLE metadata (name TEXT, value TEXT); CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data BLOB); CREATE UNIQUE INDEX tile_index ON tiles (zoom_level, tile_column, tile_row);")
db.executemany("INSERT INTO metadata VALUES (?, ?)", [("name", "Test base"), ("format", "png"), ("bounds", f"{w},{s},{e},{n}")])
count = 0
for z in range(9, 16):
    for x in range(tx(w, z) - 1, tx(e, z) + 2):
        for y in range(ty(n, z) - 1, ty(s, z) + 2):
            db.execute("INSERT INTO tiles VALUES (?, ?, ?, ?)", (z, x, 2**z - 1 - y, tiles[(x + y) % 2]))
            count += 1
db.commit()
print(count)
`;
  const r = spawnSync("python3", ["-c", py, file, String(south), String(west), String(north), String(east)], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return Number(r.stdout.trim());
}

/** A water meter read about once a day (the demo has hourly and daily ones). */
async function dailyMeter(token) {
  const page = await api("meters_list", { limit: 300 }, token);
  const to = new Date().toISOString().slice(0, 10);
  const from = new Date(Date.now() - 3 * 86400e3).toISOString().slice(0, 10);
  for (const row of page.rows.filter((r) => r.status === "active" && r.last_seen && r.device_type === "water")) {
    const h = await api("meter_histogram", { id: row.id, resolution: "hour", from, to }, token);
    if (h.asked === "hour") return { row, from, to };
  }
  assert.fail("no water meter read once a day in the demo");
}

for (const locale of ["fr", "en"]) {
  test(`${locale}: partial buckets, the group sum's own axis, days for a daily meter`, async () => {
    const { ctx, page, errors } = await newPage({ locale });
    try {
      const token = await login(page, "manager", "manager");
      const { row, from, to } = await dailyMeter(token);

      // Hours asked of a daily meter: days shown, with the note.
      await page.goto(`${baseUrl}/#/meters/${row.id}`);
      await page.getByTestId("res-hour").click();
      await page.getByTestId("hist-from").fill(from);
      await page.getByTestId("hist-to").fill(to);
      await page.getByTestId("hist-to").press("Enter");
      await page.getByTestId("hist-fit-note").waitFor();
      assert.equal(await page.getByTestId("histogram").getAttribute("data-resolution"), "day");
      const note = await page.getByTestId("hist-fit-note").textContent();
      assert.match(note, locale === "fr" ? /relevé environ toutes les 24 h.*par jour/ : /read about every 24 h.*per day/);
      await page.screenshot({ path: path.join(ARTIFACTS, `charts-daily-hours-${locale}.png`), fullPage: true });

      // Months: the current one hatched, "partial: up to <date>" in the legend.
      await page.getByTestId("res-month").click();
      await page.waitForFunction(() => document.querySelector('[data-testid="histogram"]')?.getAttribute("data-resolution") === "month");
      await page.locator('[data-testid="histogram"] [data-testid="partial-bar"]').first().waitFor();
      assert.equal(await page.locator('[data-testid="histogram"] .bar.partial').count(), 1, "only the current month");
      const legend = await page.getByTestId("legend-partial").textContent();
      assert.match(legend, locale === "fr" ? /^Partiel : jusqu’au / : /^Partial: up to /);
      await page.screenshot({ path: path.join(ARTIFACTS, `charts-partial-month-${locale}.png`), fullPage: true });

      // Comparison with a group's sum: the sum on its own right axis, labelled with Σ.
      const groups = await api("groups_list", {}, token);
      const group = groups.find((g) => g.meter_count > 5);
      assert.ok(group, "a demo group");
      await page.goto(`${baseUrl}/#/compare?ids=${row.id}&group=${group.id}`);
      await page.waitForFunction(() => document.querySelector('[data-testid="compare-chart"]')?.getAttribute("data-series") === "2");
      assert.equal(await page.getByTestId("compare-chart").getAttribute("data-axes"), "2");
      const axes = await page.locator('[data-testid^="compare-axis-"]').evaluateAll((els) => els.map((e) => [e.textContent, e.dataset.sum]));
      assert.equal(axes[0][1], "0");
      assert.equal(axes[1][0], `Σ ${group.name} (m³)`);
      assert.equal(axes[1][1], "1");
      const axisOf = await page.locator('[data-testid="compare-series"]').evaluateAll((els) => els.map((e) => [e.dataset.kind, e.dataset.axis]));
      assert.deepEqual(axisOf, [["meter", "0"], ["group_sum", "1"]]);
      // The meter's line is not flattened: its points span a good part of the plot's height.
      const ys = await page.locator('[data-testid="compare-series"][data-kind="meter"] circle:not(.partial-point)').evaluateAll((els) => els.map((e) => Number(e.getAttribute("cy"))));
      assert.ok(Math.max(...ys) - Math.min(...ys) > 60, `the meter's months spread over the axis: ${ys}`);
      await page.getByTestId("legend-partial").waitFor();
      await page.screenshot({ path: path.join(ARTIFACTS, `charts-compare-sum-${locale}.png`), fullPage: true });
      await page.getByTestId("mode-bars").click();
      await page.locator('[data-testid="compare-chart"] .bar.partial').first().waitFor();
      await page.screenshot({ path: path.join(ARTIFACTS, `charts-compare-bars-${locale}.png`), fullPage: true });
      assert.deepEqual(errors, []);
    } finally {
      await ctx.close();
    }
  });
}

test("the map's base from an MBTiles file (offline), the scale bar and the manufacturer legend (fr, en)", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "releve-tiles-"));
  try {
    const { ctx, page, errors } = await newPage({ locale: "fr" });
    try {
      const token = await login(page, "manager", "manager");
      const pts = await api("map_points", {}, token);
      const lat = pts.lat, lon = pts.lon;
      const file = path.join(dir, "commune.mbtiles");
      const n = writeMbtiles(file, [Math.min(...lat), Math.min(...lon), Math.max(...lat), Math.max(...lon)]);
      assert.ok(n > 20, `tiles written: ${n}`);
      // Outside the allowed folders: refused with the folders rule.
      await assert.rejects(api("map_set_settings", { tile_url: "", stale_days: 3, mbtiles_path: file }, token), /folder_not_allowed/);
      await api("folders_allowed_set", { folders: [dir] }, token);
      const saved = await api("map_set_settings", { tile_url: "", stale_days: 3, mbtiles_path: file, cache_mb: 50 }, token);
      assert.equal(saved.mbtiles_path, fs.realpathSync(file));

      for (const locale of ["fr", "en"]) {
        const { ctx: lctx, page, errors } = await newPage({ locale });
        try {
        await login(page, "manager", "manager");
        await page.goto(`${baseUrl}/#/map`);
        await page.waitForFunction(() => Number(document.querySelector('[data-testid="map"]')?.dataset.points) > 0);
        // Tiles from the file, drawn as images in the tile pane.
        await page.waitForFunction(() => document.querySelectorAll('.releve-base img[data-source="mbtiles"]').length >= 4, null, { timeout: 20_000 });
        assert.ok(await drawnMapPixels(page) > 0);
        const scale = await page.locator(".leaflet-control-scale-line").first().textContent();
        assert.match(scale, /^\d+ (m|km)$/);
        assert.match(await page.getByTestId("map-base-note").textContent(), locale === "fr" ? /^Fond : fichier MBTiles/ : /^Background: the utility's MBTiles/);
        assert.match(await page.getByTestId("map-count").textContent(), locale === "fr" ? /sur la carte/ : /on the map/);

        // Manufacturers: counts add up to the meters; unticking one hides its meters.
        await page.getByTestId("color-brand").click();
        const rows = page.getByTestId("legend-brand");
        await rows.first().waitFor();
        const counts = await page.getByTestId("legend-brand-count").evaluateAll((els) => els.map((e) => Number(e.textContent.replace(/\D/g, ""))));
        assert.equal(counts.reduce((a, b) => a + b, 0), pts.count);
        const before = await drawnMapPixels(page);
        await rows.first().locator("input").uncheck();
        await page.waitForFunction((b) => {
          const c = document.querySelector("canvas.releve-points");
          const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
          let k = 0;
          for (let i = 3; i < d.length; i += 4) if (d[i] > 0) k++;
          return k < b;
        }, before);
        assert.match(await rows.first().getAttribute("class"), /off/);
        await page.screenshot({ path: path.join(ARTIFACTS, `charts-map-mbtiles-${locale}.png`), fullPage: true });
        await rows.first().locator("input").check();
        assert.deepEqual(errors, []);
        } finally {
          await lctx.close();
        }
      }
      const tile = await api("map_tile", { z: 12, x: 2099, y: 1458 }, token);
      assert.ok(tile === null || tile.source === "mbtiles");
      assert.deepEqual(errors, []);
    } finally {
      await ctx.close();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
