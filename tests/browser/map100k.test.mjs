// The meter map with 100,000 meters: a generated park (crates/core/examples/screens_100k.rs,
// built by `cargo test`), opened in Chromium through `releve serve`; every point drawn.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ARTIFACTS, api, drawnMapPixels, login, newPage, useDatabase } from "./harness.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const PARK = process.env.RELEVE_PARK_BIN || path.resolve(here, "../../target/debug/examples/screens_100k");

useDatabase((_bin, db) => {
  assert.ok(fs.existsSync(PARK), `park generator not found at ${PARK} (cargo test builds it)`);
  const made = spawnSync(PARK, [db, "100000"], { encoding: "utf8", timeout: 600_000 });
  console.log("park: " + (made.stdout || "").split("\n")[0]);
  return made;
});

test("manager: the map draws 100,000 meters", async () => {
  const { ctx, page, errors } = await newPage();
  try {
    const token = await login(page, "manager", "manager");
    const all = await api("map_points", {}, token);
    assert.equal(all.count, 100_000);
    const opened = Date.now();
    await page.getByTestId("nav-map").click();
    await page.waitForFunction(() => document.querySelector('[data-testid="map"]')?.dataset.points === "100000", null, { timeout: 60_000 });
    const wall = Date.now() - opened;
    const renderMs = Number(await page.getByTestId("map").getAttribute("data-render-ms"));
    console.log(`map: 100,000 meters, first render ${renderMs} ms after opening the screen (${wall} ms seen by the test)`);
    const drawn = await drawnMapPixels(page);
    assert.ok(drawn > 50_000, `pixels drawn: ${drawn}`);
    await page.screenshot({ path: path.join(ARTIFACTS, "map-100k.png") });
    assert.deepEqual(errors.map(String), []);
  } finally {
    await ctx.close();
  }
});
