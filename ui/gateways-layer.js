// The map's gateways layer: one Leaflet marker per placed gateway (a few hundred at most,
// so plain DOM markers), a silent one in the warning colour, a popup with its name, last
// contact and meters heard.
import { t, fmtInt, fmtDateTime } from "./i18n.js";
import { esc } from "./dom.js";

function popupHtml(g) {
  return `<div class="map-popup" data-testid="gw-popup" data-name="${esc(g.name)}">
    <div class="mono strong">${esc(g.name)}</div>${g.label ? `<div>${esc(g.label)}</div>` : ""}
    <dl class="kvs small">
      <div class="kv"><dt>${esc(t("gw.col.state"))}</dt><dd>${g.silent_since
        ? `<span class="warn-text">${esc(t("gw.silent"))}</span> · ${esc(t("gw.since", { at: fmtDateTime(g.silent_since) }))}`
        : esc(t("gw.ok"))}</dd></div>
      <div class="kv"><dt>${esc(t("gw.col.last"))}</dt><dd>${esc(fmtDateTime(g.last_contact))}</dd></div>
      <div class="kv"><dt>${esc(t("gw.col.heard"))}</dt><dd>${esc(fmtInt(g.meters_heard))}</dd></div>
      <div class="kv"><dt>${esc(t("gw.col.alone"))}</dt><dd>${esc(fmtInt(g.meters_alone))}</dd></div>
    </dl><a href="#/gateways">${esc(t("gw.open"))} →</a></div>`;
}

/** A layer group of the placed gateways of `list` (a `gateways` result). */
export function gatewaysLayer(L, list) {
  const group = L.layerGroup();
  for (const g of list.gateways) {
    if (g.lat === null || g.lat === undefined || g.lon === null || g.lon === undefined) continue;
    const icon = L.divIcon({
      className: "gw-marker" + (g.silent_since ? " gw-marker-silent" : ""),
      html: `<span data-testid="gw-marker" data-name="${esc(g.name)}" data-silent="${g.silent_since ? 1 : 0}" title="${esc(g.name)}"></span>`,
      iconSize: [20, 20],
      iconAnchor: [10, 10],
    });
    L.marker([g.lat, g.lon], { icon, title: g.name, zIndexOffset: 1000 }).bindPopup(popupHtml(g), { maxWidth: 340, minWidth: 260 }).addTo(group);
  }
  return group;
}
