namespace TrigramLens.Benchmarks;

/// <summary>Throughput of one training step implementation: predicted tokens per second in each measured round.</summary>
public sealed record ThroughputSample(string Name, IReadOnlyList<double> TargetsPerSecondByRound)
{
    public double Median => MedianOf(TargetsPerSecondByRound);

    internal static double MedianOf(IReadOnlyList<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? double.NaN : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
