// Browser test of MQTT sources on the sources screen (issue 10): a manager makes an MQTT
// source on screen pointing at a mosquitto this test starts, telegrams published with
// mosquitto_pub arrive and are counted, the connection's state is shown; a source whose
// broker cannot be reached says why in words (French, English); the password is never shown.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import net from "node:net";
import { spawn, spawnSync } from "node:child_process";

import { ARTIFACTS, login, newPage } from "./harness.mjs";

/** A plaintext Kamstrup water telegram of meter 6700000i, as hex. */
function telegram(i, litres) {
  const vol = Buffer.alloc(4);
  vol.writeUInt32LE(litres);
  const id = `0${i}000067`; // BCD, least significant byte first: meter 6700000i
  const body = `442d2c${id}1b077a${i.toString(16).padStart(2, "0")}0000000413${vol.toString("hex")}`;
  return (body.length / 2).toString(16).padStart(2, "0") + body;
}

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "releve-mqtt-"));
let broker = null;
after(() => { if (broker) broker.kill(); fs.rmSync(dir, { recursive: true, force: true }); });

async function startBroker() {
  const port = await freePort();
  const me = spawnSync("id", ["-un"], { encoding: "utf8" }).stdout.trim();
  const conf = path.join(dir, "mosquitto.conf");
  fs.writeFileSync(conf, `user ${me}\nlistener ${port} 127.0.0.1\nallow_anonymous true\nmax_inflight_messages 10000\n`);
  broker = spawn("mosquitto", ["-c", conf], { stdio: "ignore" });
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise((resolve) => {
      const c = net.connect(port, "127.0.0.1", () => { c.end(); resolve(true); });
      c.on("error", () => resolve(false));
    });
    if (ok) return port;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("mosquitto did not listen");
}

test("manager: an MQTT source made on screen receives, its state and a broker out of reach in words", async () => {
  const port = await startBroker();
  const { ctx, page, errors } = await newPage({ locale: "fr" });
  try {
    await login(page, "manager", "manager");
    await page.goto(page.url().replace(/#.*$/, "") + "#/sources");
    await page.getByTestId("src-form").waitFor();
    assert.ok(await page.getByTestId("src-mqtt-fields").isHidden(), "MQTT fields only for an MQTT source");
    await page.getByTestId("src-kind").selectOption("mqtt");
    await page.getByTestId("src-mqtt-fields").waitFor();
    await page.getByTestId("src-name").fill("passerelle-mqtt");
    await page.getByTestId("src-format").selectOption("jsonl");
    await page.getByTestId("src-url").fill(`mqtt://127.0.0.1:${port}`);
    assert.ok(await page.getByTestId("src-tls-fields").isHidden(), "certificate files only for mqtts://");
    await page.getByTestId("src-topic").fill("releve/+/up");
    await page.getByTestId("src-username").fill("releve");
    await page.getByTestId("src-password").fill("secret-never-shown");
    await page.getByTestId("src-submit").click();
    await page.getByTestId("src-token").getByText(/s’abonne à releve\/\+\/up/).waitFor();
    const row = page.locator('[data-testid="src-row"][data-name="passerelle-mqtt"]');
    await row.getByTestId("src-state").filter({ hasText: /^reçoit/ }).waitFor({ timeout: 20_000 });

    const lines = [1, 2, 3].map((i) => JSON.stringify({ telegram: telegram(i, 1000 * i), time: `2026-11-1${i} 10:00:00` })).join("\n") + "\nnot json\n";
    const pub = spawnSync("mosquitto_pub", ["-h", "127.0.0.1", "-p", String(port), "-q", "1", "-t", "releve/nord/up", "-l"], { input: lines, encoding: "utf8" });
    assert.equal(pub.status, 0, pub.stderr);
    // The screen refreshes every 10 s.
    await row.locator("td").nth(5).getByText("3", { exact: true }).waitFor({ timeout: 30_000 });
    await row.getByTestId("src-error").getByText(/^Message illisible, écarté \(journal\)/).waitFor();
    assert.match(await row.innerText(), /mqtt:\/\/127\.0\.0\.1:\d+/);
    // Its log: the message set aside, with the reason and what it held.
    await row.getByTestId("src-log-btn").click();
    const log = page.getByTestId("src-log");
    await log.waitFor();
    const logText = await log.innerText();
    assert.match(logText, /Derniers envois ou messages écartés/);
    assert.match(logText, /Message illisible, écarté \(journal\) — .*JSON/);
    assert.match(logText, /releve\/nord\/up: not json/);

    // A broker out of reach: the source says so while it tries again.
    await page.getByTestId("src-kind").selectOption("mqtt");
    await page.getByTestId("src-name").fill("courtier-absent");
    await page.getByTestId("src-url").fill("mqtt://127.0.0.1:1");
    await page.getByTestId("src-topic").fill("releve/#");
    await page.getByTestId("src-submit").click();
    const absent = page.locator('[data-testid="src-row"][data-name="courtier-absent"]');
    await absent.getByTestId("src-state").filter({ hasText: /^reconnexion.*courtier injoignable \(rien n’écoute à cette adresse\)/ }).waitFor({ timeout: 30_000 });
    assert.ok(!(await page.content()).includes("secret-never-shown"), "the password is never shown back");
    await page.screenshot({ path: path.join(ARTIFACTS, "sources-mqtt-fr.png"), fullPage: true });

    await page.getByTestId("lang-select").selectOption("en");
    await absent.getByTestId("src-state").filter({ hasText: /^reconnecting.*broker unreachable \(nothing listens at that address\)/ }).waitFor();
    await row.getByTestId("src-state").filter({ hasText: /^receiving/ }).waitFor();
    await page.getByTestId("src-kind").selectOption("mqtt");
    await page.getByTestId("src-url").fill("mqtts://broker.example.fr:8883");
    await page.getByTestId("src-tls-fields").waitFor();
    await page.screenshot({ path: path.join(ARTIFACTS, "sources-mqtt-en.png"), fullPage: true });
    await page.getByTestId("lang-select").selectOption("fr");
    assert.deepEqual(errors.map(String), []);
  } finally {
    await ctx.close();
  }
});
