using TrigramLens.Analysis;
using static TorchSharp.torch;

namespace TrigramLens.Tests.Analysis;

public class MedianTests
{
    [Theory]
    [InlineData(7)]
    [InlineData(8)]
    public void Lower_median_is_the_middle_of_the_sorted_values(int n)
    {
        using var g = new Generator(2);
        var values = randn([n, 3], generator: g);
        var median = Median.Lower(values, 0).data<float>().ToArray();
        var columns = values.T.contiguous().data<float>().ToArray();
        for (int c = 0; c < 3; c++)
        {
            var sorted = columns.Skip(c * n).Take(n).Order().ToArray();
            Assert.Equal(sorted[(n - 1) / 2], median[c]);   // PyTorch's lower median
        }
    }
}
