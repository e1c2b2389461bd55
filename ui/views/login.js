import { call } from "../api.js";
import { t, errorText } from "../i18n.js";
import { icon } from "../icons.js";
import { esc } from "../dom.js";
import { onLoggedIn, langSelect, changeLocale } from "../app.js";

const DEMO = [
  { login: "manager", role: "role.manager" },
  { login: "superuser", role: "role.superuser" },
  { login: "clerk", role: "role.user" },
];

let remembered = { login: "", error: "" };

function errorMessage(e) {
  if (!e) return "";
  if (e.code === "network") return t("login.err.network");
  // Too many failures: "try again at 14:32" (the lock's end in the utility's time zone).
  if (e.code === "login_locked") return errorText(e);
  if (e.status === 401 || e.status === 403 || /credential|password|login|unauthor|forbidden|not_logged_in/i.test(e.code || "")) {
    return t("login.err.credentials");
  }
  return t("login.err.other", { message: errorText(e) });
}

export function render(root) {
  const expired = sessionStorage.getItem("releve.expired");
  if (expired) { sessionStorage.removeItem("releve.expired"); remembered.error = t("err.not_logged_in"); }
  root.innerHTML = `
    <div class="login-page">
      <div class="login-card card">
        <div class="login-head">
          <div class="login-brand">${icon("logo", "brand-logo")}<span>${esc(t("app.name"))}</span></div>
          ${langSelect("login-lang")}
        </div>
        <h1>${esc(t("login.title"))}</h1>
        <p class="muted">${esc(t("login.subtitle"))}</p>
        <form id="login-form" novalidate>
          <label class="field"><span>${esc(t("login.login"))}</span>
            <input name="login" data-testid="login-user" autocomplete="username" autocapitalize="off" spellcheck="false" value="${esc(remembered.login)}" required></label>
          <label class="field"><span>${esc(t("login.password"))}</span>
            <input name="password" data-testid="login-password" type="password" autocomplete="current-password" required></label>
          <div class="form-error" data-testid="login-error" role="alert" ${remembered.error ? "" : "hidden"}>${esc(remembered.error)}</div>
          <button class="btn btn-primary btn-block" type="submit" data-testid="login-submit">${esc(t("login.submit"))}</button>
        </form>
        <div class="demo-accounts">
          <div class="demo-title">${esc(t("login.demo"))}</div>
          <div class="demo-list">
            ${DEMO.map((d) => `<button type="button" class="demo-chip" data-login="${d.login}" title="${esc(t("login.demo.hint"))}"><b>${d.login}</b> / ${d.login} <span class="muted">· ${esc(t(d.role))}</span></button>`).join("")}
          </div>
        </div>
      </div>
    </div>`;
  const form = root.querySelector("#login-form");
  const errBox = root.querySelector('[data-testid="login-error"]');
  const submit = root.querySelector('[data-testid="login-submit"]');
  root.querySelector('[data-testid="login-lang"]').addEventListener("change", (e) => {
    remembered.login = form.login.value;
    changeLocale(e.target.value);
  });
  root.querySelectorAll(".demo-chip").forEach((b) => b.addEventListener("click", () => {
    form.login.value = b.dataset.login;
    form.password.value = b.dataset.login;
    form.password.focus();
  }));
  const showError = (msg) => { errBox.textContent = msg; errBox.hidden = !msg; remembered.error = msg; };
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const login = form.login.value.trim();
    const password = form.password.value;
    if (!login || !password) { showError(t("login.err.empty")); return; }
    showError("");
    submit.disabled = true;
    submit.textContent = t("login.busy");
    try {
      const res = await call("login", { login, password });
      remembered = { login: "", error: "" };
      await onLoggedIn(res);
    } catch (e) {
      remembered.login = login;
      showError(errorMessage(e));
      submit.disabled = false;
      submit.textContent = t("login.submit");
      form.password.select();
    }
  });
  (remembered.login ? form.password : form.login).focus();
}
