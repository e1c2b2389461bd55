// Shell + router on location.hash.
import { call, getToken, setToken } from "./api.js";
import {
  t, getLocale, setLocale, onLocaleChange, setTimezone, hasStoredLocale, roleLabel, LOCALES,
} from "./i18n.js";
import { icon } from "./icons.js";
import { esc } from "./dom.js";
import * as loginView from "./views/login.js";
import * as homeView from "./views/home.js";
import * as metersView from "./views/meters.js";
import * as meterView from "./views/meter.js";
import * as compareView from "./views/compare.js";
import * as importView from "./views/import.js";
import * as exportView from "./views/export.js";
import * as placeholderView from "./views/placeholder.js";
import * as keysView from "./views/keys.js";
import * as infocodesView from "./views/infocodes.js";
import * as groupsView from "./views/groups.js";
import * as mapView from "./views/map.js";
import * as reportsView from "./views/reports.js";
import * as notificationsView from "./views/notifications.js";
import * as jobsView from "./views/jobs.js";
import * as heardView from "./views/heard.js";
import * as sourcesView from "./views/sources.js";
import * as lorawanView from "./views/lorawan.js";
import * as liveView from "./views/live.js";
import * as gatewaysView from "./views/gateways.js";
import * as opticalView from "./views/optical.js";
import * as mbusView from "./views/mbus.js";
import * as c806View from "./views/c806.js";
import * as auditView from "./views/audit.js";
import * as retentionView from "./views/retention.js";
import * as letterheadView from "./views/letterhead.js";
import * as gdprRegisterView from "./views/gdpr-register.js";
import * as usersView from "./views/users.js";
import * as permissionsView from "./views/permissions.js";
import * as apiKeysView from "./views/api-keys.js";
import * as webhooksView from "./views/webhooks.js";
import { openPasswordDialog } from "./views/password-dialog.js";

const SESSION_KEY = "releve.session";

/** Sections of the navigation; `perm` is the permission needed to use them. */
export const SECTIONS = [
  { id: "meters", hash: "#/meters", icon: "meters", label: "nav.meters", desc: "nav.desc.meters", perm: "view" },
  { id: "groups", hash: "#/groups", icon: "groups", label: "nav.groups", desc: "nav.desc.groups", perm: "view" },
  { id: "map", hash: "#/map", icon: "map", label: "nav.map", desc: "nav.desc.map", perm: "view" },
  { id: "live", hash: "#/live", icon: "live", label: "nav.live", desc: "nav.desc.live", perm: "view" },
  { id: "infocodes", hash: "#/infocodes", icon: "infocodes", label: "nav.infocodes", desc: "nav.desc.infocodes", perm: "view" },
  { id: "reports", hash: "#/reports", icon: "reports", label: "nav.reports", desc: "nav.desc.reports", perm: "view" },
  { id: "import", hash: "#/import", icon: "import", label: "nav.import", desc: "nav.desc.import", perm: "import" },
  { id: "heard", hash: "#/heard", icon: "antenna", label: "nav.heard", desc: "nav.desc.heard", perm: "view" },
  { id: "sources", hash: "#/sources", icon: "upload", label: "nav.sources", desc: "nav.desc.sources", perm: "view" },
  { id: "lorawan", hash: "#/lorawan", icon: "antenna", label: "nav.lorawan", desc: "nav.desc.lorawan", perm: "view" },
  { id: "gateways", hash: "#/gateways", icon: "antenna", label: "nav.gateways", desc: "nav.desc.gateways", perm: "view" },
  { id: "optical", hash: "#/optical", icon: "electricity", label: "nav.optical", desc: "nav.desc.optical", perm: "import" },
  { id: "mbus", hash: "#/mbus", icon: "antenna", label: "nav.mbus", desc: "nav.desc.mbus", perm: "view" },
  { id: "c806", hash: "#/c806", icon: "antenna", label: "nav.c806", desc: "nav.desc.c806", perm: "view" },
  { id: "export", hash: "#/export", icon: "export", label: "nav.export", desc: "nav.desc.export", perm: "export" },
  { id: "jobs", hash: "#/jobs", icon: "clock", label: "nav.jobs", desc: "nav.desc.jobs", perm: "export" },
  { id: "keys", hash: "#/keys", icon: "settings", label: "nav.keys", desc: "nav.desc.keys", perm: "manage_keys" },
  { id: "settings", hash: "#/notifications", icon: "settings", label: "nav.settings", desc: "nav.desc.settings", perm: "settings" },
];

let session = loadSession();
let cleanup = null;
let appRoot = null;

function loadSession() {
  if (!getToken()) return null;
  try { return JSON.parse(sessionStorage.getItem(SESSION_KEY)); } catch { return null; }
}

function saveSession(s) {
  session = s;
  if (s) sessionStorage.setItem(SESSION_KEY, JSON.stringify(s));
  else sessionStorage.removeItem(SESSION_KEY);
  if (s && s.settings) setTimezone(s.settings.timezone);
}

export function can(perm) {
  return !!(session && Array.isArray(session.permissions) && session.permissions.includes(perm));
}

/** Called by the login view with the `login` result. */
export async function onLoggedIn(result) {
  setToken(result.token);
  const { token, ...rest } = result;
  saveSession(rest);
  const serverLocale = rest.settings && rest.settings.locale;
  if (hasStoredLocale()) {
    if (serverLocale !== getLocale()) call("settings_set_locale", { locale: getLocale() }).catch(() => {});
  } else if (serverLocale && LOCALES.includes(serverLocale)) {
    setLocale(serverLocale, { persist: false });
  }
  if (location.hash === "#/") route();
  else location.hash = "#/";
}

export async function logout() {
  try { await call("logout", {}); } catch { /* the session is dropped locally anyway */ }
  setToken("");
  saveSession(null);
  location.hash = "#/login";
}

export function changeLocale(loc) {
  setLocale(loc);
  if (session) call("settings_set_locale", { locale: loc }).catch(() => {});
}

function parseHash() {
  const raw = (location.hash || "#/").slice(1);
  const [path, query] = raw.split("?");
  const parts = path.split("/").filter(Boolean);
  return { parts, query: new URLSearchParams(query || "") };
}

function resolve(parts) {
  const [a, b] = parts;
  if (!a) return { view: homeView, section: "home" };
  if (a === "login") return { view: loginView, section: "login" };
  if (a === "meters" && b) return { view: meterView, section: "meters", params: { id: Number(b) } };
  if (a === "meters") return { view: metersView, section: "meters" };
  if (a === "compare") return { view: compareView, section: "meters" };
  if (a === "import") return { view: importView, section: "import" };
  if (a === "heard") return { view: heardView, section: "heard" };
  if (a === "sources") return { view: sourcesView, section: "sources" };
  if (a === "lorawan") return { view: lorawanView, section: "lorawan" };
  if (a === "live") return { view: liveView, section: "live" };
  if (a === "gateways") return { view: gatewaysView, section: "gateways" };
  if (a === "optical") return { view: opticalView, section: "optical" };
  if (a === "mbus") return { view: mbusView, section: "mbus" };
  if (a === "c806") return { view: c806View, section: "c806" };
  if (a === "export") return { view: exportView, section: "export", params: { tab: b } };
  if (a === "jobs") return { view: jobsView, section: "jobs" };
  if (a === "infocodes" || a === "info-codes") return { view: infocodesView, section: "infocodes" };
  if (a === "groups") return { view: groupsView, section: "groups" };
  if (a === "map") return { view: mapView, section: "map" };
  if (a === "keys") return { view: keysView, section: "keys" };
  if (a === "gdpr-register") return { view: gdprRegisterView, section: "settings" };
  if (a === "notifications" || a === "settings") return { view: notificationsView, section: "settings" };
  if (a === "audit") return { view: auditView, section: "settings" };
  if (a === "retention") return { view: retentionView, section: "settings" };
  if (a === "letterhead") return { view: letterheadView, section: "settings" };
  if (a === "users") return { view: usersView, section: "settings" };
  if (a === "permissions") return { view: permissionsView, section: "settings" };
  if (a === "api-keys") return { view: apiKeysView, section: "settings" };
  if (a === "webhooks") return { view: webhooksView, section: "settings" };
  if (a === "reports") return { view: reportsView, section: "reports", params: { tab: b } };
  const sec = SECTIONS.find((s) => s.hash === "#/" + a);
  if (sec) return { view: placeholderView, section: sec.id, params: { section: sec } };
  return { view: homeView, section: "home" };
}

function langSelect(testid) {
  return `<label class="lang-switch" title="${esc(t("lang.label"))}">${icon("globe")}
    <select data-testid="${testid}" aria-label="${esc(t("lang.label"))}">
      ${LOCALES.map((l) => `<option value="${l}" ${l === getLocale() ? "selected" : ""}>${esc(t("lang." + l))}</option>`).join("")}
    </select></label>`;
}
export { langSelect };

function navItem(sec, current) {
  // What the role may not do is not shown (the core refuses it anyway).
  if (!can(sec.perm)) return "";
  const cls = "nav-item" + (current === sec.id ? " active" : "");
  return `<a class="${cls}" href="${sec.hash}" data-testid="nav-${sec.id}" ${current === sec.id ? 'aria-current="page"' : ""}>${icon(sec.icon)}<span>${esc(t(sec.label))}</span></a>`;
}

function renderShell(current) {
  const user = session.user || {};
  appRoot.innerHTML = `
    <div class="shell">
      <aside class="sidebar"><div class="sidebar-inner">
        <a class="brand" href="#/" title="${esc(t("nav.home"))}">${icon("logo", "brand-logo")}<span>${esc(t("app.name"))}</span></a>
        <nav class="nav" aria-label="Navigation">
          <a class="nav-item ${current === "home" ? "active" : ""}" href="#/" data-testid="nav-home">${icon("home")}<span>${esc(t("nav.home"))}</span></a>
          ${SECTIONS.map((s) => navItem(s, current)).join("")}
        </nav>
      </div></aside>
      <div class="main">
        <header class="topbar">
          <div class="topbar-title">${esc(t("app.tagline"))}</div>
          <div class="topbar-right">
            ${langSelect("lang-select")}
            <div class="user-chip" data-testid="user-chip">${icon("user")}
              <div><div class="user-name">${esc(user.name || user.login || "")}</div>
              <div class="user-role">${esc(roleLabel(user.role))}</div></div>
            </div>
            <button class="btn btn-ghost" data-testid="password-change" id="password-btn" title="${esc(t("pw.menu"))}">${icon("edit")}<span>${esc(t("pw.menu"))}</span></button>
            <button class="btn btn-ghost" data-testid="logout" id="logout-btn">${icon("logout")}<span>${esc(t("header.logout"))}</span></button>
          </div>
        </header>
        <main class="view" id="view"></main>
      </div>
    </div>`;
  appRoot.querySelector("#logout-btn").addEventListener("click", logout);
  appRoot.querySelector("#password-btn").addEventListener("click", () => openPasswordDialog({ onDone: passwordChanged }));
  appRoot.querySelector('[data-testid="lang-select"]').addEventListener("change", (e) => changeLocale(e.target.value));
  return appRoot.querySelector("#view");
}

// A view's unsaved work: {question() -> text|null, discard()}; asked before leaving the view
// (another screen, the browser's back, closing the tab).
let leaveGuard = null;
let shownHash = null;
let restoring = false;

function route() {
  if (restoring) { restoring = false; return; }
  if (leaveGuard && shownHash !== null && location.hash !== shownHash) {
    const q = leaveGuard.question();
    if (q) {
      if (!confirm(q)) { restoring = true; location.hash = shownHash; return; }
      try { leaveGuard.discard(); } catch { /* ignore */ }
    }
  }
  leaveGuard = null;
  shownHash = location.hash;
  if (typeof cleanup === "function") { try { cleanup(); } catch { /* ignore */ } }
  cleanup = null;
  const { parts, query } = parseHash();
  let target = resolve(parts);
  if (!session && target.view !== loginView) {
    if (location.hash !== "#/login") { location.hash = "#/login"; return; }
    target = resolve(["login"]);
  }
  if (session && target.view === loginView) { location.hash = "#/"; return; }
  document.title = t("app.name");
  const ctx = {
    session, params: target.params || {}, query, can, sections: SECTIONS,
    navigate: (h) => { location.hash = h; },
    guardLeave: (g) => { leaveGuard = g; },
  };
  if (target.view === loginView) {
    appRoot.innerHTML = "";
    cleanup = loginView.render(appRoot, ctx);
    return;
  }
  const viewRoot = renderShell(target.section);
  cleanup = target.view.render(viewRoot, ctx);
  window.scrollTo(0, 0);
  if (session.must_change_password) forcePasswordChange();
}

/** A reset password: nothing else until it is changed (the server refuses every other command). */
function forcePasswordChange() {
  openPasswordDialog({ forced: true, onDone: passwordChanged, onLogout: logout });
}

async function passwordChanged() {
  try { saveSession(await call("session_info", {})); } catch { /* kept as it was */ }
  route();
}

async function start() {
  appRoot = document.getElementById("app");
  window.addEventListener("hashchange", route);
  window.addEventListener("beforeunload", (e) => {
    if (leaveGuard && leaveGuard.question()) { e.preventDefault(); e.returnValue = ""; }
  });
  onLocaleChange(() => route());
  window.addEventListener("releve:password-change-required", () => { if (session) forcePasswordChange(); });
  window.addEventListener("releve:unauthorized", () => {
    if (!session) return;
    setToken("");
    saveSession(null);
    sessionStorage.setItem("releve.expired", "1");
    location.hash = "#/login";
  });
  if (session) {
    setTimezone(session.settings && session.settings.timezone);
    try {
      const info = await call("session_info", {});
      saveSession(info);
    } catch (e) {
      if (e.code === "not_logged_in") { setToken(""); saveSession(null); }
    }
  }
  route();
}

start();
