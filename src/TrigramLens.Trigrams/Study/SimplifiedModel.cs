using TrigramLens.Model;
using TrigramLens.Trigrams.Data;
using TrigramLens.Trigrams.Evaluation;
using static TorchSharp.torch;
using static TrigramLens.Runtime.HeldScalars;

namespace TrigramLens.Trigrams.Study;

/// <summary>A trigram the simplified model misses, with the attention the full model pays at position 1.</summary>
public sealed record SimplifiedMiss(int A, int B, int C, int Predicted, int FullModelPredicted, double AttentionToPrevious, double AttentionToCurrent);

/// <summary>The simplified model's accuracy beside the full model's, and every miss.</summary>
public sealed record SimplifiedModelResult(TrigramAccuracy Simplified, TrigramAccuracy FullModel, IReadOnlyList<SimplifiedMiss> Misses);

/// <summary>
/// The study's simplified model of a 1-layer model on <c>[a, b]</c>: position 1 attends fully to position 0, so the
/// residual is the first token's OV output plus the second token's embedding, then the MLP and unembedding:
/// <c>resid = (e0 W_V + b_V) W_O + b_O + e1</c>, prediction <c>argmax unembed(mlp(resid) + resid)</c>.
/// </summary>
public static class SimplifiedModel
{
    /// <param name="prefixes">[n, 2] int64</param>
    /// <returns>[n, d_vocab_out] logits</returns>
    public static Tensor Logits(HookedTransformer model, Tensor prefixes, int head = 0)
    {
        using var _ = no_grad();
        var attn = model.blocks[0].attn;
        var e0 = model.W_E.index_select(0, prefixes[.., 0]).add_(model.W_pos[0], One);     // [n, d_model]
        var e1 = model.W_E.index_select(0, prefixes[.., 1]).add_(model.W_pos[1], One);
        var ov = matmul(matmul(e0, attn.W_V[head]).add_(attn.b_V[head], One), attn.W_O[head]).add_(attn.b_O, One);
        var resid = ov.add_(e1, One);
        var mlp = model.blocks[0].mlp ?? throw new InvalidOperationException("the simplified model needs an MLP");
        return model.unembed.call(mlp.call(resid).add_(resid, One));
    }

    public static SimplifiedModelResult Evaluate(HookedTransformer model, TrigramSet trigrams, int head = 0)
    {
        using var scope = NewDisposeScope();
        var prefixes = trigrams.Prefixes();
        var simplified = TrigramAccuracy.FromLogits(trigrams, Logits(model, prefixes, head));

        using var _ = no_grad();
        var (logits, cache) = model.RunWithCache(prefixes, "blocks.0.attn.hook_pattern");
        using (cache)
        {
            var full = TrigramAccuracy.FromLogits(trigrams, logits[.., 1]);
            var fullPredicted = logits[.., 1].argmax(-1).data<long>().ToArray();
            var split = cache["pattern", 0][.., head, 1, ..2].contiguous().data<float>().ToArray();   // [n, 2]: (pos 0, pos 1)
            var index = trigrams.Trigrams.Select((t, i) => (t, i)).ToDictionary(x => x.t, x => x.i);
            var misses = simplified.Misses.Select(m =>
            {
                int i = index[new Trigram(m.A, m.B, m.C)];
                return new SimplifiedMiss(m.A, m.B, m.C, m.Predicted, (int)fullPredicted[i], split[2 * i], split[2 * i + 1]);
            }).ToList();
            return new SimplifiedModelResult(simplified, full, misses);
        }
    }
}
