// A meter's signal over the last 30 days as inline SVG: one line per gateway through its
// daily mean RSSI (a day without reception breaks the line), dBm axis, day labels, a legend
// and a tooltip per point. A radio fault shows as one gateway's line falling while the
// others hold; a meter fault as every line stopping at once.
import { t, fmtNumber, fmtInt, fmtTs, isoDateInTz } from "./i18n.js";
import { esc, addDays } from "./dom.js";
import { svgEl, niceScale, drawAtWidth } from "./chart.js";

export const GATEWAY_LINE_COLORS = ["#0f6cbd", "#c2410c", "#7c3aed", "#0e9384", "#b08800", "#db2777", "#475467"];

/** The local days from `from` to `to` (Unix seconds) as YYYY-MM-DD, in the utility's zone. */
function days(from, to) {
  const out = [];
  for (let d = isoDateInTz(from), end = isoDateInTz(to); d <= end && out.length < 400; d = addDays(d, 1)) out.push(d);
  return out;
}

/** Draw `rec` (a `meter_receptions` result) into `container`; returns a cleanup function. */
export function renderRssiTrend(container, rec) {
  return drawAtWidth(container, (width) => drawInto(container, rec, width));
}

function drawInto(container, rec, W) {
  const axis = days(rec.from, rec.to);
  const trend = rec.trend || [];
  const H = 240;
  const margin = { left: 56, right: 16, top: 26, bottom: 34 };
  const plotW = W - margin.left - margin.right;
  const plotH = H - margin.top - margin.bottom;
  const all = trend.flatMap((g) => g.days.map((d) => d.mean_rssi));
  const scale = niceScale(Math.min(...all, -100), Math.max(...all, -70), 5);
  const slot = plotW / Math.max(1, axis.length);
  const x = (i) => margin.left + slot * (i + 0.5);
  const y = (v) => margin.top + plotH - ((v - scale.lo) / (scale.hi - scale.lo)) * plotH;
  container.innerHTML = "";
  container.classList.add("chart");
  const svg = svgEl("svg", {
    width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: "img", class: "histogram rssi-chart",
    "data-testid": "rssi-chart", "data-lines": trend.length, "aria-label": t("rcp.chart"),
  });
  const grid = svgEl("g", { class: "grid" });
  for (const tv of scale.ticks) {
    const yy = Math.round(y(tv)) + 0.5;
    grid.appendChild(svgEl("line", { x1: margin.left, x2: W - margin.right, y1: yy, y2: yy, class: "gridline" }));
    grid.appendChild(svgEl("text", { x: margin.left - 8, y: yy + 4, "text-anchor": "end", class: "tick" }, fmtNumber(tv, scale.decimals)));
  }
  grid.appendChild(svgEl("text", { x: margin.left - 8, y: margin.top - 14, "text-anchor": "end", class: "axis-unit" }, "dBm"));
  const every = Math.max(1, Math.ceil(axis.length / Math.max(1, Math.floor(plotW / 56))));
  axis.forEach((d, i) => {
    if (i % every) return;
    const ts = Date.parse(d + "T12:00:00Z") / 1000;
    grid.appendChild(svgEl("text", { x: x(i), y: H - margin.bottom + 16, "text-anchor": "middle", class: "tick" }, fmtTs(ts, { day: "numeric", month: "short", timeZone: "UTC" })));
  });
  grid.appendChild(svgEl("line", { x1: margin.left, x2: W - margin.right, y1: margin.top + plotH + 0.5, y2: margin.top + plotH + 0.5, class: "axis" }));
  svg.appendChild(grid);
  trend.forEach((g, gi) => {
    const color = GATEWAY_LINE_COLORS[gi % GATEWAY_LINE_COLORS.length];
    const line = svgEl("g", { "data-testid": "rssi-line", "data-gateway": g.name });
    const byDay = new Map(g.days.map((d) => [d.day, d]));
    let run = [];
    const flush = () => {
      if (run.length > 1) line.appendChild(svgEl("polyline", { points: run.join(" "), fill: "none", stroke: color, "stroke-width": 2, "stroke-linejoin": "round" }));
      run = [];
    };
    axis.forEach((day, i) => {
      const d = byDay.get(day);
      if (!d) { flush(); return; }
      run.push(`${x(i).toFixed(1)},${y(d.mean_rssi).toFixed(1)}`);
      const dot = svgEl("circle", { cx: x(i), cy: y(d.mean_rssi), r: 3, fill: color, "data-testid": "rssi-point" });
      dot.appendChild(svgEl("title", {}, t("rcp.point", { gateway: g.name, day, rssi: fmtNumber(d.mean_rssi, 1), n: fmtInt(d.receptions) })));
      line.appendChild(dot);
    });
    flush();
    svg.appendChild(line);
  });
  container.appendChild(svg);
  const lg = document.createElement("div");
  lg.className = "chart-legend";
  lg.innerHTML = trend.map((g, gi) => `<span class="lg-item"><i style="background:${GATEWAY_LINE_COLORS[gi % GATEWAY_LINE_COLORS.length]}"></i>${esc(g.name)}</span>`).join("");
  container.appendChild(lg);
}
