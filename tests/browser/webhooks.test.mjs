// Browser test of the webhooks screen (issue 13): the manager reaches Settings > Webhooks,
// adds an endpoint pointing at a real receiver on loopback (a Node HTTP server that checks the
// HMAC-SHA256 signature with the secret the screen showed once), copies the secret, sends a
// test (delivered, HTTP 200), adds a second endpoint whose receiver is down (the test fails
// and is retried: next try shown), pauses and removes one; the delivery log shows the
// attempts. A clerk has no such screen. Screenshots in French and English.
import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import http from "node:http";
import crypto from "node:crypto";
import { spawnSync } from "node:child_process";

import { ARTIFACTS, api, login, newPage, useDatabase } from "./harness.mjs";

useDatabase((bin, db) => spawnSync(bin, ["demo", "--db", db, "--meters", "20", "--seed", "3"], { encoding: "utf8", timeout: 600_000 }));

const url = (page, hash) => page.url().replace(/#.*$/, "") + hash;

/** A receiver on loopback keeping every request (headers, raw body). */
async function receiver() {
  const seen = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      seen.push({ headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(200, { "Content-Type": "text/plain" });
      res.end("ok");
    });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return { server, seen, url: `http://127.0.0.1:${server.address().port}/releve` };
}

function signatureOk(secret, header, body) {
  const parts = Object.fromEntries(header.split(",").map((p) => p.split("=")));
  const mac = crypto.createHmac("sha256", secret).update(parts.t + ".").update(body).digest("hex");
  return crypto.timingSafeEqual(Buffer.from(mac), Buffer.from(parts.v1));
}

test("manager adds a webhook, sees its secret once, sends a test; the log shows a failing one retried", async () => {
  const rx = await receiver();
  const closed = http.createServer();
  await new Promise((r) => closed.listen(0, "127.0.0.1", r));
  const downUrl = `http://127.0.0.1:${closed.address().port}/down`;
  await new Promise((r) => closed.close(r));
  const { ctx, page, errors } = await newPage({ locale: "fr" });
  try {
    await ctx.grantPermissions(["clipboard-read", "clipboard-write"]);
    const token = await login(page, "manager", "manager");
    await page.goto(url(page, "#/notifications"));
    await page.getByTestId("nav-webhooks").click();
    await page.getByTestId("wh-table").getByText("Aucun webhook").waitFor();
    // A wrong address is refused in words.
    await page.getByTestId("wh-name").fill("Facturation");
    await page.getByTestId("wh-url").fill("ftp://facturation.example.org/");
    await page.getByTestId("wh-event-export.done").check();
    await page.getByTestId("wh-add").click();
    await page.getByTestId("wh-msg").filter({ hasText: "adresse" }).waitFor();
    // The real receiver.
    await page.getByTestId("wh-url").fill(rx.url);
    await page.getByTestId("wh-event-readings.batch").check();
    await page.getByTestId("wh-add").click();
    const secret = (await page.getByTestId("wh-secret-text").textContent()).trim();
    assert.match(secret, /^whsec_[0-9a-f]{48}$/);
    await page.getByTestId("wh-copy").click();
    await page.getByTestId("wh-copy").getByText("Copié").waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), secret);
    await page.getByTestId("wh-row-Facturation").getByText("Nouveaux relevés enregistrés").waitFor();
    const listed = await api("webhooks_list", {}, token);
    assert.ok(!JSON.stringify(listed).includes(secret), "the secret is never listed");
    // A test now: delivered, signed with the secret shown.
    await page.getByTestId("wh-test-Facturation").click();
    await page.getByTestId("wh-msg").filter({ hasText: "Test envoyé à Facturation : réponse HTTP 200" }).waitFor();
    assert.equal(rx.seen.length, 1);
    const ping = rx.seen[0];
    assert.equal(ping.headers["releve-event"], "ping");
    assert.equal(ping.headers["content-type"], "application/json");
    assert.ok(signatureOk(secret, ping.headers["releve-signature"], ping.body), "signature checked by the receiver");
    const tampered = Buffer.from(ping.body.toString().replace("ping", "pong"));
    assert.ok(!signatureOk(secret, ping.headers["releve-signature"], tampered), "a tampered body fails");
    assert.equal(JSON.parse(ping.body).data.webhook, "Facturation");
    // A receiver that is down: the test fails, is retried later.
    await page.getByTestId("wh-name").fill("Portail");
    await page.getByTestId("wh-url").fill(downUrl);
    await page.getByTestId("wh-event-info_code.started").check();
    await page.getByTestId("wh-add").click();
    await page.getByTestId("wh-row-Portail").waitFor();
    await page.getByTestId("wh-test-Portail").click();
    await page.getByTestId("wh-msg").filter({ hasText: "Le test vers Portail a échoué" }).waitFor();
    await page.getByTestId("wh-row-Portail").getByText("1 en attente").waitFor();
    const log = page.getByTestId("wh-log");
    await log.getByText("en attente").waitFor();
    await log.getByText("livré").waitFor();
    const deliveries = await api("webhook_deliveries", {}, token);
    assert.deepEqual(deliveries.rows.map((d) => [d.endpoint, d.status, d.attempts]), [["Portail", "pending", 1], ["Facturation", "delivered", 1]]);
    assert.ok(deliveries.rows[0].next_try > deliveries.rows[0].last_try, "a next try");
    await page.screenshot({ path: path.join(ARTIFACTS, "webhooks-fr.png"), fullPage: true });
    await page.getByTestId("lang-select").selectOption("en");
    await page.getByTestId("wh-log").getByText("delivered").waitFor();
    await page.getByTestId("wh-row-Portail").getByText("1 pending").waitFor();
    await page.screenshot({ path: path.join(ARTIFACTS, "webhooks-en.png"), fullPage: true });
    // Pause, then remove.
    await page.getByTestId("wh-toggle-Portail").click();
    await page.getByTestId("wh-row-Portail").getByText("paused").waitFor();
    page.once("dialog", (d) => d.accept());
    await page.getByTestId("wh-remove-Portail").click();
    await page.getByTestId("wh-msg").filter({ hasText: "Webhook Portail removed." }).waitFor();
    assert.deepEqual((await api("webhooks_list", {}, token)).endpoints.map((e) => e.name), ["Facturation"]);
    assert.deepEqual(errors.map(String), []);
  } finally {
    await ctx.close();
    rx.server.close();
  }
});

test("a clerk has no webhooks screen", async () => {
  const { ctx, page } = await newPage({ locale: "en" });
  try {
    const token = await login(page, "clerk", "clerk");
    await assert.rejects(api("webhooks_list", {}, token), /403|forbidden/);
    await page.goto(url(page, "#/webhooks"));
    await page.waitForFunction(() => location.hash === "#/");
  } finally {
    await ctx.close();
  }
});
