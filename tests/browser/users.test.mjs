// Browser test of users administration (issue 12): the manager creates a user and resets a
// password on the Users screen; the user logs in and is made to change it before anything
// else; a login locked after failed attempts is worded on the login screen ("try again at
// 14:32") and unlocked by the manager; the permission matrix editor previews what changes
// before saving; a clerk sees no Users or Permissions screen. Screenshots in French and English.
import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { spawnSync } from "node:child_process";

import { ARTIFACTS, api, login, newPage, useDatabase } from "./harness.mjs";
import * as harness from "./harness.mjs";

useDatabase((bin, db) => spawnSync(bin, ["demo", "--db", db, "--meters", "20", "--seed", "3"], { encoding: "utf8", timeout: 600_000 }));

const url = (page, hash) => page.url().replace(/#.*$/, "") + hash;

test("manager creates a user and resets a password; the user must change it at login", async () => {
  const { ctx, page, errors } = await newPage({ locale: "fr" });
  try {
    const token = await login(page, "manager", "manager");
    await page.goto(url(page, "#/notifications"));
    await page.getByTestId("settings-link-users").click();
    await page.getByTestId("users-table").waitFor();
    await page.getByTestId("user-row-clerk").waitFor();
    // Create Sophie (superuser) with a temporary password.
    await page.getByTestId("user-new-login").fill("sophie");
    await page.getByTestId("user-new-name").fill("Sophie Martin");
    await page.getByTestId("user-new-role").selectOption("superuser");
    await page.getByTestId("user-new-password").fill("court");
    await page.getByTestId("user-create").click();
    await page.getByTestId("users-msg").filter({ hasText: "trop court : 10 caractères au moins" }).waitFor();
    await page.getByTestId("user-new-password").fill("bienvenue-2026");
    await page.getByTestId("user-create").click();
    await page.getByTestId("user-row-sophie").waitFor();
    await page.getByTestId("users-msg").filter({ hasText: "Utilisateur sophie créé" }).waitFor();
    // Reset the clerk's password (the prompt asks for the temporary one).
    page.once("dialog", (d) => d.accept("provisoire-2026"));
    await page.getByTestId("user-reset-clerk").click();
    await page.getByTestId("users-msg").filter({ hasText: "Mot de passe de clerk réinitialisé" }).waitFor();
    await page.getByTestId("user-row-clerk").getByText("mot de passe à changer").waitFor();
    // The last manager cannot step down: worded.
    await page.getByTestId("user-role-manager").selectOption("user");
    await page.getByTestId("users-msg").filter({ hasText: "dernier gestionnaire actif" }).waitFor();
    await page.screenshot({ path: path.join(ARTIFACTS, "users-fr.png"), fullPage: true });
    await page.getByTestId("lang-select").selectOption("en");
    await page.getByTestId("user-row-clerk").getByText("must change password").waitFor();
    await page.screenshot({ path: path.join(ARTIFACTS, "users-en.png"), fullPage: true });
    const rows = await api("users_list", {}, token);
    assert.equal(rows.find((u) => u.login === "sophie").role, "superuser");
    assert.equal(rows.find((u) => u.login === "clerk").must_change_password, true);
    assert.equal(rows.find((u) => u.login === "manager").role, "manager");
    assert.deepEqual(errors.map(String), []);
  } finally {
    await ctx.close();
  }

  // The clerk logs in with the temporary password: the dialog comes first, nothing else works.
  const clerk = await newPage({ locale: "fr" });
  try {
    const token = await login(clerk.page, "clerk", "provisoire-2026");
    const dialog = clerk.page.getByTestId("pw-dialog");
    await dialog.waitFor();
    await clerk.page.getByTestId("pw-forced").waitFor();
    assert.equal(await clerk.page.getByTestId("pw-cancel").count(), 0, "no way around a forced change");
    await assert.rejects(api("meters_list", {}, token), /HTTP 403 .*password_change_required/);
    await clerk.page.getByTestId("pw-old").fill("provisoire-2026");
    await clerk.page.getByTestId("pw-new").fill("clerk");
    await clerk.page.getByTestId("pw-confirm").fill("clerk");
    await clerk.page.getByTestId("pw-save").click();
    await clerk.page.getByTestId("pw-error").filter({ hasText: "trop court" }).waitFor();
    await dialog.screenshot({ path: path.join(ARTIFACTS, "password-forced-fr.png") });
    await clerk.page.getByTestId("pw-new").fill("mon-nouveau-mot-2026");
    await clerk.page.getByTestId("pw-confirm").fill("mon-nouveau-mot-2026");
    await clerk.page.getByTestId("pw-save").click();
    await dialog.waitFor({ state: "detached" });
    await clerk.page.getByTestId("home-stats").waitFor();
    assert.equal((await api("session_info", {}, token)).must_change_password, false);
    await api("meters_list", {}, token);
    // The clerk's menu offers "Change my password"; no Users screen for the clerk.
    await clerk.page.getByTestId("password-change").click();
    await clerk.page.getByTestId("pw-dialog").waitFor();
    await clerk.page.getByTestId("pw-cancel").click();
    await clerk.page.goto(url(clerk.page, "#/users"));
    await clerk.page.getByTestId("home-stats").waitFor();
    assert.equal(await clerk.page.getByTestId("users-table").count(), 0);
    await assert.rejects(api("users_list", {}, token), /HTTP 403 .*forbidden/);
    assert.deepEqual(clerk.errors.map(String), []);
  } finally {
    await clerk.ctx.close();
  }
});

test("a locked login is worded with its end; the manager unlocks it", async () => {
  for (let i = 0; i < 5; i++) {
    await assert.rejects(api("login", { login: "superuser", password: "guess-" + i }), /HTTP 401 .*wrong_password/);
  }
  const { ctx, page } = await newPage({ locale: "fr" });
  try {
    await page.goto(harness.baseUrl + "/");
    await page.getByTestId("login-user").fill("superuser");
    await page.getByTestId("login-password").fill("superuser");
    await page.getByTestId("login-submit").click();
    const err = page.getByTestId("login-error");
    await err.filter({ hasText: /Trop de tentatives : réessayez à \d{2}:\d{2}\./ }).waitFor();
    await page.locator(".login-card").screenshot({ path: path.join(ARTIFACTS, "login-locked-fr.png") });
    await page.getByTestId("login-lang").selectOption("en");
    await page.getByTestId("login-password").fill("superuser");
    await page.getByTestId("login-submit").click();
    await page.getByTestId("login-error").filter({ hasText: /Too many attempts: try again at \d{1,2}:\d{2}/ }).waitFor();
    await page.locator(".login-card").screenshot({ path: path.join(ARTIFACTS, "login-locked-en.png") });
  } finally {
    await ctx.close();
  }
  const manager = await newPage({ locale: "en" });
  try {
    await login(manager.page, "manager", "manager");
    await manager.page.goto(url(manager.page, "#/users"));
    await manager.page.getByTestId("lock-row-superuser").waitFor();
    await manager.page.getByTestId("user-row-superuser").getByTestId("user-locked").waitFor();
    await manager.page.screenshot({ path: path.join(ARTIFACTS, "users-locked-en.png"), fullPage: true });
    await manager.page.getByTestId("lock-unlock-superuser").click();
    await manager.page.getByTestId("users-msg").filter({ hasText: "superuser is unlocked." }).waitFor();
    await manager.page.getByTestId("lock-row-superuser").waitFor({ state: "detached" });
  } finally {
    await manager.ctx.close();
  }
  const again = await api("login", { login: "superuser", password: "superuser" });
  assert.ok(again.token);
});

test("the permission matrix editor previews what changes before saving", async () => {
  const { ctx, page, errors } = await newPage({ locale: "fr" });
  try {
    const token = await login(page, "manager", "manager");
    await page.goto(url(page, "#/permissions"));
    await page.getByTestId("perms-table").waitFor();
    await page.getByTestId("perm-user-import").waitFor();
    assert.equal(await page.getByTestId("perm-user-manage_users").isDisabled(), true, "not grantable");
    assert.equal(await page.getByTestId("perms-save").isDisabled(), true, "nothing to save yet");
    await page.getByTestId("perm-user-import").check();
    await page.getByTestId("perm-user-export").uncheck();
    const change = page.getByTestId("perms-change-user");
    await change.waitFor();
    await change.getByText("Importer des relevés").waitFor();
    await change.getByText("Commandes désormais permises").click();
    await change.getByText("import_start").waitFor();
    await change.getByText("Commandes désormais refusées").click();
    await change.getByText("export_readings").waitFor();
    assert.equal((await api("permissions_matrix", {}, token)).user.includes("import"), false, "a preview stores nothing");
    await page.screenshot({ path: path.join(ARTIFACTS, "permissions-fr.png"), fullPage: true });
    await page.getByTestId("lang-select").selectOption("en");
    await page.getByTestId("perm-user-import").check();
    await page.getByTestId("perm-user-export").uncheck();
    await page.getByTestId("perms-change-user").getByText("Import readings").waitFor();
    await page.getByTestId("perms-change-user").getByText("Commands now allowed").click();
    await page.screenshot({ path: path.join(ARTIFACTS, "permissions-en.png"), fullPage: true });
    await page.getByTestId("perms-save").click();
    await page.getByTestId("perms-msg").filter({ hasText: "Permissions saved" }).waitFor();
    const m = await api("permissions_matrix", {}, token);
    assert.deepEqual(m.user, ["view", "import"]);
    // Back as it was.
    await api("permissions_matrix_set", { user: ["view", "export"], superuser: m.superuser }, token);
    assert.deepEqual(errors.map(String), []);
  } finally {
    await ctx.close();
  }
});
