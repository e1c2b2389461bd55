// A meter's "Receptions" section (command meter_receptions): the gateways that heard it
// (last heard, receptions, best RSSI, last RSSI and SNR) and the daily mean RSSI of each
// over the last 30 days, so a radio fault (one gateway's signal falls) looks different
// from a meter fault (every gateway stops hearing it).
import { call } from "../api.js";
import { t, fmtInt, fmtNumber, fmtDateTime, errorText } from "../i18n.js";
import { icon } from "../icons.js";
import { esc } from "../dom.js";
import { renderRssiTrend } from "../rssi-chart.js";

export function receptionsHtml() {
  return `<section class="card chart-card" data-testid="receptions">
    <h2>${icon("antenna")}<span>${esc(t("rcp.title"))}</span></h2>
    <div data-testid="rcp-body"><p class="muted">${esc(t("common.loading"))}</p></div></section>`;
}

const dbm = (v) => (v === null || v === undefined ? "—" : `${fmtNumber(v, 1)} dBm`);

/** Fill the section of `root` for meter `id`; returns a cleanup function. */
export function wireReceptions(root, id) {
  let alive = true;
  let chart = null;
  const body = root.querySelector('[data-testid="rcp-body"]');
  call("meter_receptions", { id }).then((r) => {
    if (!alive) return;
    if (!r.gateways.length) {
      body.innerHTML = `<p class="muted" data-testid="rcp-none">${esc(t("rcp.none"))}</p>`;
      return;
    }
    body.innerHTML = `<div class="table-scroll"><table class="table compact" data-testid="rcp-table"><thead><tr>
        <th>${esc(t("rcp.col.gateway"))}</th><th>${esc(t("rcp.col.last"))}</th><th class="num">${esc(t("rcp.col.count"))}</th>
        <th class="num">${esc(t("rcp.col.best"))}</th><th class="num">${esc(t("rcp.col.lastRssi"))}</th><th class="num">${esc(t("rcp.col.snr"))}</th></tr></thead>
      <tbody>${r.gateways.map((g) => `<tr data-testid="rcp-row" data-gateway="${esc(g.name)}">
        <td><a href="#/gateways" class="mono">${esc(g.name)}</a>${g.label ? ` <span class="muted">${esc(g.label)}</span>` : ""}</td>
        <td class="nowrap">${esc(fmtDateTime(g.last_heard))}</td><td class="num">${esc(fmtInt(g.receptions))}</td>
        <td class="num">${esc(dbm(g.best_rssi))}</td><td class="num">${esc(dbm(g.last_rssi))}</td>
        <td class="num">${g.last_snr === null || g.last_snr === undefined ? "—" : esc(fmtNumber(g.last_snr, 1) + " dB")}</td></tr>`).join("")}</tbody>
      </table></div>
      <h3 class="rcp-chart-title">${esc(t("rcp.chart"))}</h3>
      ${r.trend.length ? `<div class="rcp-chart"></div>` : `<p class="muted" data-testid="rcp-no-trend">${esc(t("rcp.noTrend"))}</p>`}`;
    const box = body.querySelector(".rcp-chart");
    if (box) chart = renderRssiTrend(box, r);
  }).catch((e) => {
    if (alive) body.innerHTML = `<p class="error-text">${esc(t("common.error", { message: errorText(e) }))}</p>`;
  });
  return () => { alive = false; if (chart) chart(); };
}
