using TrigramLens.Analysis;
using TrigramLens.Trigrams.Study;
using static TorchSharp.torch;

namespace TrigramLens.Trigrams.Tests.Study;

public class DistributionTests
{
    [Theory]
    [InlineData(new[] { 0.3, 0.95, 0.1, 0.6, 0.91 })]              // odd count
    [InlineData(new[] { 0.3, 0.95, 0.1, 0.6, 0.91, 0.2 })]         // even: the lower of the two middle values
    [InlineData(new[] { 0.5, 0.9 })]                                // the thresholds themselves count on neither side
    public void Summary_is_the_mean_lower_median_and_shares_beyond_the_thresholds(double[] values)
    {
        var d = Distribution.Of(values);
        Assert.Equal(values.Length, d.N);
        Assert.Equal(values.Sum() / values.Length, d.Mean, 12);
        // A second way to the lower median: torch.median's kthvalue, as the toolkit's Median computes it.
        Assert.Equal(Median.Lower(tensor(values), 0).item<double>(), d.Median, 12);
        Assert.Equal(values.Count(v => v > 0.9) / (double)values.Length, d.FractionAbove09, 12);
        Assert.Equal(values.Count(v => v < 0.5) / (double)values.Length, d.FractionBelow05, 12);
    }

    [Fact]
    public void The_even_median_is_the_lower_middle_value_and_shares_are_fractions()
    {
        var d = Distribution.Of([0.2, 0.4, 0.6, 0.95]);
        Assert.Equal(0.4, d.Median);                   // not 0.5 (the mean of the middle two), not 0.6 (the upper)
        Assert.Equal(0.25, d.FractionAbove09);
        Assert.Equal(0.5, d.FractionBelow05);
    }

    [Fact]
    public void An_empty_sample_has_no_statistics()
    {
        var d = Distribution.Of([]);
        Assert.Equal(0, d.N);
        Assert.True(double.IsNaN(d.Median) && double.IsNaN(d.Mean));
    }
}
