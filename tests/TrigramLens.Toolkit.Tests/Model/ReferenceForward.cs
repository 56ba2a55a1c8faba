using TrigramLens.Model;
using TrigramLens.Testing;
using static TorchSharp.torch;

namespace TrigramLens.Tests.Model;

/// <summary>
/// A deliberately plain forward pass straight from the state dict: per head, per layer, explicit loops and
/// no shared code with the model, to cross-check <see cref="HookedTransformer"/>.
/// </summary>
static class ReferenceForward
{
    public static Tensor Logits(HookedTransformerConfig cfg, IReadOnlyDictionary<string, Tensor> sd, Tensor tokens)
    {
        using var _ = no_grad();
        long batch = tokens.shape[0], pos = tokens.shape[1];
        var x = Held.Add(sd["embed.W_E"].index_select(0, tokens.flatten()).view(batch, pos, cfg.d_model), sd["pos_embed.W_pos"].narrow(0, 0, pos));
        for (int l = 0; l < cfg.n_layers; l++)
        {
            string p = $"blocks.{l}.";
            var normed = cfg.normalization_type == NormalizationType.LN ? Ln(x, sd[p + "ln1.w"], sd[p + "ln1.b"], cfg.eps) : x;
            var attnOut = sd[p + "attn.b_O"].expand(batch, pos, cfg.d_model).clone();
            for (int h = 0; h < cfg.n_heads; h++)
            {
                var q = Held.Add(matmul(normed, sd[p + "attn.W_Q"][h]), sd[p + "attn.b_Q"][h]);
                var k = Held.Add(matmul(normed, sd[p + "attn.W_K"][h]), sd[p + "attn.b_K"][h]);
                var v = Held.Add(matmul(normed, sd[p + "attn.W_V"][h]), sd[p + "attn.b_V"][h]);
                var scores = Held.Div(matmul(q, k.transpose(1, 2)), Math.Sqrt(cfg.d_head));
                var future = ones(pos, pos).triu(1).to(ScalarType.Bool);
                var pattern = Held.Fill(scores, future, double.NegativeInfinity).softmax(-1);
                attnOut = Held.Add(attnOut, matmul(matmul(pattern, v), sd[p + "attn.W_O"][h]));
            }
            x = Held.Add(x, attnOut);
            if (cfg.attn_only) continue;
            var mlpIn = cfg.normalization_type == NormalizationType.LN ? Ln(x, sd[p + "ln2.w"], sd[p + "ln2.b"], cfg.eps) : x;
            var pre = Held.Add(matmul(mlpIn, sd[p + "mlp.W_in"]), sd[p + "mlp.b_in"]);
            var post = cfg.act_fn == ActivationFunction.Relu ? pre.relu() : Held.Mul(pre, 0.5) * Held.Add(special.erf(Held.Div(pre, Math.Sqrt(2))), 1.0);
            x = Held.Add(Held.Add(x, matmul(post, sd[p + "mlp.W_out"])), sd[p + "mlp.b_out"]);
        }
        if (cfg.normalization_type == NormalizationType.LN) x = Ln(x, sd["ln_final.w"], sd["ln_final.b"], cfg.eps);
        return Held.Add(matmul(x, sd["unembed.W_U"]), sd["unembed.b_U"]);
    }

    static Tensor Ln(Tensor x, Tensor w, Tensor b, double eps)
    {
        var centred = x - x.mean([-1], keepdim: true);
        var variance = (centred * centred).mean([-1], keepdim: true);
        return Held.Add(centred / Held.Add(variance, eps).sqrt() * w, b);
    }
}
