using TrigramLens.Analysis;
using TrigramLens.Model;
using TrigramLens.Trigrams.Data;
using static TorchSharp.torch;

namespace TrigramLens.Trigrams.Study;

/// <summary>A true prefix <c>(a, b)</c> whose token-pair attention stays below the hot-spot threshold.</summary>
public sealed record MissedPair(int A, int B, double Attention, int HottestKey);

/// <summary>How well the head's token-only attention preferences pick out the true trigram prefixes.</summary>
/// <param name="Vocabulary">tokens in the map (queries and keys are <c>0..Vocabulary−1</c>)</param>
/// <param name="RowsHottestKeyIsPrefix">of the second tokens <c>b</c> of trigrams (one row each), how many have a true
/// first token <c>a</c> of some <c>(a, b, ·)</c> as their hottest key</param>
/// <param name="Threshold">attention above which a (query, key) cell counts as a hot spot</param>
/// <param name="PrefixesInRowTop">threshold-free: prefixes <c>(a, b)</c> whose <c>a</c> is among the <c>n_b</c> hottest keys of
/// row <c>b</c>, where <c>n_b</c> is the number of trigrams with second token <c>b</c></param>
public sealed record TokenPairAgreementResult(
    int Vocabulary, int RowsHottestKeyIsPrefix, int Rows, double Threshold,
    int HotSpots, int HotSpotsThatArePrefixes, int Prefixes, int PrefixesThatAreHot, int PrefixesInRowTop,
    IReadOnlyList<MissedPair> Missed)
{
    public double Precision => HotSpots == 0 ? 0 : (double)HotSpotsThatArePrefixes / HotSpots;
    public double Recall => Prefixes == 0 ? 0 : (double)PrefixesThatAreHot / Prefixes;
}

public static class TokenPairAgreement
{
    /// <summary>
    /// The token-pair map over the whole vocabulary: query token × key token, token-only scores (no position), softmax
    /// over keys. Row <c>b</c> is where token <c>b</c>, as a query, would look: its hot spots should be the <c>a</c> of
    /// every trigram <c>(a, b, ·)</c>. Returns <c>[d_vocab, d_vocab]</c>.
    /// </summary>
    public static Tensor Map(HookedTransformer model, int head = 0) =>
        QkScores.TokenPairMap(model, tensor(Enumerable.Range(0, model.Cfg.d_vocab).Select(t => (long)t).ToArray()), 0, head);

    /// <summary>
    /// Builds the token-pair map over the whole vocabulary (query token × key token, token-only scores, softmax over
    /// keys) and compares its hot spots with the trigram prefixes: query = <c>trigram[1]</c>, key = <c>trigram[0]</c>.
    /// </summary>
    public static TokenPairAgreementResult Evaluate(HookedTransformer model, TrigramSet trigrams, double threshold, int head = 0)
    {
        using var scope = NewDisposeScope();
        int vocab = model.Cfg.d_vocab;
        var map = Map(model, head);                                                                  // [query, key]
        float[] cells = map.contiguous().data<float>().ToArray();
        double At(int query, int key) => cells[query * vocab + key];
        int Hottest(int query) => Enumerable.Range(0, vocab).MaxBy(k => At(query, k));

        var prefixes = trigrams.Trigrams.Select(t => (t.A, t.B)).ToHashSet();
        var rows = trigrams.Trigrams.Select(t => t.B).Distinct().Order().ToList();
        int hottestIsPrefix = rows.Count(b => prefixes.Contains((Hottest(b), b)));

        int hotSpots = 0, hotPrefixes = 0;
        for (int b = 0; b < vocab; b++)
            for (int a = 0; a < vocab; a++)
                if (At(b, a) >= threshold)
                {
                    hotSpots++;
                    if (prefixes.Contains((a, b))) hotPrefixes++;
                }
        int inRowTop = trigrams.Trigrams.GroupBy(t => t.B).Sum(row =>
        {
            var top = Enumerable.Range(0, vocab).OrderByDescending(k => At(row.Key, k)).Take(row.Count()).ToHashSet();
            return row.Count(t => top.Contains(t.A));
        });
        var missed = trigrams.Trigrams
            .Where(t => At(t.B, t.A) < threshold)
            .OrderBy(t => t.B).ThenBy(t => t.A)
            .Select(t => new MissedPair(t.A, t.B, At(t.B, t.A), Hottest(t.B)))
            .ToList();
        return new TokenPairAgreementResult(vocab, hottestIsPrefix, rows.Count, threshold,
            hotSpots, hotPrefixes, prefixes.Count, prefixes.Count - missed.Count, inRowTop, missed);
    }
}
