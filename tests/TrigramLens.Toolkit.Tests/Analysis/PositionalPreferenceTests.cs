using TrigramLens.Analysis;
using static TorchSharp.torch;

namespace TrigramLens.Tests.Analysis;

public class PositionalPreferenceTests
{
    static Tensor Matrix(double[,] values) => tensor(values.Cast<double>().ToArray()).view(values.GetLength(0), values.GetLength(1));

    [Fact]
    public void Each_query_is_judged_over_its_own_and_earlier_keys_only()
    {
        // q1: current (5 > 4); q2: previous (7 beats 1 and the future 99 does not count); q3: further back (9 at key 0).
        var scores = Matrix(new double[,]
        {
            { 0, 99, 99, 99 },
            { 4, 5, 99, 99 },
            { 1, 7, 2, 99 },
            { 9, 3, 4, 5 },
        });
        var p = PositionalPreference.Of(scores);
        Assert.Equal((1, 1, 3), (p.PrefersCurrent, p.PrefersPrevious, p.Queries));
        Assert.Equal(((5 - 4) + (2 - 7) + (5 - 4)) / 3.0, p.CurrentOverPrevious, 12);
    }

    // A second way: torch's argmax over each query's causal prefix, and the diagonal minus the subdiagonal.
    [Fact]
    public void Counts_and_margin_agree_with_argmax_over_each_causal_prefix()
    {
        using var g = new Generator(9);
        var scores = randn([20, 20], generator: g, dtype: ScalarType.Float64);
        var p = PositionalPreference.Of(scores);
        int current = 0, previous = 0;
        for (int q = 1; q < 20; q++)
        {
            long best = scores[q, ..(q + 1)].argmax().item<long>();
            if (best == q) current++;
            if (best == q - 1) previous++;
        }
        double margin = (scores.diagonal()[1..] - scores.diagonal(-1)).mean().item<double>();
        Assert.Equal((current, previous, 19), (p.PrefersCurrent, p.PrefersPrevious, p.Queries));
        Assert.Equal(margin, p.CurrentOverPrevious, 10);
        Assert.True(current + previous > 0);
    }

    [Fact]
    public void Non_square_input_is_refused() =>
        Assert.Throws<ArgumentException>(() => PositionalPreference.Of(zeros(3, 4)));
}
