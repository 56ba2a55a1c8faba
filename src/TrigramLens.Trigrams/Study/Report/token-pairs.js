// TrigramLens study page: the token-pair map over the whole vocabulary, computed in the page from the weights
// (token-only QK scores q = W_E W_Q + b_Q, k = W_E W_K + b_K, no mask, no scaling, softmax over keys; study-spec 4.3),
// query = trigram[1] on y, key = trigram[0] on x, true prefixes circled. Hover for the pair, its weight and whether it
// is a true prefix (and its completion); click to run the pair live.
(function (root) {
  "use strict";
  const W = root.TrigramLensWeb, S = root.TrigramLensStudy;

  /** [V * V] softmax over keys of token-only scores for one layer-0 head. */
  function tokenPairMap(model, head) {
    const c = model.cfg, V = c.d_vocab, D = c.d_model, dh = c.d_head;
    const E = model.w["embed.W_E"].data, WQ = model.w["blocks.0.attn.W_Q"].data, WK = model.w["blocks.0.attn.W_K"].data;
    const bQ = model.w["blocks.0.attn.b_Q"].data, bK = model.w["blocks.0.attn.b_K"].data;
    const q = new Float64Array(V * dh), k = new Float64Array(V * dh);
    for (let t = 0; t < V; t++)
      for (let j = 0; j < dh; j++) {
        let sq = bQ[head * dh + j], sk = bK[head * dh + j];
        for (let i = 0; i < D; i++) {
          sq += E[t * D + i] * WQ[(head * D + i) * dh + j];
          sk += E[t * D + i] * WK[(head * D + i) * dh + j];
        }
        q[t * dh + j] = sq;
        k[t * dh + j] = sk;
      }
    const map = new Float64Array(V * V);
    for (let b = 0; b < V; b++) {
      for (let a = 0; a < V; a++) {
        let s = 0;
        for (let j = 0; j < dh; j++) s += q[b * dh + j] * k[a * dh + j];
        map[b * V + a] = s;
      }
      W.softmaxInPlace(map, b * V, V);
    }
    return map;
  }

  class PairMap {
    constructor(host, ctx) {
      this.ctx = ctx;
      const cfg = ctx.model.cfg, V = cfg.d_vocab;
      const bar = S.el("div", "small");
      this.head = 0;
      if (cfg.n_heads > 1) {
        const select = S.el("select");
        for (let h = 0; h < cfg.n_heads; h++) select.append(new Option("layer 0, head " + h, h));
        select.addEventListener("change", () => { this.head = +select.value; this.draw(); });
        bar.append("Head: ", select);
      }
      this.summary = S.el("div", "small");
      const mapHost = S.el("div");
      host.append(bar, mapHost, this.summary);
      this.heatmap = new W.Heatmap(mapHost, {
        cell: V <= 80 ? 8 : Math.max(3, Math.floor(640 / V)), colorBarLabel: "attention (softmax over keys)",
        xTitle: "key token = trigram[0] (a)", yTitle: "query token = trigram[1] (b)",
        tooltip: (b, a, v) => this.tooltip(b, a, v),
        onClick: (b, a) => ctx.loadLive([a, b]),
      });
      this.draw();
    }

    draw() {
      const cfg = this.ctx.model.cfg, V = cfg.d_vocab, threshold = this.ctx.data.hot_spot_threshold;
      this.values = tokenPairMap(this.ctx.model, this.head);
      const labels = Array.from({ length: V }, (_, i) => i);
      const circles = this.ctx.trigrams.filter(t => t[0] < V && t[1] < V).map(t => [t[1], t[0]]);
      let max = 0, hot = 0, hotTrue = 0;
      for (let i = 0; i < this.values.length; i++) max = Math.max(max, this.values[i]);
      for (let b = 0; b < V; b++)
        for (let a = 0; a < V; a++)
          if (this.values[b * V + a] >= threshold) { hot++; if (this.ctx.completion(a, b) !== null) hotTrue++; }
      this.heatmap.draw({ values: this.values, rows: V, cols: V, xLabels: labels, yLabels: labels, range: [0, max], circles });
      this.summary.textContent = hot + " cells of " + (V * V) + " have attention ≥ " + threshold + "; " + hotTrue + " of them are true prefixes (of " +
        this.ctx.trigrams.length + " prefixes in all).";
    }

    tooltip(b, a, v) {
      const c = this.ctx.completion(a, b), hot = v >= this.ctx.data.hot_spot_threshold;
      return "query b = <b>" + b + "</b>, key a = <b>" + a + "</b>: attention <b class=\"tip-weight\">" + v.toFixed(4) + "</b>" + (hot ? " (hot)" : "") +
        "<br>" + (c !== null ? "true prefix: (" + a + ", " + b + ") → <b>" + c + "</b>" : "not a trigram prefix") + "<br><i>click to run [" + a + ", " + b + "] live</i>";
    }
  }

  Object.assign(S, { PairMap, tokenPairMap });
})(window);
