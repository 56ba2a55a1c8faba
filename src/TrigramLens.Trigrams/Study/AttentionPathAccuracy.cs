using TrigramLens.Model;
using TrigramLens.Trigrams.Data;
using TrigramLens.Trigrams.Evaluation;
using static TorchSharp.torch;
using static TrigramLens.Runtime.HeldScalars;

namespace TrigramLens.Trigrams.Study;

/// <summary>Direct logit attribution of the attention path: trigram accuracy of <c>hook_resid_mid</c> unembedded directly.</summary>
public sealed record AttentionPathResult(TrigramAccuracy ResidMid, TrigramAccuracy ResidMidPlusMeanMlp);

public static class AttentionPathAccuracy
{
    /// <summary>
    /// Unembeds <c>resid_mid</c> at position 1 of each <c>[a, b]</c>, skipping the MLP; then again with the MLP
    /// mean-ablated, i.e. with <paramref name="meanMlpOut"/> <c>[d_model]</c> added before unembedding.
    /// </summary>
    public static AttentionPathResult Evaluate(HookedTransformer model, TrigramSet trigrams, Tensor meanMlpOut)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var (_, cache) = model.RunWithCache(trigrams.Prefixes(), "blocks.0.hook_resid_mid");
        using (cache)
        {
            var residMid = cache["resid_mid", 0][.., 1];                                   // [n, d_model]
            return new AttentionPathResult(
                TrigramAccuracy.FromLogits(trigrams, model.unembed.call(residMid)),
                TrigramAccuracy.FromLogits(trigrams, model.unembed.call(residMid.add(meanMlpOut, One))));
        }
    }

    /// <summary>
    /// The mean MLP output over a cache's every row and every position but the last (the published study's choice:
    /// the last position predicts nothing in training). <paramref name="mlpOut"/> is <c>[batch, pos, d_model]</c>.
    /// </summary>
    public static Tensor MeanMlpOut(Tensor mlpOut)
    {
        using var _ = no_grad();
        return mlpOut[.., ..^1].mean([0, 1]);
    }
}
