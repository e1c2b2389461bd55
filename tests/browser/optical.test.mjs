// Browser test of the optical readout (issue 11): the simulated Landis+Gyr-like meter
// (`releve-sim optical`, build it with `cargo build -p releve-cli -p releve-sim`) listens on
// TCP as a serial server would; the Optical readout screen reads it and shows the meter, its
// registers (A+, tariffs, A-, P+, P-) and every data set with the unknown codes kept; a meter
// sending a wrong BCC is an error in words and stores nothing. Screenshots in French and English.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { spawn, spawnSync } from "node:child_process";

import { ARTIFACTS, api, login, newPage, useDatabase } from "./harness.mjs";

let bin = null;
useDatabase((b, db) => {
  bin = b;
  return spawnSync(b, ["demo", "--db", db, "--meters", "50", "--seed", "7"], { encoding: "utf8", timeout: 600_000 });
});

const sims = [];
after(() => { for (const s of sims) s.kill(); });

/** Start the simulator on a free TCP port; resolves with its address. */
function simulator(args) {
  const exe = path.join(path.dirname(bin), "releve-sim");
  const child = spawn(exe, ["optical", "--listen", "127.0.0.1:0", ...args], { stdio: ["ignore", "pipe", "inherit"] });
  sims.push(child);
  return new Promise((resolve, reject) => {
    let out = "";
    child.on("error", reject);
    child.stdout.on("data", (d) => {
      out += d;
      const m = out.match(/listening on (\S+)/);
      if (m) resolve(m[1]);
    });
  });
}

test("optical readout: a meter read over TCP, its registers and unknown codes, errors in words", async () => {
  const good = await simulator(["--clock", "2026-11-19 14:30:05", "--serial", "87654321"]);
  const bad = await simulator(["--wrong-bcc", "--no-pace", "--serial", "12340000"]);
  const { page, errors } = await newPage({ locale: "fr" });
  await login(page, "manager", "manager");
  await page.getByTestId("nav-optical").click();
  await page.getByRole("heading", { name: "Relevé optique" }).waitFor();

  // A meter sending a wrong BCC: an error in words, nothing stored.
  await page.getByTestId("opt-kind").selectOption("tcp");
  await page.getByTestId("opt-target").fill(bad);
  await page.getByTestId("opt-read").click();
  await page.getByTestId("opt-progress").waitFor();
  await page.getByTestId("opt-msg").getByText("contrôle BCC faux").waitFor({ timeout: 20_000 });
  assert.match(await page.getByTestId("opt-msg").innerText(), new RegExp(`tcp ${bad.replace(/\./g, "\\.")}`));
  await page.screenshot({ path: path.join(ARTIFACTS, "optical-error-fr.png") });

  // The good meter.
  await page.getByTestId("opt-target").fill(good);
  await page.getByTestId("opt-meter").fill("87654321");
  await page.getByTestId("opt-read").click();
  const summary = page.getByTestId("opt-summary");
  await summary.waitFor({ timeout: 20_000 });
  assert.match(await summary.innerText(), /Compteur LGZ 87654321 lu/);
  assert.match(await summary.innerText(), /mode C, données à 9600 bauds/);
  const regs = page.getByTestId("opt-registers");
  assert.match(await regs.locator('tr[data-register="a_plus"]').innerText(), /12\s345,678/);
  assert.match(await regs.locator('tr[data-register="a_plus_t1"]').innerText(), /tarif 1/);
  assert.match(await regs.locator('tr[data-register="p_plus"]').innerText(), /1,234\s+kW/, "power in kW, as everywhere else");
  assert.equal(await regs.locator("tbody tr").count(), 6);
  assert.equal(await page.getByTestId("opt-set").count(), 20);
  assert.equal(await page.getByTestId("opt-unknown").count(), 10, "F.F, voltages, currents, C.7.0, 0.2.0, a billing period");
  await page.screenshot({ path: path.join(ARTIFACTS, "optical-fr.png"), fullPage: true });

  // Stored: the meter is in the park with its A+.
  const { token } = await api("login", { login: "manager", password: "manager" });
  const list = await api("meters_list", { search: "87654321" }, token);
  assert.equal(list.rows.length, 1);
  const meter = await api("meter_get", { id: list.rows[0].id }, token);
  assert.equal(meter.meter.device_type, "electricity");
  assert.equal(meter.registers.find((r) => r.register === "a_plus").last_value, 12345.678);
  const none = await api("meters_list", { search: "12340000" }, token);
  assert.equal(none.rows.length, 0, "nothing of the wrong BCC");

  // English.
  await page.getByTestId("lang-select").selectOption("en");
  await page.getByRole("heading", { name: "Optical readout" }).waitFor();
  await page.getByTestId("opt-kind").selectOption("tcp");
  await page.getByTestId("opt-target").fill(good);
  await page.getByTestId("opt-read").click();
  await page.getByTestId("opt-summary").getByText("Meter LGZ 87654321 read").waitFor({ timeout: 20_000 });
  await page.getByTestId("opt-registers").getByText("Active energy imported, tariff 1 (A+ T1)").waitFor();
  await page.screenshot({ path: path.join(ARTIFACTS, "optical-en.png"), fullPage: true });
  assert.deepEqual(errors, []);
});
