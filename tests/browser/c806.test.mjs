// Browser test of the Elia C8/06 aFRR gateway screen (issue 11): a manager fills in the
// gateway's settings and imports its PFX through the screen (certificates made here with
// openssl, a mosquitto with TLS requiring client certificates), adds two delivery points; the
// platform (mosquitto_pub) sends a key encrypted with the gateway's public key and a
// heartbeat: the screen shows the connection, the key in use, the heartbeat; the broker
// stopped, it shows the disconnection in words and the values waiting. Screenshots in French
// and English.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import net from "node:net";
import { spawn, spawnSync } from "node:child_process";

import { ARTIFACTS, api, login, newPage } from "./harness.mjs";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "c806-ui-"));
let broker = null;
after(() => { if (broker) broker.kill(); fs.rmSync(dir, { recursive: true, force: true }); });

function openssl(...args) {
  const r = spawnSync("openssl", args, { cwd: dir, encoding: "utf8" });
  assert.equal(r.status, 0, `openssl ${args.join(" ")}: ${r.stderr}`);
}

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

async function startBroker(port) {
  const me = spawnSync("id", ["-un"], { encoding: "utf8" }).stdout.trim();
  fs.writeFileSync(path.join(dir, "mosquitto.conf"),
    `user ${me}\nlistener ${port} 127.0.0.1\nallow_anonymous true\ncafile ${dir}/ca.pem\ncertfile ${dir}/server.pem\nkeyfile ${dir}/server.key\nrequire_certificate true\n`);
  broker = spawn("mosquitto", ["-c", path.join(dir, "mosquitto.conf")], { stdio: "ignore" });
  for (let i = 0; i < 100; i++) {
    const up = await new Promise((r) => { const s = net.connect(port, "127.0.0.1", () => { s.end(); r(true); }); s.on("error", () => r(false)); });
    if (up) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("mosquitto did not listen");
}

function publish(port, payload) {
  const r = spawnSync("mosquitto_pub", ["-h", "127.0.0.1", "-p", String(port), "--cafile", `${dir}/ca.pem`, "--cert", `${dir}/platform.pem`,
    "--key", `${dir}/platform.key`, "-q", "1", "-t", "devices/GW-UI/messages/devicebound/x", "-m", payload], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
}

test("c806: settings, PFX import, SDPs, key, heartbeat, a cut, in French and English", async () => {
  openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=UI CA", "-keyout", "ca.key", "-out", "ca.pem");
  for (const [name, ext] of [["server", "subjectAltName=IP:127.0.0.1"], ["gateway", "extendedKeyUsage=clientAuth"], ["platform", "extendedKeyUsage=clientAuth"]]) {
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", `/CN=${name}`, "-keyout", `${name}.key`, "-out", `${name}.csr`);
    fs.writeFileSync(path.join(dir, `${name}.ext`), ext + "\n");
    openssl("x509", "-req", "-in", `${name}.csr`, "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2", "-extfile", `${name}.ext`, "-out", `${name}.pem`);
  }
  openssl("pkcs12", "-export", "-inkey", "gateway.key", "-in", "gateway.pem", "-out", "gateway.pfx", "-passout", "pass:pfx-pw");
  openssl("x509", "-in", "gateway.pem", "-pubkey", "-noout", "-out", "gateway.pub");
  const port = await freePort();
  await startBroker(port);

  const { token } = await api("login", { login: "manager", password: "manager" });
  const meters = await api("meters_list", { limit: 1 }, token);
  const { ctx, page, errors } = await newPage({ locale: "fr" });
  try {
    await login(page, "manager", "manager");
    await page.getByTestId("nav-c806").click();
    await page.getByRole("heading", { name: "Passerelle aFRR (Elia C8/06)" }).waitFor();
    await page.getByTestId("c806-broker").fill(`mqtts://127.0.0.1:${port}`);
    await page.getByTestId("c806-gid").fill("GW-UI");
    await page.getByTestId("c806-sid").fill("84V-UOU-40P");
    await page.locator('[name="ca_file"]').fill(`${dir}/ca.pem`);
    await page.getByTestId("c806-enabled").check();
    await page.getByTestId("c806-save").click();
    await page.getByText("Réglages enregistrés.").waitFor();
    // A wrong password first: said in words; then the right one.
    await page.getByTestId("c806-pfx").setInputFiles(path.join(dir, "gateway.pfx"));
    await page.getByTestId("c806-pfx-password").fill("wrong");
    await page.getByTestId("c806-pfx-import").click();
    await page.getByTestId("c806-msg").filter({ hasText: "password" }).waitFor();
    await page.getByTestId("c806-pfx").setInputFiles(path.join(dir, "gateway.pfx"));
    await page.getByTestId("c806-pfx-password").fill("pfx-pw");
    await page.getByTestId("c806-pfx-import").click();
    await page.getByText("Certificat CN=gateway importé.").waitFor();

    // Two delivery points: one on a meter, one on a power feed.
    await page.getByTestId("c806-add-sdp").click();
    await page.getByTestId("c806-sdp-ean").fill("541449000000000017");
    await page.getByTestId("c806-sdp-meter").fill(String(meters.rows[0].id));
    await page.getByTestId("c806-sdp-save").click();
    await page.getByText("SDP 541449000000000017 enregistré.").waitFor();
    await page.getByTestId("c806-add-sdp").click();
    await page.getByTestId("c806-sdp-ean").fill("541449000000000024");
    await page.getByTestId("c806-sdp-save").click();
    await page.getByText("SDP 541449000000000024 enregistré.").waitFor();
    await api("c806_setpoints", { ean: "541449000000000024", dpm_mw: 1.5, dpb_mw: 1.25, afrr_active: true, ps_mw: 0.2 }, token);
    assert.equal(await page.getByTestId("c806-sdp").count(), 2);

    // Connected without a key; the platform sends key 1 and a heartbeat.
    await page.getByTestId("c806-state-word").filter({ hasText: "Connectée" }).waitFor({ timeout: 30_000 });
    const now = Date.now();
    const epoch = Date.UTC(2019, 0, 1);
    const plain = JSON.stringify({ MT: "AFRR", KEY: Buffer.alloc(16, 7).toString("base64"), KV: 1, KT: "AES", VF: now - 3_600_000 - epoch, VT: now + 35 * 3_600_000 - epoch });
    fs.writeFileSync(path.join(dir, "key.json"), plain);
    openssl("pkeyutl", "-encrypt", "-pubin", "-inkey", "gateway.pub", "-in", "key.json", "-out", "key.bin", "-pkeyopt", "rsa_padding_mode:oaep", "-pkeyopt", "rsa_oaep_md:sha256");
    publish(port, JSON.stringify({ MT: "ENCRYPTIONKEY", Body: fs.readFileSync(path.join(dir, "key.bin")).toString("base64") }));
    publish(port, JSON.stringify({ MID: 36, MT: "HEARTBEAT", Body: JSON.stringify({ GWV: 1 }) }));
    await page.getByTestId("c806-key-version").filter({ hasText: "Version 1" }).waitFor({ timeout: 20_000 });
    await page.getByText("MID 36").waitFor({ timeout: 20_000 });
    await page.getByText(/^Dernier envoi : /).waitFor({ timeout: 30_000 });
    await page.getByTestId("c806-buffered").filter({ hasText: /^[0-2] valeurs en attente$/ }).waitFor({ timeout: 30_000 });
    await page.screenshot({ path: path.join(ARTIFACTS, "c806-fr.png"), fullPage: true });
    // The fallback file of today: the values sent, with the feed's set-points.
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("c806-fb-save").click()]);
    const csv = fs.readFileSync(await download.path(), "utf8");
    assert.match(csv, /^SDP;MTS;MTS_UTC;DPM;DPB;AS;PS;SENT\r\n/);
    assert.match(csv, /541449000000000024;\d+;[0-9T:.-]+Z;1\.5;1\.25;1;0\.2;1\r\n/);
    await page.getByText(/^Fichier de secours enregistré : \d+ valeurs\.$/).waitFor();

    // The broker stopped: disconnected, in words; the values wait.
    broker.kill();
    broker = null;
    await page.getByTestId("c806-state-word").filter({ hasText: "Déconnectée" }).waitFor({ timeout: 30_000 });
    await page.getByTestId("c806-buffered").filter({ hasText: /^([4-9]|\d\d+) valeurs en attente$/ }).waitFor({ timeout: 30_000 });
    await page.getByTestId("lang-select").selectOption("en").catch(async () => {
      await page.evaluate(() => { localStorage.setItem("releve.locale", "en"); location.reload(); });
    });
    await page.getByRole("heading", { name: "aFRR gateway (Elia C8/06)" }).waitFor();
    await page.getByTestId("c806-state-word").filter({ hasText: "Disconnected" }).waitFor({ timeout: 10_000 });
    await page.getByTestId("c806-waiting").waitFor();
    await page.screenshot({ path: path.join(ARTIFACTS, "c806-en.png"), fullPage: true });
    assert.deepEqual(errors, []);
  } finally {
    await ctx.close();
  }
});
