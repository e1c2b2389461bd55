// The only UI module that knows the transport: Tauri IPC or HTTP (`releve serve`).
// Every command of crates/api/COMMANDS.md goes through `call(name, args)`; files to import
// through `importFile(file)`.

const TOKEN_KEY = "releve.token";

export class ApiError extends Error {
  constructor(code, message, status, params) {
    super(message || code);
    this.name = "ApiError";
    this.code = code || "internal";
    this.status = status || 0;
    // The values the view words the error with (i18n.js `errorText`): the final and last
    // readings of a refused exchange, a refused billing export's values, ... `details` is the
    // same object under its former name.
    this.params = params && typeof params === "object" ? params : {};
    this.details = this.params;
  }
}

export function getToken() {
  return sessionStorage.getItem(TOKEN_KEY) || "";
}

export function setToken(token) {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

export function isTauri() {
  return typeof window !== "undefined" && !!window.__TAURI_INTERNALS__;
}

function toApiError(e, status) {
  if (e instanceof ApiError) return e;
  if (e && typeof e === "object") {
    const inner = e.error && typeof e.error === "object" ? e.error : e;
    if (inner.code || inner.message) return new ApiError(inner.code, inner.message, status, inner.params ?? inner.details);
  }
  if (typeof e === "string") {
    try { return toApiError(JSON.parse(e), status); } catch { /* plain text */ }
    return new ApiError("internal", e, status);
  }
  return new ApiError("internal", String(e), status);
}

function notifyUnauthorized(err) {
  if (err.code === "not_logged_in") {
    window.dispatchEvent(new CustomEvent("releve:unauthorized", { detail: err }));
  }
  if (err.code === "password_change_required") {
    window.dispatchEvent(new CustomEvent("releve:password-change-required", { detail: err }));
  }
}

function readText(file) {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(String(r.result));
    r.onerror = () => reject(r.error || new Error("read error"));
    r.readAsText(file);
  });
}

async function answerOf(res) {
  const text = await res.text();
  let body = null;
  if (text) {
    try { body = JSON.parse(text); } catch { body = null; }
  }
  if (!res.ok) {
    const err = body && body.error
      ? toApiError(body.error, res.status)
      : new ApiError(res.status === 401 ? "not_logged_in" : "http_" + res.status, text || res.statusText, res.status);
    notifyUnauthorized(err);
    throw err;
  }
  return body;
}

// A file for the `files` argument of `import_start`: over HTTP it is streamed ahead to
// `POST /api/upload` and named by its upload id (`{name, upload}`); the desktop window,
// which has no HTTP, sends its text (`{name, content}`).
export async function importFile(file) {
  if (isTauri()) return { name: file.name, content: await readText(file) };
  const token = getToken();
  let res;
  try {
    res = await fetch("/api/upload?name=" + encodeURIComponent(file.name), {
      method: "POST",
      headers: token
        ? { "Content-Type": "application/octet-stream", Authorization: "Bearer " + token }
        : { "Content-Type": "application/octet-stream" },
      body: file,
    });
  } catch (e) {
    throw new ApiError("network", e && e.message ? e.message : String(e));
  }
  const answer = await answerOf(res);
  return { name: file.name, upload: answer.upload };
}

export async function call(name, args = {}) {
  const token = getToken();
  if (isTauri()) {
    try {
      return await window.__TAURI_INTERNALS__.invoke("call", { name, args: args ?? {}, token: token || null });
    } catch (e) {
      const err = toApiError(e);
      notifyUnauthorized(err);
      throw err;
    }
  }
  let res;
  try {
    res = await fetch("/api/" + encodeURIComponent(name), {
      method: "POST",
      headers: token
        ? { "Content-Type": "application/json", Authorization: "Bearer " + token }
        : { "Content-Type": "application/json" },
      body: JSON.stringify(args ?? {}),
    });
  } catch (e) {
    throw new ApiError("network", e && e.message ? e.message : String(e));
  }
  return answerOf(res);
}

// A file the page made (exports, reports, keys), saved. In the desktop window the native save
// dialog asks where (proposing the folder of the last file saved), then the `releve:saved`
// event carries `{path}` for the notice offering to open the folder (saved-notice.js);
// resolves to `{path}`, or null when the clerk closed the dialog. In the browser it is an
// ordinary download (resolves to null).
export async function saveFile(filename, data, type = "application/octet-stream") {
  const blob = new Blob([data], { type });
  if (!isTauri()) {
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = filename;
    a.style.display = "none";
    document.body.appendChild(a);
    a.click();
    setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
    return null;
  }
  const bytes = new Uint8Array(await blob.arrayBuffer());
  let saved;
  try {
    saved = await window.__TAURI_INTERNALS__.invoke("save_file", bytes, { headers: { "x-file-name": encodeURIComponent(filename) } });
  } catch (e) {
    throw toApiError(e);
  }
  if (saved && saved.path) window.dispatchEvent(new CustomEvent("releve:saved", { detail: saved }));
  return saved || null;
}

// The desktop window: show the folder of the saved file `path` in the file manager.
export async function openFolder(path) {
  try {
    await window.__TAURI_INTERNALS__.invoke("open_folder", { path });
  } catch (e) {
    throw toApiError(e);
  }
}

// The meters given new readings, as they come: `callback({meters: [ids], all})` (`all`: read
// everything again, e.g. another program wrote, or the connection was lost for a while).
// Over HTTP a Server-Sent Events stream (`GET /api/events`, the token as a query parameter:
// EventSource sends no header), which the browser reopens by itself; in the desktop window
// the `changes` event. Returns the function that stops listening.
export function onChanges(callback) {
  let stopped = false;
  if (isTauri()) {
    const internals = window.__TAURI_INTERNALS__;
    const handler = internals.transformCallback((event) => { if (!stopped) callback(event.payload); });
    const listening = internals.invoke("plugin:event|listen", { event: "changes", target: { kind: "Any" }, handler })
      .catch(() => null);
    return () => {
      stopped = true;
      listening.then((id) => {
        if (id != null) internals.invoke("plugin:event|unlisten", { event: "changes", eventId: id }).catch(() => {});
      });
    };
  }
  const source = new EventSource("/api/events?token=" + encodeURIComponent(getToken()));
  let opened = false;
  source.addEventListener("ready", () => {
    // Reopened after a loss: what changed meanwhile is not known.
    if (opened && !stopped) callback({ meters: [], all: true });
    opened = true;
  });
  source.addEventListener("changes", (e) => {
    if (stopped) return;
    try { callback(JSON.parse(e.data)); } catch { /* not ours */ }
  });
  return () => { stopped = true; source.close(); };
}

// ---- Files: streamed exports and saving ----------------------------------------------------

// A streamed command's file (`export_readings`), in bounded memory on the server:
// `onProgress({rows, expected})` as rows arrive, `signal` (an AbortSignal) cancels it.
// Over HTTP the CSV comes as the response body (`Accept: text/csv`, the rows expected in
// `X-Releve-Expected-Rows`) and the browser downloads it; in the desktop window the clerk
// gets the JSON answer for now, saved where the save dialog says. Answers `{file_name, rows}`
// (null: the save dialog was closed); a cancel throws the ApiError
// `cancelled`.
export async function callFile(name, args = {}, { onProgress, signal } = {}) {
  const progress = typeof onProgress === "function" ? onProgress : () => {};
  if (isTauri()) {
    // The desktop window has no HTTP: the JSON answer, saved through the native save dialog
    // like any file (null when the clerk closed it).
    const r = await call(name, args);
    const bytes = r.content_base64 !== undefined ? Uint8Array.from(atob(r.content_base64), (c) => c.charCodeAt(0)) : r.content;
    const saved = await saveFile(r.filename, bytes, "text/csv");
    if (!saved) return null;
    progress({ rows: r.rows, expected: r.rows });
    return { file_name: r.filename, rows: r.rows };
  }
  const token = getToken();
  const headers = { "Content-Type": "application/json", Accept: "text/csv" };
  if (token) headers.Authorization = "Bearer " + token;
  const cancelled = () => new ApiError("cancelled", "cancelled", 0, {});
  let res;
  try {
    res = await fetch("/api/" + encodeURIComponent(name), { method: "POST", headers, body: JSON.stringify(args ?? {}), signal });
  } catch (e) {
    if (signal && signal.aborted) throw cancelled();
    throw new ApiError("network", e && e.message ? e.message : String(e));
  }
  if (!res.ok || !(res.headers.get("Content-Type") || "").startsWith("text/csv")) {
    await answerOf(res);
    throw new ApiError("internal", "not a file");
  }
  const expected = Number(res.headers.get("X-Releve-Expected-Rows")) || 0;
  const fileName = res.headers.get("X-Releve-File-Name") || name + ".csv";
  const reader = res.body.getReader();
  const chunks = [];
  let lines = 0;
  progress({ rows: 0, expected });
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      for (let i = value.indexOf(10); i !== -1; i = value.indexOf(10, i + 1)) lines++;
      progress({ rows: Math.max(0, lines - 1), expected });
    }
  } catch (e) {
    if (signal && signal.aborted) throw cancelled();
    throw new ApiError("network", e && e.message ? e.message : String(e));
  }
  const rows = Math.max(0, lines - 1);
  // The bytes as sent: UTF-8 (with or without BOM) or Windows-1252, as the clerk chose.
  const blob = new Blob(chunks, { type: res.headers.get("Content-Type") || "text/csv" });
  chunks.length = 0;
  await saveFile(fileName, blob, blob.type);
  return { file_name: fileName, rows };
}

