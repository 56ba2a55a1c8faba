// TrigramLens study page: reads the embedded data, builds the model and the interactive sections, and exposes them
// to the browser console as window.trigramlens (forward(tokens) -> logits [pos][d_vocab], setRow, setInput, ...).
(function (root) {
  "use strict";
  const W = root.TrigramLensWeb, S = root.TrigramLensStudy;

  // Every PNG figure opens full size, in the page, on click (its link still works without scripts).
  function lightbox() {
    const box = document.getElementById("lightbox");
    if (!box) return;
    const img = box.querySelector("img");
    const close = () => { box.hidden = true; img.removeAttribute("src"); };
    document.addEventListener("click", ev => {
      const link = ev.target.closest && ev.target.closest("a.full-size");
      if (!link || ev.button !== 0 || ev.ctrlKey || ev.metaKey || ev.shiftKey) return;
      ev.preventDefault();
      img.src = link.getAttribute("href");
      img.alt = link.querySelector("img") ? link.querySelector("img").alt : "";
      box.hidden = false;
    });
    box.addEventListener("click", close);
    document.addEventListener("keydown", ev => { if (ev.key === "Escape" && !box.hidden) close(); });
  }

  function context(data) {
    const model = data.model ? new W.HookedTransformer(data.model) : null;
    const V = data.analysis.d_vocab, table = new Int32Array(V * V).fill(-1);
    for (const [a, b, c] of data.trigrams) table[a * V + b] = c;
    const tokens = W.decodeTokens(data.analysis.tokens, data.analysis.bytes_per_token);
    const L = data.analysis.seq_len;
    const means = {};
    for (const [name, t] of Object.entries(data.ablation_means || {})) means[name] = W.decodeTensor(t);
    return {
      data, model, means, trigrams: data.trigrams, analysis: data.analysis,
      completion: (a, b) => (a >= 0 && b >= 0 && a < V && b < V && table[a * V + b] >= 0 ? table[a * V + b] : null),
      row: i => Array.from(tokens.subarray(i * L, (i + 1) * L)),
      loadLive: () => {},
    };
  }

  function boot() {
    lightbox();
    const api = root.trigramlens = { ready: false, timings: {} };
    const node = document.getElementById("trigramlens-data");
    if (!node) { api.ready = true; return; }
    const start = performance.now();
    const data = JSON.parse(node.textContent);
    const ctx = context(data);
    Object.assign(api, { data, model: ctx.model, context: ctx });
    if (!ctx.model) {
      for (const id of ["live-model", "row-browser", "pair-map", "transcoder"]) {
        const host = document.getElementById(id);
        if (host) host.innerHTML = "<p class=\"note\">Not interactive: " + (data.model_note || "the model is not embedded") + ".</p>";
      }
      api.ready = true;
      return;
    }
    api.forward = tokens => ctx.model.forward(Array.from(tokens));
    api.run = (tokens, options) => ctx.model.run(Array.from(tokens), options);

    const liveHost = document.getElementById("live-model");
    if (liveHost) {
      api.live = new S.LiveModel(liveHost, ctx);
      ctx.loadLive = tokens => {
        api.live.setInput(tokens);
        liveHost.scrollIntoView({ block: "start" });
      };
      api.setInput = tokens => api.live.setInput(tokens);
      api.state = () => api.live.state();
    }
    const rowHost = document.getElementById("row-browser");
    if (rowHost) {
      api.rows = new S.RowBrowser(rowHost, ctx);
      api.setRow = i => api.rows.setRow(i);
    }
    const pairHost = document.getElementById("pair-map");
    if (pairHost) api.pairMap = new S.PairMap(pairHost, ctx);
    const tcHost = document.getElementById("transcoder");
    if (tcHost && data.transcoder && S.TranscoderDashboard) api.transcoder = new S.TranscoderDashboard(tcHost, ctx, api);

    // Tables and buttons with data-tokens load their tokens into the live model.
    document.addEventListener("click", ev => {
      const target = ev.target.closest && ev.target.closest("[data-tokens]");
      if (!target) return;
      ctx.loadLive(target.dataset.tokens.split(",").map(Number));
    });

    api.timings.buildMs = performance.now() - start;
    api.timings.openMs = performance.now();   // since navigation start
    api.ready = true;
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", boot);
  else boot();
})(window);
