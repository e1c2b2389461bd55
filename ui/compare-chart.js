// Comparison chart (command `meters_compare`) drawn as inline SVG: one line or one bar of a
// group of bars per series, a left axis for the first unit and a right one for a second
// unit, exchange marks, a legend with totals and a hover tooltip.
import { t, fmtNumber, fmtTs, unitLabel } from "./i18n.js";
import { isCumulative } from "./registers.js";
import { esc } from "./dom.js";
import { niceScale, bucketLabel, periodText, svgEl, drawAtWidth, addHover, tipValue, partialPattern, partialUntil, partialLegend } from "./chart.js";

export const COLORS = ["#0f6cbd", "#d1242f", "#1a7f37", "#e07b00", "#8250df", "#bf3989", "#0b7285", "#6e3630"];
const SUM_COLOR = "#39424e";
const APPROX_SECONDS = { hour: 3600, day: 86400, month: 86400 * 31, year: 86400 * 366 };

/** Color of series `i` of a comparison. */
export function seriesColor(s, i) {
  return s.kind === "group_sum" ? SUM_COLOR : COLORS[i % COLORS.length];
}

export function seriesName(s) {
  return s.kind === "group_sum" ? t("compare.sum", { name: s.name, n: s.meters }) : s.name;
}

/** Draw `cmp` into `container` as "lines" or "bars". Returns a cleanup function. */
export function renderCompare(container, cmp, mode) {
  return drawAtWidth(container, (width) => drawInto(container, cmp, mode, width));
}

/** The axis a series is drawn on: its unit, or a group sum's own ("sum:" + unit). */
const axisKey = (s) => (s.kind === "group_sum" ? "sum:" + s.unit : s.unit);

function drawInto(container, cmp, mode, W) {
  const all = cmp.series.map((s, i) => ({ ...s, color: seriesColor(s, i) }));
  // A group's sum is tens of times a meter's: it gets an axis of its own, the outermost on
  // the right, so the meters keep theirs (at most two meter units, then the sum).
  const units = [];
  for (const s of all) if (s.kind !== "group_sum" && !units.includes(axisKey(s))) units.push(axisKey(s));
  units.splice(2);
  const sumSeries = all.find((s) => s.kind === "group_sum");
  if (sumSeries) units.push(axisKey(sumSeries));
  const drawn = all.filter((s) => units.includes(axisKey(s)));
  const skipped = all.filter((s) => !drawn.includes(s));
  const twoAxes = units.length > 1;
  const axisLabel = (axis) => {
    const key = units[axis] || "";
    return key.startsWith("sum:") ? t("compare.sumAxis", { name: sumSeries.name, unit: unitLabel(sumSeries.unit) }) : unitLabel(key);
  };
  const buckets = (all[0] && all[0].buckets) || [];
  const n = buckets.length;
  const res = cmp.resolution;
  const ends = buckets.map((b, i) => (i + 1 < n ? buckets[i + 1].start : b.start + APPROX_SECONDS[res]));
  const H = 340;
  const rightAxes = Math.max(0, units.length - 1);
  const margin = { left: 64, right: rightAxes ? 64 * rightAxes : 16, top: units.length > 2 ? 46 : 30, bottom: 40 };
  // The x of axis `axis`'s tick labels: left of the plot, or the right axes side by side.
  const axisX = (axis) => (axis === 0 ? margin.left - 8 : W - margin.right + 8 + (axis - 1) * 64);
  const plotW = W - margin.left - margin.right;
  const plotH = H - margin.top - margin.bottom;
  const slot = n ? plotW / n : plotW;
  const x0 = (i) => margin.left + i * slot;

  const scales = units.map((u) => {
    const vals = drawn.filter((s) => axisKey(s) === u).flatMap((s) => s.buckets.map((b) => b.value)).filter((v) => v !== null && v !== undefined);
    return niceScale(Math.min(0, ...vals), Math.max(0, ...vals), 5);
  });
  const yOf = (axis, v) => { const sc = scales[axis]; return margin.top + plotH - ((v - sc.lo) / (sc.hi - sc.lo)) * plotH; };

  container.innerHTML = "";
  container.classList.add("chart", "compare-chart");
  const svg = svgEl("svg", { width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: "img", class: "histogram compare-svg",
    "data-testid": "compare-chart", "data-series": drawn.length, "data-axes": scales.length, "data-mode": mode, "data-buckets": n });
  const defs = svgEl("defs");
  defs.appendChild(partialPattern());
  svg.appendChild(defs);

  // Grid and the axes' ticks: left for the first unit, right for the second.
  const grid = svgEl("g", { class: "grid" });
  scales.forEach((sc, axis) => {
    for (const tv of sc.ticks) {
      const yy = Math.round(yOf(axis, tv)) + 0.5;
      if (axis === 0) grid.appendChild(svgEl("line", { x1: margin.left, x2: W - margin.right, y1: yy, y2: yy, class: tv === 0 ? "zero" : "gridline" }));
      const x = axisX(axis);
      const sumTick = units[axis].startsWith("sum:") ? { fill: SUM_COLOR, style: `fill:${SUM_COLOR}` } : {};
      grid.appendChild(svgEl("text", { x, y: yy + 4, "text-anchor": axis === 0 ? "end" : "start", class: "tick", ...sumTick }, fmtNumber(tv, sc.decimals)));
    }
    const isSum = units[axis].startsWith("sum:");
    const x = axis === 0 ? margin.left - 8 : isSum ? W - 8 : axisX(axis);
    grid.appendChild(svgEl("text", { x, y: isSum && axis > 1 ? 14 : margin.top - 12, "text-anchor": axis === 0 ? "end" : isSum ? "end" : "start", class: "axis-unit", "data-testid": `compare-axis-${axis}`,
      "data-sum": isSum ? "1" : "0", ...(isSum ? { fill: SUM_COLOR } : {}) }, axisLabel(axis)));
  });
  svg.appendChild(grid);

  // Series.
  const k = drawn.length;
  const groupW = Math.min(slot * 0.84, 24 * k);
  const barW = Math.max(1, groupW / Math.max(1, k));
  drawn.forEach((s, si) => {
    const axis = units.indexOf(axisKey(s));
    const g = svgEl("g", { class: "series", "data-testid": "compare-series", "data-kind": s.kind, "data-id": s.id, "data-unit": s.unit, "data-axis": axis });
    if (mode === "bars") {
      const zero = yOf(axis, 0);
      s.buckets.forEach((b, i) => {
        if (b.value === null || b.value === undefined) return;
        const yy = yOf(axis, b.value);
        const x = x0(i) + (slot - groupW) / 2 + si * barW;
        const box = { x, y: Math.min(yy, zero), width: Math.max(1, barW - (barW > 4 ? 1 : 0)), height: Math.abs(zero - yy) };
        g.appendChild(svgEl("rect", { ...box, fill: s.color, style: `fill:${s.color}`, class: "bar" + (b.partial_until ? " partial" : ""), "data-value": b.value }));
        if (b.partial_until) g.appendChild(svgEl("rect", { ...box, fill: "url(#partial)", class: "partial-hatch", "data-testid": "partial-bar" }));
      });
    } else {
      // Whole buckets as the series' line; the step into a partial bucket dotted and faint.
      let d = "";
      let pen = false;
      let prev = null;
      s.buckets.forEach((b, i) => {
        if (b.value === null || b.value === undefined) { pen = false; prev = null; return; }
        const pt = `${(x0(i) + slot / 2).toFixed(1)},${yOf(axis, b.value).toFixed(1)}`;
        if (b.partial_until) {
          if (prev) g.appendChild(svgEl("path", { d: `M${prev}L${pt}`, class: "line partial-step", stroke: s.color, "stroke-dasharray": "2 4", "stroke-opacity": 0.6 }));
          pen = false;
          prev = null;
          return;
        }
        d += `${pen ? "L" : "M"}${pt}`;
        pen = true;
        prev = pt;
      });
      g.appendChild(svgEl("path", { d, class: "line", stroke: s.color, "stroke-dasharray": s.kind === "group_sum" ? "6 3" : "none" }));
      if (n <= 62) {
        s.buckets.forEach((b, i) => {
          if (b.value === null || b.value === undefined) return;
          g.appendChild(svgEl("circle", { cx: x0(i) + slot / 2, cy: yOf(axis, b.value), r: 2.5, fill: s.color }));
        });
      }
      // A partial bucket: a hollow ring, so its drop does not read as a real one.
      s.buckets.forEach((b, i) => {
        if (!b.partial_until || b.value === null || b.value === undefined) return;
        g.appendChild(svgEl("circle", { cx: x0(i) + slot / 2, cy: yOf(axis, b.value), r: 5, fill: "#fff", stroke: s.color, "stroke-width": 2, "stroke-dasharray": "2 2", class: "partial-point", "data-testid": "partial-bar" }));
      });
    }
    for (const ex of s.exchanges || []) {
      const i = buckets.findIndex((b, j) => b.start <= ex.at && ex.at < ends[j]);
      if (i < 0) continue;
      const xx = x0(i) + slot * Math.min(1, (ex.at - buckets[i].start) / Math.max(1, ends[i] - buckets[i].start));
      const mark = svgEl("line", { x1: xx, x2: xx, y1: margin.top, y2: margin.top + plotH, class: "exchange-line", stroke: s.color, "data-testid": "exchange-mark" });
      mark.appendChild(svgEl("title", {}, t("chart.exchange", { old: ex.old_serial, new: ex.new_serial })));
      g.appendChild(mark);
    }
    svg.appendChild(g);
  });

  // X axis.
  const baseY = margin.top + plotH;
  const xG = svgEl("g", { class: "x-axis" });
  xG.appendChild(svgEl("line", { x1: margin.left, x2: W - margin.right, y1: baseY + 0.5, y2: baseY + 0.5, class: "axis" }));
  const labelW = res === "hour" ? 48 : 58;
  const step = Math.max(1, Math.ceil(labelW / Math.max(1, slot)));
  for (let i = 0; i < n; i += step) {
    const xx = x0(i) + slot / 2;
    xG.appendChild(svgEl("line", { x1: xx, x2: xx, y1: baseY, y2: baseY + 4, class: "axis" }));
    xG.appendChild(svgEl("text", { x: xx, y: baseY + 18, "text-anchor": "middle", class: "tick" }, bucketLabel(buckets[i].start, res)));
  }
  svg.appendChild(xG);

  // Hover.
  addHover(container, svg, {
    W, margin, plotW, plotH, slot, n, behind: svg.firstChild.nextSibling,
    html: (i) => `<div class="tip-period">${esc(periodText(buckets[i].start, ends[i], res))}</div>` + drawn.map((s) => {
      const b = s.buckets[i];
      const val = tipValue(b && b.value, unitLabel(s.unit)) + (b && b.partial_until ? ` <span class="muted">(${esc(t("chart.partialUntil", { date: fmtTs(b.partial_until, { dateStyle: "short", timeStyle: "short" }) }))})</span>` : "");
      return `<div><i style="display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:6px;background:${s.color}"></i>${esc(seriesName(s))}: ${val}</div>`;
    }).join(""),
  });

  // Legend: name, register unit and total (index registers) or mean.
  const lg = document.createElement("div");
  lg.className = "chart-legend";
  lg.setAttribute("data-testid", "compare-legend");
  lg.innerHTML = drawn.map((s) => {
    const vals = s.buckets.map((b) => b.value).filter((v) => v !== null && v !== undefined);
    const index = isCumulative(s.register);
    const total = vals.length ? vals.reduce((a, b) => a + b, 0) / (index ? 1 : vals.length) : null;
    const axis = units.indexOf(axisKey(s));
    const side = twoAxes ? ` (${t(axis === 0 ? "compare.axis.left" : s.kind === "group_sum" ? "compare.axis.sum" : "compare.axis.right")})` : "";
    return `<span class="lg-item" data-testid="compare-legend-item" data-kind="${esc(s.kind)}"><i style="background:${s.color}"></i><b>${esc(seriesName(s))}</b>&nbsp;${total === null ? esc(t("common.none")) : `${esc(index ? "Σ" : "x̄")} ${esc(fmtNumber(total, 3))}`} ${esc(unitLabel(s.unit))}${esc(side)}</span>`;
  }).join("") + (skipped.length ? `<span class="lg-item muted">${esc(t("compare.otherUnits", { names: skipped.map(seriesName).join(", ") }))}</span>` : "")
    + (partialUntil(drawn.map((s) => s.buckets)) ? partialLegend(partialUntil(drawn.map((s) => s.buckets))) : "");
  container.appendChild(lg);
}
