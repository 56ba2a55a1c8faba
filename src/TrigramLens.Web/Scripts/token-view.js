// TrigramLens web layer: a sequence as a row of tokens; hovering one colours every other token by the attention it
// pays to them (it as the query) or receives from them (it as the key), for one head - the token-hover view that
// precomputed pattern viewers lack.
(function (root) {
  "use strict";
  const W = root.TrigramLensWeb = root.TrigramLensWeb || {};

  class TokenView {
    /** @param opts { onHover(i), onLeave(), decorate(span, i) } */
    constructor(host, opts) {
      this.opts = opts || {};
      this.host = host;
      host.classList.add("tl-tokens");
      const bar = document.createElement("div");
      bar.className = "tl-tokens-mode";
      bar.innerHTML = '<label><input type="radio" value="pays" checked> attention it pays (as query)</label> ' +
        '<label><input type="radio" value="receives"> attention it receives (as key)</label>';
      this.mode = "pays";
      const name = "tl-mode-" + Math.random().toString(36).slice(2);
      for (const input of bar.querySelectorAll("input")) {
        input.name = name;
        input.addEventListener("change", () => { this.mode = input.value; if (this.active !== null) this.highlight(this.active); });
      }
      this.list = document.createElement("div");
      this.list.className = "tl-token-list";
      host.append(bar, this.list);
      this.active = null;
      this.list.addEventListener("mouseleave", () => this.clear());
    }

    /** @param pattern Float64Array [T * T] of one head (query-major), @param labels optional text per token */
    set(tokens, pattern, labels) {
      this.tokens = Array.from(tokens);
      this.pattern = pattern;
      this.list.textContent = "";
      this.spans = this.tokens.map((t, i) => {
        const s = document.createElement("span");
        s.className = "tl-token";
        s.textContent = labels ? labels[i] : String(t);
        s.dataset.index = i;
        s.title = "position " + i + ", token " + t;
        s.addEventListener("mouseenter", () => { this.highlight(i); if (this.opts.onHover) this.opts.onHover(i); });
        if (this.opts.decorate) this.opts.decorate(s, i);
        this.list.append(s);
        return s;
      });
      if (this.active !== null && this.active < this.tokens.length) this.highlight(this.active);
      else this.active = null;
    }

    /** The weights shown when token i is hovered: what it pays (row i) or receives (column i). */
    weights(i) {
      const T = this.tokens.length, out = new Float64Array(T);
      for (let j = 0; j < T; j++) out[j] = this.mode === "pays" ? this.pattern[i * T + j] : this.pattern[j * T + i];
      return out;
    }

    highlight(i) {
      this.active = i;
      const w = this.weights(i);
      this.spans.forEach((s, j) => {
        s.classList.toggle("tl-token-active", j === i);
        s.style.background = j === i ? "" : W.ramp(W.SEQUENTIAL, w[j]);
        s.style.color = w[j] > 0.6 && j !== i ? "#fff" : "";
        s.dataset.weight = w[j].toFixed(4);
        s.title = "position " + j + ", token " + this.tokens[j] + (j === i ? "" : ": " + w[j].toFixed(4));
      });
    }

    clear() {
      this.active = null;
      for (const s of this.spans || []) { s.style.background = ""; s.style.color = ""; s.classList.remove("tl-token-active"); delete s.dataset.weight; }
      if (this.opts.onLeave) this.opts.onLeave();
    }
  }

  W.TokenView = TokenView;
})(typeof window !== "undefined" ? window : globalThis);
