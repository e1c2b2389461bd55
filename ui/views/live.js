// Live: the priority meters with their last 24 hours (5-minute values of the main register,
// the flow when the meter sends it) and their last value, read by `live` and read again,
// without reloading, for the meters that `onChanges` (server push) names.
import { call, onChanges } from "../api.js";
import { t, fmtInt, fmtNumber, fmtTs, fmtDateTime, deviceTypeLabel, registerLabel, unitLabel, errorText } from "../i18n.js";
import { icon, deviceIcon } from "../icons.js";
import { esc } from "../dom.js";
import { renderLiveChart } from "../live-chart.js";

// A full reading again this often, for what no signal names (a meter marked elsewhere while
// changes come by the thousand).
const FULL_EVERY_MS = 60_000;
// At most this many meter ids in one `live` call (the command's limit).
const MAX_IDS = 500;

export function render(root, ctx) {
  let alive = true;
  const cards = new Map(); // meter id -> {el, cleanups}
  let total = 0;
  let busy = false;
  let pending = null; // {all, ids: Set} waiting for the read under way
  root.innerHTML = `
    <div class="page-head"><div><h1>${icon("live")}<span>${esc(t("live.title"))}</span></h1>
      <p class="muted">${esc(t(ctx.can("view_intervals") ? "live.intro" : "pd.live.daily"))}</p></div>
      <div class="live-status" data-testid="live-status" aria-live="polite">${esc(t("common.loading"))}</div></div>
    <p class="toolbar-msg error-text" data-testid="live-msg" hidden></p>
    <div class="live-grid" data-testid="live-grid"></div>
    <p class="muted" data-testid="live-more" hidden></p>`;
  const grid = root.querySelector('[data-testid="live-grid"]');
  const status = root.querySelector('[data-testid="live-status"]');
  const msg = root.querySelector('[data-testid="live-msg"]');
  const more = root.querySelector('[data-testid="live-more"]');

  function lastText(s, now) {
    if (!s.last) return `<span class="muted">${esc(t("live.none"))}</span>`;
    const [ts, v] = s.last;
    const when = now - ts < 86400 ? fmtTs(ts, { hour: "2-digit", minute: "2-digit", second: "2-digit" }) : fmtDateTime(ts);
    return `<b data-testid="live-last" data-ts="${ts}">${esc(fmtNumber(v, 3))}</b> ${esc(unitLabel(s.unit))}
      <span class="muted" data-testid="live-last-at">${esc(t("live.at", { time: when }))}</span>`;
  }

  function cardHtml(m, live) {
    const who = [m.customer_name, m.address, [m.postal_code, m.city].filter(Boolean).join(" ")].filter(Boolean).join(" · ");
    return `<header class="live-head">
        <a href="#/meters/${m.id}" class="mono strong" data-testid="live-serial">${esc(m.serial)}</a>
        <span class="devtype">${deviceIcon(m.device_type)}<span>${esc(deviceTypeLabel(m.device_type))}</span></span>
        <span class="muted live-who">${esc(who)}</span>
      </header>
      ${m.series.map((s) => `<div class="live-series" data-register="${esc(s.register)}">
        <div class="live-value"><span class="live-reg">${esc(registerLabel(s.register))}</span> ${lastText(s, live.now)}</div>
        <div class="live-chart-box"></div>
        ${s.points.length ? "" : `<div class="live-nodata muted">${esc(t("live.noData24h"))}</div>`}
      </div>`).join("")}`;
  }

  function paintMeter(m, live) {
    let card = cards.get(m.id);
    if (!card) {
      const el = document.createElement("article");
      el.className = "card live-card";
      el.setAttribute("data-testid", "live-card");
      el.dataset.id = m.id;
      // In id order, as the command gives them.
      const after = [...cards.keys()].filter((id) => id < m.id).sort((a, b) => b - a)[0];
      if (after === undefined) grid.prepend(el); else cards.get(after).el.after(el);
      card = { el, cleanups: [] };
      cards.set(m.id, card);
    } else {
      card.el.classList.remove("live-fresh");
      void card.el.offsetWidth; // restart the highlight
      card.el.classList.add("live-fresh");
    }
    card.cleanups.forEach((c) => c());
    card.el.innerHTML = cardHtml(m, live);
    card.cleanups = m.series.map((s, i) => renderLiveChart(card.el.querySelectorAll(".live-chart-box")[i], s, live.from, live.now));
  }

  function drop(id) {
    const card = cards.get(id);
    if (!card) return;
    card.cleanups.forEach((c) => c());
    card.el.remove();
    cards.delete(id);
  }

  function paintFrame(live) {
    total = live.total;
    status.dataset.updatedAt = String(Date.now());
    status.textContent = t("live.updated", { time: fmtTs(Math.floor(Date.now() / 1000), { hour: "2-digit", minute: "2-digit", second: "2-digit" }) });
    if (!cards.size) {
      grid.innerHTML = `<div class="card" data-testid="live-empty"><p>${esc(t("live.empty"))}</p>
        <p><a href="#/meters">${icon("meters")} ${esc(t("live.toMeters"))}</a></p></div>`;
    } else {
      grid.querySelector('[data-testid="live-empty"]')?.remove();
    }
    more.hidden = cards.size >= total;
    more.textContent = t("live.more", { shown: fmtInt(cards.size), total: fmtInt(total) });
  }

  // Read everything (`all`) or the meters `ids` again; what comes meanwhile waits its turn.
  async function read(all, ids) {
    if (busy) {
      pending = pending || { all: false, ids: new Set() };
      pending.all = pending.all || all;
      (ids || []).forEach((id) => pending.ids.add(id));
      return;
    }
    busy = true;
    try {
      const live = await call("live", all ? {} : { ids });
      if (!alive) return;
      const got = new Set(live.meters.map((m) => m.id));
      // Meters no longer priority (marked off): gone from the screen.
      for (const id of all ? [...cards.keys()] : ids) if (!got.has(id)) drop(id);
      grid.querySelector('[data-testid="live-empty"]')?.remove();
      live.meters.forEach((m) => paintMeter(m, live));
      paintFrame(live);
      msg.hidden = true;
    } catch (e) {
      if (!alive) return;
      msg.textContent = t("common.error", { message: errorText(e) });
      msg.hidden = false;
    } finally {
      busy = false;
      if (alive && pending) {
        const next = pending;
        pending = null;
        const list = [...next.ids];
        read(next.all || list.length > MAX_IDS, next.all ? null : list);
      }
    }
  }

  const stop = onChanges((c) => {
    if (!alive) return;
    if (c.all) { read(true); return; }
    const named = c.meters || [];
    if (!named.length) return;
    // All the named meters when few (a meter just marked is among them), else those shown.
    const ids = named.length <= MAX_IDS ? named : named.filter((id) => cards.has(id));
    if (ids.length) read(false, ids);
  });
  const timer = setInterval(() => { if (alive) read(true); }, FULL_EVERY_MS);
  read(true);

  return () => {
    alive = false;
    stop();
    clearInterval(timer);
    for (const id of [...cards.keys()]) drop(id);
  };
}
