import { saveFile } from "./api.js";
// Small DOM and date helpers shared by the views.

export function esc(s) {
  return String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}

/** Create an element from an HTML string (first element). */
export function el(html) {
  const tpl = document.createElement("template");
  tpl.innerHTML = html.trim();
  return tpl.content.firstElementChild;
}

export function debounce(fn, ms) {
  let timer = null;
  const d = (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
  d.cancel = () => clearTimeout(timer);
  return d;
}

// --- YYYY-MM-DD arithmetic (calendar dates, no time zone involved) ---
export function parseIso(d) {
  const [y, m, day] = d.split("-").map(Number);
  return { y, m, d: day };
}
export function toIso(y, m, d) {
  const dt = new Date(Date.UTC(y, m - 1, d));
  return dt.toISOString().slice(0, 10);
}
export function addDays(iso, n) {
  const { y, m, d } = parseIso(iso);
  return toIso(y, m, d + n);
}
export function firstOfMonthsAgo(iso, n) {
  const { y, m } = parseIso(iso);
  return toIso(y, m - n, 1);
}
export function firstOfYearsAgo(iso, n) {
  const { y } = parseIso(iso);
  return toIso(y - n, 1, 1);
}
export function isIsoDate(s) {
  return /^\d{4}-\d{2}-\d{2}$/.test(s || "");
}

/** Offer `data` (a string or bytes) as a download named `filename`, the way the export views
 * do: the browser downloads it, the desktop window asks where in its save dialog (api.js
 * `saveFile`). Returns the saving's promise (null when the clerk closed the dialog); a failed
 * save is said by the notice (saved-notice.js). */
export function downloadFile(filename, data, type = "text/plain;charset=utf-8") {
  return saveFile(filename, data, type).catch((e) => {
    window.dispatchEvent(new CustomEvent("releve:save-failed", { detail: e }));
    return null;
  });
}

/** Bytes of a base64 string. */
export function base64Bytes(b64) {
  const bin = atob(b64 || "");
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}
