// Browser test of the API keys screen (issue 13): the manager creates a key for a billing
// system (scopes, a group), sees its secret once in a box with a copy button, the list shows
// the key by its prefix and never the secret; a name in use and an unknown customer number
// are worded; a portal key for one customer by number; revoking asks first; the audit log
// words both changes. A clerk has no
// such screen and gets 403 on the commands. Screenshots in French and English.
import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { spawnSync } from "node:child_process";

import { ARTIFACTS, api, baseUrl, login, newPage, useDatabase } from "./harness.mjs";

useDatabase((bin, db) => spawnSync(bin, ["demo", "--db", db, "--meters", "20", "--seed", "3"], { encoding: "utf8", timeout: 600_000 }));

/** A full-page screenshot from the top (the header is sticky). */
async function shot(page, name) {
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: path.join(ARTIFACTS, name), fullPage: true });
}

const url = (page, hash) => page.url().replace(/#.*$/, "") + hash;
const nextYear = () => `${new Date().getFullYear() + 1}-06-30`;

/** The HTTP status of command `name` called with `token`. */
async function status(name, args, token) {
  const r = await fetch(`${baseUrl}/api/${name}`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: "Bearer " + token },
    body: JSON.stringify(args),
  });
  const body = await r.json();
  return [r.status, body.error && body.error.code];
}

test("manager creates a key, sees its secret once, the list shows it without, revokes it", async () => {
  const { ctx, page, errors } = await newPage({ locale: "fr" });
  await ctx.grantPermissions(["clipboard-read", "clipboard-write"], { origin: baseUrl });
  try {
    const token = await login(page, "manager", "manager");
    const groups = await api("groups_list", {}, token);
    assert.ok(groups.length > 0, "the demo has groups");
    const customer = (await api("meters_list", { limit: 50 }, token)).rows.find((r) => r.customer_number).customer_number;

    await page.goto(url(page, "#/notifications"));
    await page.getByTestId("settings-link-api-keys").click();
    await page.getByTestId("apikeys-table").getByText("Aucune clé d’API pour l’instant.").waitFor();
    // Each scope is explained; interval data says it is personal.
    await page.getByText("Valeurs horaires et plus fines : données personnelles").waitFor();

    // A billing system's key: readings and meters of one group, an expiry, a rate.
    await page.getByTestId("apikey-new-name").fill("Facturation ERP");
    await page.getByTestId("apikey-scope-readings-read").check();
    await page.getByTestId("apikey-scope-meters-read").check();
    await page.getByTestId("apikey-reach-groups").check();
    await page.getByTestId("apikey-create").click();
    await page.getByTestId("apikeys-msg").filter({ hasText: "Cochez au moins un groupe" }).waitFor();
    await page.getByTestId(`apikey-group-${groups[0].id}`).check();
    await page.getByTestId("apikey-new-expires").fill(nextYear());
    await page.getByTestId("apikey-new-rate").fill("120");
    await page.getByTestId("apikey-create").click();
    const box = page.getByTestId("apikey-secret-box");
    await box.waitFor();
    await box.getByText("elle ne sera plus jamais affichée").waitFor();
    const secret = await page.getByTestId("apikey-secret").inputValue();
    assert.match(secret, /^rlv_[0-9a-f]{64}$/);
    await page.getByTestId("apikey-secret-copy").click();
    await page.getByTestId("apikey-secret-msg").filter({ hasText: "Copiée dans le presse-papiers." }).waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), secret);

    const row = page.getByTestId("apikey-row-Facturation ERP");
    await row.waitFor();
    assert.equal(await row.getByTestId("apikey-prefix").textContent(), secret.slice(0, 10) + "…");
    await row.getByText(`groupes : ${groups[0].name}`).waitFor();
    await row.getByText("120 appels/min").waitFor();
    await row.getByText("readings:read").waitFor();
    assert.equal(await row.getByTestId("apikey-state").textContent(), "active");

    // Refusals worded: a name in use, an unknown customer number.
    await page.getByTestId("apikey-new-name").fill("Facturation ERP");
    await page.getByTestId("apikey-scope-meters-read").check();
    await page.getByTestId("apikey-create").click();
    await page.getByTestId("apikeys-msg").filter({ hasText: "Une clé d’API nommée « Facturation ERP » existe déjà" }).waitFor();
    await page.getByTestId("apikey-new-name").fill("Portail");
    await page.getByTestId("apikey-reach-customer").check();
    await page.getByTestId("apikey-create").click();
    await page.getByTestId("apikeys-msg").filter({ hasText: "client : une valeur est nécessaire" }).waitFor();
    await page.getByTestId("apikey-new-customer").fill("ZZ-404");
    await page.getByTestId("apikey-create").click();
    await page.getByTestId("apikeys-msg").filter({ hasText: "client : aucun client n’a le numéro « ZZ-404 »" }).waitFor();
    // The first secret is still on screen until the manager says it is copied.
    assert.equal(await page.getByTestId("apikey-secret").inputValue(), secret);
    await shot(page, "api-keys-fr.png");
    await page.getByTestId("apikey-secret-done").click();
    await box.waitFor({ state: "detached" });

    // A portal key for one customer, by number.
    await page.getByTestId("apikey-new-customer").fill(customer);
    await page.getByTestId("apikey-create").click();
    await page.getByTestId("apikey-row-Portail").getByText(`client n° ${customer}`).waitFor();
    await page.getByTestId("apikey-secret-done").click();

    // Shown once: after a reload the secret is nowhere, in the page or in the list's answer.
    await page.reload();
    await page.getByTestId("apikey-row-Facturation ERP").waitFor();
    assert.ok(!(await page.content()).includes(secret.slice(4)), "the secret is shown again");
    assert.equal(await page.getByTestId("apikey-secret-box").count(), 0);
    const listed = await api("api_keys_list", {}, token);
    assert.ok(!JSON.stringify(listed).includes(secret.slice(4)) && !("secret" in listed[0]));
    const erp = listed.find((k) => k.name === "Facturation ERP");
    assert.deepEqual([erp.scopes, erp.groups, erp.rate_per_minute, erp.state], [["meters:read", "readings:read"], [groups[0].id], 120, "active"]);

    // Revoke asks first: dismissed, nothing happens; accepted, the key is revoked.
    page.once("dialog", (d) => { assert.match(d.message(), /Révoquer la clé « Facturation ERP »/); d.dismiss(); });
    await page.getByTestId("apikey-revoke-Facturation ERP").click();
    assert.equal((await api("api_keys_list", {}, token)).find((k) => k.name === "Facturation ERP").state, "active");
    page.once("dialog", (d) => d.accept());
    await page.getByTestId("apikey-revoke-Facturation ERP").click();
    await page.getByTestId("apikeys-msg").filter({ hasText: "Clé « Facturation ERP » révoquée." }).waitFor();
    await page.getByTestId("apikey-row-Facturation ERP").getByTestId("apikey-state").filter({ hasText: "révoquée" }).waitFor();
    assert.equal(await page.getByTestId("apikey-revoke-Facturation ERP").count(), 0);
    assert.equal((await api("api_keys_list", {}, token)).find((k) => k.name === "Facturation ERP").state, "revoked");

    // The audit log words both changes.
    await page.goto(url(page, "#/audit"));
    await page.getByRole("cell", { name: "Clé d’API créée" }).first().waitFor();
    await page.getByRole("cell", { name: "Clé d’API révoquée" }).first().waitFor();
    await page.goto(url(page, "#/api-keys"));
    await page.getByTestId("apikey-row-Facturation ERP").waitFor();

    // In English: a new key's secret box, the list, the states.
    await page.getByTestId("lang-select").selectOption("en");
    await page.getByTestId("apikeys-table").getByText("revoked").waitFor();
    await page.getByTestId("apikey-new-name").fill("Consumer portal");
    await page.getByTestId("apikey-scope-intervals-read").check();
    await page.getByTestId("apikey-scope-readings-read").check();
    await page.getByTestId("apikey-create").click();
    await page.getByTestId("apikey-secret-box").getByText("it will never be shown again").waitFor();
    await page.getByTestId("apikey-row-Consumer portal").getByText("all meters").waitFor();
    await page.getByTestId("apikey-row-Portail").getByText(`customer no. ${customer}`).waitFor();
    await shot(page, "api-keys-en.png");
    assert.deepEqual(errors.map(String), []);
  } finally {
    await ctx.close();
  }
});

test("a clerk has no API keys screen and is refused the commands", async () => {
  const { ctx, page, errors } = await newPage({ locale: "fr" });
  try {
    const token = await login(page, "clerk", "clerk");
    await page.goto(url(page, "#/api-keys"));
    await page.waitForFunction(() => !location.hash.includes("api-keys"));
    assert.equal(await page.getByTestId("apikeys-table").count(), 0);
    assert.equal(await page.getByTestId("settings-link-api-keys").count(), 0);
    assert.deepEqual(await status("api_keys_list", {}, token), [403, "forbidden"]);
    assert.deepEqual(await status("api_key_create", { name: "Clerk", scopes: ["meters:read"] }, token), [403, "forbidden"]);
    assert.deepEqual(await status("api_key_revoke", { id: 1 }, token), [403, "forbidden"]);
    assert.deepEqual(errors.map(String), []);
  } finally {
    await ctx.close();
  }
});
