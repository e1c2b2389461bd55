// Meter map (Leaflet 1.9.4, vendored): every meter from one `map_points` call, drawn by one
// canvas layer (fluid at 100,000 meters), coloured by status or manufacturer; popup per
// meter; a rectangle selects meters to make a group (e.g. a re-read route).
import { call } from "../api.js";
import { t, fmtInt, fmtDateTime, statusLabel, registerLabel, unitLabel, fmtNumber, codeLabel, errorText } from "../i18n.js";
import { icon } from "../icons.js";
import { esc } from "../dom.js";
import { loadLeaflet, pointsLayer, STATUS_COLORS, BRAND_COLORS } from "../mapcanvas.js";
import { gatewaysLayer } from "../gateways-layer.js";

const STATUSES = ["ok", "alarm", "stale"];
const state = { groupId: "", since: "", colorBy: "status", hidden: new Set(), hiddenBrands: new Set(), gateways: false };

/** The base map as a Leaflet grid layer whose tiles come from `map_tile` (the utility's
 * MBTiles file, or an address through the tile cache: works offline once fetched). */
export function baseLayer(L) {
  const Base = L.GridLayer.extend({
    createTile(coords, done) {
      const img = document.createElement("img");
      img.alt = "";
      img.setAttribute("role", "presentation");
      call("map_tile", { z: coords.z, x: coords.x, y: coords.y }).then((tile) => {
        if (!tile) { done(null, img); return; }
        img.onload = () => done(null, img);
        img.onerror = () => done(null, img);
        img.src = `data:${tile.content_type};base64,${tile.data}`;
        img.dataset.source = tile.source;
      }).catch((e) => done(e, img));
      return img;
    },
  });
  return new Base({ maxZoom: 19, className: "releve-base" });
}

function popupHtml(d, status) {
  const m = d.meter;
  const c = d.customer;
  const reg = d.registers && d.registers[0];
  const last = reg ? `${fmtNumber(reg.last_value)} ${esc(unitLabel(reg.unit))} · ${esc(registerLabel(reg.register, reg.label))}<div class="muted">${esc(fmtDateTime(reg.last_ts))}</div>` : esc(t("meters.never"));
  const codes = (d.info_codes || []).filter((e) => e.ended_at === null).map((e) => codeLabel(e.code));
  return `<div class="map-popup" data-testid="map-popup" data-id="${m.id}">
    <div class="mono strong">${esc(m.serial)} <span class="muted">${esc(m.manufacturer)}</span></div>
    <dl class="kvs small">
      <div class="kv"><dt>${esc(t("map.popup.customer"))}</dt><dd>${esc(c ? c.name : t("common.none"))}</dd></div>
      <div class="kv"><dt>${esc(t("map.popup.address"))}</dt><dd>${esc([m.address, m.postal_code, m.city].filter(Boolean).join(", "))}</dd></div>
      <div class="kv"><dt>${esc(t("map.popup.status"))}</dt><dd><i class="dot" style="background:${STATUS_COLORS[status]}"></i>${esc(statusLabel(m.status))}${codes.length ? " · " + esc(codes.join(", ")) : ""}</dd></div>
      <div class="kv"><dt>${esc(t("map.popup.last"))}</dt><dd>${last}</dd></div>
    </dl>
    <a href="#/meters/${m.id}" data-testid="map-popup-open">${esc(t("map.open"))} →</a></div>`;
}

export function render(root, ctx) {
  const t0 = performance.now();
  if (ctx.query.get("group")) state.groupId = ctx.query.get("group");
  if (ctx.query.get("gateways")) state.gateways = true;
  let alive = true;
  let map = null;
  let layer = null;
  let gwLayer = null;
  let data = null;
  let selectMode = false;
  let selection = [];
  let rect = null;
  let seq = 0;
  let settings = { tile_url: "", stale_days: 3 };
  root.innerHTML = `
    <div class="page-head"><h1>${icon("map")}<span>${esc(t("map.title"))}</span></h1>
      <span class="muted" data-testid="map-count"></span></div>
    <div class="toolbar card">
      <label class="inline-field"><span>${esc(t("map.group"))}</span>
        <select data-testid="map-group"><option value="">${esc(t("meters.group.all"))}</option></select></label>
      <label class="inline-field"><span>${esc(t("map.notHeardSince"))}</span>
        <input type="date" data-testid="map-since" value="${esc(state.since)}"></label>
      <span class="inline-field"><span>${esc(t("map.colorBy"))}</span>
        <span class="segmented"><button data-color="status" data-testid="color-status">${esc(t("map.colorBy.status"))}</button><button data-color="brand" data-testid="color-brand">${esc(t("map.colorBy.brand"))}</button></span></span>
      <label class="check map-layers"><input type="checkbox" data-testid="map-gateways" ${state.gateways ? "checked" : ""}><span>${esc(t("map.gateways"))}</span></label>
      <span class="muted small" data-testid="map-gateways-count"></span>
      <button class="btn" data-testid="map-select">${icon("select")}<span>${esc(t("map.select"))}</span></button>
    </div>
    <div class="map-wrap card">
      <div id="map" class="map" data-testid="map"></div>
    <div class="selection-bar map-selection" data-testid="map-selection" hidden>
      <b data-testid="map-selected-count"></b>
      ${ctx.can("edit_meters") ? `<input type="text" data-testid="map-group-name" placeholder="${esc(t("map.groupName"))}" maxlength="80">
      <button class="btn btn-primary" data-testid="map-make-group">${icon("plus")}<span>${esc(t("map.makeGroup"))}</span></button>` : ""}
      <button class="btn btn-ghost" data-testid="map-clear-selection">${esc(t("map.clearSelection"))}</button>
      <span class="toolbar-msg" data-testid="map-msg" aria-live="polite"></span>
    </div>
      <div class="map-legend" data-testid="map-legend"></div>
      <div class="map-status" data-testid="map-status">${esc(t("map.loading"))}</div>
    </div>
    ${ctx.can("settings") ? `<details class="card map-settings" data-testid="map-settings">
      <summary><b>${esc(t("map.settings"))}</b></summary>
      <div class="form-grid">
        <label class="field"><span>${esc(t("map.settings.url"))}</span><input type="text" data-testid="map-tile-url" placeholder="https://tile.openstreetmap.org/{z}/{x}/{y}.png"></label>
        <label class="field"><span>${esc(t("map.settings.mbtiles"))}</span><input type="text" data-testid="map-mbtiles" placeholder="/srv/sig/commune.mbtiles"></label>
        <label class="field"><span>${esc(t("map.settings.cacheMb"))}</span><input type="text" inputmode="numeric" data-testid="map-cache-mb"></label>
        <label class="field"><span>${esc(t("map.settings.stale"))}</span><input type="text" inputmode="numeric" data-testid="map-stale-days"></label>
      </div>
      <div class="muted small" data-testid="map-cache-info"></div>
      <div class="export-actions"><button class="btn btn-primary" data-testid="map-settings-save">${esc(t("map.settings.save"))}</button><span class="muted" data-testid="map-settings-msg"></span></div>
    </details>` : ""}`;
  const $ = (id) => root.querySelector(`[data-testid="${id}"]`);
  const mapEl = root.querySelector("#map");
  const statusEl = $("map-status");

  function legend() {
    if (!data) return;
    const counts = [0, 0, 0];
    for (const s of data.status) counts[s]++;
    const items = state.colorBy === "status"
      ? STATUSES.map((s, i) => `<label class="lg-row" data-testid="legend-${s}"><input type="checkbox" data-status="${i}" ${state.hidden.has(i) ? "" : "checked"}>
          <i class="dot" style="background:${STATUS_COLORS[i]}"></i><span>${esc(t("map.status." + s, { days: data.stale_days }))}</span><b data-testid="legend-count-${s}">${fmtInt(counts[i])}</b></label>`).join("")
      : brandRows();
    const base = settings.mbtiles_path ? t(/\.pmtiles$/i.test(settings.mbtiles_path) ? "map.base.pmtiles" : "map.base.mbtiles") : settings.tile_url ? t("map.base.url") : t("map.offline");
    $("map-legend").innerHTML = items + `<div class="muted small map-base-note" data-testid="map-base-note">${esc(base)}</div>`;
  }

  // Manufacturers: count of meters shown by the other filters, a toggle each (by name, so a
  // reload keeps what was hidden).
  function brandRows() {
    const counts = data.brands.map(() => 0);
    for (const b of data.brand) counts[b]++;
    const order = data.brands.map((_, i) => i).sort((a, b) => counts[b] - counts[a] || data.brands[a].localeCompare(data.brands[b]));
    return `<div class="lg-title small muted">${esc(t("map.legend.brands"))}</div>` + order.map((i) => {
      const name = data.brands[i];
      const off = state.hiddenBrands.has(name);
      return `<label class="lg-row${off ? " off" : ""}" data-testid="legend-brand" data-brand="${esc(name)}"><input type="checkbox" data-brand-name="${esc(name)}" ${off ? "" : "checked"}>
        <i class="dot" style="background:${BRAND_COLORS[i % BRAND_COLORS.length]}"></i><span>${esc(name || t("common.none"))}</span><b data-testid="legend-brand-count">${fmtInt(counts[i])}</b></label>`;
    }).join("");
  }

  function brandIndexes() {
    const out = new Set();
    if (data) data.brands.forEach((b, i) => { if (state.hiddenBrands.has(b)) out.add(i); });
    return out;
  }

  function restyle() {
    // Manufacturers are hidden while their legend is shown (colour by manufacturer) only.
    if (layer) layer.setStyle({ colorBy: state.colorBy, hidden: state.hidden, hiddenBrands: state.colorBy === "brand" ? brandIndexes() : new Set() });
  }

  function setColor(c) {
    state.colorBy = c;
    root.querySelectorAll("[data-color]").forEach((b) => b.classList.toggle("active", b.dataset.color === c));
    restyle();
    legend();
  }

  async function load(fit) {
    const my = ++seq;
    statusEl.hidden = false;
    statusEl.textContent = t("map.loading");
    const args = {};
    if (state.groupId) args.group_id = Number(state.groupId);
    if (state.since) args.not_heard_since = state.since;
    try {
      const res = await call("map_points", args);
      if (!alive || my !== seq) return;
      data = res;
      layer.setData(res);
      restyle();
      $("map-count").textContent = t("map.count", { count: fmtInt(res.count) });
      legend();
      clearSelection();
      statusEl.hidden = res.count > 0;
      statusEl.textContent = res.count ? "" : t("map.noPoints");
      if (fit && res.count) {
        const b = layer.bounds();
        if (b) map.fitBounds(b, { padding: [20, 20], maxZoom: 16, animate: false });
      }
      requestAnimationFrame(() => {
        if (!alive) return;
        mapEl.dataset.points = String(res.count);
        if (!mapEl.dataset.renderMs) mapEl.dataset.renderMs = String(Math.round(performance.now() - t0));
      });
    } catch (e) {
      if (alive && my === seq) statusEl.textContent = t("common.error", { message: errorText(e) });
    }
  }

  function clearSelection() {
    selection = [];
    if (rect) { rect.remove(); rect = null; }
    $("map-selection").hidden = true;
  }

  function showSelection(bounds) {
    selection = layer.idsWithin(bounds);
    $("map-selection").hidden = false;
    $("map-selected-count").textContent = t("map.selected", { count: fmtInt(selection.length) });
    $("map-selected-count").dataset.count = String(selection.length);
    $("map-msg").textContent = "";
    const name = $("map-group-name");
    if (name && !name.value) name.value = t("map.defaultGroupName", { date: new Date().toLocaleDateString() });
  }

  function setSelectMode(on) {
    selectMode = on;
    $("map-select").classList.toggle("active", on);
    $("map-select").title = on ? t("map.select.hint") : "";
    mapEl.classList.toggle("selecting", on);
    if (on) { map.closePopup(); map.dragging.disable(); map.boxZoom.disable(); } else { map.dragging.enable(); map.boxZoom.enable(); }
  }

  function wireSelection(L) {
    // DOM pointer events on the container (capture), so nothing on the map can swallow them.
    let start = null;
    const at = (e) => map.mouseEventToLatLng(e);
    mapEl.addEventListener("pointerdown", (e) => {
      if (!selectMode || e.button !== 0) return;
      e.stopPropagation();
      start = at(e);
      if (rect) rect.remove();
      rect = L.rectangle(L.latLngBounds(start, start), { color: "#0f6cbd", weight: 2, fillOpacity: 0.08, interactive: false }).addTo(map);
    }, true);
    mapEl.addEventListener("pointermove", (e) => { if (selectMode && start && rect) rect.setBounds(L.latLngBounds(start, at(e))); }, true);
    mapEl.addEventListener("pointerup", (e) => {
      if (!selectMode || !start) return;
      const b = L.latLngBounds(start, at(e));
      start = null;
      layer.suppressClickUntil = Date.now() + 400;
      setSelectMode(false);
      showSelection(b);
    }, true);
  }

  Promise.all([loadLeaflet(), call("map_settings", {}).catch(() => settings)]).then(([L, s]) => {
    if (!alive) return;
    settings = s;
    map = L.map(mapEl, { preferCanvas: true, zoomControl: true, attributionControl: false, minZoom: 3, maxZoom: 19 });
    map.setView([45.4775, 4.5153], 12);
    if (s.tile_url || s.mbtiles_path) baseLayer(L).addTo(map);
    L.control.scale({ imperial: false, maxWidth: 140, position: "bottomright" }).addTo(map);
    layer = pointsLayer(L, {
      colorBy: state.colorBy,
      hidden: state.hidden,
      onClick: async (i) => {
        const id = data.ids[i];
        const popup = L.popup({ maxWidth: 320 }).setLatLng([data.lat[i], data.lon[i]]).setContent(esc(t("common.loading"))).openOn(map);
        try { popup.setContent(popupHtml(await call("meter_get", { id }), data.status[i])); } catch (e) { popup.setContent(esc(errorText(e))); }
      },
    }).addTo(map);
    wireSelection(L);
    showGateways(L);
    mapEl.releve = { map, layer }; // for the browser tests: positions of points on screen
    setColor(state.colorBy);
    load(true);
    if ($("map-tile-url")) {
      $("map-tile-url").value = s.tile_url;
      $("map-stale-days").value = s.stale_days;
      $("map-mbtiles").value = s.mbtiles_path || "";
      $("map-cache-mb").value = s.cache_mb || 200;
      call("map_tile_cache", {}).then((c) => { if (alive) $("map-cache-info").textContent = t("map.settings.cacheInfo", { tiles: fmtInt(c.tiles), mb: fmtNumber(c.bytes / 1048576, 1) }); }).catch(() => {});
    }
  }).catch((e) => { statusEl.textContent = t("common.error", { message: errorText(e) }); });

  const loadGroups = () => call("groups_list", {}).then((gs) => {
    if (!alive) return;
    $("map-group").innerHTML = `<option value="">${esc(t("meters.group.all"))}</option>` +
      gs.map((g) => `<option value="${g.id}">${esc(g.name)} (${fmtInt(g.meter_count)})</option>`).join("");
    $("map-group").value = state.groupId;
  }).catch(() => {});
  loadGroups();

  $("map-group").addEventListener("change", (e) => { state.groupId = e.target.value; if (layer) load(true); });
  $("map-since").addEventListener("change", (e) => { state.since = e.target.value; if (layer) load(false); });
  root.querySelectorAll("[data-color]").forEach((b) => b.addEventListener("click", () => setColor(b.dataset.color)));
  $("map-select").addEventListener("click", () => { if (map) setSelectMode(!selectMode); });
  $("map-clear-selection").addEventListener("click", clearSelection);
  // The gateways layer: loaded when shown, markers on top of the meters.
  async function showGateways(L) {
    if (gwLayer) { gwLayer.remove(); gwLayer = null; }
    $("map-gateways-count").textContent = "";
    if (!state.gateways || !map) return;
    try {
      const list = await call("gateways", {});
      if (!alive || !state.gateways || gwLayer) return;
      gwLayer = gatewaysLayer(L, list).addTo(map);
      const placed = list.gateways.filter((g) => g.lat !== null && g.lat !== undefined).length;
      $("map-gateways-count").textContent = t("map.gatewaysCount", { placed: fmtInt(placed), count: fmtInt(list.gateways.length) });
    } catch (e) { $("map-gateways-count").textContent = t("common.error", { message: errorText(e) }); }
  }
  $("map-gateways").addEventListener("change", (e) => { state.gateways = e.target.checked; if (map) showGateways(window.L); });
  $("map-legend").addEventListener("change", (e) => {
    if (e.target.dataset.brandName !== undefined) {
      const name = e.target.dataset.brandName;
      if (e.target.checked) state.hiddenBrands.delete(name); else state.hiddenBrands.add(name);
      e.target.closest(".lg-row").classList.toggle("off", !e.target.checked);
    } else {
      const i = Number(e.target.dataset.status);
      if (e.target.checked) state.hidden.delete(i); else state.hidden.add(i);
    }
    restyle();
  });
  if ($("map-make-group")) {
    $("map-make-group").addEventListener("click", async () => {
      const name = $("map-group-name").value.trim();
      if (!name || !selection.length) return;
      try {
        const r = await call("group_create", { name, meter_ids: selection });
        $("map-msg").innerHTML = `<span data-testid="map-group-created" data-id="${r.id}">${esc(t("groups.created", { name: r.name, count: fmtInt(r.added) }))}</span> <a href="#/meters?group=${r.id}">${esc(t("groups.showMeters"))}</a>`;
        $("map-group-name").value = "";
        loadGroups();
      } catch (e) { $("map-msg").textContent = t("common.error", { message: errorText(e) }); }
    });
  }
  if ($("map-settings-save")) {
    $("map-settings-save").addEventListener("click", async () => {
      try {
        settings = await call("map_set_settings", { tile_url: $("map-tile-url").value.trim(), stale_days: Number($("map-stale-days").value) || 3,
          mbtiles_path: $("map-mbtiles").value.trim(), cache_mb: Number($("map-cache-mb").value) || 200 });
        $("map-settings-msg").textContent = t("map.settings.saved");
        ctx.navigate("#/map?reload=" + Date.now());
      } catch (e) { $("map-settings-msg").textContent = t("common.error", { message: errorText(e) }); }
    });
  }
  return () => { alive = false; if (map) map.remove(); };
}
