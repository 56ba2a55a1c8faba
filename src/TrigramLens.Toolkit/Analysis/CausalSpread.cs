using static TorchSharp.torch;

namespace TrigramLens.Analysis;

/// <summary>
/// The spread of attention scores a head can actually use: the standard deviation (unbiased, as <c>torch.std</c>) of the
/// finite entries on and below the diagonal of a query × key score matrix, so masked (−∞) and future keys do not count.
/// </summary>
public static class CausalSpread
{
    /// <param name="scores">[n, n] query × key</param>
    public static double Of(Tensor scores)
    {
        if (scores.dim() != 2 || scores.shape[0] != scores.shape[1])
            throw new ArgumentException($"scores must be a square [n, n] matrix; got [{string.Join(", ", scores.shape)}]");
        using var scope = NewDisposeScope();
        long n = scores.shape[0];
        var causal = scores.masked_select(ones(n, n, ScalarType.Bool).tril());
        var finite = causal.masked_select(causal.isfinite());
        if (finite.numel() < 2) throw new ArgumentException("the causal half needs at least two finite scores for a spread");
        return finite.to(ScalarType.Float64).std().item<double>();
    }
}
