using System.Text.Json.Serialization;

namespace TrigramLens.Trigrams.Study;

/// <summary>Summary of a sample of attention weights: its size, mean, lower median, and the shares above 0.9 and below 0.5.</summary>
public sealed record Distribution(long N, double Mean, double Median,
    [property: JsonPropertyName("fraction_above_0_9")] double FractionAbove09,
    [property: JsonPropertyName("fraction_below_0_5")] double FractionBelow05)
{
    /// <summary>
    /// The median is the lower one for an even count (the smaller of the two middle values), as <c>torch.median</c>
    /// computes it, so numbers agree with PyTorch's. An empty sample has N = 0 and NaN everywhere else.
    /// </summary>
    public static Distribution Of(IReadOnlyCollection<double> values)
    {
        if (values.Count == 0) return new Distribution(0, double.NaN, double.NaN, double.NaN, double.NaN);
        var sorted = values.Order().ToArray();
        double n = sorted.Length;
        return new Distribution(sorted.Length, sorted.Average(), sorted[(sorted.Length - 1) / 2],
            sorted.Count(v => v > 0.9) / n, sorted.Count(v => v < 0.5) / n);
    }
}
