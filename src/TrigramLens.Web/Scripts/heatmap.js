// TrigramLens web layer: a heat map on a canvas with axis labels, a colour bar, marks beside rows, translucent row
// bands, circled cells, and a tooltip on hover. It keeps the values it drew (heatmap.shown) so scripts and tests can
// read exactly what is on screen.
(function (root) {
  "use strict";
  const W = root.TrigramLensWeb = root.TrigramLensWeb || {};

  const SEQUENTIAL = [[247, 251, 255], [198, 219, 239], [107, 174, 214], [33, 113, 181], [8, 48, 107]];
  const DIVERGING = [[33, 102, 172], [146, 197, 222], [247, 247, 247], [244, 165, 130], [178, 24, 43]];

  /** Colour of t in [0, 1] along the stops. */
  function ramp(stops, t) {
    t = Math.min(1, Math.max(0, t));
    const x = t * (stops.length - 1), i = Math.min(stops.length - 2, Math.floor(x)), f = x - i;
    const a = stops[i], b = stops[i + 1];
    return "rgb(" + [0, 1, 2].map(k => Math.round(a[k] + (b[k] - a[k]) * f)).join(",") + ")";
  }

  /** 256 precomputed colours of a ramp, so drawing a cell costs no string building. */
  const palettes = new Map();
  function palette(stops) {
    if (!palettes.has(stops)) palettes.set(stops, Array.from({ length: 256 }, (_, i) => ramp(stops, i / 255)));
    return palettes.get(stops);
  }

  function format(v) {
    if (!isFinite(v)) return v > 0 ? "+inf" : v < 0 ? "-inf" : "n/a";
    return Math.abs(v) >= 100 ? v.toFixed(1) : Math.abs(v) >= 1 ? v.toFixed(3) : v.toFixed(4);
  }

  class Heatmap {
    /**
     * @param host element to draw into
     * @param opts { cell (pixels, or a function of the row count), title, xTitle, yTitle, colorBarLabel, diverging, tooltip(r, c, v) -> html,
     *               onHover(r, c, v), onLeave(), onClick(r, c, v) }
     */
    constructor(host, opts) {
      this.opts = Object.assign({ cell: 12 }, opts || {});
      this.host = host;
      host.classList.add("tl-heatmap");
      this.canvas = document.createElement("canvas");
      this.tip = document.createElement("div");
      this.tip.className = "tl-tooltip";
      this.tip.hidden = true;
      host.append(this.canvas, this.tip);
      this.shown = null;
      this.hovered = null;
      this.canvas.addEventListener("mousemove", ev => this.onMove(ev));
      this.canvas.addEventListener("mouseleave", () => this.leave());
      this.canvas.addEventListener("click", ev => {
        const hit = this.hit(ev);
        if (hit && this.opts.onClick) this.opts.onClick(hit.r, hit.c, hit.v);
      });
    }

    /**
     * @param d { values: Float64Array [rows * cols] (-Infinity or NaN: drawn as masked), rows, cols, xLabels, yLabels,
     *            range: [min, max], rightMarks: [string per row], rowBands: [[r0, r1]], circles: [[r, c]] }
     */
    draw(d) {
      const o = this.opts, cell = typeof o.cell === "function" ? o.cell(d.rows) : o.cell;
      const ctx0 = this.canvas.getContext("2d");
      const font = Math.max(7, Math.min(11, cell - 1)) + "px system-ui, sans-serif";
      ctx0.font = font;
      const labelEvery = cell >= 9 ? 1 : Math.ceil(9 / cell);
      const yw = Math.max(20, ...(d.yLabels || []).map(s => ctx0.measureText(String(s)).width)) + 6;
      const xh = Math.max(20, ...(d.xLabels || []).map(s => ctx0.measureText(String(s)).width)) + 6;
      const left = yw + (o.yTitle ? 16 : 0), top = o.title ? 22 : 6;
      const marks = d.rightMarks ? 14 : 0;
      const barHeight = Math.max(60, d.rows * cell);
      const width = left + d.cols * cell + marks + 70, height = top + Math.max(barHeight, d.rows * cell + xh + (o.xTitle ? 16 : 0)) + 4;
      const ratio = root.devicePixelRatio || 1;
      this.canvas.width = Math.ceil(width * ratio);
      this.canvas.height = Math.ceil(height * ratio);
      this.canvas.style.width = width + "px";
      this.canvas.style.height = height + "px";
      const ctx = this.canvas.getContext("2d");
      ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
      ctx.clearRect(0, 0, width, height);
      ctx.font = font;
      this.geometry = { left, top, cell, rows: d.rows, cols: d.cols };
      this.shown = d;

      const [lo, hi] = d.range || [0, 1];
      const stops = o.diverging ? DIVERGING : SEQUENTIAL;
      const span = hi - lo || 1, colours = palette(stops);
      for (let r = 0; r < d.rows; r++)
        for (let c = 0; c < d.cols; c++) {
          const v = d.values[r * d.cols + c];
          ctx.fillStyle = isFinite(v) ? colours[Math.max(0, Math.min(255, Math.round(255 * (v - lo) / span)))] : "#e4e4e4";
          ctx.fillRect(left + c * cell, top + r * cell, cell, cell);
        }
      ctx.fillStyle = "rgba(255, 170, 0, 0.22)";
      for (const [r0, r1] of d.rowBands || []) ctx.fillRect(left, top + r0 * cell, d.cols * cell, (r1 - r0 + 1) * cell);
      ctx.strokeStyle = "#d62728";
      ctx.lineWidth = 1.2;
      for (const [r, c] of d.circles || []) {
        ctx.beginPath();
        ctx.arc(left + (c + 0.5) * cell, top + (r + 0.5) * cell, cell * 0.45, 0, 2 * Math.PI);
        ctx.stroke();
      }

      ctx.fillStyle = "#333";
      ctx.textBaseline = "middle";
      ctx.textAlign = "right";
      (d.yLabels || []).forEach((s, r) => { if (r % labelEvery === 0) ctx.fillText(String(s), left - 4, top + (r + 0.5) * cell); });
      (d.xLabels || []).forEach((s, c) => {
        if (c % labelEvery !== 0) return;
        ctx.save();
        ctx.translate(left + (c + 0.5) * cell, top + d.rows * cell + 4);
        ctx.rotate(-Math.PI / 2);
        ctx.fillText(String(s), 0, 0);
        ctx.restore();
      });
      if (d.rightMarks) {
        ctx.textAlign = "left";
        ctx.fillStyle = "#1a7f37";
        d.rightMarks.forEach((m, r) => { if (m) ctx.fillText(m, left + d.cols * cell + 3, top + (r + 0.5) * cell); });
      }
      ctx.fillStyle = "#333";
      if (o.title) { ctx.textAlign = "left"; ctx.font = "bold 12px system-ui, sans-serif"; ctx.fillText(o.title, left, 10); ctx.font = font; }
      if (o.xTitle) { ctx.textAlign = "center"; ctx.fillText(o.xTitle, left + d.cols * cell / 2, top + d.rows * cell + xh + 8); }
      if (o.yTitle) {
        ctx.save();
        ctx.translate(8, top + d.rows * cell / 2);
        ctx.rotate(-Math.PI / 2);
        ctx.textAlign = "center";
        ctx.fillText(o.yTitle, 0, 0);
        ctx.restore();
      }

      // Colour bar with its range.
      const bx = left + d.cols * cell + marks + 10, bh = barHeight;
      const gradient = ctx.createLinearGradient(0, top, 0, top + bh);
      stops.forEach((s, i) => gradient.addColorStop(1 - i / (stops.length - 1), "rgb(" + s.join(",") + ")"));
      ctx.fillStyle = gradient;
      ctx.fillRect(bx, top, 12, bh);
      ctx.strokeStyle = "#999";
      ctx.strokeRect(bx, top, 12, bh);
      ctx.fillStyle = "#333";
      ctx.textAlign = "left";
      ctx.fillText(format(hi), bx + 15, top + 5);
      ctx.fillText(format(lo), bx + 15, top + bh - 5);
      if (o.colorBarLabel) {
        ctx.save();
        ctx.translate(bx + 50, top + bh / 2);
        ctx.rotate(-Math.PI / 2);
        ctx.textAlign = "center";
        ctx.fillText(o.colorBarLabel, 0, 0);
        ctx.restore();
      }
      if (this.hovered) this.showTip(this.hovered.r, this.hovered.c);
    }

    hit(ev) {
      if (!this.geometry) return null;
      const rect = this.canvas.getBoundingClientRect(), g = this.geometry;
      const c = Math.floor((ev.clientX - rect.left - g.left) / g.cell), r = Math.floor((ev.clientY - rect.top - g.top) / g.cell);
      if (r < 0 || c < 0 || r >= g.rows || c >= g.cols) return null;
      return { r, c, v: this.shown.values[r * g.cols + c] };
    }

    onMove(ev) {
      const hit = this.hit(ev);
      if (!hit) return this.leave();
      if (this.hovered && this.hovered.r === hit.r && this.hovered.c === hit.c) return;
      this.hovered = { r: hit.r, c: hit.c };
      this.showTip(hit.r, hit.c);
      if (this.opts.onHover) this.opts.onHover(hit.r, hit.c, hit.v);
    }

    showTip(r, c) {
      const g = this.geometry, v = this.shown.values[r * g.cols + c];
      this.tip.innerHTML = this.opts.tooltip ? this.opts.tooltip(r, c, v) : format(v);
      this.tip.hidden = false;
      this.tip.style.left = (this.canvas.offsetLeft + g.left + (c + 1) * g.cell + 8) + "px";
      this.tip.style.top = (this.canvas.offsetTop + g.top + r * g.cell) + "px";
    }

    leave() {
      if (!this.hovered) return;
      this.hovered = null;
      this.tip.hidden = true;
      if (this.opts.onLeave) this.opts.onLeave();
    }

    /** The viewport point at the centre of cell (r, c), e.g. to move a mouse there. */
    cellCenter(r, c) {
      const rect = this.canvas.getBoundingClientRect(), g = this.geometry;
      return { x: rect.left + g.left + (c + 0.5) * g.cell, y: rect.top + g.top + (r + 0.5) * g.cell };
    }
  }

  Object.assign(W, { Heatmap, ramp, formatNumber: format, SEQUENTIAL, DIVERGING });
})(typeof window !== "undefined" ? window : globalThis);
