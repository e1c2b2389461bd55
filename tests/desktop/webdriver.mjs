// The W3C WebDriver client and helpers of the desktop tests that drive a real Tauri window
// through Debian's WebKitWebDriver (save-dialog.test.mjs, installed.mjs); the same as the
// ones inside desktop.test.mjs. Not a test file itself (no `.test.` in its name).
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---- minimal W3C WebDriver client over fetch (every request has a timeout) ----
const ELEMENT = 'element-6066-11e4-a52e-4f735466cecf';
export class WebDriver {
  constructor(base) { this.base = base; this.sid = null; }
  async req(method, url, body, timeoutMs = 20_000) {
    let res;
    try {
      res = await fetch(this.base + url, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (e) { throw new Error(`${method} ${url}: ${e.name === 'TimeoutError' ? `no answer in ${timeoutMs} ms` : e.message}`); }
    const text = await res.text();
    let json;
    try { json = JSON.parse(text); } catch { throw new Error(`${method} ${url}: HTTP ${res.status}: ${text.slice(0, 300)}`); }
    if (!res.ok || (json.value && json.value.error)) {
      throw new Error(`${method} ${url}: ${json.value?.error}: ${json.value?.message}`);
    }
    return json.value;
  }
  s(url) { return `/session/${this.sid}${url}`; }
  async waitReady(timeoutMs) {
    const end = Date.now() + timeoutMs;
    for (;;) {
      try { if ((await this.req('GET', '/status', undefined, 2_000)).ready) return; } catch (e) { if (Date.now() > end) throw e; }
      if (Date.now() > end) throw new Error('WebKitWebDriver not ready');
      await sleep(200);
    }
  }
  async newSession(caps, timeoutMs) {
    this.sid = (await this.req('POST', '/session', { capabilities: { alwaysMatch: caps } }, timeoutMs)).sessionId;
  }
  async deleteSession() { if (this.sid) { const s = this.s(''); this.sid = null; await this.req('DELETE', s, undefined, 10_000); } }
  // WebKitWebDriver answers "stale element reference" when the page re-renders while it
  // collects the matches (the login screen giving way to the app): ask again.
  async findAll(css) {
    for (let attempt = 0; ; attempt++) {
      try {
        return (await this.req('POST', this.s('/elements'), { using: 'css selector', value: css })).map((e) => e[ELEMENT]);
      } catch (e) {
        if (attempt >= 10 || !/stale element/i.test(String(e.message))) throw e;
        await sleep(100);
      }
    }
  }
  async waitFor(css, timeoutMs, { min = 1, onTick } = {}) {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const found = await this.findAll(css);
      if (found.length >= min) return found;
      if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${css}`);
      if (onTick) await onTick();
      await sleep(250);
    }
  }
  type(el, text) { return this.req('POST', this.s(`/element/${el}/value`), { text }); }
  click(el) { return this.req('POST', this.s(`/element/${el}/click`), {}); }
  exec(script, args = []) { return this.req('POST', this.s('/execute/sync'), { script, args }); }
  title() { return this.req('GET', this.s('/title')); }
  async screenshot(file) { fs.writeFileSync(file, Buffer.from(await this.req('GET', this.s('/screenshot')), 'base64')); }
}

// ---- helpers ----
export function onPath(cmd) {
  return (process.env.PATH || '').split(':').map((d) => path.join(d, cmd)).find((p) => {
    try { fs.accessSync(p, fs.constants.X_OK); return true; } catch { return false; }
  });
}
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer().once('error', reject);
    srv.listen(0, '127.0.0.1', () => { const { port } = srv.address(); srv.close(() => resolve(port)); });
  });
}
export function rootScreenshot(file) {
  if (!process.env.DISPLAY || !onPath('import')) return;
  try { execFileSync('import', ['-window', 'root', file], { timeout: 20_000, stdio: 'ignore' }); } catch (e) { console.error(`import -window root failed: ${e.message}`); }
}
// Processes whose command line mentions our private temp dir are ours (the app started by the driver).
export function killByMarker(marker) {
  for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      if (Number(pid) !== process.pid && fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(marker)) process.kill(Number(pid), 'SIGKILL');
    } catch { /* gone or not ours */ }
  }
}


// Start WebKitWebDriver on a free port with `env` (TAURI_WEBVIEW_AUTOMATION set) and open a
// session on the app `binary` with `args`. Returns `{driver, wd, log()}`.
export async function startSession(driverBin, binary, args, env = {}) {
  const port = await freePort();
  let log = '';
  const driver = spawn(driverBin, [`--port=${port}`, '--host=127.0.0.1'], {
    env: { ...process.env, ...env, TAURI_WEBVIEW_AUTOMATION: 'true' }, stdio: ['ignore', 'pipe', 'pipe'], detached: true,
  });
  for (const s of [driver.stdout, driver.stderr]) s.on('data', (d) => { log = (log + d).slice(-4000); });
  const wd = new WebDriver(`http://127.0.0.1:${port}`);
  try {
    await wd.waitReady(15_000);
    await wd.newSession({ 'webkitgtk:browserOptions': { binary, args } }, 60_000);
  } catch (e) {
    try { process.kill(-driver.pid, 'SIGKILL'); } catch { /* gone */ }
    throw new Error(`${e.message}\nWebKitWebDriver output (tail):\n${log || '(none)'}`);
  }
  return { driver, wd, log: () => log };
}

// End the session and the driver started by startSession.
export async function stopSession(s) {
  if (!s) return;
  await s.wd.deleteSession().catch((e) => console.error(`delete session: ${e.message}`));
  if (s.driver.exitCode === null) {
    try { process.kill(-s.driver.pid, 'SIGTERM'); } catch { /* already gone */ }
    await Promise.race([new Promise((r) => s.driver.once('exit', r)), sleep(3_000)]);
    try { process.kill(-s.driver.pid, 'SIGKILL'); } catch { /* already gone */ }
  }
}

// Log in through the login form as `login` (password the same, as in the demo).
export async function logIn(wd, login) {
  await wd.waitFor('input[name=login]', 30_000);
  const [user] = await wd.findAll('input[name=login]');
  const [password] = await wd.findAll('input[name=password]');
  const [submit] = await wd.findAll('button[type=submit]');
  await wd.type(user, login);
  await wd.type(password, login);
  await wd.click(submit);
  const end = Date.now() + 30_000;
  while ((await wd.findAll('input[name=password]')).length) {
    if (Date.now() > end) throw new Error(`still on the login form 30 s after submitting ${login}/${login}`);
    await sleep(250);
  }
}
