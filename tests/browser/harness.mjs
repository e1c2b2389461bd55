// Shared set-up of the browser tests (imported by each *.test.mjs, not a test itself):
// $RELEVE_URL, or a demo database (300 meters, seed 7) built with $RELEVE_BIN (default
// ../../target/debug/releve) and `releve serve` on a free port; headless Debian Chromium
// driven by playwright-core. Registers the file's before/after hooks when imported.
import { before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import net from "node:net";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = path.dirname(fileURLToPath(import.meta.url));
export const ARTIFACTS = path.resolve(here, "../artifacts");
const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
  "--disable-component-update", "--disable-sync", "--no-first-run"];

export let baseUrl = process.env.RELEVE_URL ? process.env.RELEVE_URL.replace(/\/+$/, "") : null;
let server = null;
let tmpDir = null;
let browser = null;
/** How the test database is made: (releve binary, database path) -> spawnSync result. */
let makeDatabase = (bin, db) =>
  spawnSync(bin, ["demo", "--db", db, "--meters", "300", "--seed", "7"], { encoding: "utf8", timeout: 600_000 });

/** Run SQL statements on a test database file with python3's sqlite3 (a fixture's changes
 * before the server opens it): the spawnSync result. */
export function sqliteScript(db, sql) {
  const py = "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.executescript(sys.argv[2]); c.commit()";
  return spawnSync("python3", ["-c", py, db, sql], { encoding: "utf8" });
}

/** Replace the 300-meter demo with another database (call at the top level of a test file). */
export function useDatabase(make) {
  makeDatabase = make;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

async function waitUp(url, ms) {
  const deadline = Date.now() + ms;
  let last = null;
  while (Date.now() < deadline) {
    if (server && server.exitCode !== null) throw new Error(`releve serve exited with ${server.exitCode}`);
    try { const r = await fetch(url + "/"); if (r.ok) return; last = new Error("HTTP " + r.status); } catch (e) { last = e; }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`server at ${url} did not answer within ${ms} ms: ${last}`);
}

/** Call a command of the REST API directly (to check what the UI shows). */
export async function api(name, args, token) {
  const r = await fetch(`${baseUrl}/api/${name}`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: "Bearer " + (token || "") },
    body: JSON.stringify(args || {}),
  });
  const body = await r.json();
  if (!r.ok) throw new Error(`${name}: HTTP ${r.status} ${JSON.stringify(body)}`);
  return body;
}

before(async () => {
  // Let the test file's own top-level code (e.g. useDatabase) run first.
  await new Promise((r) => setImmediate(r));
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  if (!baseUrl) {
    const bin = process.env.RELEVE_BIN || path.resolve(here, "../../target/debug/releve");
    assert.ok(fs.existsSync(bin), `releve binary not found at ${bin} (build it, or set RELEVE_BIN / RELEVE_URL)`);
    tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), "releve-browser-"));
    const db = path.join(tmpDir, "demo.db");
    const made = makeDatabase(bin, db);
    assert.equal(made.status, 0, `making the test database failed: ${made.stderr || made.error}`);
    const port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    // The server's request log (stderr) goes to artifacts/server-<test file>.log, not the test output.
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    const testFile = path.basename(process.argv[1] || "browser", ".mjs");
    const log = fs.openSync(path.join(ARTIFACTS, `server-${testFile}.log`), "a");
    // The test data is fixed in time: the real night (02:00-06:00 in Paris) must not compact it.
    server = spawn(bin, ["serve", "--db", db, "--addr", `127.0.0.1:${port}`], {
      stdio: ["ignore", "inherit", log], env: { ...process.env, RELEVE_NIGHTLY_RETENTION: "off" },
    });
    await waitUp(baseUrl, 60_000);
  } else {
    await waitUp(baseUrl, 10_000);
  }
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
});

after(async () => {
  if (browser) await browser.close();
  if (server && server.exitCode === null) {
    server.kill("SIGTERM");
    await new Promise((r) => { const t = setTimeout(() => { server.kill("SIGKILL"); r(); }, 5000); server.once("exit", () => { clearTimeout(t); r(); }); });
  }
  if (tmpDir) fs.rmSync(tmpDir, { recursive: true, force: true });
});

/** A fresh browser context and page; `locale` (default "fr") is set before every page load, null to leave it. */
export async function newPage({ locale = "fr" } = {}) {
  const ctx = await browser.newContext({ viewport: { width: 1366, height: 900 }, locale: "fr-FR", acceptDownloads: true });
  const page = await ctx.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e));
  page.on("console", (m) => { if (m.type() === "error" && !/Failed to load resource/.test(m.text())) errors.push(new Error(m.text())); });
  if (locale) await page.addInitScript((l) => localStorage.setItem("releve.locale", l), locale);
  return { ctx, page, errors };
}

/** Log in through the login screen; returns the session token. */
export async function login(page, user, pass) {
  await page.goto(baseUrl + "/");
  await page.getByTestId("login-user").waitFor();
  await page.getByTestId("login-user").fill(user);
  await page.getByTestId("login-password").fill(pass);
  await page.getByTestId("login-submit").click();
  await page.getByTestId("user-chip").waitFor();
  return page.evaluate(() => sessionStorage.getItem("releve.token"));
}

/** How many pixels of the map's point canvas are drawn (not transparent). */
export async function drawnMapPixels(page) {
  return page.evaluate(() => {
    const c = document.querySelector("canvas.releve-points");
    const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
    return n;
  });
}
