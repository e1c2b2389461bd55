// Browser test of the customers-and-meters import: a superuser uploads a billing CSV, maps
// its columns, saves the profile, imports, reads the report, is refused the database's folder
// as a watched folder, then finds the new meter.
// Set-up (demo database of 300 meters, seed 7, and `releve serve`): harness.mjs.
import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";

import { ARTIFACTS, api, login, newPage } from "./harness.mjs";

const CSV = [
  "Numéro client;Nom;Adresse;CP;Ville;N° série;Fabricant;Type;Lat;Lon;Groupes",
  "T-9001;Hélène Faure;12 rue des Tilleuls;42400;Saint-Chamond;99000001;KAM;water;45,4761;4,5152;Import test|Nord",
  "T-9002;Marc Rivière;3 allée des Pins;42400;Saint-Chamond;99000002;KAM;heat;45,4790;4,5201;Import test",
  "T-9003;Luc Bernard;8 rue Neuve;42400;Saint-Chamond;99000003;KAM;toaster;;;",
  "",
].join("\n");

const MAPPING = {
  customer_number: "Numéro client", customer_name: "Nom", address: "Adresse", postal_code: "CP", city: "Ville",
  meter_serial: "N° série", manufacturer: "Fabricant", device_type: "Type", latitude: "Lat", longitude: "Lon", groups: "Groupes",
};

test("superuser: customers and meters from a CSV, mapped, saved as a profile, imported", async () => {
  const { ctx, page, errors } = await newPage();
  try {
    const token = await login(page, "superuser", "superuser");
    await page.getByTestId("nav-import").click();
    await page.getByTestId("import-tab-park").click();
    await page.getByTestId("park-file-input").setInputFiles({ name: "clients.csv", mimeType: "text/csv", buffer: Buffer.from(CSV, "utf8") });
    await page.getByTestId("park-file-name").filter({ hasText: "clients.csv" }).waitFor();
    assert.equal(await page.getByTestId("park-separator").inputValue(), ";", "the separator is guessed from the header");
    for (const [field, header] of Object.entries(MAPPING)) {
      await page.getByTestId("park-map-" + field).selectOption({ label: header });
    }
    await page.getByTestId("park-preview-row").first().waitFor();
    assert.equal(await page.getByTestId("park-preview-row").count(), 3);
    assert.match(await page.getByTestId("park-preview").innerText(), /Hélène Faure/);

    await page.getByTestId("park-profile-name").fill("Facturation test");
    await page.getByTestId("park-profile-save").click();
    await page.getByTestId("park-status").filter({ hasText: "Facturation test" }).waitFor();
    const profiles = await api("park_profiles_list", {}, token);
    const saved = profiles.find((p) => p.name === "Facturation test");
    assert.ok(saved, "profile saved");
    assert.equal(saved.mapping.meter_serial, 5);
    assert.equal(await page.getByTestId("park-profile-select").inputValue(), "Facturation test");

    await page.getByTestId("park-import-start").click();
    await page.getByTestId("park-report").waitFor();
    assert.equal(await page.getByTestId("park-customers-added").innerText(), "2");
    assert.equal(await page.getByTestId("park-meters-added").innerText(), "2");
    assert.equal(await page.getByTestId("park-rejected-row").count(), 1);
    const rejected = await page.getByTestId("park-rejected-row").innerText();
    assert.match(rejected, /4/);
    assert.match(rejected, /Type/);
    assert.match(rejected, /toaster/);
    // Watching the database's own folder is refused, in words, with the field marked.
    const [exportsFolder] = await api("folders_allowed", {}, token);
    const dbFolder = path.dirname(exportsFolder);
    await page.getByTestId("park-profile-folder").fill(dbFolder);
    await page.getByTestId("park-profile-save").click();
    await page.getByTestId("park-error").filter({ hasText: "contient la base de données" }).waitFor();
    assert.equal(await page.getByTestId("park-error").innerText(),
      `Échec : Le dossier ${dbFolder} contient la base de données (c’est son dossier, un dossier parent ou le fichier lui-même) : choisissez un autre dossier.`);
    assert.equal(await page.getByTestId("park-profile-folder").getAttribute("aria-invalid"), "true");
    assert.equal((await api("park_profiles_list", {}, token)).find((p) => p.name === "Facturation test").folder, null);
    await page.getByTestId("park-profile-folder").fill("");
    await page.setViewportSize({ width: 1366, height: 1500 });
    await page.screenshot({ path: path.join(ARTIFACTS, "park-import.png"), fullPage: false });
    await page.setViewportSize({ width: 1366, height: 900 });

    // The new meter is in the meter list, with its customer.
    await page.getByTestId("nav-meters").click();
    await page.getByTestId("meter-search").fill("99000001");
    await page.locator('[data-testid="meter-row"][data-serial="99000001"]').waitFor();
    assert.equal(await page.getByTestId("meter-row").count(), 1);
    assert.match(await page.getByTestId("meter-row").innerText(), /Hélène Faure/);
    assert.deepEqual(errors.map(String), []);
  } finally {
    await ctx.close();
  }
});
