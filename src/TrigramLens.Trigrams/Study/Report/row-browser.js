// TrigramLens study page: any row of the analysis set (slider, number box, arrow keys), run through the embedded
// model when it is chosen - nothing per row is precomputed.
(function (root) {
  "use strict";
  const S = root.TrigramLensStudy;

  class RowBrowser {
    constructor(host, ctx) {
      this.ctx = ctx;
      const n = ctx.analysis.rows;
      host.tabIndex = 0;
      const bar = S.el("div", "row-controls");
      this.slider = S.el("input");
      Object.assign(this.slider, { type: "range", min: 0, max: n - 1, value: 0, className: "row-slider" });
      this.box = S.el("input");
      Object.assign(this.box, { type: "number", min: 0, max: n - 1, value: 0, className: "row-number" });
      const prev = S.el("button", "", "←"), next = S.el("button", "", "→"), live = S.el("button", "", "open this row in the live model");
      this.info = S.el("span", "small row-info");
      bar.append("Row ", this.box, " of " + n.toLocaleString("en") + " ", prev, this.slider, next, " ", live, " ", this.info);
      const viewHost = S.el("div");
      host.append(bar, viewHost);
      this.view = new S.SequenceView(viewHost, ctx, { cell: 12 });
      this.slider.addEventListener("input", () => this.setRow(+this.slider.value));
      this.box.addEventListener("change", () => this.setRow(+this.box.value));
      prev.addEventListener("click", () => this.setRow(this.row - 1));
      next.addEventListener("click", () => this.setRow(this.row + 1));
      live.addEventListener("click", () => ctx.loadLive(this.view.tokens));
      host.addEventListener("keydown", ev => {
        if (ev.target === this.box || ev.target === this.slider) return;   // they step by themselves
        if (ev.key !== "ArrowRight" && ev.key !== "ArrowLeft") return;
        this.setRow(this.row + (ev.key === "ArrowRight" ? 1 : -1));
        ev.preventDefault();
      });
      this.lastSwitchMs = null;
      this.setRow(0);
    }

    /** Shows row i (clamped to the analysis set); returns the milliseconds it took, model run and drawing included. */
    setRow(i) {
      const start = performance.now();
      const n = this.ctx.analysis.rows;
      i = Math.max(0, Math.min(n - 1, Math.round(Number(i)) || 0));
      this.row = i;
      this.slider.value = i;
      this.box.value = i;
      const tokens = this.ctx.row(i);
      const run = this.ctx.model.run(tokens);
      this.view.position = null;
      this.view.show(tokens, run);
      const correct = this.view.correct.filter(Boolean).length;
      this.info.textContent = this.view.prefixes.length + " trigram prefixes; top prediction right at " + correct + " of " + (tokens.length - 1) + " positions";
      this.lastSwitchMs = performance.now() - start;
      return this.lastSwitchMs;
    }
  }

  S.RowBrowser = RowBrowser;
})(window);
