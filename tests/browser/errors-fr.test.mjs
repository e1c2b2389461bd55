// The clerk's language: errors reach a French screen in French, worded by ui/i18n.js from the
// server's code and params, with French numbers (1 158,684 m³) and dates (dd/mm/yyyy HH:MM);
// and in English on an English screen. One real `releve serve` on the demo park (harness.mjs).
// Each case: an exchange below the last reading, a duplicate group name, a bad line of a
// telegram import, a rejected line of the customer import, a failed scheduled export, a bad
// period (bad_input) and an e-mail with no SMTP server (not_configured, a 409 not a 500).
import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";

import { ARTIFACTS, api, baseUrl, login, newPage } from "./harness.mjs";

const shot = (page, name) => page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
/** French digits group with a narrow no-break space; compare on plain spaces. */
const plain = (s) => s.replace(/[\u202f\u00a0]/g, " ");

/** The first active water meter with a volume reading, and its detail. */
async function waterMeter(token, skip = []) {
  const page = await api("meters_list", { limit: 200 }, token);
  for (const row of page.rows) {
    if (row.device_type !== "water" || row.status !== "active" || !row.last_seen || skip.includes(row.id)) continue;
    const m = await api("meter_get", { id: row.id }, token);
    const volume = m.registers.find((r) => r.register === "volume");
    if (volume && volume.last_value > 1) return { m, volume };
  }
  throw new Error("no active water meter with readings");
}

/** Try an exchange whose final reading is below the last one; the form's error text. */
async function exchangeBelowLast(page, m, volume) {
  await page.goto(`${baseUrl}/#/meters/${m.meter.id}`);
  await page.getByTestId("exchange-open").click();
  await page.getByTestId("exchange-form").waitFor();
  await page.getByTestId("exchange-new-serial").fill("99112233");
  await page.getByTestId("exchange-final").fill("1");
  await page.getByTestId("exchange-initial").fill("0");
  await page.getByTestId("exchange-submit").click();
  await page.getByTestId("exchange-confirm-ok").click(); // irreversible: asked first
  await page.waitForFunction(() => !document.querySelector('[data-testid="exchange-error"]').hidden);
  return plain(await page.getByTestId("exchange-error").textContent());
}

/** Create a group named `name` through the groups screen; the message shown. */
async function createGroup(page, name) {
  if (!page.url().endsWith("#/groups")) await page.goto(`${baseUrl}/#/groups`);
  const msg = page.getByTestId("groups-msg");
  await msg.waitFor({ state: "attached" });
  const before = await msg.textContent();
  await page.getByTestId("group-new-name").fill(name);
  await page.getByTestId("group-create").click();
  await page.waitForFunction((b) => {
    const t = document.querySelector('[data-testid="groups-msg"]')?.textContent || "";
    return t.length > 0 && t !== b;
  }, before);
  return msg.textContent();
}

test("French session: every error in French words, French numbers and dates", async () => {
  const { ctx, page, errors } = await newPage({ locale: "fr" });
  try {
    const token = await login(page, "manager", "manager");

    // 1. Exchange below the last reading: the meter, both readings in French numbers, the date.
    const { m, volume } = await waterMeter(token);
    const text = await exchangeBelowLast(page, m, volume);
    const last = new Intl.NumberFormat("fr-FR", { maximumFractionDigits: 3 }).format(volume.last_value).replace(/[\u202f\u00a0]/g, " ");
    assert.match(text, new RegExp(`Compteur ${m.meter.serial} : le relevé final \\(1 m³\\) est inférieur à son dernier relevé \\(${last.replace(/[.]/g, "\\.")} m³, le \\d\\d/\\d\\d/\\d{4} \\d\\d:\\d\\d\\)`), text);
    assert.doesNotMatch(text, /final reading|below/);
    await shot(page, "errors-fr-exchange");

    // 2. A group name already taken.
    await createGroup(page, "Tournée du jeudi");
    const taken = await createGroup(page, "Tournée du jeudi");
    assert.match(taken, /Un groupe nommé « Tournée du jeudi » existe déjà : choisissez un autre nom\./);
    await shot(page, "errors-fr-group");

    // 3. A bad line of a telegram import: its line number and its reason code in French words.
    await page.goto(`${baseUrl}/#/import`);
    await page.getByTestId("import-files-input").setInputFiles({ name: "releves.txt", mimeType: "text/plain", buffer: Buffer.from("0A0G\n", "utf8") });
    await page.getByTestId("import-start").click();
    await page.getByTestId("rejected-row").first().waitFor({ timeout: 60_000 });
    const badLine = await page.getByTestId("rejected-row").first().innerText();
    assert.equal(await page.getByTestId("rejected-row").first().getAttribute("data-line"), "1");
    assert.match(badLine, /Ligne illisible/);
    assert.match(badLine, /« G » en colonne 4 n’est pas un chiffre hexadécimal/, badLine);
    assert.doesNotMatch(badLine, /is not a hexadecimal digit/);
    await shot(page, "errors-fr-import-line");

    // 4. The customer import: French meter types read, a line rejected in French words.
    const csv = "Client;Nom;Compteur;Type\nF-1;Anne Roux;98000001;Électricité\nF-2;Paul Vidal;98000002;chaleur\nF-3;Jean Mas;98000003;grille-pain\n;Sans numéro;98000004;eau\n";
    await page.getByTestId("import-tab-park").click();
    await page.getByTestId("park-file-input").setInputFiles({ name: "clients.csv", mimeType: "text/csv", buffer: Buffer.from(csv, "utf8") });
    await page.getByTestId("park-file-name").filter({ hasText: "clients.csv" }).waitFor();
    for (const [field, header] of Object.entries({ customer_number: "Client", customer_name: "Nom", meter_serial: "Compteur", device_type: "Type" })) {
      await page.getByTestId("park-map-" + field).selectOption({ label: header });
    }
    await page.getByTestId("park-profile-name").fill("Clients FR");
    await page.getByTestId("park-profile-save").click();
    await page.getByTestId("park-status").filter({ hasText: "Clients FR" }).waitFor();
    await page.getByTestId("park-import-start").click();
    await page.getByTestId("park-report").waitFor();
    assert.equal(await page.getByTestId("park-meters-added").innerText(), "2", "électricité and chaleur are meter types");
    const rows = await page.getByTestId("park-rejected-row").allInnerTexts();
    assert.equal(rows.length, 2);
    assert.match(rows[0], /Type de compteur inconnu « grille-pain »/);
    assert.match(rows[1], /Une valeur est nécessaire/);
    const types = await api("meters_list", { search: "9800000", limit: 10 }, token);
    assert.deepEqual(types.rows.map((r) => r.device_type).sort(), ["electricity", "heat"]);
    await shot(page, "errors-fr-park-import");

    // 5. A scheduled export by e-mail with no SMTP server: the run fails, its reason in French.
    const layouts = await api("export_layouts_list", {}, token);
    assert.ok(layouts.length, "the demo has an export layout");
    // Saving checks a mail server is set: one is set for the save, then taken away.
    const smtp = (host) => ({ smtp_host: host, smtp_port: 25, smtp_from: "releve@example.org", smtp_tls: "none" });
    await api("notify_settings", smtp("127.0.0.1"), token);
    const job = await api("export_job_save", { name: "Mensuel compta", layout: layouts[0].name, every: "monthly", day: 1, hour: 6,
      period: "previous_month", destination: "email", email_to: ["compta@example.org"] }, token);
    await api("notify_settings", smtp(""), token);
    await page.goto(`${baseUrl}/#/jobs`);
    await page.locator(`[data-testid="job-row"][data-id="${job.id}"] [data-testid="job-run"]`).click();
    await page.locator('[data-testid="job-run-row"][data-status="failed"]').first().waitFor();
    const runError = await page.locator('[data-testid="job-run-row"][data-status="failed"] [data-testid="job-run-error"]').first().innerText();
    assert.match(runError, /Aucun serveur d’envoi d’e-mails n’est réglé/);
    await shot(page, "errors-fr-job");

    // 6. A bad input: a period that ends before it starts, dates the French way.
    await page.goto(`${baseUrl}/#/audit`);
    await page.getByTestId("audit-row").first().waitFor();
    await page.getByTestId("audit-from").fill("2026-02-01");
    await page.getByTestId("audit-to").fill("2026-01-01");
    await page.getByTestId("audit-apply").click();
    await page.locator('[data-testid="audit-msg"].error-text').waitFor();
    assert.equal(await page.getByTestId("audit-msg").innerText(),
      "Erreur : Saisie incorrecte — fin de période : la période finit le 01/01/2026, avant de commencer le 01/02/2026");
    await shot(page, "errors-fr-bad-input");

    // 7. E-mail to a consumer with no SMTP server: a 409 saying what to set, not a 500.
    const r = await fetch(`${baseUrl}/api/consumer_report_email`, {
      method: "POST", headers: { "Content-Type": "application/json", Authorization: "Bearer " + token },
      body: JSON.stringify({ meter_id: m.meter.id, from: "2026-01-01", to: "2026-01-31", format: "html", email_to: "anne@example.org" }),
    });
    assert.equal(r.status, 409);
    assert.deepEqual((await r.json()).error.params, { setting: "smtp" });
    await page.goto(`${baseUrl}/#/meters/${m.meter.id}`);
    await page.getByTestId("crep-open").click();
    await page.getByTestId("crep-form").waitFor();
    await page.getByTestId("crep-email-to").fill("anne@example.org");
    await page.getByTestId("crep-email").click();
    await page.locator('[data-testid="crep-msg"].error-text').waitFor();
    assert.equal(await page.getByTestId("crep-msg").innerText(),
      "Aucun serveur d’envoi d’e-mails n’est réglé. Renseignez-le dans Paramètres (serveur SMTP et expéditeur).");
    await shot(page, "errors-fr-smtp");
    assert.deepEqual(errors.map(String).filter((e) => !/status of 4\d\d/.test(e)), []);
  } finally {
    await ctx.close();
  }
});

test("English session: the same errors in English", async () => {
  const { ctx, page, errors } = await newPage({ locale: "en" });
  try {
    const token = await login(page, "superuser", "superuser");
    const { m } = await waterMeter(token);
    const text = await exchangeBelowLast(page, m);
    assert.match(text, new RegExp(`Meter ${m.meter.serial}: the final reading \\(1 m³\\) is below its last reading \\([\\d,.]+ m³, on \\d\\d/\\d\\d/\\d{4},? \\d\\d:\\d\\d\\)`), text);
    await shot(page, "errors-en-exchange");
    await createGroup(page, "Thursday round");
    assert.match(await createGroup(page, "Thursday round"), /A group named “Thursday round” already exists: choose another name\./);
    await shot(page, "errors-en-group");
    assert.deepEqual(errors.map(String).filter((e) => !/status of 4\d\d/.test(e)), []);
  } finally {
    await ctx.close();
  }
});
