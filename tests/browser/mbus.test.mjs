// Browser test of the wired M-Bus screen (issue 11) against the slave simulator over TCP
// (`releve-sim mbus`, real frames from the libmbus test suite in ../shared/vectors): a
// manager adds a bus, scans its primary addresses (progress bar, found list, the collision
// at address 3 in words), adds the found meters to the bus and the park, reads them now (the
// meter that stops mid multi-telegram is reported in words, the others are read) and opens
// the 3-telegram meter's last answer (raw frames and decoded records). French and English.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { spawn, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

import { ARTIFACTS, api, baseUrl, login, newPage } from "./harness.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../..");

function frames() {
  const file = path.resolve(root, "../shared/vectors/libmbus_vectors.jsonl");
  const out = {};
  for (const line of fs.readFileSync(file, "utf8").split("\n")) {
    if (!line.trim()) continue;
    const v = JSON.parse(line);
    out[v.name] = v.frame_hex;
  }
  return out;
}

let sim = null;
after(() => { if (sim && sim.exitCode === null) sim.kill("SIGTERM"); });

/** The simulator on a free TCP port: its address. */
async function startSimulator() {
  const bin = path.resolve(root, "target/debug/releve-sim");
  if (!fs.existsSync(bin)) {
    const built = spawnSync("cargo", ["build", "-p", "releve-sim"], { cwd: root, encoding: "utf8" });
    assert.equal(built.status, 0, built.stderr);
  }
  const f = frames();
  const multi = ["sontex_supercal_531_telegram1", "svm_f22_telegram1", "EFE_Engelmann-WaterStar"].map((n) => f[n]);
  const config = {
    baud: 38400,
    meters: [
      { primary: 1, id: "00182007", frames: [f["GWF-MTKcoder"]] },
      { primary: 2, id: "22222222", frames: multi },
      { primary: 3, id: "33333331", frames: [f["kamstrup_382_005"]] },
      { primary: 3, id: "33333332", frames: [f["nzr_dhz_5_63"]] },
      { primary: 5, id: "55555555", behaviour: "silent", frames: [f["GWF-MTKcoder"]] },
      { primary: 8, id: "88888888", stop_after: 1, frames: multi },
    ],
  };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "releve-mbus-"));
  const file = path.join(dir, "bus.json");
  fs.writeFileSync(file, JSON.stringify(config));
  sim = spawn(bin, ["mbus", "--config", file, "--tcp", "127.0.0.1:0"], { stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    let out = "";
    sim.stdout.on("data", (d) => {
      out += d;
      const m = out.match(/listening (\S+)/);
      if (m) resolve(m[1]);
    });
    sim.once("exit", (code) => reject(new Error(`releve-sim exited with ${code}`)));
  });
}

test("M-Bus: a bus, its scan, found meters added, read now, last answers, in French and English", async () => {
  const address = await startSimulator();
  const { ctx, page, errors } = await newPage({ locale: "fr" });
  try {
    await login(page, "manager", "manager");
    await page.getByTestId("nav-mbus").click();
    await page.getByRole("heading", { name: "Bus M-Bus" }).waitFor();
    await page.getByText("Aucun bus M-Bus").waitFor();

    // A bus on the transparent gateway (the simulator).
    await page.getByTestId("mbus-add").click();
    const form = page.getByTestId("mbus-form");
    await form.getByTestId("mbus-f-name").fill("Chaufferie Nord");
    await form.getByTestId("mbus-f-transport").selectOption("tcp");
    await form.getByTestId("mbus-f-target").fill(address);
    await form.getByTestId("mbus-f-baud").selectOption("38400");
    await form.getByTestId("mbus-f-save").click();
    await page.getByTestId("mbus-msg").getByText("Chaufferie Nord").waitFor();
    const busRow = page.locator('[data-testid="mbus-bus-row"][data-name="Chaufferie Nord"]');
    await busRow.waitFor();
    assert.match(await busRow.innerText(), /38\s400 bauds/);

    // Primary scan: the progress bar moves, then the found list.
    await page.getByTestId("mbus-scan-primary").click();
    await page.getByTestId("mbus-progress").waitFor();
    await page.waitForFunction(() => Number(document.querySelector('[data-testid="mbus-progress"]')?.getAttribute("aria-valuenow")) >= 20, null, { timeout: 60_000 });
    await page.getByTestId("mbus-found-row").first().waitFor();
    await page.screenshot({ path: path.join(ARTIFACTS, "mbus-scanning-fr.png") });
    await page.getByText(/Recherche terminée : 3 compteur\(s\) trouvé\(s\)/).waitFor({ timeout: 120_000 });
    const found = page.getByTestId("mbus-found-row");
    assert.equal(await found.count(), 4, "1, 2, 8 found and the collision at 3");
    const collision = found.filter({ has: page.getByTestId("mbus-found-problem") });
    assert.match(await collision.innerText(), /^\s*3\b[\s\S]*collision \(plusieurs réponses à la fois/);
    assert.match(await page.locator('[data-testid="mbus-found-row"][data-id="00182007"]').innerText(), /GWF[\s\S]*Eau/);
    await page.screenshot({ path: path.join(ARTIFACTS, "mbus-scan-fr.png") });

    // The three found meters go on the bus and into the park.
    await page.getByTestId("mbus-add-found").click();
    await page.getByText("3 compteur(s) ajouté(s) au bus et au parc.").waitFor();
    await page.getByTestId("mbus-meter-row").nth(2).waitFor();
    assert.equal(await page.getByTestId("mbus-meter-row").count(), 3);

    // Read now: meter 8 stops after its first telegram, the others are read.
    await page.getByTestId("mbus-read-now").click();
    await page.getByText(/2 compteur\(s\) lu\(s\) ; en échec : adresse 8 \(le compteur a cessé de répondre en cours de lecture\)/).waitFor({ timeout: 30_000 });
    const m2 = page.locator('[data-testid="mbus-meter-row"][data-address="2"]');
    await m2.getByText("3 télégramme(s)").waitFor();
    assert.match(await page.locator('[data-testid="mbus-meter-row"][data-address="8"]').getByTestId("mbus-meter-error").innerText(), /cessé de répondre/);
    await m2.getByTestId("mbus-answer-toggle").click();
    const answer = page.getByTestId("mbus-answer");
    await answer.waitFor();
    assert.equal(await answer.getByTestId("mbus-raw").count(), 3, "the three frames, raw");
    assert.match(await answer.getByTestId("mbus-raw").first().innerText(), /^68 [0-9A-F]{2} [0-9A-F]{2} 68 08 02 72 22 22 22 22/);
    assert.ok(await answer.getByTestId("mbus-record").count() >= 3, "decoded records");
    await page.getByText("Télégramme 3 sur 3").waitFor();
    // The park has the meter with the readings of the answer.
    assert.match(await m2.innerText(), /22222222/);
    await page.screenshot({ path: path.join(ARTIFACTS, "mbus-answers-fr.png"), fullPage: true });

    // English.
    await page.getByTestId("lang-select").selectOption("en");
    await page.getByRole("heading", { name: "M-Bus buses" }).waitFor();
    await page.getByTestId("mbus-meter-row").first().waitFor();
    assert.match(await page.locator('[data-testid="mbus-meter-row"][data-address="8"]').innerText(), /the meter stopped answering mid-read/);
    await page.screenshot({ path: path.join(ARTIFACTS, "mbus-en.png"), fullPage: true });
    await page.getByTestId("mbus-scan-secondary").click();
    await page.getByText(/Search finished: 5 meter\(s\) found/).waitFor({ timeout: 120_000 });
    assert.equal(await page.locator('[data-testid="mbus-found-row"][data-id="33333332"]').count(), 1, "the second meter at address 3 by its secondary address");
    assert.match(await page.locator('[data-testid="mbus-found-row"][data-id="00182007"]').innerText(), /already on the bus/);
    assert.equal(await page.getByTestId("mbus-found-pick").count(), 2, "only the two meters at address 3 are new");
    await page.screenshot({ path: path.join(ARTIFACTS, "mbus-secondary-en.png"), fullPage: true });
    // The two meters sharing address 3 go on the bus by their secondary addresses and are read.
    await page.getByTestId("mbus-add-found").click();
    await page.getByText("2 meter(s) added to the bus and the park.").waitFor();
    await page.getByTestId("mbus-meter-row").nth(4).waitFor();
    await page.getByTestId("mbus-read-now").click();
    await page.getByText(/4 meter\(s\) read; failed: address 8 \(the meter stopped answering mid-read\)/).waitFor({ timeout: 30_000 });
    assert.match(await page.locator('[data-testid="mbus-meter-row"][data-address="33333332523B0102"]').innerText(), /33333332[\s\S]*1 telegram/);

    // What the button runs: a task counting the meters read, whose report is the read's.
    const { token } = await api("login", { login: "manager", password: "manager" });
    const bus = (await api("mbus_buses_list", {}, token))[0];
    const { task } = await api("mbus_read_start", { bus_id: bus.id }, token);
    let st;
    for (let i = 0; i < 150; i++) {
      st = await api("import_status", { task }, token);
      assert.ok(st.processed_lines <= st.total_lines, JSON.stringify(st));
      if (st.state !== "running") break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(st.state, "done", JSON.stringify(st));
    assert.equal(st.total_lines, 5, "five meters on the bus");
    assert.equal(st.processed_lines, 5);
    assert.deepEqual(st.report.meters.filter((m) => m.error).map((m) => [m.address, m.error.code, m.retried]), [["8", "timeout", true]]);
    assert.deepEqual(errors.map(String), []);
  } finally {
    await ctx.close();
  }
});

test("clerk: the buses listed without edition; the core refuses mbus_bus_save", async () => {
  const { ctx, page } = await newPage({ locale: "fr" });
  try {
    const token = await login(page, "clerk", "clerk");
    await page.goto(page.url().replace(/#.*$/, "") + "#/mbus");
    await page.getByTestId("mbus-bus-row").first().waitFor();
    assert.equal(await page.getByTestId("mbus-add").count(), 0);
    assert.equal(await page.getByTestId("mbus-edit").count(), 0);
    const r = await fetch(`${baseUrl}/api/mbus_bus_save`, {
      method: "POST", headers: { "Content-Type": "application/json", Authorization: "Bearer " + token },
      body: JSON.stringify({ name: "x", transport: "tcp", target: "127.0.0.1:1", baud: 2400, schedule: "off" }),
    });
    assert.equal(r.status, 403);
  } finally {
    await ctx.close();
  }
});
