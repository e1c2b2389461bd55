// The installed desktop app (tests/desktop/install.sh installs the .deb, then runs this with
// `node --test` under Xvfb): the `releve-desktop` of the package, from its installed path,
// opens a demo database, a clerk logs in through WebKitWebDriver and sees the meter list;
// screenshots tests/artifacts/installed-*.png. Not named *.test.mjs: `node --test desktop/`
// (the build tree's tests) does not run it.
// Env: RELEVE_INSTALLED_BIN (default /usr/bin/releve-desktop), RELEVE_BIN (demo maker).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { onPath, sleep, startSession, stopSession, logIn, killByMarker, rootScreenshot } from './webdriver.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const INSTALLED = process.env.RELEVE_INSTALLED_BIN || '/usr/bin/releve-desktop';
const RELEVE = path.resolve(process.env.RELEVE_BIN || path.join(root, 'target/debug/releve'));
const ARTIFACTS = path.join(root, 'tests/artifacts');
const state = {};

before(async () => {
  assert.ok(fs.existsSync(INSTALLED), `${INSTALLED} not installed`);
  assert.ok(!INSTALLED.startsWith(root), `${INSTALLED} is inside the build tree, not the installed path`);
  const driverBin = onPath('WebKitWebDriver');
  assert.ok(driverBin, 'WebKitWebDriver is missing (package webkit2gtk-driver)');
  assert.ok(process.env.DISPLAY, 'no display: run under xvfb-run');
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  state.tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'releve-installed-test-'));
  const db = path.join(state.tmp, 'demo.db');
  execFileSync(RELEVE, ['demo', '--db', db, '--meters', '50', '--seed', '3'], { timeout: 180_000, stdio: ['ignore', 'ignore', 'pipe'] });
  state.session = await startSession(driverBin, INSTALLED, ['--db', db], { XDG_CONFIG_HOME: path.join(state.tmp, 'config') });
}, { timeout: 300_000 });

after(async () => {
  await stopSession(state.session);
  if (state.tmp) {
    killByMarker(state.tmp);
    fs.rmSync(state.tmp, { recursive: true, force: true });
  }
});

test('the installed releve-desktop opens, a clerk logs in and sees the meters', { timeout: 120_000 }, async () => {
  const wd = state.session.wd;
  assert.equal(await wd.exec('return typeof window.__TAURI_INTERNALS__'), 'object', 'Tauri IPC missing');
  await sleep(1_000);
  await wd.screenshot(path.join(ARTIFACTS, 'installed-login.png'));
  await logIn(wd, 'clerk');
  await wd.exec("location.hash = '#/meters'");
  const rows = await wd.waitFor('[data-testid=meter-row]', 30_000, {
    onTick: () => wd.exec("if (location.hash !== '#/meters') location.hash = '#/meters'"),
  });
  assert.ok(rows.length >= 1, 'no meter rows');
  console.log(`installed ${INSTALLED}: ${rows.length} meter rows shown`);
  await sleep(1_500); // the WebDriver screenshot lags the DOM by about a second
  await wd.screenshot(path.join(ARTIFACTS, 'installed-meters.png'));
  rootScreenshot(path.join(ARTIFACTS, 'installed-meters-root.png'));
});
