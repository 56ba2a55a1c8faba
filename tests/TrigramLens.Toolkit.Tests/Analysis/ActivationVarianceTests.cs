using TrigramLens.Analysis;
using static TorchSharp.torch;

namespace TrigramLens.Tests.Analysis;

public class ActivationVarianceTests
{
    [Fact]
    public void Per_dimension_variance_is_the_unbiased_variance_over_every_row_and_position()
    {
        using var g = new Generator(2);
        var acts = randn([3, 5, 4], generator: g);
        float[] x = acts.data<float>().ToArray();
        var variance = ActivationVariance.PerDimension(acts);
        Assert.Equal(4, variance.Length);
        for (int d = 0; d < 4; d++)
        {
            var column = Enumerable.Range(0, 15).Select(i => (double)x[i * 4 + d]).ToArray();
            double mean = column.Average();
            Assert.Equal(column.Sum(v => (v - mean) * (v - mean)) / 14, variance[d], 5);
        }
    }
}
