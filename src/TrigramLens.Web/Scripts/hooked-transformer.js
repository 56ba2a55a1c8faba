// TrigramLens web layer: a HookedTransformer forward pass of our own, with TransformerLens semantics, for the
// configs the C# toolkit supports: any n_layers and n_heads, relu or exact (erf) gelu, LayerNorm ("LN") or none,
// attn_only. It reads the JSON that ModelExport (C#) writes and computes in float64 from the float32 weights.
//
// Activations are tensors { shape, data } without the batch dimension (one sequence at a time):
//   hook_embed, hook_pos_embed, blocks.L.hook_resid_pre, blocks.L.hook_resid_mid, blocks.L.hook_mlp_out,
//   blocks.L.hook_attn_out, blocks.L.hook_resid_post                              [pos, d_model]
//   blocks.L.ln1.hook_scale, blocks.L.ln2.hook_scale, ln_final.hook_scale         [pos, 1]
//   blocks.L.ln1.hook_normalized, ...                                             [pos, d_model]
//   blocks.L.attn.hook_q / hook_k / hook_v / hook_z                               [pos, head, d_head]
//   blocks.L.attn.hook_attn_scores / hook_pattern                                 [head, q_pos, k_pos]
//   blocks.L.attn.hook_result (always computed here: the per-head output, no b_O) [pos, head, d_model]
//   blocks.L.mlp.hook_pre / hook_post                                              [pos, d_mlp]
// A hook is a function (activation, name) that edits the activation in place or returns a replacement.
(function (root) {
  "use strict";
  const W = root.TrigramLensWeb = root.TrigramLensWeb || {};

  class HookedTransformer {
    /** @param exported { config, parameters, weights } as written by ModelExport.Export */
    constructor(exported) {
      const c = exported.config;
      this.cfg = {
        n_layers: c.n_layers, d_model: c.d_model, n_ctx: c.n_ctx, d_head: c.d_head, n_heads: c.n_heads,
        d_mlp: c.attn_only ? 0 : c.d_mlp, d_vocab: c.d_vocab, d_vocab_out: c.d_vocab_out || c.d_vocab,
        act_fn: String(c.act_fn).toLowerCase(), normalization_type: c.normalization_type === "LN" ? "LN" : "none",
        attn_only: !!c.attn_only, eps: c.eps === undefined ? 1e-5 : c.eps,
      };
      if (this.cfg.act_fn !== "relu" && this.cfg.act_fn !== "gelu") throw new Error("unsupported act_fn " + c.act_fn);
      this.parameters = exported.parameters;
      this.w = {};
      for (const name of Object.keys(exported.weights)) this.w[name] = W.decodeTensor(exported.weights[name]);
      for (const name of this.requiredWeights())
        if (!this.w[name]) throw new Error("the exported model lacks " + name);
    }

    requiredWeights() {
      const c = this.cfg, names = ["embed.W_E", "pos_embed.W_pos", "unembed.W_U", "unembed.b_U"];
      for (let l = 0; l < c.n_layers; l++) {
        const p = "blocks." + l + ".";
        for (const n of ["W_Q", "W_K", "W_V", "W_O", "b_Q", "b_K", "b_V", "b_O"]) names.push(p + "attn." + n);
        if (!c.attn_only) for (const n of ["W_in", "b_in", "W_out", "b_out"]) names.push(p + "mlp." + n);
        if (c.normalization_type === "LN") {
          names.push(p + "ln1.w", p + "ln1.b");
          if (!c.attn_only) names.push(p + "ln2.w", p + "ln2.b");
        }
      }
      if (c.normalization_type === "LN") names.push("ln_final.w", "ln_final.b");
      return names;
    }

    checkTokens(tokens) {
      if (!Array.isArray(tokens) && !ArrayBuffer.isView(tokens)) throw new Error("tokens must be an array of token ids");
      if (tokens.length < 1) throw new Error("a sequence needs at least one token");
      if (tokens.length > this.cfg.n_ctx) throw new Error("sequence length " + tokens.length + " exceeds n_ctx = " + this.cfg.n_ctx);
      for (const t of tokens)
        if (!Number.isInteger(Number(t)) || t < 0 || t >= this.cfg.d_vocab)
          throw new Error("token " + t + " is outside [0, " + this.cfg.d_vocab + ")");
    }

    /**
     * Runs one sequence. options.hooks: { hookName: fn(activation, name) }; options.cache: false to keep no
     * activations (faster). Returns { logits: tensor [pos, d_vocab_out], cache: { hookName: tensor } }.
     */
    run(tokens, options) {
      options = options || {};
      this.checkTokens(tokens);
      const hooks = options.hooks || {}, keep = options.cache !== false;
      const cache = {};
      const hook = (name, t) => {
        const f = hooks[name];
        if (f) { const r = f(t, name); if (r) t = r; }
        if (keep) cache[name] = t;
        return t;
      };
      const c = this.cfg, w = this.w, T = tokens.length, D = c.d_model;

      const embed = W.zeros([T, D]), posEmbed = W.zeros([T, D]);
      for (let p = 0; p < T; p++)
        for (let i = 0; i < D; i++) {
          embed.data[p * D + i] = w["embed.W_E"].data[tokens[p] * D + i];
          posEmbed.data[p * D + i] = w["pos_embed.W_pos"].data[p * D + i];
        }
      const e = hook("hook_embed", embed), pe = hook("hook_pos_embed", posEmbed);
      let resid = W.zeros([T, D]);
      for (let i = 0; i < T * D; i++) resid.data[i] = e.data[i] + pe.data[i];

      for (let l = 0; l < c.n_layers; l++) {
        const p = "blocks." + l + ".";
        const residPre = hook(p + "hook_resid_pre", resid);
        const x = c.normalization_type === "LN" ? this.layerNorm(residPre, p + "ln1", hook) : residPre;
        const attnOut = hook(p + "hook_attn_out", this.attention(x, l, hook));
        if (c.attn_only) {
          resid = hook(p + "hook_resid_post", add(residPre, attnOut));
          continue;
        }
        const residMid = hook(p + "hook_resid_mid", add(residPre, attnOut));
        const x2 = c.normalization_type === "LN" ? this.layerNorm(residMid, p + "ln2", hook) : residMid;
        const mlpOut = hook(p + "hook_mlp_out", this.mlp(x2, l, hook));
        resid = hook(p + "hook_resid_post", add(residMid, mlpOut));
      }
      if (c.normalization_type === "LN") resid = this.layerNorm(resid, "ln_final", hook);
      const logits = linear(resid, w["unembed.W_U"], w["unembed.b_U"]);
      return { logits: logits, cache: cache };
    }

    /** Logits as plain nested arrays [pos][d_vocab_out]. */
    forward(tokens, options) {
      return W.toNested(this.run(tokens, Object.assign({ cache: false }, options || {})).logits);
    }

    layerNorm(x, prefix, hook) {
      const T = x.shape[0], D = x.shape[1], wt = this.w[prefix + ".w"].data, b = this.w[prefix + ".b"].data;
      const centred = W.zeros([T, D]), scale = W.zeros([T, 1]);
      for (let p = 0; p < T; p++) {
        let mean = 0;
        for (let i = 0; i < D; i++) mean += x.data[p * D + i];
        mean /= D;
        let sq = 0;
        for (let i = 0; i < D; i++) { const v = x.data[p * D + i] - mean; centred.data[p * D + i] = v; sq += v * v; }
        scale.data[p] = Math.sqrt(sq / D + this.cfg.eps);
      }
      const s = hook(prefix + ".hook_scale", scale);
      const out = W.zeros([T, D]);
      for (let p = 0; p < T; p++)
        for (let i = 0; i < D; i++) out.data[p * D + i] = centred.data[p * D + i] / s.data[p] * wt[i] + b[i];
      return hook(prefix + ".hook_normalized", out);
    }

    attention(x, l, hook) {
      const c = this.cfg, w = this.w, T = x.shape[0], D = c.d_model, H = c.n_heads, dh = c.d_head;
      const p = "blocks." + l + ".attn.";
      const project = (name, bias) => {
        const Wm = w[p + name].data, bv = w[p + bias].data, out = W.zeros([T, H, dh]);
        for (let t = 0; t < T; t++)
          for (let h = 0; h < H; h++)
            for (let j = 0; j < dh; j++) {
              let s = bv[h * dh + j];
              for (let i = 0; i < D; i++) s += x.data[t * D + i] * Wm[(h * D + i) * dh + j];
              out.data[(t * H + h) * dh + j] = s;
            }
        return out;
      };
      const q = hook(p + "hook_q", project("W_Q", "b_Q"));
      const k = hook(p + "hook_k", project("W_K", "b_K"));
      const v = hook(p + "hook_v", project("W_V", "b_V"));
      const scale = Math.sqrt(dh);
      const scores = W.zeros([H, T, T]);
      for (let h = 0; h < H; h++)
        for (let qi = 0; qi < T; qi++)
          for (let ki = 0; ki < T; ki++) {
            let s = -Infinity;
            if (ki <= qi) {
              s = 0;
              for (let j = 0; j < dh; j++) s += q.data[(qi * H + h) * dh + j] * k.data[(ki * H + h) * dh + j];
              s /= scale;
            }
            scores.data[(h * T + qi) * T + ki] = s;
          }
      const sc = hook(p + "hook_attn_scores", scores);
      const pattern = W.clone(sc);
      for (let r = 0; r < H * T; r++) W.softmaxInPlace(pattern.data, r * T, T);
      const pat = hook(p + "hook_pattern", pattern);
      const z = W.zeros([T, H, dh]);
      for (let h = 0; h < H; h++)
        for (let qi = 0; qi < T; qi++)
          for (let ki = 0; ki < T; ki++) {
            const a = pat.data[(h * T + qi) * T + ki];
            if (a === 0) continue;
            for (let j = 0; j < dh; j++) z.data[(qi * H + h) * dh + j] += a * v.data[(ki * H + h) * dh + j];
          }
      const zz = hook(p + "hook_z", z);
      const WO = w[p + "W_O"].data, result = W.zeros([T, H, D]);
      for (let t = 0; t < T; t++)
        for (let h = 0; h < H; h++)
          for (let i = 0; i < D; i++) {
            let s = 0;
            for (let j = 0; j < dh; j++) s += zz.data[(t * H + h) * dh + j] * WO[(h * dh + j) * D + i];
            result.data[(t * H + h) * D + i] = s;
          }
      const res = hook(p + "hook_result", result);
      const bO = w[p + "b_O"].data, out = W.zeros([T, D]);
      for (let t = 0; t < T; t++)
        for (let i = 0; i < D; i++) {
          let s = bO[i];
          for (let h = 0; h < H; h++) s += res.data[(t * H + h) * D + i];
          out.data[t * D + i] = s;
        }
      return out;
    }

    mlp(x, l, hook) {
      const w = this.w, p = "blocks." + l + ".mlp.";
      const pre = hook(p + "hook_pre", linear(x, w[p + "W_in"], w[p + "b_in"]));
      const post = W.zeros(pre.shape);
      const gelu = this.cfg.act_fn === "gelu";
      for (let i = 0; i < pre.data.length; i++) {
        const v = pre.data[i];
        post.data[i] = gelu ? 0.5 * v * (1 + W.erf(v * Math.SQRT1_2)) : (v > 0 ? v : 0);
      }
      const po = hook(p + "hook_post", post);
      return linear(po, w[p + "W_out"], w[p + "b_out"]);
    }

    /**
     * The residual stream at one position as the sum of what wrote it: token and positional embedding, each
     * head's result, each layer's b_O, each MLP's output. Each part's direct effect on a token's logit (through
     * ln_final's scale at that position when the model has LayerNorm; the constant rest is "bias") adds up to the logit.
     * @returns [{ name, vector (Float64Array d_model), norm, logit }] plus the bias part
     */
    decompose(run, pos, token) {
      const c = this.cfg, D = c.d_model, H = c.n_heads, V = c.d_vocab_out, cache = run.cache;
      const parts = [];
      const row = (t, offset) => Float64Array.from(t.data.subarray(offset, offset + D));
      parts.push({ name: "embed", vector: row(cache["hook_embed"], pos * D) });
      parts.push({ name: "pos_embed", vector: row(cache["hook_pos_embed"], pos * D) });
      for (let l = 0; l < c.n_layers; l++) {
        const result = cache["blocks." + l + ".attn.hook_result"];
        for (let h = 0; h < H; h++) parts.push({ name: "L" + l + "H" + h, vector: row(result, (pos * H + h) * D) });
        parts.push({ name: "b_O L" + l, vector: Float64Array.from(this.w["blocks." + l + ".attn.b_O"].data) });
        if (!c.attn_only) parts.push({ name: "MLP L" + l, vector: row(cache["blocks." + l + ".hook_mlp_out"], pos * D) });
      }
      const WU = this.w["unembed.W_U"].data;
      let scale = 1, lnW = null, bias = this.w["unembed.b_U"].data[token];
      if (c.normalization_type === "LN") {
        scale = cache["ln_final.hook_scale"].data[pos];
        lnW = this.w["ln_final.w"].data;
        const lnB = this.w["ln_final.b"].data;
        for (let i = 0; i < D; i++) bias += lnB[i] * WU[i * V + token];
      }
      for (const part of parts) {
        let mean = 0, norm = 0, logit = 0;
        if (lnW) { for (let i = 0; i < D; i++) mean += part.vector[i]; mean /= D; }
        for (let i = 0; i < D; i++) {
          norm += part.vector[i] * part.vector[i];
          logit += (part.vector[i] - mean) / scale * (lnW ? lnW[i] : 1) * WU[i * V + token];
        }
        part.norm = Math.sqrt(norm);
        part.logit = logit;
      }
      parts.push({ name: "bias", vector: null, norm: 0, logit: bias });
      return parts;
    }
  }

  function add(a, b) {
    const out = W.zeros(a.shape);
    for (let i = 0; i < a.data.length; i++) out.data[i] = a.data[i] + b.data[i];
    return out;
  }

  /** x [T, in] @ Wm [in, out] + b [out] */
  function linear(x, Wm, b) {
    const T = x.shape[0], nIn = Wm.shape[0], nOut = Wm.shape[1], out = W.zeros([T, nOut]);
    for (let t = 0; t < T; t++) {
      const o = t * nOut;
      for (let j = 0; j < nOut; j++) out.data[o + j] = b.data[j];
      for (let i = 0; i < nIn; i++) {
        const xv = x.data[t * nIn + i];
        if (xv === 0) continue;
        const r = i * nOut;
        for (let j = 0; j < nOut; j++) out.data[o + j] += xv * Wm.data[r + j];
      }
    }
    return out;
  }

  /**
   * Ready-made hooks, as the C# Ablation: zero or mean-replace a whole activation, one head's slice of a
   * [pos, head, d] activation (hook_z, hook_result), or one unit of a [pos, n] activation (hook_post neurons).
   * Means are the tensors the page embeds (over the analysis set, every position but the last).
   */
  const ablation = {
    zero: () => act => { act.data.fill(0); },
    mean: mean => act => {
      const n = mean.length;
      for (let i = 0; i < act.data.length; i++) act.data[i] = mean[i % n];
    },
    /** act [pos, head, d]; mean, when given, [head * d] */
    head: (head, mean) => act => {
      const H = act.shape[1], d = act.shape[2];
      for (let t = 0; t < act.shape[0]; t++)
        for (let j = 0; j < d; j++) act.data[(t * H + head) * d + j] = mean ? mean[head * d + j] : 0;
    },
    /** act [pos, n]; unit indices, each replaced by zero or mean[unit] */
    units: (units, mean) => act => {
      const n = act.shape[1];
      for (let t = 0; t < act.shape[0]; t++) for (const u of units) act.data[t * n + u] = mean ? mean[u] : 0;
    },
    /** Several hooks on one hook point, applied in order. */
    chain: fns => act => { for (const f of fns) { const r = f(act); if (r) act = r; } return act; },
  };

  Object.assign(W, { HookedTransformer, ablation, linear });
})(typeof window !== "undefined" ? window : globalThis);
