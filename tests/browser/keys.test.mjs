// Browser test of the AES keys (issue 12): the Settings / Keys screen (counts per key status,
// import of a CSV key file with a refused line named by file and line), the key status filter
// of the meter list, entering a key on the meter page (never shown back), in French and
// English. Database: a 40-meter demo.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import path from "node:path";

import { ARTIFACTS, api, login, newPage, useDatabase } from "./harness.mjs";

const today = new Date().toISOString().slice(0, 10);
useDatabase((bin, db) => spawnSync(bin, ["demo", "--db", db, "--meters", "40", "--now", today], { encoding: "utf8", timeout: 600_000 }));

const KEY = "0F1E2D3C4B5A69788796A5B4C3D2E1F0";

test("keys screen, CSV import, status filter, key entry on the meter page (fr, en)", async () => {
  const { ctx, page, errors } = await newPage({ locale: "fr" });
  try {
    const token = await login(page, "manager", "manager");
    const before = await api("keys_status", {}, token);

    // The keys screen, from Settings.
    await page.goto(page.url().replace(/#.*$/, "") + "#/keys");
    await page.getByTestId("keys-count").first().waitFor();
    assert.equal(await page.getByTestId("keys-count").count(), 6, "one row per key status");
    assert.match(await page.getByTestId("keys-stored").innerText(), new RegExp(`^${before.keys} clés enregistrées`));

    // A CSV with a manufacturer column, a good key and a bad line.
    const csv = `fabricant;numéro;clé\nKAM;77000001;${KEY}\nKAM;77000002;XYZ\n`;
    await page.getByTestId("keys-file").setInputFiles({ name: "cles.csv", mimeType: "text/csv", buffer: Buffer.from(csv) });
    await page.getByTestId("keys-import").click();
    await page.getByTestId("keys-rejected-line").waitFor();
    assert.match(await page.getByTestId("keys-import-msg").innerText(), /^cles\.csv : 1 clés importées \(0 remplacées\), 1 lignes refusées/);
    assert.equal(await page.getByTestId("keys-rejected-line").innerText(),
      "cles.csv, ligne 3 : compteur 77000002, la clé contient un caractère qui n’est pas un chiffre hexadécimal (0-9, A-F).");
    await page.getByTestId("keys-stored").getByText(`${before.keys + 1} clés enregistrées`).waitFor();
    await page.screenshot({ path: path.join(ARTIFACTS, "keys-screen-fr.png"), fullPage: true });

    // A KEM without its password: refused in words.
    const kem = `<?xml version="1.0"?><EncryptedData xmlns="http://www.w3.org/2001/04/xmlenc#"><CipherData><CipherValue>AAAA</CipherValue></CipherData></EncryptedData>`;
    await page.getByTestId("keys-file").setInputFiles({ name: "parc.kem", mimeType: "application/xml", buffer: Buffer.from(kem) });
    await page.getByTestId("keys-import").click();
    await page.getByTestId("keys-import-msg").getByText("parc.kem : un fichier KEM est chiffré ; saisissez le mot de passe reçu avec le fichier.").waitFor();

    // The status filter of the meter list: the rows are the meters the screen counts.
    const status = (await api("keys_status", {}, token)).counts.find((c) => c.meters > 0);
    await page.getByTestId(`keys-list-${status.status}`).click();
    await page.waitForURL(new RegExp(`#/meters\\?key_status=${status.status}$`));
    await page.getByTestId("meter-row").first().waitFor();
    assert.equal(await page.getByTestId("key-status-filter").inputValue(), status.status);
    const listed = await api("meters_list", { key_status: status.status, limit: 500 }, token);
    assert.equal(listed.total, status.meters);
    assert.equal(await page.getByTestId("meter-row").count(), Math.min(status.meters, 50));

    // Entering a key on the meter page.
    const id = listed.rows[0].id;
    await page.goto(page.url().replace(/#.*$/, "") + `#/meters/${id}`);
    await page.getByTestId("meter-key-status").waitFor();
    await page.getByTestId("meter-key-open").click();
    await page.getByTestId("meter-key-input").fill("123");
    await page.getByTestId("meter-key-save").click();
    await page.getByTestId("meter-key-msg").getByText("Une clé AES compte 32 chiffres hexadécimaux (0-9, A-F).").waitFor();
    await page.getByTestId("meter-key-input").fill(KEY);
    await page.getByTestId("meter-key-save").click();
    await page.getByTestId("meter-key-done").waitFor();
    assert.match(await page.getByTestId("meter-key-done").innerText(), /^Clé enregistrée : \d+ télégrammes décodés à nouveau/);
    assert.ok(!(await page.content()).includes(KEY), "the key is never shown back");
    const got = JSON.stringify(await api("meter_get", { id }, token));
    assert.ok(!got.toUpperCase().includes(KEY), "nor returned by meter_get");
    await page.screenshot({ path: path.join(ARTIFACTS, "keys-meter-fr.png"), fullPage: true });

    // The same in English.
    await page.getByTestId("lang-select").selectOption("en");
    await page.getByTestId("meter-key-status").waitFor();
    await page.screenshot({ path: path.join(ARTIFACTS, "keys-meter-en.png"), fullPage: true });
    await page.goto(page.url().replace(/#.*$/, "") + "#/keys");
    await page.getByTestId("keys-count").first().waitFor();
    assert.match(await page.getByTestId("keys-stored").innerText(), /keys stored$/);
    // The import report in English: file and line named.
    await page.getByTestId("keys-file").setInputFiles({ name: "keys.csv", mimeType: "text/csv", buffer: Buffer.from(`serial,key\n77000003,${KEY.slice(2)}\n`) });
    await page.getByTestId("keys-import").click();
    await page.getByTestId("keys-rejected-line").waitFor();
    assert.equal(await page.getByTestId("keys-rejected-line").innerText(), "keys.csv, line 2: meter 77000003, the key does not have 32 hexadecimal digits.");
    await page.screenshot({ path: path.join(ARTIFACTS, "keys-screen-en.png"), fullPage: true });
    await page.getByTestId("lang-select").selectOption("fr");
    assert.deepEqual(errors, []);
  } finally {
    await ctx.close();
  }
});

test("a superuser imports keys but may not export them", async () => {
  const { ctx, page } = await newPage({ locale: "fr" });
  try {
    const token = await login(page, "superuser", "superuser");
    await page.goto(page.url().replace(/#.*$/, "") + "#/keys");
    await page.getByTestId("keys-count").first().waitFor();
    assert.equal(await page.getByTestId("keys-export").count(), 0, "no export button");
    await assert.rejects(api("keys_export", {}, token), (e) => /403|forbidden/.test(String(e.status || e.code || e.message)));
  } finally {
    await ctx.close();
  }
});
