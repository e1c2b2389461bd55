// The live screen's small charts: one register of one meter over the last 24 hours (its
// 5-minute values) as an SVG line, with a few value ticks, the local hours every 6 hours and
// the last value marked. A break in the line where nothing came for more than 20 minutes.
import { fmtNumber, fmtTs, unitLabel, localHourOf } from "./i18n.js";
import { svgEl, niceScale, drawAtWidth } from "./chart.js";

const HEIGHT = 96;
const GAP = 20 * 60;

/** Draw `series` ({register, unit, points: [[ts, v]], last}) from `from` to `now` into `box`. Returns a cleanup. */
export function renderLiveChart(box, series, from, now) {
  return drawAtWidth(box, (width) => draw(box, series, from, now, width));
}

function draw(box, series, from, now, W) {
  const pts = series.points || [];
  const m = { left: 54, right: 10, top: 8, bottom: 18 };
  const plotW = W - m.left - m.right;
  const plotH = HEIGHT - m.top - m.bottom;
  const values = pts.map((p) => p[1]);
  let [lo, hi] = values.length ? [Math.min(...values), Math.max(...values)] : [0, 1];
  if (lo === hi) { lo -= 1; hi += 1; } // one value (or a flat line): a band around it
  const scale = niceScale(lo, hi, 3);
  const x = (ts) => m.left + ((ts - from) / Math.max(1, now - from)) * plotW;
  const y = (v) => m.top + plotH - ((v - scale.lo) / (scale.hi - scale.lo || 1)) * plotH;
  box.innerHTML = "";
  const svg = svgEl("svg", {
    width: W, height: HEIGHT, viewBox: `0 0 ${W} ${HEIGHT}`, class: "live-chart", role: "img",
    "data-testid": "live-chart", "data-register": series.register, "data-points": pts.length,
    "data-last-ts": pts.length ? pts[pts.length - 1][0] : "",
  });
  const grid = svgEl("g", { class: "grid" });
  for (const tv of scale.ticks) {
    const yy = Math.round(y(tv)) + 0.5;
    grid.appendChild(svgEl("line", { x1: m.left, x2: W - m.right, y1: yy, y2: yy, class: "gridline" }));
    grid.appendChild(svgEl("text", { x: m.left - 6, y: yy + 4, "text-anchor": "end", class: "tick" }, fmtNumber(tv, scale.decimals)));
  }
  svg.appendChild(grid);
  // Local hours 0, 6, 12, 18 along the bottom.
  const axis = svgEl("g", { class: "x-axis" });
  const baseY = m.top + plotH;
  axis.appendChild(svgEl("line", { x1: m.left, x2: W - m.right, y1: baseY + 0.5, y2: baseY + 0.5, class: "axis" }));
  for (let h = Math.ceil(from / 3600) * 3600; h <= now; h += 3600) {
    if (Number(localHourOf(h)) % 6 !== 0) continue;
    const xx = Math.round(x(h)) + 0.5;
    axis.appendChild(svgEl("line", { x1: xx, x2: xx, y1: baseY, y2: baseY + 4, class: "axis" }));
    axis.appendChild(svgEl("text", { x: xx, y: baseY + 15, "text-anchor": "middle", class: "tick" }, fmtTs(h, { hour: "2-digit", minute: "2-digit" })));
  }
  svg.appendChild(axis);
  if (pts.length) {
    let d = "";
    pts.forEach(([ts, v], i) => {
      const jump = i === 0 || ts - pts[i - 1][0] > GAP;
      d += `${jump ? "M" : "L"}${x(ts).toFixed(1)},${y(v).toFixed(1)}`;
    });
    svg.appendChild(svgEl("path", { d, class: "live-line" }));
    const [lts, lv] = pts[pts.length - 1];
    const dot = svgEl("circle", { cx: x(lts), cy: y(lv), r: 3.5, class: "live-dot" });
    dot.appendChild(svgEl("title", {}, `${fmtNumber(lv, 3)} ${unitLabel(series.unit)} — ${fmtTs(lts, { dateStyle: "short", timeStyle: "medium" })}`));
    svg.appendChild(dot);
  }
  box.appendChild(svg);
}
