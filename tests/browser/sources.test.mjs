// Browser test of the sources screen (issue 10, HTTP push): a manager creates a source and
// reads its token once, a concentrator (this test, with fetch) pushes telegrams and an
// unreadable body, the table shows what came and the refusal in words (French, English),
// the source is removed and its token stops working; a clerk sees no form.
import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";

import { ARTIFACTS, baseUrl, login, newPage } from "./harness.mjs";

/** A plaintext Kamstrup water telegram of meter 6600000i, as hex. */
function telegram(i, litres) {
  const vol = Buffer.alloc(4);
  vol.writeUInt32LE(litres);
  const id = `0${i}000066`; // BCD, least significant byte first: meter 6600000i
  const body = `442d2c${id}1b077a${i.toString(16).padStart(2, "0")}0000000413${vol.toString("hex")}`;
  return (body.length / 2).toString(16).padStart(2, "0") + body;
}

async function push(name, token, body) {
  const r = await fetch(`${baseUrl}/ingest/${name}`, { method: "POST", headers: { Authorization: "Bearer " + token }, body });
  return { status: r.status, body: await r.json() };
}

test("manager: a source made on screen, pushed to, its status and refusals in words, removed", async () => {
  const { ctx, page, errors } = await newPage({ locale: "fr" });
  try {
    await login(page, "manager", "manager");
    await page.goto(page.url().replace(/#.*$/, "") + "#/sources");
    await page.getByTestId("src-form").waitFor();
    await page.getByTestId("src-name").fill("concentrateur-nord");
    await page.getByTestId("src-format").selectOption("lines");
    await page.getByTestId("src-submit").click();
    const tokenText = await page.getByTestId("src-token-text").innerText();
    const token = tokenText.match(/Bearer ([0-9a-f]{64})/)[1];
    assert.match(tokenText, /POST http:\/\/127\.0\.0\.1:\d+\/ingest\/concentrateur-nord/);
    const row = page.locator('[data-testid="src-row"][data-name="concentrateur-nord"]');
    await row.waitFor();
    assert.match(await row.innerText(), /jamais/, "nothing delivered yet");

    const lines = [1, 2, 3].map((i) => `T1;1;1;2026-11-1${i} 10:00:00.000;80;;;0x${telegram(i, 1000 * i)}`).join("\n");
    const ok = await push("concentrateur-nord", token, lines);
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(ok.body.stored, 3);
    const bad = await push("concentrateur-nord", token, "zz\n");
    assert.equal(bad.status, 400);
    assert.equal((await push("concentrateur-nord", "0".repeat(64), lines)).status, 401);

    await page.reload();
    await row.waitFor();
    const cells = (await row.locator("td").allInnerTexts()).map((c) => c.trim());
    assert.equal(cells[5], "3", `telegrams received: ${cells}`);
    assert.notEqual(cells[3], "jamais");
    assert.match(await row.getByTestId("src-error").innerText(), /^Envoi avec un mauvais jeton/, "the last refusal, in French");
    await page.screenshot({ path: path.join(ARTIFACTS, "sources-fr.png") });

    await push("concentrateur-nord", token, "zz\n");
    await page.getByTestId("lang-select").selectOption("en");
    await page.getByRole("heading", { name: "Reading sources" }).waitFor();
    await row.getByTestId("src-error").getByText(/^Unreadable lines: push refused, nothing stored/).waitFor();
    await page.screenshot({ path: path.join(ARTIFACTS, "sources-en.png") });
    // The source's log: every refusal, in words, with the unreadable line by number.
    await row.getByTestId("src-log-btn").click();
    const log = page.getByTestId("src-log");
    await log.waitFor();
    const logText = await log.innerText();
    assert.match(logText, /A push with a wrong token/);
    assert.match(logText, /Unreadable lines: push refused, nothing stored/);
    assert.match(logText, /line 1: /, "the unreadable line named");
    await log.screenshot({ path: path.join(ARTIFACTS, "sources-log-en.png") });
    await row.getByTestId("src-log-btn").click();

    await row.getByTestId("src-remove").click();
    await row.getByTestId("src-confirm-remove").click();
    await row.waitFor({ state: "detached" });
    assert.equal((await push("concentrateur-nord", token, lines)).status, 401, "its token stopped working");
    await page.getByTestId("lang-select").selectOption("fr");
    assert.deepEqual(errors.map(String), []);
  } finally {
    await ctx.close();
  }
});

test("clerk: the sources listed, no form, and the core refuses a new source", async () => {
  const { ctx, page } = await newPage({ locale: "fr" });
  try {
    await login(page, "clerk", "clerk");
    await page.goto(page.url().replace(/#.*$/, "") + "#/sources");
    await page.getByTestId("src-denied").waitFor();
    assert.equal(await page.getByTestId("src-form").count(), 0);
  } finally {
    await ctx.close();
  }
});

test("manager: a drop-folder source outside the allowed folders is refused in words", async () => {
  const { ctx, page } = await newPage({ locale: "fr" });
  try {
    await login(page, "manager", "manager");
    await page.goto(page.url().replace(/#.*$/, "") + "#/sources");
    await page.getByTestId("src-kind").selectOption("folder");
    await page.getByTestId("src-folder-field").waitFor();
    await page.getByTestId("src-name").fill("depot");
    await page.getByTestId("src-folder").fill("/");
    await page.getByTestId("src-submit").click();
    await page.getByTestId("src-msg").filter({ hasText: "dossier" }).waitFor();
    assert.match(await page.getByTestId("src-msg").innerText(), /Erreur : Le dossier \/ (n’est dans aucun dossier autorisé|contient la base de données)/);
  } finally {
    await ctx.close();
  }
});
