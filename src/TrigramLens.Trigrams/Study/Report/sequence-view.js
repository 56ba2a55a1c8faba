// TrigramLens study page: one sequence seen through the model - the attention heat map (query x key, tokens as
// labels, colour bar 0..max, ✓ where the top prediction is the next token, bands over trigram prefixes), the top-k
// predictions at the hovered position with the trigram completion forced there, and the token-hover view.
// Used by the row browser and by the live model.
(function (root) {
  "use strict";
  const W = root.TrigramLensWeb, S = root.TrigramLensStudy = root.TrigramLensStudy || {};
  const TOP_K = 5;

  /** Probabilities [pos * V] from logits { shape: [pos, V], data }. */
  function probabilities(logits) {
    const p = Float64Array.from(logits.data), V = logits.shape[1];
    for (let t = 0; t < logits.shape[0]; t++) W.softmaxInPlace(p, t * V, V);
    return p;
  }

  /** Trigram prefixes in a sequence: every i where (tokens[i], tokens[i + 1]) is some trigram's (a, b). */
  function prefixPositions(ctx, tokens) {
    const out = [];
    for (let i = 0; i + 1 < tokens.length; i++) if (ctx.completion(tokens[i], tokens[i + 1]) !== null) out.push(i);
    return out;
  }

  function el(tag, cls, html) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (html !== undefined) e.innerHTML = html;
    return e;
  }

  class SequenceView {
    /** @param opts { cell } */
    constructor(host, ctx, opts) {
      this.ctx = ctx;
      this.opts = opts || {};
      const cfg = ctx.model.cfg;
      this.layer = 0;
      this.head = 0;
      host.classList.add("seq-view");
      const heads = el("div", "heads");
      if (cfg.n_layers * cfg.n_heads > 1) {
        const select = el("select");
        for (let l = 0; l < cfg.n_layers; l++)
          for (let h = 0; h < cfg.n_heads; h++) select.append(new Option("layer " + l + ", head " + h, l + "," + h));
        select.addEventListener("change", () => { [this.layer, this.head] = select.value.split(",").map(Number); this.redraw(); });
        heads.append("Attention of ", select);
      }
      const main = el("div", "seq-main");
      this.mapHost = el("div", "seq-map");
      this.side = el("div", "seq-side");
      main.append(this.mapHost, this.side);
      this.tokensHost = el("div", "seq-tokens");
      host.append(heads, main, this.tokensHost);
      this.heatmap = new W.Heatmap(this.mapHost, {
        cell: rows => Math.max(this.opts.cell || 12, Math.min(30, Math.floor(420 / rows))), colorBarLabel: "attention", xTitle: "key (position: token)", yTitle: "query (position: token)",
        tooltip: (q, k, v) => this.tooltip(q, k, v),
        onHover: q => this.focus(q),
      });
      this.tokenView = new W.TokenView(this.tokensHost, { onHover: i => this.focus(i) });
      this.position = null;
    }

    /**
     * Shows a sequence. @param run model.run(tokens) with its cache; @param clean optional run without ablations,
     * whose probabilities are shown beside the ablated ones.
     */
    show(tokens, run, clean) {
      this.tokens = Array.from(tokens);
      this.run = run;
      this.probs = probabilities(run.logits);
      this.cleanProbs = clean ? probabilities(clean.logits) : null;
      const T = this.tokens.length, V = run.logits.shape[1];
      this.correct = this.tokens.map((_, q) => q + 1 < T && W.topK(this.probs, 1, q * V, V)[0].index === this.tokens[q + 1]);
      this.prefixes = prefixPositions(this.ctx, this.tokens);
      // A new sequence opens at its first trigram completion, else at its last position.
      if (this.position === null || this.position >= T) this.position = this.prefixes.length > 0 ? this.prefixes[0] + 1 : T - 1;
      this.redraw();
    }

    /** The attention pattern [T * T] of the selected layer and head. */
    pattern() {
      const T = this.tokens.length;
      const all = this.run.cache["blocks." + this.layer + ".attn.hook_pattern"].data;
      return all.subarray(this.head * T * T, (this.head + 1) * T * T);
    }

    redraw() {
      const T = this.tokens.length, pattern = this.pattern();
      let max = 0;
      for (let i = 0; i < pattern.length; i++) if (pattern[i] > max) max = pattern[i];
      const labels = this.tokens.map((t, i) => i + ":" + t);
      this.shown = { tokens: this.tokens.slice(), layer: this.layer, head: this.head, pattern: Array.from(pattern) };
      this.heatmap.draw({
        values: pattern, rows: T, cols: T, xLabels: labels, yLabels: labels, range: [0, max || 1],
        rightMarks: this.correct.map(c => (c ? "✓" : "")),
        rowBands: this.prefixes.map(i => [i, i + 1]),
      });
      this.tokenView.set(this.tokens, pattern);
      this.focus(this.position);
    }

    tooltip(q, k, v) {
      if (k > q) return "query " + q + " (token " + this.tokens[q] + ") cannot see key " + k + " (masked)";
      return "query " + q + ": token <b>" + this.tokens[q] + "</b> → key " + k + ": token <b>" + this.tokens[k] +
        "</b><br>weight <b class=\"tip-weight\">" + v.toFixed(4) + "</b>";
    }

    /** Fills the side panel for query position q: top-k predictions, the forced completion, the actual next token. */
    focus(q) {
      if (q === null || q === undefined) return;
      this.position = q;
      const V = this.run.logits.shape[1], T = this.tokens.length;
      const top = W.topK(this.probs, TOP_K, q * V, V);
      const forced = q >= 1 ? this.ctx.completion(this.tokens[q - 1], this.tokens[q]) : null;
      let html = "<div class=\"side-title\">Position " + q + ", token <b>" + this.tokens[q] + "</b></div>";
      html += "<table class=\"preds\"><tr><th>next</th><th>p</th>" + (this.cleanProbs ? "<th>clean p</th>" : "") + "</tr>";
      for (const x of top) {
        const mark = forced === x.index ? " class=\"forced\"" : "";
        html += "<tr" + mark + "><td>" + x.index + "</td><td>" + x.value.toFixed(4) + "</td>" +
          (this.cleanProbs ? "<td>" + this.cleanProbs[q * V + x.index].toFixed(4) + "</td>" : "") + "</tr>";
      }
      html += "</table>";
      if (forced !== null)
        html += "<div class=\"forced-line\">Trigram (" + this.tokens[q - 1] + ", " + this.tokens[q] + ") → <b>" + forced +
          "</b> is forced here: p = " + this.probs[q * V + forced].toFixed(4) + (top[0].index === forced ? " (top)" : " (not top)") + "</div>";
      else html += "<div class=\"small\">No trigram completes here" + (q === 0 ? " (no previous token)." : ".") + "</div>";
      if (q + 1 < T) html += "<div class=\"small\">Actual next token: " + this.tokens[q + 1] + (this.correct[q] ? " ✓ predicted" : " ✗ not top") + "</div>";
      this.side.innerHTML = html;
      this.side.dataset.position = q;
      if (this.onFocus) this.onFocus(q);
    }
  }

  Object.assign(S, { SequenceView, probabilities, prefixPositions, el });
})(window);
