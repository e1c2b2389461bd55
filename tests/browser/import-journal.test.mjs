// Browser test of issue 15's import journal and PMTiles base map, in French and English:
// files dropped onto the import screen (Playwright dispatching drag events with a real
// DataTransfer), a file the import cannot read refused in words naming it; the journal
// reached from the import screen, filtered (user, with rejected lines), its rejected lines
// downloaded as CSV (line, reason, the original line); and the map's base from a PMTiles v3
// file written here by a writer of the test's own (per the specification: 127-byte header,
// varint directory, Hilbert tile ids, gzip-compressed directories) from PNG tiles, served
// through `map_tile` without internet.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";

import { ARTIFACTS, api, baseUrl, login, newPage, drawnMapPixels } from "./harness.mjs";

/** A plaintext wireless M-Bus telegram: KAM water meter `serial`, volume in litres. */
function plainTelegram(serial, accessNumber, litres) {
  const id = serial.match(/../g).reverse().join("");
  const vol = Buffer.alloc(4);
  vol.writeUInt32LE(litres);
  const acc = accessNumber.toString(16).padStart(2, "0");
  const body = `442d2c${id}1b077a${acc}0000000413${vol.toString("hex")}`;
  return (body.length / 2).toString(16).padStart(2, "0") + body;
}

/** Drop `files` ({name, content, type}) onto the element `testid` as a user would. */
async function dropFiles(page, testid, files) {
  const dt = await page.evaluateHandle((files) => {
    const dt = new DataTransfer();
    for (const f of files) dt.items.add(new File([f.content], f.name, { type: f.type }));
    return dt;
  }, files);
  const target = `[data-testid="${testid}"]`;
  await page.dispatchEvent(target, "dragenter", { dataTransfer: dt });
  await page.dispatchEvent(target, "dragover", { dataTransfer: dt });
  await page.dispatchEvent(target, "drop", { dataTransfer: dt });
}

const WORDS = {
  fr: { refused: /« photo\.png » ne peut pas être importé/, empty: /« vide\.txt » est vide/, journal: "Journal des imports", downloaded: /téléchargé : 3 ligne\(s\) rejetée\(s\)/, screen: "écran d’import" },
  en: { refused: /“photo\.png” cannot be imported/, empty: /“vide\.txt” is empty/, journal: "Import journal", downloaded: /downloaded: 3 rejected line\(s\)/, screen: "import screen" },
};

for (const locale of ["fr", "en"]) {
  test(`import by drag and drop, then the journal and its rejected lines as CSV (${locale})`, async () => {
    const w = WORDS[locale];
    const { ctx, page, errors } = await newPage({ locale });
    try {
      await login(page, "superuser", "superuser");
      await page.goto(`${baseUrl}/#/import`);
      await page.getByTestId("import-drop-zone").waitFor();
      const serial = locale === "fr" ? "91827365" : "91827366";
      const future = `T1;1;1;2099-01-01 10:00:00.000;-60;;;0x${plainTelegram(serial, 3, 1800)}`;
      const a = [plainTelegram(serial, 1, 1500), "DEADBEEF", "0badc0ffee", plainTelegram(serial, 2, 1750)].join("\n") + "\n";
      const b = [future, plainTelegram(serial, 4, 1900)].join("\n") + "\n";
      const nameA = `tournee-${locale}-a.txt`, nameB = `tournee-${locale}-b.csv`;
      // Two readable files, a picture and an empty file dropped together.
      await dropFiles(page, "import-drop-zone", [
        { name: nameA, content: a, type: "text/plain" },
        { name: nameB, content: b, type: "" },
        { name: "photo.png", content: "\x89PNG....", type: "image/png" },
        { name: "vide.txt", content: "", type: "text/plain" },
      ]);
      await page.getByTestId("import-file-list").getByText(nameB).waitFor();
      assert.equal(await page.getByTestId("import-file-list").locator("li").count(), 2);
      const refused = await page.getByTestId("import-refused-item").allInnerTexts();
      assert.equal(refused.length, 2, refused.join(" | "));
      assert.match(refused[0], w.refused);
      assert.match(refused[1], w.empty);
      await page.getByTestId("import-drop-zone").screenshot({ path: path.join(ARTIFACTS, `import-journal-drop-${locale}.png`) });
      await page.screenshot({ path: path.join(ARTIFACTS, `import-journal-dropped-${locale}.png`), fullPage: true });
      // The same progress and report as chosen files.
      await page.getByTestId("import-start").click();
      await page.getByTestId("import-report").waitFor({ timeout: 30_000 });
      assert.equal(await page.getByTestId("import-progress").getAttribute("aria-valuenow"), "100");
      assert.equal(await page.getByTestId("import-file-row").count(), 2);

      // The journal, reached from the import screen.
      await page.getByTestId("import-journal-link").click();
      await page.getByRole("heading", { name: w.journal }).waitFor();
      await page.getByTestId("ij-row").first().waitFor();
      const rowA = page.locator(`[data-testid="ij-row"]`).filter({ hasText: nameA });
      const rowB = page.locator(`[data-testid="ij-row"]`).filter({ hasText: nameB });
      await rowA.waitFor();
      const cellsA = (await rowA.locator("td").allInnerTexts()).map((c) => c.trim());
      // started, ended, file, source, user, lines, values, duplicates, rejected, future
      assert.equal(cellsA[3], w.screen);
      assert.equal(cellsA[4], "superuser");
      // The two telegrams carry no reception time: both taken "now", the second value is a conflict.
      assert.deepEqual(cellsA.slice(5, 10), ["4", "1", "0", "2", "0"]);
      const cellsB = (await rowB.locator("td").allInnerTexts()).map((c) => c.trim());
      assert.deepEqual([cellsB[5], cellsB[8], cellsB[9]], ["2", "1", "1"], "the future-dated line is counted");
      // Filter: with rejected lines, by user.
      await page.getByTestId("ij-user").selectOption("superuser");
      await page.getByTestId("ij-with-rejects").check();
      await page.getByTestId("ij-apply").click();
      await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="ij-row"]')].every((r) => Number(r.dataset.rejected) > 0));
      await rowA.waitFor();
      await page.screenshot({ path: path.join(ARTIFACTS, `import-journal-${locale}.png`), fullPage: true });
      // The rejected lines of file A as CSV: line, reason, original line.
      const [download] = await Promise.all([page.waitForEvent("download"), rowA.getByTestId("ij-download").click()]);
      const csv = fs.readFileSync(await download.path(), "utf8").replace(/^\uFEFF/, "");
      const lines = csv.trim().split(/\r?\n/);
      // In the clerk's language: the titles, and each reason's words beside its code.
      assert.equal(lines[0], locale === "fr" ? "Ligne;Code;Motif;Détail;Ligne d’origine" : "Line;Code;Reason;Detail;Original line");
      assert.equal(lines.length, 3, csv);
      assert.match(lines[1], /^2;.*;DEADBEEF$/);
      assert.match(lines[2], /^3;.*;0badc0ffee$/);
      const [, code, words] = lines[1].split(";");
      const expected = await page.evaluate(async (c) => (await import("/i18n.js")).rejectLabel(c), code);
      assert.ok(expected, `words for ${code}`);
      assert.equal(words, expected, lines[1]);
      assert.match(download.suggestedFilename(), /^rejected-\d+-tournee-/);
      await page.getByTestId("ij-msg").filter({ hasText: locale === "fr" ? /téléchargé/ : /downloaded/ }).waitFor();
      // File B's rejected line keeps its whole original text.
      const [dl2] = await Promise.all([page.waitForEvent("download"), rowB.getByTestId("ij-download").click()]);
      const csvB = fs.readFileSync(await dl2.path(), "utf8").replace(/^\uFEFF/, "").trim().split(/\r?\n/);
      assert.equal(csvB.length, 2);
      const impossible = locale === "fr" ? "Heure de réception impossible" : "Impossible reception time";
      assert.ok(csvB[1].startsWith(`1;implausible_time;${impossible}`) && csvB[1].endsWith(`"${future}"`), csvB[1]);
      assert.deepEqual(errors.map(String), []);
    } finally {
      await ctx.close();
    }
  });
}

test("a clerk without the import permission neither sees nor reads the journal", async () => {
  const { ctx, page } = await newPage({ locale: "fr" });
  try {
    const token = await login(page, "clerk", "clerk");
    await assert.rejects(api("import_journal", {}, token), /HTTP 403/);
    await assert.rejects(api("import_rejects_csv", { import_id: 1 }, token), /HTTP 403/);
    await page.goto(`${baseUrl}/#/import/journal`);
    await page.getByTestId("ij-denied").waitFor();
  } finally {
    await ctx.close();
  }
});

// --- A PMTiles v3 writer of the test's own, from the specification -------------------------

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** A 256-px PNG of one colour with a darker grid edge. */
function png([r, g, b]) {
  const rows = [];
  for (let y = 0; y < 256; y++) {
    const row = Buffer.alloc(1 + 256 * 3);
    for (let x = 0; x < 256; x++) {
      const edge = x < 2 || y < 2;
      row.set(edge ? [120, 120, 140] : [r, g, b], 1 + x * 3);
    }
    rows.push(row);
  }
  const chunk = (type, data) => {
    const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, "ascii"), data]);
    const crc = Buffer.alloc(4); crc.writeUInt32BE(crc32(td));
    return Buffer.concat([len, td, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(256, 0); ihdr.writeUInt32BE(256, 4); ihdr.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk("IHDR", ihdr),
    chunk("IDAT", zlib.deflateSync(Buffer.concat(rows))), chunk("IEND", Buffer.alloc(0))]);
}

/** The tile id of z/x/y: tiles of lower zooms first, then the Hilbert-curve position. */
function tileId(z, x, y) {
  let acc = 0n;
  for (let i = 0; i < z; i++) acc += 4n ** BigInt(i);
  const n = 2 ** z;
  let d = 0n;
  for (let s = n / 2; s >= 1; s /= 2) {
    const rx = (x & s) > 0 ? 1 : 0, ry = (y & s) > 0 ? 1 : 0;
    d += BigInt(s) * BigInt(s) * BigInt((3 * rx) ^ ry);
    if (ry === 0) {
      if (rx === 1) { x = n - 1 - x; y = n - 1 - y; }
      [x, y] = [y, x];
    }
  }
  return acc + d;
}

function varint(v) {
  v = BigInt(v);
  const out = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    out.push(byte);
  } while (v > 0n);
  return out;
}

/** A PMTiles v3 file: PNG tiles, one root directory (gzip), identical neighbours as runs. */
function writePmtiles(file, tiles) {
  const sorted = tiles.map((t) => ({ id: tileId(t.z, t.x, t.y), data: t.data })).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const entries = [];
  const blobs = [];
  let size = 0;
  for (const t of sorted) {
    const last = entries.at(-1);
    if (last && last.id + BigInt(last.run) === t.id && last.data === t.data) { last.run += 1; continue; }
    entries.push({ id: t.id, offset: size, length: t.data.length, run: 1, data: t.data });
    blobs.push(t.data);
    size += t.data.length;
  }
  const dir = [...varint(entries.length)];
  let prev = 0n;
  for (const e of entries) { dir.push(...varint(e.id - prev)); prev = e.id; }
  for (const e of entries) dir.push(...varint(e.run));
  for (const e of entries) dir.push(...varint(e.length));
  entries.forEach((e, i) => dir.push(...varint(i > 0 && e.offset === entries[i - 1].offset + entries[i - 1].length ? 0 : e.offset + 1)));
  const root = zlib.gzipSync(Buffer.from(dir));
  const meta = zlib.gzipSync(Buffer.from(JSON.stringify({ name: "Test PMTiles" })));
  const data = Buffer.concat(blobs);
  const h = Buffer.alloc(127);
  h.write("PMTiles", 0, "ascii");
  h[7] = 3;
  const rootOff = 127n, metaOff = rootOff + BigInt(root.length), leafOff = metaOff + BigInt(meta.length), dataOff = leafOff;
  [rootOff, root.length, metaOff, meta.length, leafOff, 0, dataOff, data.length, tiles.length, entries.length, entries.length]
    .forEach((v, i) => h.writeBigUInt64LE(BigInt(v), 8 + i * 8));
  h[96] = 1; // clustered
  h[97] = 2; // internal compression: gzip
  h[98] = 1; // tile compression: none
  h[99] = 2; // tile type: png
  h[100] = Math.min(...tiles.map((t) => t.z)); h[101] = Math.max(...tiles.map((t) => t.z));
  fs.writeFileSync(file, Buffer.concat([h, root, meta, data]));
  return entries.length;
}

test("the map's base from a PMTiles file (offline), French and English", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "releve-pmtiles-"));
  try {
    const { ctx, page, errors } = await newPage({ locale: "fr" });
    try {
      const token = await login(page, "manager", "manager");
      const pts = await api("map_points", {}, token);
      const [s, w, n, e] = [Math.min(...pts.lat), Math.min(...pts.lon), Math.max(...pts.lat), Math.max(...pts.lon)];
      const tx = (lon, z) => Math.floor((lon + 180) / 360 * 2 ** z);
      const ty = (lat, z) => { const r = lat * Math.PI / 180; return Math.floor((1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2 * 2 ** z); };
      const colours = [png([236, 226, 200]), png([200, 226, 236])];
      const tiles = [];
      for (let z = 9; z <= 15; z++)
        for (let x = tx(w, z) - 1; x <= tx(e, z) + 1; x++)
          for (let y = ty(n, z) - 1; y <= ty(s, z) + 1; y++) tiles.push({ z, x, y, data: colours[(x + y) % 2] });
      const file = path.join(dir, "commune.pmtiles");
      const written = writePmtiles(file, tiles);
      assert.ok(written > 20, `entries: ${written}`);
      await api("folders_allowed_set", { folders: [dir] }, token);
      const saved = await api("map_set_settings", { tile_url: "", stale_days: 3, mbtiles_path: file, cache_mb: 50 }, token);
      assert.equal(saved.mbtiles_path, fs.realpathSync(file));
      // A tile straight from the file: the same bytes the writer put there.
      const t = tiles.find((t) => t.z === 12);
      const got = await api("map_tile", { z: t.z, x: t.x, y: t.y }, token);
      assert.equal(got.source, "pmtiles");
      assert.equal(got.content_type, "image/png");
      assert.ok(Buffer.from(got.data, "base64").equals(t.data));
      assert.equal(await api("map_tile", { z: 3, x: 0, y: 0 }, token), null, "a tile the file does not hold");
      // A broken file (cut short) is refused in words, never a crash.
      const cut = path.join(dir, "cut.pmtiles");
      fs.writeFileSync(cut, fs.readFileSync(file).subarray(0, 300));
      await assert.rejects(api("map_set_settings", { tile_url: "", stale_days: 3, mbtiles_path: cut, cache_mb: 50 }, token), /HTTP 400.*(broken|ends after)/);

      for (const locale of ["fr", "en"]) {
        const { ctx: lctx, page, errors } = await newPage({ locale });
        try {
          await login(page, "manager", "manager");
          await page.goto(`${baseUrl}/#/map`);
          await page.waitForFunction(() => Number(document.querySelector('[data-testid="map"]')?.dataset.points) > 0);
          await page.waitForFunction(() => document.querySelectorAll('.releve-base img[data-source="pmtiles"]').length >= 4, null, { timeout: 20_000 });
          assert.ok(await drawnMapPixels(page) > 0);
          assert.match(await page.getByTestId("map-base-note").textContent(), locale === "fr" ? /^Fond : fichier PMTiles/ : /^Background: the utility's PMTiles/);
          await page.waitForTimeout(500);
          await page.screenshot({ path: path.join(ARTIFACTS, `import-journal-pmtiles-map-${locale}.png`), fullPage: true });
          assert.deepEqual(errors.map(String), []);
        } finally {
          await lctx.close();
        }
      }
      await api("map_set_settings", { tile_url: "", stale_days: 3, mbtiles_path: "", cache_mb: 50 }, token);
      assert.deepEqual(errors.map(String), []);
    } finally {
      await ctx.close();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
