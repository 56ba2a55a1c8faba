// TrigramLens study page: section 9, the sparse transcoder. A feature list (sorted by density, by dedicated trigram or
// by index) and, per feature, a dashboard: activation histogram, the prefixes its mass lies on, top and bottom logit
// effects (W_dec[f] W_U), de-embedding (W_E W_enc[:, f]: which current tokens drive it) and attention pull-back
// (W_E W_V W_O W_enc[:, f] per head: which earlier tokens drive it through the head), its dedicated trigram, and its
// activation on the live input. The statistics come with the data; everything from weights is computed here.
(function (root) {
  "use strict";
  const W = root.TrigramLensWeb, S = root.TrigramLensStudy;
  const TOP = 10;

  /** The encoder of a transcoder as the data describes it (SAELens architectures). */
  class Transcoder {
    constructor(json) {
      this.json = json;
      this.arch = json.architecture;
      this.dIn = json.d_in; this.dSae = json.d_sae; this.dOut = json.d_out; this.k = json.k;
      this.w = {};
      for (const [name, t] of Object.entries(json.weights)) this.w[name] = W.decodeTensor(t);
    }

    /** x: Float64Array [d_in] -> feature activations Float64Array [d_sae] */
    encode(x) {
      const n = this.dSae, We = this.w.W_enc.data, be = this.w.b_enc.data, out = new Float64Array(n);
      for (let j = 0; j < n; j++) out[j] = be[j];
      for (let i = 0; i < this.dIn; i++) {
        const xi = x[i];
        for (let j = 0; j < n; j++) out[j] += xi * We[i * n + j];
      }
      if (this.arch.startsWith("jumprelu")) {
        const th = this.w.threshold.data;
        for (let j = 0; j < n; j++) out[j] = out[j] > th[j] && out[j] > 0 ? out[j] : 0;
      } else {
        for (let j = 0; j < n; j++) if (!(out[j] > 0)) out[j] = 0;
        if (this.arch.startsWith("topk")) {
          const keep = new Set(W.topK(out, this.k).map(x => x.index));
          for (let j = 0; j < n; j++) if (!keep.has(j)) out[j] = 0;
        }
      }
      return out;
    }

    /** Activations of every position of a run: [pos][d_sae]. */
    activations(run) {
      const x = run.cache[this.json.hook_in], T = x.shape[0], D = x.shape[1], out = [];
      for (let t = 0; t < T; t++) out.push(this.encode(x.data.subarray(t * D, (t + 1) * D)));
      return out;
    }
  }

  function list(items, fmt) {
    return "<table class=\"small\"><tr><th>token</th><th>value</th></tr>" +
      items.map(x => "<tr><td>" + x.index + "</td><td>" + fmt(x.value) + "</td></tr>").join("") + "</table>";
  }

  class TranscoderDashboard {
    constructor(host, ctx, api) {
      this.ctx = ctx;
      this.api = api;
      const data = ctx.data.transcoder;
      this.tc = new Transcoder(data);
      this.features = data.features;
      this.dedicatedRule = data.dedicated_rule || "at least half its mass lies on this prefix.";
      this.layer = Number((/^blocks\.(\d+)\./.exec(data.hook_in) || [0, 0])[1]);
      const summary = Object.entries(data.summary || {});
      const head = S.el("div", "small",
        "<b>" + data.architecture + "</b>" + (data.k ? " (k = " + data.k + ")" : "") + ": d_in " + data.d_in + ", " + data.d_sae +
        " features, d_out " + data.d_out + ". Statistics over " + data.stats_over + "." +
        (summary.length ? "<table>" + summary.map(([k, v]) => "<tr><th style=\"text-align:left\">" + k + "</th><td>" +
          (v === null ? "n/a" : Number(v).toPrecision(4)) + "</td></tr>").join("") + "</table>" : ""));
      const controls = S.el("div", "small");
      this.sort = S.el("select");
      this.sort.className = "tc-sort";
      this.sort.append(new Option("density", "density"), new Option("dedicated trigram", "dedicated"), new Option("index", "index"));
      this.showDead = S.el("input");
      this.showDead.type = "checkbox";
      controls.append("Sort features by ", this.sort, " ", this.showDead, " show dead features");
      const layout = S.el("div", "tc-layout");
      this.listHost = S.el("div", "tc-list");
      this.board = S.el("div", "tc-dashboard");
      layout.append(this.listHost, this.board);
      host.append(head, controls, layout);
      this.sort.addEventListener("change", () => this.renderList());
      this.showDead.addEventListener("change", () => this.renderList());
      this.listHost.addEventListener("click", ev => {
        const tr = ev.target.closest("tr[data-feature]");
        if (tr) this.select(Number(tr.dataset.feature));
      });
      this.board.addEventListener("click", ev => {
        const tr = ev.target.closest("tr[data-prefix]");
        if (!tr) return;
        ev.stopPropagation();
        // Into the live model without leaving the dashboard: the activation shows below.
        if (api.live) api.live.setInput(tr.dataset.prefix.split(",").map(Number));
      });
      if (api.live) {
        const previous = api.live.onUpdate;
        api.live.onUpdate = (tokens, run) => { if (previous) previous(tokens, run); this.renderLive(); };
      }
      this.renderList();
      if (this.order.length) this.select(this.order[0]);
    }

    renderList() {
      const by = this.sort.value, dead = this.showDead.checked;
      let fs = this.features.filter(f => dead || f.density > 0);
      const key = f => f.dedicated_trigram;
      if (by === "density") fs = fs.slice().sort((a, b) => b.density - a.density || a.index - b.index);
      else if (by === "index") fs = fs.slice().sort((a, b) => a.index - b.index);
      else fs = fs.slice().sort((a, b) => {
        const ka = key(a), kb = key(b);
        if (ka && kb) return ka[1] - kb[1] || ka[0] - kb[0] || a.index - b.index;
        if (ka || kb) return ka ? -1 : 1;
        return b.density - a.density || a.index - b.index;
      });
      this.order = fs.map(f => f.index);
      this.listHost.innerHTML = "<table><tr><th>feature</th><th>density</th><th>dedicated trigram</th><th>top prefix (share)</th></tr>" +
        fs.map(f => "<tr data-feature=\"" + f.index + "\"" + (f.index === this.selected ? " class=\"selected\"" : "") + "><td>" + f.index + "</td><td>" +
          f.density.toFixed(4) + "</td><td>" + (f.dedicated_trigram ? "(" + f.dedicated_trigram.join(", ") + ")" : "") + "</td><td>" +
          (f.top_prefixes.length ? "(" + f.top_prefixes[0].a + ", " + f.top_prefixes[0].b + ") " + (100 * f.top_prefixes[0].share).toFixed(1) + "%" : "") +
          "</td></tr>").join("") + "</table>";
    }

    /** Logit effect of feature f: W_dec[f] W_U, [d_vocab_out]. */
    logitEffects(f) {
      const m = this.ctx.model, WU = m.w["unembed.W_U"].data, V = m.cfg.d_vocab_out, D = this.tc.dOut, dec = this.tc.w.W_dec.data;
      const out = new Float64Array(V);
      for (let i = 0; i < D; i++) for (let v = 0; v < V; v++) out[v] += dec[f * D + i] * WU[i * V + v];
      return out;
    }

    /** W_E W_enc[:, f] (the direct path: token embedding into the encoder), [d_vocab]. */
    deEmbedding(f) {
      const m = this.ctx.model, E = m.w["embed.W_E"].data, V = m.cfg.d_vocab, D = m.cfg.d_model, n = this.tc.dSae, enc = this.tc.w.W_enc.data;
      const out = new Float64Array(V);
      for (let v = 0; v < V; v++) { let s = 0; for (let i = 0; i < D; i++) s += E[v * D + i] * enc[i * n + f]; out[v] = s; }
      return out;
    }

    /** W_E W_V[h] W_O[h] W_enc[:, f] for each head of the encoder's layer: [head][d_vocab]. */
    pullBack(f) {
      const m = this.ctx.model, c = m.cfg, V = c.d_vocab, D = c.d_model, dh = c.d_head, n = this.tc.dSae;
      const E = m.w["embed.W_E"].data, p = "blocks." + this.layer + ".attn.", WV = m.w[p + "W_V"].data, WO = m.w[p + "W_O"].data, enc = this.tc.w.W_enc.data;
      const heads = [];
      for (let h = 0; h < c.n_heads; h++) {
        const ov = new Float64Array(dh);                      // W_O[h] W_enc[:, f]
        for (let j = 0; j < dh; j++) { let s = 0; for (let i = 0; i < D; i++) s += WO[(h * dh + j) * D + i] * enc[i * n + f]; ov[j] = s; }
        const u = new Float64Array(D);                        // W_V[h] ov
        for (let i = 0; i < D; i++) { let s = 0; for (let j = 0; j < dh; j++) s += WV[(h * D + i) * dh + j] * ov[j]; u[i] = s; }
        const out = new Float64Array(V);
        for (let v = 0; v < V; v++) { let s = 0; for (let i = 0; i < D; i++) s += E[v * D + i] * u[i]; out[v] = s; }
        heads.push(out);
      }
      return heads;
    }

    select(f) {
      this.selected = f;
      for (const tr of this.listHost.querySelectorAll("tr[data-feature]")) tr.classList.toggle("selected", Number(tr.dataset.feature) === f);
      const feat = this.features.find(x => x.index === f);
      const fmt = v => v.toFixed(3);
      const logits = this.logitEffects(f), de = this.deEmbedding(f), pulls = this.pullBack(f);
      const neg = Float64Array.from(logits, v => -v);
      const maxCount = Math.max(1, ...feat.histogram);
      let html = "<h3>Feature " + f + "</h3><p class=\"small\">Active at " + (100 * feat.density).toFixed(2) + "% of positions; mean activation when active " +
        feat.mean_activation.toFixed(3) + ", max " + feat.max_activation.toFixed(3) + ". " +
        (feat.dedicated_trigram ? "<b>Dedicated trigram: (" + feat.dedicated_trigram.join(", ") + ")</b> — " + this.dedicatedRule
          : "No dedicated trigram.") + "</p>";
      html += "<div class=\"small\">Activation histogram (nonzero activations, 0 to " + feat.max_activation.toFixed(3) + ")</div><div class=\"tc-hist\">" +
        feat.histogram.map(c => "<span title=\"" + c + "\" style=\"height:" + Math.round(70 * c / maxCount) + "px\"></span>").join("") + "</div>";
      html += "<div class=\"cols\"><div><div class=\"small\">Top prefixes (previous, current token) by share of the feature's mass; click to run live</div>" +
        "<table class=\"trigram-table tc-prefixes\"><tr><th>a</th><th>b</th><th>share</th><th>positions</th><th>trigram</th></tr>" +
        feat.top_prefixes.map(p => "<tr data-prefix=\"" + p.a + "," + p.b + "\"><td>" + p.a + "</td><td>" + p.b + "</td><td>" + (100 * p.share).toFixed(1) +
          "%</td><td>" + p.positions + "</td><td>" + (p.completion === null || p.completion === undefined ? "" : "→ " + p.completion) + "</td></tr>").join("") +
        "</table></div>";
      html += "<div><div class=\"small\">Top logit effects</div>" + list(W.topK(logits, TOP), fmt) + "</div>";
      html += "<div><div class=\"small\">Bottom logit effects</div>" + list(W.topK(neg, TOP).map(x => ({ index: x.index, value: -x.value })), fmt) + "</div>";
      html += "<div><div class=\"small\">De-embedding (current token)</div>" + list(W.topK(de, TOP), fmt) + "</div>";
      pulls.forEach((pb, h) => { html += "<div><div class=\"small\">Attention pull-back, head " + h + " (earlier token)</div>" + list(W.topK(pb, TOP), fmt) + "</div>"; });
      html += "</div><div class=\"tc-live small\"></div>";
      this.board.innerHTML = html;
      this.renderLive();
    }

    /** The selected feature on the live input, every position. */
    renderLive() {
      const live = this.api.live, box = this.board.querySelector(".tc-live");
      if (!live || !live.lastRun || !box || this.selected === undefined) return;
      const acts = this.tc.activations(live.lastRun).map(a => a[this.selected]);
      this.liveActivations = acts;
      box.innerHTML = "Feature " + this.selected + " on the live input [" + live.tokens.join(", ") + "]: " +
        acts.map((a, i) => "<span class=\"tc-act\" title=\"position " + i + "\">" + live.tokens[i] + ": <b>" + a.toFixed(3) + "</b></span>").join(" · ");
    }
  }

  Object.assign(S, { TranscoderDashboard, Transcoder });
})(window);
