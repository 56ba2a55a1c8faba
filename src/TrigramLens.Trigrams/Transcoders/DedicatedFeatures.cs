using TrigramLens.Transcoders;
using TrigramLens.Trigrams.Data;

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
}
