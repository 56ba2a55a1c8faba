using TrigramLens.Benchmarks;

namespace TrigramLens.Benchmarks.Tests;

public sealed class FigureBenchmarkTests
{
    /// <summary>Times are a benchmark's business; what a test can hold it to is that both exports ran every round and that
    /// ours, without PNG row filters, writes the smaller file (with Skia's default filters the two are the same size).</summary>
    [Fact]
    public void Both_exports_run_every_round_and_ours_writes_the_smaller_file()
    {
        var report = FigureBenchmark.Run(rounds: 2, figuresPerRound: 1);
        Assert.Equal(2, report.ScottPlotMs.Count);
        Assert.Equal(2, report.OursMs.Count);
        Assert.All(report.ScottPlotMs.Concat(report.OursMs), ms => Assert.True(ms > 0));
        Assert.InRange(report.OursBytes, 20_000, report.ScottPlotBytes - 1);
        Assert.Equal(report.MedianScottPlotMs / report.MedianOursMs, report.Speedup, 12);
    }
}
