// Consumption histogram drawn as inline SVG: bars, axes, bucket labels,
// info-code bands/markers with a legend, hatched gaps for buckets without reading,
// and a hover tooltip. An electricity meter's export (A-) may be drawn with its import
// (A+): import bars up, export bars down from the same zero line, one legend.
import { t, fmtNumber, fmtTs, codeLabel, unitLabel, localHourOf } from "./i18n.js";
import { esc } from "./dom.js";

const NS = "http://www.w3.org/2000/svg";
const CODE_COLORS = {
  leak: "#e07b00", burst: "#d1242f", dry: "#9a6700", reverse: "#8250df",
  tamper: "#bf3989", low_battery: "#1a7f37", permanent_error: "#6e3630", temporary_error: "#57606a",
  silent: "#0e7490",
};
const EXTRA_COLORS = ["#0550ae", "#953800", "#116329", "#6639ba"];
const APPROX_SECONDS = { hour: 3600, day: 86400, month: 86400 * 31, year: 86400 * 366 };

function niceStep(range, count) {
  const raw = range / Math.max(1, count);
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const norm = raw / mag;
  const step = norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10;
  return step * mag;
}

export function niceScale(min, max, count = 5) {
  if (min === max) { max = min + (min === 0 ? 1 : Math.abs(min) * 0.5); }
  const step = niceStep(max - min, count);
  const lo = Math.floor(min / step) * step;
  const hi = Math.ceil(max / step) * step;
  const ticks = [];
  for (let v = lo; v <= hi + step / 2; v += step) ticks.push(Math.abs(v) < step / 1e6 ? 0 : v);
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  return { lo, hi, ticks, decimals: Math.min(decimals, 4) };
}

export function bucketLabel(ts, res) {
  switch (res) {
    case "hour": return fmtTs(ts, { hour: "2-digit", minute: "2-digit" });
    case "day": return fmtTs(ts, { day: "numeric", month: "short" });
    case "month": return fmtTs(ts, { month: "short", year: "2-digit" });
    default: return fmtTs(ts, { year: "numeric" });
  }
}

export function periodText(start, end, res) {
  switch (res) {
    case "hour":
      return `${fmtTs(start, { weekday: "short", day: "numeric", month: "short", year: "numeric" })}, ${fmtTs(start, { hour: "2-digit", minute: "2-digit" })}–${fmtTs(end, { hour: "2-digit", minute: "2-digit" })}`;
    case "day": return fmtTs(start, { weekday: "long", day: "numeric", month: "long", year: "numeric" });
    case "month": return fmtTs(start, { month: "long", year: "numeric" });
    default: return fmtTs(start, { year: "numeric" });
  }
}

export function svgEl(name, attrs, text) {
  const e = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

function localHour(ts) {
  return Number(localHourOf(ts));
}

/**
 * Draw `hist` (a Histogram of COMMANDS.md) into `container`. Returns a cleanup function.
 * `opts.exportHist`: the export (A-) histogram of the same buckets, drawn below zero.
 */
export function renderHistogram(container, hist, opts = {}) {
  return drawAtWidth(container, (width) => drawInto(container, hist, width, opts.exportHist || null, opts.manual || []));
}

/**
 * Call `draw(width)` now and again whenever the container's width changes (at least 360 px).
 * Returns a cleanup function.
 */
export function drawAtWidth(container, draw) {
  let lastWidth = 0;
  const redraw = () => {
    const width = Math.max(360, Math.floor(container.clientWidth || 800));
    if (width === lastWidth) return;
    lastWidth = width;
    draw(width);
  };
  redraw();
  let ro = null;
  if (typeof ResizeObserver !== "undefined") {
    ro = new ResizeObserver(() => redraw());
    ro.observe(container);
  }
  return () => { if (ro) ro.disconnect(); };
}

/**
 * The hover of a chart of `n` slots of `slot` px from `margin.left`: the slot under the
 * pointer highlighted behind the marks (before the node `behind`), and a tooltip of
 * `html(i)` beside it. Appends `svg` and the tooltip (its test id `testid`, if any) to
 * `container`.
 */
export function addHover(container, svg, { W, margin, plotW, plotH, slot, n, behind, testid, html }) {
  const hl = svgEl("rect", { x: 0, y: margin.top, width: slot, height: plotH, class: "hover-slot", visibility: "hidden" });
  svg.insertBefore(hl, behind);
  const overlay = svgEl("rect", { x: margin.left, y: margin.top, width: plotW, height: plotH, fill: "transparent", class: "overlay" });
  svg.appendChild(overlay);
  container.appendChild(svg);
  const tip = document.createElement("div");
  tip.className = "chart-tip";
  if (testid) tip.setAttribute("data-testid", testid);
  tip.hidden = true;
  container.appendChild(tip);
  const hide = () => { tip.hidden = true; hl.setAttribute("visibility", "hidden"); };
  overlay.addEventListener("mousemove", (ev) => {
    const rect = svg.getBoundingClientRect();
    const i = Math.floor(((ev.clientX - rect.left) * (W / rect.width) - margin.left) / slot);
    if (i < 0 || i >= n) { hide(); return; }
    const x = margin.left + i * slot;
    hl.setAttribute("x", x);
    hl.setAttribute("visibility", "visible");
    tip.innerHTML = html(i);
    tip.hidden = false;
    const bx = (x + slot / 2) * (rect.width / W);
    let left = bx + 12;
    if (left + tip.offsetWidth > container.clientWidth) left = bx - tip.offsetWidth - 12;
    tip.style.left = Math.max(0, left) + "px";
    tip.style.top = Math.max(0, (ev.clientY - rect.top) - tip.offsetHeight - 8) + "px";
  });
  overlay.addEventListener("mouseleave", hide);
}

/** The hatch drawn over a partial bucket (not over yet): `url(#partial)`. */
export function partialPattern() {
  const p = svgEl("pattern", { id: "partial", width: 6, height: 6, patternUnits: "userSpaceOnUse", patternTransform: "rotate(45)" });
  p.appendChild(svgEl("line", { x1: 0, y1: 0, x2: 0, y2: 6, stroke: "#ffffff", "stroke-width": 2.5, "stroke-opacity": 0.85 }));
  return p;
}

/** The latest `partial_until` of the buckets of some series, or null. */
export function partialUntil(bucketLists) {
  let last = null;
  for (const bs of bucketLists) for (const b of bs || []) if (b.partial_until && (last === null || b.partial_until > last)) last = b.partial_until;
  return last;
}

/** The legend item of partial buckets: "partial: up to <date>". */
export function partialLegend(until) {
  return `<span class="lg-item" data-testid="legend-partial"><i class="lg-partial"></i>${esc(t("chart.legend.partial", { date: fmtTs(until, { dateStyle: "medium", timeStyle: "short" }) }))}</span>`;
}

/** A value in a tooltip: bold with its unit, or "no reading". */
export function tipValue(v, unit) {
  return v === null || v === undefined ? `<span class="muted">${esc(t("chart.noReading"))}</span>` : `<b>${esc(fmtNumber(v, 3))}</b> ${esc(unit)}`;
}

function drawInto(container, hist, W, exp, manual = []) {
  const buckets = hist.buckets || [];
  const expVal = (i) => {
    const b = exp && exp.buckets ? exp.buckets[i] : null;
    return b && b.value !== null && b.value !== undefined ? b.value : null;
  };
  const res = hist.resolution;
  const unit = unitLabel(hist.unit);
  const n = buckets.length;
  const ends = buckets.map((b, i) => (i + 1 < n ? buckets[i + 1].start : b.start + APPROX_SECONDS[res]));

  // Info-code rows: one row per distinct code.
  const codes = [];
  for (const ic of hist.info_codes || []) if (!codes.includes(ic.code)) codes.push(ic.code);
  const color = (code) => CODE_COLORS[code] || EXTRA_COLORS[codes.indexOf(code) % EXTRA_COLORS.length];
  const bandH = 8;
  const bandsTop = 8;
  const margin = { left: 64, right: 16, top: bandsTop + codes.length * (bandH + 3) + (codes.length ? 10 : 18), bottom: 40 };
  const H = 300 + codes.length * (bandH + 3);
  const plotW = W - margin.left - margin.right;
  const plotH = H - margin.top - margin.bottom;
  const slot = n ? plotW / n : plotW;
  const barW = Math.max(1, Math.min(slot * (slot > 6 ? 0.72 : 0.86), 64));

  const values = buckets.map((b) => b.value).filter((v) => v !== null && v !== undefined);
  if (exp) buckets.forEach((_, i) => { const v = expVal(i); if (v !== null) values.push(-v); });
  const vmin = Math.min(0, ...values);
  const vmax = Math.max(0, ...values);
  const scale = niceScale(vmin, vmax, 5);
  const y = (v) => margin.top + plotH - ((v - scale.lo) / (scale.hi - scale.lo)) * plotH;
  const x0 = (i) => margin.left + i * slot;

  container.innerHTML = "";
  container.classList.add("chart");
  const svg = svgEl("svg", {
    width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: "img", "data-testid": "histogram",
    "data-buckets": n, "data-resolution": res, class: "histogram" + (exp ? " flows" : ""),
    "aria-label": `${t("chart.value")} (${unit})`,
  });
  const defs = svgEl("defs");
  const pat = svgEl("pattern", { id: "hatch", width: 6, height: 6, patternUnits: "userSpaceOnUse", patternTransform: "rotate(45)" });
  pat.appendChild(svgEl("rect", { width: 6, height: 6, fill: "#eceff2" }));
  pat.appendChild(svgEl("line", { x1: 0, y1: 0, x2: 0, y2: 6, stroke: "#aab3bd", "stroke-width": 2 }));
  defs.appendChild(pat);
  defs.appendChild(partialPattern());
  svg.appendChild(defs);

  // Grid + y ticks.
  const grid = svgEl("g", { class: "grid" });
  for (const tv of scale.ticks) {
    const yy = Math.round(y(tv)) + 0.5;
    grid.appendChild(svgEl("line", { x1: margin.left, x2: W - margin.right, y1: yy, y2: yy, class: tv === 0 ? "zero" : "gridline" }));
    // Export bars hang below zero: their ticks read as quantities, without a sign.
    grid.appendChild(svgEl("text", { x: margin.left - 8, y: yy + 4, "text-anchor": "end", class: "tick" }, fmtNumber(exp ? Math.abs(tv) : tv, scale.decimals)));
  }
  svg.appendChild(grid);
  svg.appendChild(svgEl("text", { x: margin.left - 8, y: margin.top - 14, "text-anchor": "end", class: "axis-unit" }, unit));

  // Info-code shading and bands.
  const activeCodes = buckets.map(() => []);
  const icLayer = svgEl("g", { class: "infocodes" });
  (hist.info_codes || []).forEach((ic) => {
    const end = ic.ended_at ?? Infinity;
    let first = -1, last = -1;
    for (let i = 0; i < n; i++) {
      if (buckets[i].start < end && ends[i] > ic.started_at) {
        if (first < 0) first = i;
        last = i;
        activeCodes[i].push(ic.code);
      }
    }
    if (first < 0) return;
    const row = codes.indexOf(ic.code);
    const c = color(ic.code);
    const bx = x0(first), bw = (last - first + 1) * slot;
    icLayer.appendChild(svgEl("rect", { x: bx, y: margin.top, width: bw, height: plotH, fill: c, opacity: 0.07, class: "ic-shade" }));
    const by = bandsTop + row * (bandH + 3);
    const band = svgEl("rect", { x: bx, y: by, width: Math.max(2, bw), height: bandH, rx: 2, fill: c, class: "ic-band", "data-code": ic.code });
    band.appendChild(svgEl("title", {}, codeLabel(ic.code)));
    icLayer.appendChild(band);
    if (ic.started_at >= buckets[0].start) {
      const tx = bx;
      const ty = margin.top - 2;
      icLayer.appendChild(svgEl("path", { d: `M${tx - 5},${ty - 7} L${tx + 5},${ty - 7} L${tx},${ty} Z`, fill: c, class: "ic-marker" }));
    }
  });
  svg.appendChild(icLayer);

  // Bars and gaps.
  const barsG = svgEl("g", { class: "bars" });
  const zeroY = y(0);
  buckets.forEach((b, i) => {
    const bx = x0(i) + (slot - barW) / 2;
    const ev = exp ? expVal(i) : null;
    if (ev !== null) {
      const ey = y(-ev);
      barsG.appendChild(svgEl("rect", { x: bx, y: Math.min(ey, zeroY), width: barW, height: Math.abs(ey - zeroY), rx: barW > 6 ? 2 : 0, class: "bar export", "data-flow": "export", "data-i": i, "data-value": ev }));
    }
    if (b.value === null || b.value === undefined) {
      if (ev !== null) return;
      // Gap marker: a hatched block standing on the baseline (no reading in this bucket).
      // With an export below the axis, the marker sits across the zero line instead.
      const gh = Math.min(plotH, 22);
      const gy = exp ? Math.min(margin.top + plotH - gh, Math.max(margin.top, zeroY - gh / 2)) : margin.top + plotH - gh;
      barsG.appendChild(svgEl("rect", { x: x0(i), y: gy, width: slot, height: gh, fill: "url(#hatch)", class: "gap", "data-i": i }));
      return;
    }
    const yy = y(b.value);
    const top = Math.min(yy, zeroY);
    const h = Math.abs(zeroY - yy);
    const partial = b.partial_until ? " partial" : "";
    barsG.appendChild(svgEl("rect", { x: bx, y: top, width: barW, height: h, rx: barW > 6 ? 2 : 0, class: "bar" + (b.value < 0 ? " negative" : "") + (exp ? " import" : "") + partial, ...(exp ? { "data-flow": "import" } : {}), "data-i": i, "data-value": b.value, ...(partial ? { "data-partial-until": b.partial_until } : {}) }));
    if (partial) barsG.appendChild(svgEl("rect", { x: bx, y: top, width: barW, height: h, fill: "url(#partial)", class: "partial-hatch", "data-testid": "partial-bar" }));
  });
  svg.appendChild(barsG);

  // Meter exchanges: a dashed line at the exchange time inside its bucket.
  const exG = svgEl("g", { class: "exchanges-layer" });
  (hist.exchanges || []).forEach((ex) => {
    const i = buckets.findIndex((b, k) => b.start <= ex.at && ex.at < ends[k]);
    if (i < 0) return;
    const xx = x0(i) + slot * Math.min(1, (ex.at - buckets[i].start) / Math.max(1, ends[i] - buckets[i].start));
    const g = svgEl("g", { class: "exchange-mark", "data-testid": "exchange-mark", "data-at": ex.at });
    g.appendChild(svgEl("line", { x1: xx, x2: xx, y1: margin.top - 6, y2: margin.top + plotH, class: "exchange-line" }));
    g.appendChild(svgEl("rect", { x: xx - 4, y: margin.top - 10, width: 8, height: 8, transform: `rotate(45 ${xx} ${margin.top - 6})`, class: "exchange-dot" }));
    g.appendChild(svgEl("title", {}, `${t("chart.exchange", { old: ex.old_serial, new: ex.new_serial })} — ${fmtTs(ex.at, { dateStyle: "medium", timeStyle: "short" })}`));
    exG.appendChild(g);
  });
  svg.appendChild(exG);

  // Readings entered or corrected by hand: a ring above their bucket's bar (`manual`:
  // [{ts, kind}] of the charted register).
  const manG = svgEl("g", { class: "manual-layer" });
  const manualIn = new Map();
  for (const mk of manual) {
    const i = buckets.findIndex((b, k) => b.start <= mk.ts && mk.ts < ends[k]);
    if (i >= 0 && !manualIn.has(i)) manualIn.set(i, mk);
  }
  manualIn.forEach((mk, i) => {
    const v = buckets[i].value;
    const yy = v === null || v === undefined ? margin.top + plotH - 30 : Math.min(y(v), zeroY) - 9;
    const cx = x0(i) + slot / 2;
    const g = svgEl("g", { class: "manual-mark " + mk.kind, "data-testid": "manual-mark", "data-kind": mk.kind, "data-ts": mk.ts });
    g.appendChild(svgEl("circle", { cx, cy: Math.max(margin.top + 5, yy), r: 5 }));
    g.appendChild(svgEl("title", {}, `${t(mk.kind === "correction" ? "chart.corrected" : "chart.manual")} — ${fmtTs(mk.ts, { dateStyle: "medium", timeStyle: "short" })}`));
    manG.appendChild(g);
  });
  svg.appendChild(manG);

  // X axis labels.
  const xG = svgEl("g", { class: "x-axis" });
  const baseY = margin.top + plotH;
  xG.appendChild(svgEl("line", { x1: margin.left, x2: W - margin.right, y1: baseY + 0.5, y2: baseY + 0.5, class: "axis" }));
  const labelW = res === "day" ? 52 : res === "month" ? 56 : res === "hour" ? 44 : 40;
  let idxs = [];
  if (res === "hour" && n > 36) {
    // Label days at local midnight; minor ticks every 6 hours.
    buckets.forEach((b, i) => { if (localHour(b.start) === 0) idxs.push(i); });
    const dayEvery = Math.max(1, Math.ceil(idxs.length / Math.max(1, Math.floor(plotW / 64))));
    idxs = idxs.filter((_, k) => k % dayEvery === 0);
    idxs.forEach((i) => {
      const xx = x0(i);
      xG.appendChild(svgEl("line", { x1: xx, x2: xx, y1: baseY, y2: baseY + 6, class: "axis" }));
      xG.appendChild(svgEl("text", { x: xx + 3, y: baseY + 18, "text-anchor": "start", class: "tick" }, fmtTs(buckets[i].start, { weekday: "short", day: "numeric", month: "short" })));
    });
  } else {
    const step = Math.max(1, Math.ceil(labelW / slot));
    for (let i = 0; i < n; i += step) idxs.push(i);
    idxs.forEach((i) => {
      const xx = x0(i) + slot / 2;
      xG.appendChild(svgEl("line", { x1: xx, x2: xx, y1: baseY, y2: baseY + 4, class: "axis" }));
      xG.appendChild(svgEl("text", { x: xx, y: baseY + 18, "text-anchor": "middle", class: "tick bucket-label" }, bucketLabel(buckets[i].start, res)));
    });
  }
  svg.appendChild(xG);

  // Hover.
  addHover(container, svg, {
    W, margin, plotW, plotH, slot, n, behind: barsG, testid: "chart-tooltip",
    html: (i) => {
      const b = buckets[i];
      let val = tipValue(b.value, unit);
      if (exp) {
        const ex = tipValue(expVal(i), unit);
        val = `<div><i class="tip-swatch import"></i>${esc(t("elec.import"))} ${val}</div><div><i class="tip-swatch export"></i>${esc(t("elec.export"))} ${ex}</div>`;
      }
      const ics = activeCodes[i].length
        ? `<div class="tip-codes">${activeCodes[i].map((c) => `<span><i style="background:${color(c)}"></i>${esc(codeLabel(c))}</span>`).join("")}</div>`
        : "";
      const part = b.partial_until ? `<div class="muted">${esc(t("chart.partialUntil", { date: fmtTs(b.partial_until, { dateStyle: "medium", timeStyle: "short" }) }))}</div>` : "";
      return `<div class="tip-period">${esc(periodText(b.start, ends[i], res))}</div><div>${val}</div>${part}${ics}`;
    },
  });

  // Legend.
  const hasGap = buckets.some((b) => b.value === null || b.value === undefined);
  const exs = hist.exchanges || [];
  const partialAt = partialUntil([buckets]);
  if (exp || codes.length || hasGap || exs.length || partialAt || manualIn.size) {
    const lg = document.createElement("div");
    lg.className = "chart-legend";
    lg.setAttribute("data-testid", "chart-legend");
    const flows = exp
      ? `<span class="lg-item" data-testid="legend-import"><i class="lg-import"></i>${esc(t("elec.import"))} (${esc(unit)})</span><span class="lg-item" data-testid="legend-export"><i class="lg-export"></i>${esc(t("elec.export"))} (${esc(unit)})</span>`
      : "";
    lg.innerHTML = flows + codes.map((c) => `<span class="lg-item"><i style="background:${color(c)}"></i>${esc(codeLabel(c))}</span>`).join("")
      + (hasGap ? `<span class="lg-item"><i class="lg-gap"></i>${esc(t("chart.legend.gap"))}</span>` : "")
      + (partialAt ? partialLegend(partialAt) : "")
      + (manualIn.size ? `<span class="lg-item" data-testid="legend-manual"><i class="lg-manual"></i>${esc(t("chart.legend.manual"))}</span>` : "")
      + exs.map((ex) => `<span class="lg-item" data-testid="legend-exchange"><i class="lg-exchange"></i>${esc(t("chart.exchange", { old: ex.old_serial, new: ex.new_serial }))} (${esc(fmtTs(ex.at, { dateStyle: "short", timeStyle: "short" }))})</span>`).join("");
    container.appendChild(lg);
  }
  // Hours asked of a meter read once a day: the days shown, and why.
  if (hist.asked && hist.asked !== res) {
    const note = document.createElement("div");
    note.className = "chart-note";
    note.setAttribute("data-testid", "hist-fit-note");
    const hours = Math.round((hist.reading_interval || 86400) / 3600);
    note.textContent = t("chart.fitNote", { hours: fmtNumber(hours, 0), asked: t("meter.res." + hist.asked).toLowerCase(), shown: t("meter.res." + res).toLowerCase() });
    container.insertBefore(note, container.firstChild);
  }
}
