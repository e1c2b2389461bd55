// Browser test of the allowed folders (issue 9) on the Settings screen: the manager sees the
// demo's two folders, is refused the database's folder in words, allows and removes another;
// the section is worded in French and English (screenshots); a clerk neither sees it nor
// may change the list through the API.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { ARTIFACTS, api, login, newPage } from "./harness.mjs";

test("manager: allowed folders listed, the database's folder refused, one added and removed", async () => {
  const { ctx, page, errors } = await newPage();
  const extra = fs.mkdtempSync(path.join(os.tmpdir(), "releve-allowed-"));
  try {
    const token = await login(page, "manager", "manager");
    await page.goto(page.url().replace(/#.*$/, "") + "#/notifications");
    const section = page.getByTestId("af-form");
    await section.waitFor();
    await page.getByTestId("af-folder").first().waitFor();
    const demo = await api("folders_allowed", {}, token);
    assert.deepEqual(demo.map((f) => path.basename(f)), ["exports", "import"], "the demo's folders beside the database");
    assert.deepEqual(await page.getByTestId("af-folder").evaluateAll((els) => els.map((e) => e.dataset.folder)), demo);

    const dbFolder = path.dirname(demo[0]);
    await page.getByTestId("af-input").fill(dbFolder);
    await page.getByTestId("af-add").click();
    await page.getByTestId("af-msg").filter({ hasText: "base de données" }).waitFor();
    assert.equal(await page.getByTestId("af-msg").innerText(),
      `Erreur : Le dossier ${dbFolder} contient la base de données (c’est son dossier, un dossier parent ou le fichier lui-même) : choisissez un autre dossier.`);
    assert.deepEqual(await api("folders_allowed", {}, token), demo, "nothing saved");

    await page.getByTestId("af-input").fill(extra);
    await page.getByTestId("af-add").click();
    await page.locator(`[data-testid="af-folder"][data-folder="${extra}"]`).waitFor();
    assert.equal(await page.getByTestId("af-msg").innerText(), "Dossiers autorisés enregistrés.");
    assert.deepEqual(await api("folders_allowed", {}, token), [...demo, extra]);
    await section.screenshot({ path: path.join(ARTIFACTS, "allowed-folders-fr.png") });

    await page.getByTestId("lang-select").selectOption("en");
    await page.getByTestId("af-form").getByText("Allowed folders", { exact: true }).waitFor();
    await page.getByTestId("af-input").fill("exports");
    await page.getByTestId("af-add").click();
    await page.getByTestId("af-msg").filter({ hasText: "full path" }).waitFor();
    assert.equal(await page.getByTestId("af-msg").innerText(), "Error: “exports” is not a full path (it starts with a drive letter or /).");
    await page.getByTestId("af-form").screenshot({ path: path.join(ARTIFACTS, "allowed-folders-en.png") });

    await page.locator(`[data-testid="af-folder"][data-folder="${extra}"]`).getByTestId("af-remove").click();
    await page.locator(`[data-testid="af-folder"][data-folder="${extra}"]`).waitFor({ state: "detached" });
    assert.deepEqual(await api("folders_allowed", {}, token), demo);
    assert.deepEqual(errors.map(String), []);
  } finally {
    await ctx.close();
    fs.rmSync(extra, { recursive: true, force: true });
  }
});

test("clerk: no allowed-folders section, and the core refuses the change", async () => {
  const { ctx, page, errors } = await newPage();
  try {
    const token = await login(page, "clerk", "clerk");
    await page.goto(page.url().replace(/#.*$/, "") + "#/notifications");
    await page.getByTestId("af-section").waitFor({ state: "attached" });
    assert.equal(await page.getByTestId("af-form").count(), 0);
    await assert.rejects(api("folders_allowed_set", { folders: ["/"] }, token), /HTTP 403 .*forbidden/);
    // Reading the list is open to every user (the job and profile forms may show it).
    assert.equal((await api("folders_allowed", {}, token)).length, 2);
    assert.deepEqual(errors.map(String).filter((e) => !/forbidden|403/.test(e)), []);
  } finally {
    await ctx.close();
  }
});
