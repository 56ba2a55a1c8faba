using TrigramLens.Analysis;
using static TorchSharp.torch;

namespace TrigramLens.Tests.Analysis;

public class CausalSpreadTests
{
    [Fact]
    public void The_spread_is_the_sample_standard_deviation_of_the_finite_entries_on_and_below_the_diagonal()
    {
        using var g = new Generator(4);
        var scores = randn([7, 7], generator: g, dtype: ScalarType.Float64);
        scores[3, 1] = tensor(double.NegativeInfinity);   // a masked score does not count either
        double[] s = scores.data<double>().ToArray();
        var kept = new List<double>();
        for (int q = 0; q < 7; q++)
            for (int k = 0; k <= q; k++)
                if (double.IsFinite(s[q * 7 + k])) kept.Add(s[q * 7 + k]);
        double mean = kept.Average();
        double expected = Math.Sqrt(kept.Sum(x => (x - mean) * (x - mean)) / (kept.Count - 1));
        Assert.Equal(27, kept.Count);
        Assert.Equal(expected, CausalSpread.Of(scores), 12);
    }

    [Fact]
    public void Too_few_finite_scores_are_refused() =>
        Assert.Throws<ArgumentException>(() => CausalSpread.Of(ones(1, 1)));
}
