// Desktop test: drives the real Tauri window (target/debug/releve-desktop) through Debian's
// WebKitWebDriver. Run under Xvfb: scripts/test does
//   xvfb-run -a -s "-screen 0 1280x800x24 -nolisten tcp" node --test desktop/
// Env: RELEVE_BIN, RELEVE_DESKTOP_BIN (defaults: ../../target/debug/{releve,releve-desktop}),
// CI (when set, a missing WebKitWebDriver or `releve` binary is a failure, not a skip).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const RELEVE = path.resolve(process.env.RELEVE_BIN || path.join(root, 'target/debug/releve'));
const DESKTOP = path.resolve(process.env.RELEVE_DESKTOP_BIN || path.join(root, 'target/debug/releve-desktop'));
const ARTIFACTS = path.join(root, 'tests/artifacts');
const CI = !!process.env.CI;
import { sleep, WebDriver, onPath, freePort, rootScreenshot, killByMarker } from './webdriver.mjs';
// ---- the test ----
const driverBin = onPath('WebKitWebDriver');
const skipAll = !driverBin && !CI ? 'WebKitWebDriver not found (apt-get install webkit2gtk-driver); set CI=1 to make this a failure' : false;
const state = { tmp: null, driver: null, driverLog: '', wd: null, haveDemo: false };

before(async () => {
  if (skipAll) return;
  assert.ok(driverBin, 'WebKitWebDriver is missing (package webkit2gtk-driver) and CI is set');
  assert.ok(fs.existsSync(DESKTOP), `${DESKTOP} missing: run cargo build -p releve-desktop`);
  assert.ok(process.env.DISPLAY || process.env.WAYLAND_DISPLAY, 'no display: run under xvfb-run');
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  state.tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'releve-desktop-test-'));
  const db = path.join(state.tmp, 'demo.db');
  if (fs.existsSync(RELEVE)) {
    execFileSync(RELEVE, ['demo', '--db', db, '--meters', '200', '--seed', '3'], { timeout: 180_000, stdio: ['ignore', 'ignore', 'pipe'] });
    state.haveDemo = true;
  } else {
    assert.ok(!CI, `${RELEVE} missing (CI is set)`);
    console.error(`${RELEVE} missing: only checking that the window opens (empty database)`);
  }
  const port = await freePort();
  state.driver = spawn(driverBin, [`--port=${port}`, '--host=127.0.0.1'], {
    env: { ...process.env, TAURI_WEBVIEW_AUTOMATION: 'true' }, stdio: ['ignore', 'pipe', 'pipe'], detached: true,
  });
  for (const s of [state.driver.stdout, state.driver.stderr]) s.on('data', (d) => { state.driverLog = (state.driverLog + d).slice(-4000); });
  state.wd = new WebDriver(`http://127.0.0.1:${port}`);
  try {
    await state.wd.waitReady(15_000);
    await state.wd.newSession({ 'webkitgtk:browserOptions': { binary: DESKTOP, args: ['--db', db] } }, 60_000);
  } catch (e) {
    throw new Error(`${e.message}\nWebKitWebDriver output (tail):\n${state.driverLog || '(none)'}`);
  }
}, { timeout: 300_000 });

after(async () => {
  if (state.wd) await state.wd.deleteSession().catch((e) => console.error(`delete session: ${e.message}`));
  if (state.driver && state.driver.exitCode === null) {
    try { process.kill(-state.driver.pid, 'SIGTERM'); } catch { /* already gone */ }
    const exited = new Promise((r) => state.driver.once('exit', r));
    await Promise.race([exited, sleep(3_000)]);
    try { process.kill(-state.driver.pid, 'SIGKILL'); } catch { /* already gone */ }
  }
  if (state.tmp) {
    killByMarker(state.tmp);
    fs.rmSync(state.tmp, { recursive: true, force: true });
  }
});

test('the desktop window opens with the embedded UI', { skip: skipAll, timeout: 60_000 }, async () => {
  const wd = state.wd;
  const ready = await wd.exec('return document.readyState');
  assert.ok(['interactive', 'complete'].includes(ready), `readyState ${ready}`);
  const href = await wd.exec('return location.href');
  assert.match(href, /^(tauri|https?):\/\/(localhost|tauri\.localhost)/, `unexpected page ${href}`);
  assert.equal(await wd.exec('return typeof window.__TAURI_INTERNALS__'), 'object', 'Tauri IPC missing');
  console.log(`page ${href}, title ${JSON.stringify(await wd.title())}`);
  await sleep(1_000);
  await wd.screenshot(path.join(ARTIFACTS, 'desktop-window.png'));
});

test('clerk logs in and sees the meter list', { skip: skipAll, timeout: 120_000 }, async (t) => {
  if (!state.haveDemo) return t.skip(`${RELEVE} missing: no demo database`);
  const wd = state.wd;
  await wd.waitFor('input[name=login]', 30_000);
  const [login] = await wd.findAll('input[name=login]');
  const [password] = await wd.findAll('input[name=password]');
  const [submit] = await wd.findAll('button[type=submit]');
  assert.ok(login && password && submit, 'login form incomplete');
  await wd.type(login, 'clerk');
  await wd.type(password, 'clerk');
  await wd.click(submit);
  // Wait until the login form is gone (logged in), then go to the meter list.
  const end = Date.now() + 30_000;
  while ((await wd.findAll('input[name=password]')).length) {
    assert.ok(Date.now() < end, 'still on the login form 30 s after submitting clerk/clerk');
    await sleep(250);
  }
  await wd.exec("location.hash = '#/meters'");
  const rows = await wd.waitFor('[data-testid=meter-row]', 30_000, {
    onTick: () => wd.exec("if (location.hash !== '#/meters') location.hash = '#/meters'"),
  });
  assert.ok(rows.length >= 1, 'no meter rows');
  console.log(`${rows.length} meter rows shown`);
  await sleep(1_500); // the WebDriver screenshot lags the DOM by about a second
  await wd.screenshot(path.join(ARTIFACTS, 'desktop-meters.png'));
  rootScreenshot(path.join(ARTIFACTS, 'desktop-meters-root.png'));
});

// A plaintext Kamstrup water telegram of meter `serial` (8 digits) with `litres`, as hex.
function telegram(serial, access, litres) {
  const vol = Buffer.alloc(4);
  vol.writeUInt32LE(litres);
  const id = serial.match(/../g).reverse().join(''); // BCD, least significant byte first
  const body = `442d2c${id}1b077a${(access & 255).toString(16).padStart(2, '0')}0000000413${vol.toString('hex')}`;
  return (body.length / 2).toString(16).padStart(2, '0') + body;
}

// `releve import` of one frame of `serial` at Unix time `ts`, beside the window (another process).
function importFrame(serial, ts, litres) {
  const at = new Date(ts * 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
  const file = path.join(state.tmp, `frame-${ts}.txt`);
  fs.writeFileSync(file, `T1;1;1;${at};80;;;0x${telegram(serial, ts, litres)}\n`);
  execFileSync(RELEVE, ['import', '--db', path.join(state.tmp, 'demo.db'), file], {
    timeout: 60_000, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, RELEVE_PASSWORD: 'manager' },
  });
}

test('the live screen follows a priority meter through the window\'s changes event', { skip: skipAll, timeout: 120_000 }, async (t) => {
  if (!state.haveDemo) return t.skip(`${RELEVE} missing: no demo database`);
  const wd = state.wd;
  const now = Math.floor(Date.now() / 1000);
  importFrame('66200001', now - 600, 1000);
  // Marked through the window's one command, as a manager (the clerk logged in may not).
  const id = await wd.req('POST', wd.s('/execute/async'), {
    script: `const done = arguments[arguments.length - 1];
      const call = (name, args, token) => window.__TAURI_INTERNALS__.invoke('call', { name, args, token });
      (async () => {
        const m = await call('login', { login: 'manager', password: 'manager' }, null);
        const rows = (await call('meters_list', { search: '66200001' }, m.token)).rows;
        await call('meter_priority_set', { ids: [rows[0].id], on: true }, m.token);
        await call('logout', {}, m.token);
        return rows[0].id;
      })().then(done, (e) => done('error: ' + JSON.stringify(e)));`,
    args: [],
  });
  assert.equal(typeof id, 'number', String(id));
  await wd.exec("location.hash = '#/live'");
  const last = `[data-testid=live-card][data-id="${id}"] [data-testid=live-last]`;
  await wd.waitFor(last, 30_000);
  await wd.exec('window.__notReloaded = true');
  const t0 = Date.now();
  importFrame('66200001', now - 60, 1234);
  // Stored once `releve import` has returned: from then on the window has 2 s.
  const stored = Date.now();
  const end = stored + 5_000;
  let ts = null;
  while (Date.now() < end) {
    ts = await wd.exec(`const el = document.querySelector(${JSON.stringify(last)}); return el && el.dataset.ts`);
    if (ts === String(now - 60)) break;
    await sleep(50);
  }
  const took = Date.now() - stored;
  assert.equal(ts, String(now - 60), 'the new frame shown');
  assert.equal(await wd.exec('return window.__notReloaded === true'), true, 'without reloading');
  // Another process's write: seen by the window's store polling the database's version
  // (every 500 ms), then the `changes` event and the live screen's read.
  console.log(`desktop: shown ${took} ms after the CLI import stored the frame (${stored - t0} ms for the import itself)`);
  assert.ok(took < 2_000, `${took} ms`);
  await sleep(1_500);
  await wd.screenshot(path.join(ARTIFACTS, 'desktop-live.png'));
});
