// An electricity meter's power curve as inline SVG: per bucket (hour or day) the mean of
// the power values read in it (solid line) and their maximum (dashed line), P+ in the
// accent colour and P- in green, in kW. Power is a value at an instant: the curve shows
// what was read, it is never differenced nor summed into a consumption.
import { t, fmtNumber, fmtTs, unitLabel, localHourOf } from "./i18n.js";
import { esc } from "./dom.js";
import { niceScale, bucketLabel, periodText, svgEl, drawAtWidth, addHover, tipValue } from "./chart.js";

const APPROX_SECONDS = { hour: 3600, day: 86400 };

/**
 * Draw power histograms (Histograms of COMMANDS.md with `kind` "instantaneous") into
 * `container`: `series` is [{ hist, flow: "import" | "export", label }], same buckets.
 * Returns a cleanup function.
 */
export function renderPowerCurve(container, series) {
  return drawAtWidth(container, (width) => drawInto(container, series, width));
}

function drawInto(container, series, W) {
  const first = series[0].hist;
  const buckets = first.buckets || [];
  const res = first.resolution;
  const unit = unitLabel(first.unit);
  const n = buckets.length;
  const ends = buckets.map((b, i) => (i + 1 < n ? buckets[i + 1].start : b.start + (APPROX_SECONDS[res] || 86400)));
  const margin = { left: 64, right: 16, top: 26, bottom: 40 };
  const H = 260;
  const plotW = W - margin.left - margin.right;
  const plotH = H - margin.top - margin.bottom;
  const slot = n ? plotW / n : plotW;
  const all = series.flatMap((s) => s.hist.buckets.flatMap((b) => [b.value, b.max])).filter((v) => v !== null && v !== undefined);
  const scale = niceScale(0, Math.max(0, ...all), 5);
  const y = (v) => margin.top + plotH - ((v - scale.lo) / (scale.hi - scale.lo)) * plotH;
  const xc = (i) => margin.left + i * slot + slot / 2;

  container.innerHTML = "";
  container.classList.add("chart");
  const svg = svgEl("svg", {
    width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: "img", "data-testid": "power-curve",
    "data-buckets": n, "data-resolution": res, class: "histogram power-chart",
    "aria-label": `${t("elec.power")} (${unit})`,
  });
  const grid = svgEl("g", { class: "grid" });
  for (const tv of scale.ticks) {
    const yy = Math.round(y(tv)) + 0.5;
    grid.appendChild(svgEl("line", { x1: margin.left, x2: W - margin.right, y1: yy, y2: yy, class: tv === 0 ? "zero" : "gridline" }));
    grid.appendChild(svgEl("text", { x: margin.left - 8, y: yy + 4, "text-anchor": "end", class: "tick" }, fmtNumber(tv, scale.decimals)));
  }
  svg.appendChild(grid);
  svg.appendChild(svgEl("text", { x: margin.left - 8, y: margin.top - 12, "text-anchor": "end", class: "axis-unit", "data-testid": "power-unit" }, unit));

  // One path per series and statistic; a gap (no reading) breaks the line, a lone value is a dot.
  const path = (s, key) => {
    let d = "";
    let open = false;
    const dots = [];
    s.hist.buckets.forEach((b, i) => {
      const v = b[key];
      if (v === null || v === undefined) { open = false; return; }
      const prev = i > 0 ? s.hist.buckets[i - 1][key] : null;
      const next = i + 1 < n ? s.hist.buckets[i + 1][key] : null;
      if ((prev === null || prev === undefined) && (next === null || next === undefined)) dots.push([xc(i), y(v)]);
      d += `${open ? "L" : "M"}${xc(i).toFixed(1)},${y(v).toFixed(1)}`;
      open = true;
    });
    return { d, dots };
  };
  series.forEach((s) => {
    const g = svgEl("g", { class: "power-series", "data-testid": "power-series", "data-flow": s.flow, "data-register": s.hist.register });
    const cls = s.flow === "export" ? " export" : "";
    for (const key of ["max", "value"]) {
      const { d, dots } = path(s, key);
      const klass = (key === "max" ? "p-max" : "p-mean") + cls;
      if (d) g.appendChild(svgEl("path", { d, class: klass, "data-stat": key === "max" ? "max" : "mean" }));
      dots.forEach(([cx, cy]) => g.appendChild(svgEl("circle", { cx, cy, r: 2.5, class: klass, "data-stat": key === "max" ? "max" : "mean" })));
    }
    svg.appendChild(g);
  });

  // X axis.
  const xG = svgEl("g", { class: "x-axis" });
  const baseY = margin.top + plotH;
  xG.appendChild(svgEl("line", { x1: margin.left, x2: W - margin.right, y1: baseY + 0.5, y2: baseY + 0.5, class: "axis" }));
  let idxs = [];
  if (res === "hour" && n > 36) {
    buckets.forEach((b, i) => { if (Number(localHourOf(b.start)) === 0) idxs.push(i); });
    const every = Math.max(1, Math.ceil(idxs.length / Math.max(1, Math.floor(plotW / 64))));
    idxs = idxs.filter((_, k) => k % every === 0);
    idxs.forEach((i) => {
      const xx = margin.left + i * slot;
      xG.appendChild(svgEl("line", { x1: xx, x2: xx, y1: baseY, y2: baseY + 6, class: "axis" }));
      xG.appendChild(svgEl("text", { x: xx + 3, y: baseY + 18, "text-anchor": "start", class: "tick" }, fmtTs(buckets[i].start, { weekday: "short", day: "numeric", month: "short" })));
    });
  } else {
    const step = Math.max(1, Math.ceil((res === "day" ? 52 : 44) / slot));
    for (let i = 0; i < n; i += step) {
      xG.appendChild(svgEl("line", { x1: xc(i), x2: xc(i), y1: baseY, y2: baseY + 4, class: "axis" }));
      xG.appendChild(svgEl("text", { x: xc(i), y: baseY + 18, "text-anchor": "middle", class: "tick bucket-label" }, bucketLabel(buckets[i].start, res)));
    }
  }
  svg.appendChild(xG);

  addHover(container, svg, {
    W, margin, plotW, plotH, slot, n, behind: svg.firstChild, testid: "power-tooltip",
    html: (i) => `<div class="tip-period">${esc(periodText(buckets[i].start, ends[i], res))}</div>`
      + series.map((s) => `<div><i class="tip-swatch ${s.flow}"></i>${esc(s.label)} — ${esc(t("elec.mean"))} ${tipValue(s.hist.buckets[i].value, unit)}, ${esc(t("elec.max"))} ${tipValue(s.hist.buckets[i].max, unit)}</div>`).join(""),
  });

  const lg = document.createElement("div");
  lg.className = "chart-legend";
  lg.setAttribute("data-testid", "power-legend");
  lg.innerHTML = series.map((s) => {
    const c = s.flow === "export" ? "lg-export" : "lg-import";
    return `<span class="lg-item" data-testid="power-legend-mean" data-flow="${s.flow}"><i class="lg-line ${c}"></i>${esc(s.label)} — ${esc(t("elec.mean"))} (${esc(unit)})</span>`
      + `<span class="lg-item" data-testid="power-legend-max" data-flow="${s.flow}"><i class="lg-line dashed ${c}" style="color:${s.flow === "export" ? "#2e9e5b" : "var(--accent)"}"></i>${esc(s.label)} — ${esc(t("elec.max"))} (${esc(unit)})</span>`;
  }).join("");
  container.appendChild(lg);
}
