using static TorchSharp.torch;

namespace TrigramLens.Analysis;

/// <summary>
/// Where position alone points a head's queries, from its positional-only scores (<see cref="QkScores.Positional"/>):
/// for each query position q ≥ 1, the key position among 0..q (the keys it can attend to) with the highest score.
/// </summary>
/// <param name="PrefersCurrent">queries whose top-scoring key is their own position</param>
/// <param name="PrefersPrevious">queries whose top-scoring key is the previous position</param>
/// <param name="Queries">queries considered: positions 1..n−1 (position 0 has only itself)</param>
/// <param name="CurrentOverPrevious">mean over those queries of score(q, q) − score(q, q − 1): how much position alone
/// favours staying over looking one back</param>
public sealed record PositionalPreference(int PrefersCurrent, int PrefersPrevious, int Queries, double CurrentOverPrevious)
{
    /// <param name="scores">[n, n] query position × key position; entries above the diagonal are ignored</param>
    public static PositionalPreference Of(Tensor scores)
    {
        if (scores.dim() != 2 || scores.shape[0] != scores.shape[1] || scores.shape[0] < 2)
            throw new ArgumentException($"positional scores must be a square [n, n] matrix with n ≥ 2; got [{string.Join(", ", scores.shape)}]");
        int n = (int)scores.shape[0];
        double[] s = scores.to(ScalarType.Float64).contiguous().data<double>().ToArray();
        int current = 0, previous = 0;
        double margin = 0;
        for (int q = 1; q < n; q++)
        {
            int best = 0;
            for (int k = 1; k <= q; k++)
                if (s[q * n + k] > s[q * n + best]) best = k;
            if (best == q) current++;
            else if (best == q - 1) previous++;
            margin += s[q * n + q] - s[q * n + q - 1];
        }
        return new PositionalPreference(current, previous, n - 1, margin / (n - 1));
    }
}
