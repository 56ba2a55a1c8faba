// TrigramLens study page: the model live. The reader types any token sequence; the page runs the embedded model on
// every edit and shows attention, predictions and the residual stream at the chosen position split into what wrote
// it (embedding, position, each head, each MLP), each part's direct effect on the logits. Ablations: each head and
// each MLP set to zero or to its mean over the analysis set, and single MLP neurons (hook_post) likewise.
(function (root) {
  "use strict";
  const W = root.TrigramLensWeb, S = root.TrigramLensStudy;

  /** "1, 74 72" to [1, 74, 72]; throws with a reason a reader can act on. */
  function parseTokens(text, cfg) {
    const parts = String(text).trim().split(/[\s,;]+/).filter(s => s.length > 0);
    if (parts.length === 0) throw new Error("type at least one token id");
    if (parts.length > cfg.n_ctx) throw new Error(parts.length + " tokens: the model reads at most n_ctx = " + cfg.n_ctx);
    return parts.map(s => {
      if (!/^\d+$/.test(s)) throw new Error("'" + s + "' is not a token id (whole numbers 0 to " + (cfg.d_vocab - 1) + ")");
      const t = Number(s);
      if (t >= cfg.d_vocab) throw new Error("token " + t + " is outside the vocabulary (0 to " + (cfg.d_vocab - 1) + ")");
      return t;
    });
  }

  class LiveModel {
    constructor(host, ctx) {
      this.ctx = ctx;
      this.ablation = { heads: {}, mlps: {}, neurons: {}, neuronMode: "zero" };   // "l,h" / l -> "zero" | "mean"; neurons: "l,n" -> true
      const bar = S.el("div", "live-input");
      this.input = S.el("input");
      Object.assign(this.input, { type: "text", className: "live-tokens", spellcheck: false, value: ctx.data.default_input.join(", ") });
      this.error = S.el("span", "live-error");
      bar.append("Tokens: ", this.input, " ", this.error);
      this.controls = S.el("div", "ablations");
      this.buildControls();
      const viewHost = S.el("div");
      this.parts = S.el("div", "decomposition");
      host.append(bar, this.controls, viewHost, this.parts);
      this.view = new S.SequenceView(viewHost, ctx, { cell: 16 });
      this.view.onFocus = q => this.focusExtras(q);
      this.input.addEventListener("input", () => this.update());
      this.update();
    }

    buildControls() {
      const cfg = this.ctx.model.cfg, means = this.ctx.means;
      const note = this.ctx.data.ablation_means_over ? " Mean: over " + this.ctx.data.ablation_means_over + "." : "";
      const select = (label, key, store, hasMean) => {
        const wrap = S.el("label", "ablation");
        const s = S.el("select");
        s.dataset.ablate = key;
        s.append(new Option("on", ""), new Option("zero", "zero"));
        if (hasMean) s.append(new Option("mean", "mean"));
        s.addEventListener("change", () => { if (s.value) store[key] = s.value; else delete store[key]; this.update(); });
        wrap.append(label + " ", s);
        return wrap;
      };
      this.controls.append(S.el("span", "small", "Ablate:"));
      for (let l = 0; l < cfg.n_layers; l++) {
        for (let h = 0; h < cfg.n_heads; h++)
          this.controls.append(select("head L" + l + "H" + h, l + "," + h, this.ablation.heads, !!means["blocks." + l + ".attn.hook_z"]));
        if (!cfg.attn_only) this.controls.append(select("MLP L" + l, String(l), this.ablation.mlps, !!means["blocks." + l + ".hook_mlp_out"]));
      }
      if (!cfg.attn_only) {
        const mode = S.el("select");
        mode.dataset.ablate = "neuron-mode";
        mode.append(new Option("zero", "zero"), new Option("mean", "mean"));
        mode.addEventListener("change", () => { this.ablation.neuronMode = mode.value; this.update(); });
        const wrap = S.el("label", "ablation");
        wrap.append("clicked neurons → ", mode);
        this.controls.append(wrap);
      }
      this.controls.append(S.el("span", "small", note));
    }

    /** The hooks of the current ablations, by hook name. */
    hooks() {
      const A = W.ablation, means = this.ctx.means, byHook = {};
      const push = (name, fn) => { (byHook[name] = byHook[name] || []).push(fn); };
      for (const [key, mode] of Object.entries(this.ablation.heads)) {
        const [l, h] = key.split(",").map(Number), name = "blocks." + l + ".attn.hook_z";
        push(name, A.head(h, mode === "mean" ? means[name].data : null));
      }
      for (const [l, mode] of Object.entries(this.ablation.mlps)) {
        const name = "blocks." + l + ".hook_mlp_out";
        push(name, mode === "mean" ? A.mean(means[name].data) : A.zero());
      }
      const neurons = {};
      for (const key of Object.keys(this.ablation.neurons)) {
        const [l, n] = key.split(",").map(Number);
        (neurons[l] = neurons[l] || []).push(n);
      }
      for (const [l, units] of Object.entries(neurons)) {
        const name = "blocks." + l + ".mlp.hook_post";
        push(name, A.units(units, this.ablation.neuronMode === "mean" ? means[name].data : null));
      }
      const hooks = {};
      for (const [name, fns] of Object.entries(byHook)) hooks[name] = A.chain(fns);
      return hooks;
    }

    ablated() {
      return Object.keys(this.ablation.heads).length + Object.keys(this.ablation.mlps).length + Object.keys(this.ablation.neurons).length > 0;
    }

    /** Reads the input and runs the model (clean too, when ablated, for the comparison). */
    update() {
      let tokens;
      try {
        tokens = parseTokens(this.input.value, this.ctx.model.cfg);
      } catch (e) {
        this.error.textContent = e.message;
        this.input.classList.add("bad");
        return;
      }
      this.error.textContent = "";
      this.input.classList.remove("bad");
      this.tokens = tokens;
      this.lastRun = this.ctx.model.run(tokens, { hooks: this.hooks() });
      const clean = this.ablated() ? this.ctx.model.run(tokens) : null;
      this.view.show(tokens, this.lastRun, clean);
      if (this.onUpdate) this.onUpdate(tokens, this.lastRun);
    }

    setInput(tokens) {
      this.input.value = Array.from(tokens).join(", ");
      this.view.position = null;
      this.update();
    }

    /** Residual decomposition and the neuron strip at position q. */
    focusExtras(q) {
      const model = this.ctx.model, cfg = model.cfg, run = this.lastRun, V = run.logits.shape[1];
      const top = W.topK(run.logits.data, 1, q * V, V)[0].index;
      const forced = q >= 1 ? this.ctx.completion(this.tokens[q - 1], this.tokens[q]) : null;
      const targets = forced !== null && forced !== top ? [top, forced] : [top];
      const decomposed = targets.map(t => model.decompose(run, q, t));
      let html = "<div class=\"side-title\">Residual stream at position " + q + ", split into what wrote it: each part's direct effect on the logit of " +
        targets.map((t, i) => "<b>" + t + "</b>" + (i === 0 ? " (top)" : " (trigram completion)")).join(" and ") +
        (cfg.normalization_type === "LN" ? " (through ln_final's scale here)" : "") + "</div><table class=\"parts\"><tr><th>part</th><th>norm</th>" +
        targets.map(t => "<th>→ " + t + "</th>").join("") + "</tr>";
      const scale = Math.max(1e-9, ...decomposed.flatMap(d => d.map(p => Math.abs(p.logit))));
      decomposed[0].forEach((part, i) => {
        html += "<tr><td>" + part.name + "</td><td>" + (part.vector ? part.norm.toFixed(3) : "") + "</td>" + decomposed.map(d => {
          const v = d[i].logit, w = Math.round(60 * Math.abs(v) / scale);
          return "<td class=\"bar-cell\"><span class=\"bar " + (v < 0 ? "neg" : "pos") + "\" style=\"width:" + w + "px\"></span>" + v.toFixed(3) + "</td>";
        }).join("") + "</tr>";
      });
      html += "<tr class=\"total\"><td>logit</td><td></td>" + targets.map(t => "<td>" + run.logits.data[q * V + t].toFixed(3) + "</td>").join("") + "</tr></table>";
      if (!cfg.attn_only) html += this.neuronStrip(q);
      this.parts.innerHTML = html;
      for (const cell of this.parts.querySelectorAll(".neuron")) {
        cell.addEventListener("click", () => {
          const key = cell.dataset.neuron;
          if (this.ablation.neurons[key]) delete this.ablation.neurons[key]; else this.ablation.neurons[key] = true;
          this.update();
        });
      }
    }

    neuronStrip(q) {
      const cfg = this.ctx.model.cfg;
      let html = "";
      for (let l = 0; l < cfg.n_layers; l++) {
        const post = this.lastRun.cache["blocks." + l + ".mlp.hook_post"], M = cfg.d_mlp;
        let max = 1e-9;
        for (let n = 0; n < M; n++) max = Math.max(max, Math.abs(post.data[q * M + n]));
        html += "<div class=\"neurons\"><span class=\"small\">MLP L" + l + " neurons at position " + q + " (hook_post; click to ablate):</span><div class=\"neuron-row\">";
        for (let n = 0; n < M; n++) {
          const v = post.data[q * M + n], key = l + "," + n, off = !!this.ablation.neurons[key];
          html += "<span class=\"neuron" + (off ? " off" : "") + "\" data-neuron=\"" + key + "\" title=\"neuron " + n + ": " + v.toFixed(4) +
            (off ? " (ablated)" : "") + "\" style=\"background:" + W.ramp(W.SEQUENTIAL, Math.abs(v) / max) + "\">" + n + "</span>";
        }
        html += "</div></div>";
      }
      return html;
    }

    /** What the live panel shows, for scripts and tests: tokens, ablations, logits [pos][V] (plain numbers). */
    state() {
      return {
        tokens: this.tokens.slice(),
        ablation: JSON.parse(JSON.stringify(this.ablation)),
        logits: W.toNested(this.lastRun.logits),
        position: this.view.position,
      };
    }
  }

  Object.assign(S, { LiveModel, parseTokens });
})(window);
