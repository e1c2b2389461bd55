// Desktop test of the save dialog (src-tauri/src/files.rs): in the real Tauri window
// (target/debug/releve-desktop, WebKitWebDriver under Xvfb) a clerk exports readings; the
// file is written where the save dialog says, the notice offers "Open folder", the folder
// is remembered in the app's config directory and proposed by the next dialog.
// The native GTK dialog itself cannot be clicked by WebDriver: RELEVE_SAVE_DIALOG_ANSWER (a
// folder) answers it and RELEVE_SAVE_DIALOG_LOG records what each dialog proposed; the
// writing and the remembering are the real code. XDG_CONFIG_HOME points at a temp dir.
// Env: RELEVE_BIN, RELEVE_DESKTOP_BIN, CI (as desktop.test.mjs).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { onPath, sleep, startSession, stopSession, logIn, killByMarker } from './webdriver.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const RELEVE = path.resolve(process.env.RELEVE_BIN || path.join(root, 'target/debug/releve'));
const DESKTOP = path.resolve(process.env.RELEVE_DESKTOP_BIN || path.join(root, 'target/debug/releve-desktop'));
const ARTIFACTS = path.join(root, 'tests/artifacts');
const CI = !!process.env.CI;

const driverBin = onPath('WebKitWebDriver');
const skipAll = !driverBin && !CI ? 'WebKitWebDriver not found (apt-get install webkit2gtk-driver); set CI=1 to make this a failure' : false;
const state = {};

before(async () => {
  if (skipAll) return;
  assert.ok(driverBin, 'WebKitWebDriver is missing (package webkit2gtk-driver) and CI is set');
  assert.ok(fs.existsSync(DESKTOP), `${DESKTOP} missing: run cargo build -p releve-desktop`);
  assert.ok(fs.existsSync(RELEVE), `${RELEVE} missing: run cargo build -p releve-cli`);
  assert.ok(process.env.DISPLAY || process.env.WAYLAND_DISPLAY, 'no display: run under xvfb-run');
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  state.tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'releve-save-test-'));
  state.db = path.join(state.tmp, 'demo.db');
  execFileSync(RELEVE, ['demo', '--db', state.db, '--meters', '50', '--seed', '3'], { timeout: 180_000, stdio: ['ignore', 'ignore', 'pipe'] });
  state.saved = path.join(state.tmp, 'chosen folder');
  fs.mkdirSync(state.saved);
  state.config = path.join(state.tmp, 'config');
  state.dialogLog = path.join(state.tmp, 'dialog.log');
  state.session = await startSession(driverBin, DESKTOP, ['--db', state.db], {
    RELEVE_SAVE_DIALOG_ANSWER: state.saved, RELEVE_SAVE_DIALOG_LOG: state.dialogLog, XDG_CONFIG_HOME: state.config,
  });
}, { timeout: 300_000 });

after(async () => {
  await stopSession(state.session);
  if (state.tmp) {
    killByMarker(state.tmp);
    fs.rmSync(state.tmp, { recursive: true, force: true });
  }
});

const dialogs = () => (fs.existsSync(state.dialogLog) ? fs.readFileSync(state.dialogLog, 'utf8').trimEnd().split('\n').map((l) => l.split('\t')) : []);

async function exportReadings(wd, n) {
  await wd.exec("location.hash = '#/export/quick'");
  await wd.waitFor('[data-testid=export-button]', 30_000);
  await wd.exec(`document.querySelectorAll('.saved-notice').forEach((e) => { e.hidden = true; });
    const set = (id, v) => { const el = document.querySelector('[data-testid=' + id + ']'); el.value = v; el.dispatchEvent(new Event('input')); el.dispatchEvent(new Event('change')); };
    set('export-from', '2025-01-01'); set('export-to', '2026-12-31');`);
  const [button] = await wd.findAll('[data-testid=export-button]');
  await wd.click(button);
  const end = Date.now() + 60_000;
  while (dialogs().length < n) {
    assert.ok(Date.now() < end, `no save dialog ${n} asked within 60 s`);
    await sleep(200);
  }
  await wd.waitFor('.saved-notice:not([hidden]) [data-testid=saved-open]', 30_000);
}

test('a file is saved where the save dialog says, the folder remembered and proposed next time', { skip: skipAll, timeout: 180_000 }, async () => {
  const wd = state.session.wd;
  await logIn(wd, 'clerk');
  await exportReadings(wd, 1);
  const [first] = dialogs();
  assert.equal(first[0], '', 'the first dialog proposes no folder (none remembered yet)');
  assert.match(first[1], /\.csv$/, 'the proposed name is the export\'s');
  const file = path.join(state.saved, first[1]);
  assert.ok(fs.existsSync(file), `${file} written`);
  assert.ok(fs.readFileSync(file, 'utf8').split('\n').length > 2, 'header and rows');
  assert.deepEqual(fs.readdirSync(state.saved), [first[1]], 'no .part file left');
  const remembered = path.join(state.config, 'org.releve.desktop', 'save-folder');
  assert.equal(fs.readFileSync(remembered, 'utf8').trim(), state.saved, 'the folder remembered in the config dir');
  const notice = await wd.exec('return document.querySelector(".saved-notice").textContent');
  assert.ok(notice.includes(file), notice);
  assert.match(notice, /Ouvrir le dossier|Open folder/);
  await sleep(1_500); // the WebDriver screenshot lags the DOM by about a second
  await state.session.wd.screenshot(path.join(ARTIFACTS, 'desktop-saved.png'));
  // "Open folder": xdg-open (the desktop's file manager); under Xvfb there may be none,
  // which the notice then says in words. The window must not break either way.
  const [open] = await wd.findAll('[data-testid=saved-open]');
  await wd.click(open);
  await sleep(1_500);
  const after = await wd.exec('const n = document.querySelector(".saved-notice"); return n.hidden ? "opened" : n.textContent.trim()');
  console.log(`open the folder: ${after}`);
  assert.ok(after === 'opened' || /dossier|folder/i.test(after), after);
  // The next save proposes the folder of the last file.
  fs.rmSync(file);
  await exportReadings(wd, 2);
  const [, second] = dialogs();
  assert.deepEqual(second, [state.saved, first[1]], 'the second dialog proposes the remembered folder');
  assert.ok(fs.existsSync(file), 'written again');
});
