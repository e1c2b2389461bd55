// Leaflet loading and one canvas layer that draws every meter of `map_points` (parallel
// arrays): positions are projected once, each redraw is a loop of arcs batched by colour,
// so 100,000 meters pan and zoom smoothly (Leaflet's own canvas renderer keeps one object
// per marker and slows down well before that).

export const STATUS_COLORS = ["#1a7f37", "#d92d20", "#8a94a6"]; // ok, alarm, stale
export const BRAND_COLORS = ["#0f6cbd", "#c2410c", "#7c3aed", "#0e9384", "#b08800", "#db2777", "#475467"];
const DRAW_ORDER = [0, 2, 1]; // alarms on top

let leafletPromise = null;

/** Load the vendored Leaflet (a UMD script defining window.L) once. */
export function loadLeaflet() {
  if (window.L) return Promise.resolve(window.L);
  if (!leafletPromise) {
    leafletPromise = new Promise((resolve, reject) => {
      const css = document.createElement("link");
      css.rel = "stylesheet";
      css.href = "vendor/leaflet/leaflet.css";
      document.head.appendChild(css);
      const s = document.createElement("script");
      s.src = "vendor/leaflet/leaflet.js";
      s.onload = () => resolve(window.L);
      s.onerror = () => { leafletPromise = null; reject(new Error("cannot load vendor/leaflet/leaflet.js")); };
      document.head.appendChild(s);
    });
  }
  return leafletPromise;
}

function radiusAt(zoom) {
  return zoom <= 11 ? 2 : zoom <= 13 ? 3 : zoom <= 15 ? 4.5 : 6;
}

/** A Leaflet layer drawing the points; opts: {colorBy, hidden: Set of statuses, hiddenBrands: Set of brand indexes, onClick(i)}. */
export function pointsLayer(L, opts) {
  const Layer = L.Layer.extend({
    initialize(o) {
      this._o = o;
      this._data = null;
      this._px = new Float64Array(0);
      this._py = new Float64Array(0);
    },
    onAdd(map) {
      this._map = map;
      this._canvas = L.DomUtil.create("canvas", "leaflet-zoom-hide releve-points");
      map.getPane("overlayPane").appendChild(this._canvas);
      map.on("moveend resize", this._reset, this);
      map.on("click", this._click, this);
      map.on("mousemove", this._hover, this);
      this._reset();
    },
    onRemove(map) {
      map.off("moveend resize", this._reset, this);
      map.off("click", this._click, this);
      map.off("mousemove", this._hover, this);
      this._canvas.remove();
    },
    setData(d) {
      const n = d.count;
      this._data = d;
      this._px = new Float64Array(n);
      this._py = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const lat = Math.max(-85, Math.min(85, d.lat[i])) * Math.PI / 180;
        this._px[i] = (d.lon[i] + 180) / 360;
        this._py[i] = 0.5 - Math.log(Math.tan(Math.PI / 4 + lat / 2)) / (2 * Math.PI);
      }
      if (this._map) this._reset();
    },
    setStyle(o) {
      Object.assign(this._o, o);
      if (this._map) this._draw();
    },
    bounds() {
      const d = this._data;
      if (!d || !d.count) return null;
      let s = 90, n = -90, w = 180, e = -180;
      for (let i = 0; i < d.count; i++) {
        if (d.lat[i] < s) s = d.lat[i];
        if (d.lat[i] > n) n = d.lat[i];
        if (d.lon[i] < w) w = d.lon[i];
        if (d.lon[i] > e) e = d.lon[i];
      }
      return L.latLngBounds([s, w], [n, e]);
    },
    /** Ids of the shown meters inside `b` (LatLngBounds). */
    /** Whether point i is hidden: its status or (opts.hiddenBrands, indexes) its manufacturer. */
    _off(d, i) {
      return this._o.hidden.has(d.status[i]) || (this._o.hiddenBrands ? this._o.hiddenBrands.has(d.brand[i]) : false);
    },
    idsWithin(b) {
      const d = this._data;
      const out = [];
      if (!d) return out;
      const [s, n, w, e] = [b.getSouth(), b.getNorth(), b.getWest(), b.getEast()];
      for (let i = 0; i < d.count; i++) {
        if (this._off(d, i)) continue;
        if (d.lat[i] >= s && d.lat[i] <= n && d.lon[i] >= w && d.lon[i] <= e) out.push(d.ids[i]);
      }
      return out;
    },
    _reset() {
      const map = this._map;
      const size = map.getSize();
      const dpr = window.devicePixelRatio || 1;
      const c = this._canvas;
      c.width = Math.round(size.x * dpr);
      c.height = Math.round(size.y * dpr);
      c.style.width = size.x + "px";
      c.style.height = size.y + "px";
      this._tl = map.containerPointToLayerPoint([0, 0]);
      L.DomUtil.setPosition(c, this._tl);
      this._draw();
    },
    _frame() {
      const map = this._map;
      const scale = 256 * Math.pow(2, map.getZoom());
      const origin = map.getPixelOrigin();
      return { scale, ox: origin.x, oy: origin.y };
    },
    _draw() {
      const d = this._data;
      const c = this._canvas;
      const ctx = c.getContext("2d");
      const dpr = window.devicePixelRatio || 1;
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx.clearRect(0, 0, c.width, c.height);
      if (!d || !d.count) return;
      const { scale, ox, oy } = this._frame();
      const offX = ox + this._tl.x;
      const offY = oy + this._tl.y;
      const w = c.width / dpr;
      const h = c.height / dpr;
      const r = radiusAt(this._map.getZoom());
      const byBrand = this._o.colorBy === "brand";
      const colors = byBrand ? BRAND_COLORS : STATUS_COLORS;
      const paths = colors.map(() => new Path2D());
      const hidden = this._o.hidden;
      for (let i = 0; i < d.count; i++) {
        if (this._off(d, i)) continue;
        const x = this._px[i] * scale - offX;
        const y = this._py[i] * scale - offY;
        if (x < -r || y < -r || x > w + r || y > h + r) continue;
        const p = paths[byBrand ? d.brand[i] % colors.length : d.status[i]];
        p.moveTo(x + r, y);
        p.arc(x, y, r, 0, 2 * Math.PI);
      }
      const order = byBrand ? colors.map((_, i) => i) : DRAW_ORDER;
      ctx.lineWidth = 1;
      ctx.strokeStyle = "rgba(255,255,255,.9)";
      for (const k of order) {
        ctx.fillStyle = colors[k];
        ctx.fill(paths[k]);
        if (r >= 4) ctx.stroke(paths[k]);
      }
    },
    /** Index of the nearest shown point within a few pixels of a layer point, or -1. */
    _hit(lp) {
      const d = this._data;
      if (!d) return -1;
      const { scale, ox, oy } = this._frame();
      const r = radiusAt(this._map.getZoom()) + 4;
      let best = -1;
      let bestD = r * r;
      for (let i = 0; i < d.count; i++) {
        if (this._off(d, i)) continue;
        const dx = this._px[i] * scale - ox - lp.x;
        if (dx > r || dx < -r) continue;
        const dy = this._py[i] * scale - oy - lp.y;
        const dd = dx * dx + dy * dy;
        if (dd <= bestD) { bestD = dd; best = i; }
      }
      return best;
    },
    _click(e) {
      if (Date.now() < (this.suppressClickUntil || 0)) return;
      const i = this._hit(e.layerPoint);
      if (i >= 0 && this._o.onClick) this._o.onClick(i);
    },
    _hover(e) {
      if (this._pending) return;
      this._pending = true;
      requestAnimationFrame(() => {
        this._pending = false;
        if (!this._map) return;
        this._map.getContainer().classList.toggle("on-point", this._hit(e.layerPoint) >= 0);
      });
    },
  });
  return new Layer(opts);
}
