using TorchSharp;
using TrigramLens.Model;
using TrigramLens.Runtime;
using TrigramLens.Transcoders;
using TrigramLens.Trigrams.Data;
using static TorchSharp.torch;

namespace TrigramLens.Trigrams.Transcoders;

/// <summary>A feature (or neuron) dedicated to one trigram, and the share of its activation mass on that trigram's prefix.</summary>
public sealed record DedicatedFeature(int Feature, int A, int B, int C, double Share);

/// <summary>
/// The criterion of the headline: a feature is <b>dedicated</b> to trigram <c>(a, b, c)</c> when at least
/// <see cref="DefaultShare"/> (90 %) of its activation mass over the analysis set lies on positions whose (previous,
/// current) tokens are <c>(a, b)</c>, and its top logit-effect token is <c>c</c>. A trigram is <b>owned</b> when some
/// feature is dedicated to it.
/// </summary>
public static class DedicatedFeatures
{
    public const double DefaultShare = 0.9;

    /// <param name="masses">every feature's mass by token pair over the analysis set</param>
    /// <param name="topLogitTokens">each feature's token of largest logit effect, by feature index</param>
    public static IReadOnlyList<DedicatedFeature> Find(IEnumerable<FeaturePairMass> masses, IReadOnlyList<int> topLogitTokens,
        TrigramSet trigrams, double share = DefaultShare)
    {
        var found = new List<DedicatedFeature>();
        foreach (var m in masses)
            if (Dedication(m, topLogitTokens[m.Feature], trigrams, share) is { } d) found.Add(d);
        return found;
    }

    /// <summary>The trigram <paramref name="mass"/>'s feature is dedicated to, or null.</summary>
    public static DedicatedFeature? Dedication(FeaturePairMass mass, int topLogitToken, TrigramSet trigrams, double share = DefaultShare)
    {
        if (mass.Total <= 0 || mass.Pairs.Count == 0 || mass.TopShare < share) return null;
        var top = mass.Pairs[0];
        if (top.Previous < 0 || trigrams.Completion(top.Previous, top.Current) is not int c || c != topLogitToken) return null;
        return new DedicatedFeature(mass.Feature, top.Previous, top.Current, c, mass.TopShare);
    }

    /// <summary>How many distinct trigrams the dedicated features cover.</summary>
    public static int TrigramsOwned(IEnumerable<DedicatedFeature> dedicated) => dedicated.Select(d => (d.A, d.B)).Distinct().Count();

    /// <summary>
    /// The most trigrams any dictionary can own when one unit alone fires on a prefix (an L0 of about one): that unit's
    /// decoder row then writes the MLP's output there minus what is written everywhere, so it can have the completion as
    /// its top logit effect only for the trigrams whose mean <paramref name="mlpOut"/> on the prefix's positions, minus
    /// the mean over every position, does. Other choices of "what is written everywhere" give nearly the same count and a
    /// skip path far less (docs/transcoders.md, "What limits the headline").
    /// </summary>
    /// <param name="tokens">[rows, pos]</param>
    /// <param name="mlpOut">the MLP's output on them [rows, pos, d_model]</param>
    public static int OwnableAtMost(HookedTransformer model, Tensor tokens, Tensor mlpOut, TrigramSet trigrams)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        int v = trigrams.DVocab, d = (int)mlpOut.shape[2];
        using var vocab = v.ToScalar();
        var keys = tokens[.., ..^1].mul(vocab).add_(tokens[.., 1..], HeldScalars.One).reshape(-1);   // a * d_vocab + b per position ≥ 1
        var later = mlpOut[.., 1..].reshape(-1, d).to(ScalarType.Float64);
        var sums = zeros(v * v, d, dtype: ScalarType.Float64).index_add_(0, keys, later, HeldScalars.One);    // [pair, d_model]
        var counts = zeros(v * v, dtype: ScalarType.Float64).index_add_(0, keys, ones(keys.shape[0], dtype: ScalarType.Float64), HeldScalars.One);
        var prefixKeys = tensor(trigrams.Trigrams.Select(t => (long)(t.A * v + t.B)).ToArray());
        var mean = mlpOut.reshape(-1, d).to(ScalarType.Float64).mean([0]);
        var present = counts.index_select(0, prefixKeys);                                              // [trigrams]
        var remainder = sums.index_select(0, prefixKeys).div(present.clamp_min(HeldScalars.One).unsqueeze(1)).add_(mean.neg(), HeldScalars.One);
        var top = remainder.matmul(model.W_U.detach().to(ScalarType.Float64)).argmax(1);               // [trigrams]
        var hits = top.eq(trigrams.Completions()).logical_and(present.gt(HeldScalars.Zero));
        return (int)hits.sum().item<long>();
    }
}
